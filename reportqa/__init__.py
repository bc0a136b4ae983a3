"""reportqa: semantic search and cited question answering over Chinese local-government reports."""

import os

# llama.cpp's OpenMP threads busy-wait by default, which starves everything else on a
# small CPU; this must be set before torch or llama_cpp load their OpenMP runtime.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
