"""Where the index lives: files on this machine (the default) or a PostgreSQL database.

Everything above this module (searcher, answerer, app) asks an index the same
questions through `SearchIndex`; `Settings.store` (REPORTQA_STORE) picks the
implementation. Files suit one county on one machine; a postgresql://… URI lets
many app servers share one index that many workers build.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from reportqa.catalog import Catalog
from reportqa.config import Settings
from reportqa.ingest import Chunk
from reportqa.lexicon import Tokenizer
from reportqa.store import BuildReport, IndexUnusable


class StoreUnavailable(IndexUnusable):
    """The configured database cannot be reached or used; the message says what to check."""


class SearchIndex(Protocol):
    """What a query asks of an index. Chunk ids are ints that stay valid while the index is open;
    `allowed` is the store's own form of a filtered scope (None: everything)."""

    path: Any  # names the index in messages and caches
    manifest: Any  # .generation and .built_at
    tokenizer: Tokenizer
    chunks: Sequence[Chunk]  # by id
    documents: Mapping[str, Any]  # source → .meta and .text
    chunks_by_source: Mapping[str, list[int]]  # each report's chunks in document order
    catalog: Catalog
    towns: set[str]
    idf: Mapping[str, float]
    chunk_years: Mapping[str, frozenset[int]]

    def knows(self, word: str) -> bool: ...
    def holds(self, text: str) -> bool: ...
    def changed(self) -> bool: ...
    def allowed_ids(self, filters: dict | None) -> Any: ...
    def dense_scores(self, query_vector: np.ndarray, allowed: Any, n: int) -> tuple[list[int], dict[int, float]]: ...
    def bm25_scores(self, tokens: list[str], allowed: Any, n: int) -> tuple[list[int], Any]: ...
    def vectors_of(self, ids: list[int]) -> np.ndarray: ...
    def speaks_of(self, allowed: Any, years: set[int]) -> bool: ...
    def texts_holding(self, sources: list[str], groups: list[list[str]]) -> dict[str, str]: ...
    def respelling(self, term: str) -> str: ...
    def spellings(self, term: str) -> Counter[str]: ...
    def sample(self, limit: int, seed: int = 0) -> tuple[list[int], np.ndarray, np.ndarray]: ...


def uses_postgres(settings: Settings) -> bool:
    return settings.store.startswith(("postgresql://", "postgres://"))


def ready_index(settings: Settings, model_id: str, build_if_stale: bool = True, repair: bool = False,
                show_progress: bool = True, log: Callable[[str], None] = lambda message: None) -> SearchIndex:
    """The index to search, from the configured store, brought up to date with the corpus when asked."""
    if uses_postgres(settings):
        from reportqa.pgstore.index import ready_pg_index

        return ready_pg_index(settings, model_id, build_if_stale, show_progress, log)
    from reportqa.store import ready_index as ready_file_index

    return ready_file_index(settings, model_id, build_if_stale, repair, show_progress, log)


def build_index(settings: Settings, rebuild: bool = False, show_progress: bool = True,
                log: Callable[[str], None] = lambda message: None) -> BuildReport:
    """Bring the configured store up to date with the corpus directory."""
    if uses_postgres(settings):
        from reportqa.pgstore.build import build_pg

        return build_pg(settings, rebuild=rebuild, show_progress=show_progress, log=log)
    from reportqa.store import build_index as build_files

    return build_files(settings, rebuild=rebuild, show_progress=show_progress, log=log)
