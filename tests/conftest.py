"""Shared fixtures: one real index over a copy of the bundled corpus, built once per run."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from llm_fixtures import closed_port_url, gguf_path, llama_server, openai_server  # noqa: E402,F401

from reportqa.config import Settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory) -> Settings:
    """Settings over a private copy of corpus/, so tests may add files without touching the real one."""
    home = tmp_path_factory.mktemp("home")
    shutil.copytree(REPO / "corpus", home / "corpus")
    return Settings(home=home)


@pytest.fixture(scope="session")
def searcher(seed_settings):
    from reportqa.retrieve import open_searcher

    return open_searcher(seed_settings, show_progress=False)
