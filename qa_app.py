"""Start the Gradio app on the bundled corpus (same as `reportqa serve`)."""

import sys

from reportqa.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
