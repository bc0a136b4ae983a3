"""Build or update the index from corpus/ (same as `reportqa build`)."""

import sys

from reportqa.cli import main

if __name__ == "__main__":
    sys.exit(main(["build", *sys.argv[1:]]))
