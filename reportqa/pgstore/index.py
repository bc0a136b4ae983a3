"""The read side of the PostgreSQL store: what a query asks of the index, answered by SQL.

A PgIndex keeps only what every question reads — report metadata (for the
catalog and filters), the user dictionary and the idf table — and asks the
database for the rest: dense search by pgvector, BM25 scored in SQL from a
postings table and term statistics, filters as predicates on the chunks' report,
the which-towns scan and chunk texts on demand. Another process's import shows
in searches at once; the cached metadata follows when `changed()` says so.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from psycopg_pool import ConnectionPool

from reportqa.catalog import Catalog
from reportqa.config import Settings
from reportqa.ingest import Chunk
from reportqa.ingest.chunk import CHUNKER_VERSION
from reportqa.insearch import respelling_pattern, spelled_out_pattern
from reportqa.lexicon import Tokenizer
from reportqa.pgstore.build import build_pg, read_manifest, vector_literal
from reportqa.pgstore.db import open_pool, redacted
from reportqa.store import IVF_NPROBE, IndexMismatch, IndexMissing, chunk_from, fingerprints, metadata_rows

BM25_K1, BM25_B = 1.5, 0.75  # bm25s's defaults and its Lucene formula (no k1+1 factor), so both stores score alike
CHUNK_CACHE = 4096
FIRST_LOOK = 0.05  # postings read to find a floor for BM25's n-th best score, as a share of the chunks: a fraction of a common word's
_POOLS: dict[str, ConnectionPool] = {}


def pool_for(uri: str) -> ConnectionPool:
    """One pool per database per process, migrated when first opened."""
    if uri not in _POOLS:
        _POOLS[uri] = open_pool(uri)
    return _POOLS[uri]


@dataclass
class PgManifest:
    generation: int
    built_at: float
    embed_model: str
    dim: int
    n_chunks: int
    ann_lists: int
    lexicon: list[str] = field(repr=False, default_factory=list)


@dataclass
class PgDocument:
    """A report's metadata, with its text read from the database when asked for."""

    source: str
    meta: dict
    report_id: int
    pool: ConnectionPool = field(repr=False)

    @property
    def text(self) -> str:
        with self.pool.connection() as conn:
            return conn.execute("SELECT text FROM reports WHERE id = %s", (self.report_id,)).fetchone()[0]


class PgChunks(Sequence):
    """Chunks by id, read on demand and kept in a small cache."""

    def __init__(self, pool: ConnectionPool, n: int):
        self.pool, self.n, self.cache = pool, n, {}

    def __len__(self) -> int:
        return self.n

    def fetch(self, ids: list[int]) -> list[Chunk]:
        missing = [i for i in dict.fromkeys(ids) if i not in self.cache]
        if missing:
            if len(self.cache) > CHUNK_CACHE:
                self.cache.clear()
            with self.pool.connection() as conn:
                rows = conn.execute("SELECT id, body, text FROM chunks WHERE id = ANY(%s)", (missing,)).fetchall()
            self.cache.update((i, chunk_from({**body, "text": text})) for i, body, text in rows)
        return [self.cache[i] for i in ids]

    def __getitem__(self, i: int) -> Chunk:
        return self.fetch([int(i)])[0]

    def __iter__(self) -> Iterator[Chunk]:
        with self.pool.connection() as conn, conn.cursor(name="all_chunks") as cursor, conn.transaction():
            cursor.execute("SELECT body, text FROM chunks ORDER BY id")
            for body, text in cursor:
                yield chunk_from({**body, "text": text})


class PgIndex:
    """Implements reportqa.stores.SearchIndex over one database."""

    def __init__(self, uri: str):
        self.pool = pool_for(uri)
        self.path = redacted(uri)
        with self.pool.connection() as conn:
            m = read_manifest(conn)
            rows = conn.execute("SELECT source, meta, id FROM reports ORDER BY source").fetchall()
            terms = conn.execute("SELECT token, df FROM terms WHERE df > 0").fetchall()
        self.manifest = PgManifest(int(m.get("generation", 0)), float(m.get("built_at", 0)), m.get("embed_model", ""), int(m.get("dim", 0)),
                                   int(m.get("n_chunks", 0)), int(m.get("ann_lists", 0)), m.get("lexicon") or [])
        self.documents = {source: PgDocument(source, meta, rid, self.pool) for source, meta, rid in rows}
        self.tokenizer = Tokenizer(self.manifest.lexicon)
        self.chunks = PgChunks(self.pool, self.manifest.n_chunks)
        self.avgdl = int(m.get("n_tokens", 0)) / max(1, self.manifest.n_chunks)
        n = self.manifest.n_chunks
        self.df = dict(terms)
        self.idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in terms}

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog.from_metas((s, d.meta) for s, d in self.documents.items())

    @cached_property
    def towns(self) -> set[str]:
        return {d.meta.get("town", "") for d in self.documents.values()} - {""}

    @cached_property
    def chunks_by_source(self) -> dict[str, list[int]]:
        with self.pool.connection() as conn:
            rows = conn.execute("SELECT r.source, array_agg(c.id ORDER BY c.ord) FROM chunks c JOIN reports r ON r.id = c.report_id GROUP BY r.source").fetchall()
        return dict(rows)

    def knows(self, word: str) -> bool:
        tokens = self.tokenizer.tokens(word)
        return bool(tokens) and all(t in self.idf for t in tokens)

    def holds(self, text: str) -> bool:
        return bool(text) and self._one("SELECT EXISTS (SELECT 1 FROM reports WHERE strpos(text, %s) > 0)", (text,))

    def changed(self) -> bool:
        return self._one("SELECT value::bigint FROM manifest WHERE key = 'generation'") != self.manifest.generation

    def _one(self, sql: str, params: tuple = ()):
        with self.pool.connection() as conn:
            return conn.execute(sql, params).fetchone()[0]

    def allowed_ids(self, filters: dict | None) -> list[int] | None:
        """The ids of the reports that pass the filters; searches restrict chunks to them in SQL."""
        if not filters or not any(filters.values()):
            return None
        passing = {report.source for report in self.catalog.in_scope(filters)}
        return [d.report_id for s, d in self.documents.items() if s in passing]

    def dense_scores(self, query_vector: np.ndarray, allowed: list[int] | None, n: int) -> tuple[list[int], dict[int, float]]:
        """Nearest chunks by inner product: through the IVFFlat index when unfiltered and one exists,
        exactly over the filtered reports' chunks otherwise (an index would drop filtered hits)."""
        vector = vector_literal(query_vector)
        with self.pool.connection() as conn, conn.transaction():
            if allowed is None and self.manifest.ann_lists:
                conn.execute(f"SET LOCAL ivfflat.probes = {IVF_NPROBE}")
                dim = self.manifest.dim
                rows = conn.execute(f"SELECT id, -((embedding::vector({dim})) <#> %s::vector({dim})) AS s FROM chunks "
                                    f"ORDER BY (embedding::vector({dim})) <#> %s::vector({dim}) LIMIT %s", (vector, vector, n)).fetchall()
            else:
                where = "" if allowed is None else "WHERE report_id = ANY(%s)"
                params = (vector,) + (() if allowed is None else (allowed,)) + (vector, n)
                rows = conn.execute(f"SELECT id, -(embedding <#> %s::vector) FROM chunks {where} ORDER BY embedding <#> %s::vector LIMIT %s", params).fetchall()
        return [i for i, _ in rows], {i: float(s) for i, s in rows}

    def bm25_scores(self, tokens: list[str], allowed: list[int] | None, n: int) -> tuple[list[int], dict[int, float]]:
        """BM25 (Lucene idf, bm25s's k1 and b) in SQL, exact, reading the commonest words' postings only
        for chunks that could still make the n best (MaxScore). A word adds less than its weight to a
        chunk's score (tf/(tf+K) < 1). A first look at the rarest words' postings gives a floor the n-th
        best score reaches; the commonest words whose weights sum to under half of it are then looked up
        only for the chunks holding a rarer word that score at least floor minus that sum from the rarer
        words: any other chunk scores below the floor (eval/reports/bench_stores.md)."""
        scores: dict[int, float] = defaultdict(float)
        counts = {t: tokens.count(t) for t in dict.fromkeys(tokens) if t in self.idf}
        if not counts:
            return [], scores
        weights = {t: self.idf[t] * c for t, c in counts.items()}
        rarest = sorted(weights, key=lambda t: (self.df[t], t))
        unread = [sum(weights[t] for t in rarest[e:]) for e in range(len(rarest) + 1)]  # the most the words after the e rarest add
        first = _first_look([self.df[t] for t in rarest], FIRST_LOOK * self.manifest.n_chunks)
        floor = self._nth_score(rarest[:first], weights, allowed, n) if first < len(rarest) else 0.0
        essential = next(e for e in range(len(rarest) + 1) if unread[e] <= floor / 2)
        rows = self._bm25_query(rarest[:essential], rarest[essential:], weights, allowed, n, floor - unread[essential])
        scores.update((i, float(s)) for i, s in rows)
        return [i for i, _ in rows], scores

    def _bm25_sql(self, allowed: list[int] | None) -> tuple[str, str]:
        """A posting's share of a chunk's score, and the chunks' scores from the postings of %(words)s."""
        impact = "w.weight * p.tf / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.dl / %(avgdl)s))"
        in_scope = "" if allowed is None else "WHERE p.report_id = ANY(%(allowed)s)"
        return impact, f"""SELECT p.chunk_id, sum({impact}) AS score
                FROM unnest(%(words)s::text[], %(words_w)s::float8[]) AS w(token, weight) JOIN postings p ON p.token = w.token
                {in_scope} GROUP BY p.chunk_id"""

    def _params(self, words: list[str], weights: dict[str, float], allowed: list[int] | None, n: int, **more) -> dict:
        return {"words": words, "words_w": [weights[t] for t in words], "k1": BM25_K1, "b": BM25_B, "avgdl": self.avgdl or 1.0,
                "allowed": allowed, "n": n, **more}

    def _nth_score(self, words: list[str], weights: dict[str, float], allowed: list[int] | None, n: int) -> float:
        """The n-th best score from these words alone (0 if fewer chunks hold them): n chunks score at least that."""
        _, scored = self._bm25_sql(allowed)
        with self.pool.connection() as conn:
            row = conn.execute(f"SELECT score FROM ({scored}) h ORDER BY score DESC LIMIT 1 OFFSET %(n)s - 1",
                               self._params(words, weights, allowed, n)).fetchone()
        return float(row[0]) if row else 0.0

    def _bm25_query(self, essential: list[str], rest: list[str], weights: dict[str, float], allowed: list[int] | None,
                    n: int, least: float) -> list[tuple[int, float]]:
        """The n best of the chunks (in scope) holding an essential word that score at least `least` from
        those words, scored on every word: the rest's postings are looked up for those chunks alone."""
        impact, scored = self._bm25_sql(allowed)
        others = "" if not rest else f"""+ coalesce((SELECT sum({impact}) FROM unnest(%(rest)s::text[], %(rest_w)s::float8[]) AS w(token, weight)
                JOIN postings p ON p.token = w.token WHERE p.token = ANY(%(rest)s) AND p.chunk_id = h.chunk_id), 0)"""
        sql = f"SELECT h.chunk_id, h.score {others} AS score FROM ({scored}) h WHERE h.score >= %(least)s ORDER BY score DESC, h.chunk_id LIMIT %(n)s"
        with self.pool.connection() as conn:
            return conn.execute(sql, self._params(essential, weights, allowed, n, rest=rest, rest_w=[weights[t] for t in rest], least=least)).fetchall()

    def vectors_of(self, ids: list[int]) -> np.ndarray:
        if not len(ids):
            return np.zeros((0, self.manifest.dim), dtype=np.float32)
        with self.pool.connection() as conn:
            found = dict(conn.execute("SELECT id, embedding::real[] FROM chunks WHERE id = ANY(%s)", ([int(i) for i in ids],)).fetchall())
        return np.array([found[int(i)] for i in ids], dtype=np.float32)

    def speaks_of(self, allowed: list[int] | None, years: set[int]) -> bool:
        where = "" if allowed is None else "AND report_id = ANY(%s)"
        params = (sorted(years),) + (() if allowed is None else (allowed,))
        return self._one(f"SELECT EXISTS (SELECT 1 FROM chunks WHERE years && %s::int[] {where})", params)

    def texts_holding(self, sources: list[str], groups: list[list[str]]) -> dict[str, str]:
        """The which-towns scan as one query: reports in scope whose text holds all of some group."""
        groups = [g for g in groups if g]
        if not sources or not groups:
            return {}
        conditions = " OR ".join("(" + " AND ".join("strpos(text, %s) > 0" for _ in g) + ")" for g in groups)
        params = [sources] + [w for g in groups for w in g]
        with self.pool.connection() as conn:
            return dict(conn.execute(f"SELECT source, text FROM reports WHERE source = ANY(%s) AND ({conditions})", params).fetchall())

    def respelling(self, term: str) -> str:
        """As the file store's (commonest one-character variant, first seen wins a tie), in one query:
        reports in source order as PgIndex.documents, each report's matches in order."""
        pattern = respelling_pattern(term, lambda s: re.sub(r"(\W)", r"\\\1", s))  # a backslash quotes a non-word character
        return self._one("SELECT coalesce((SELECT m.match[1] FROM reports r CROSS JOIN LATERAL regexp_matches(r.text, %s, 'g') "
                         "WITH ORDINALITY AS m(match, k) GROUP BY m.match[1] "
                         "ORDER BY count(*) DESC, min(ARRAY[r.source, lpad(m.k::text, 12, '0')]) LIMIT 1), '')", (pattern,))

    def spellings(self, term: str) -> Counter[str]:
        """As the file store's, in one query."""
        with self.pool.connection() as conn:
            rows = conn.execute("SELECT m.match[1], count(*) FROM reports r CROSS JOIN LATERAL regexp_matches(r.text, %s, 'g') AS m(match) "
                                "GROUP BY m.match[1]", (spelled_out_pattern(term),)).fetchall()
        return Counter(dict(rows))

    def sample(self, limit: int, seed: int = 0) -> tuple[list[int], np.ndarray, np.ndarray]:
        """A repeatable random sample of about limit chunks: ids, vectors and report ids."""
        percent = min(100.0, 100.0 * limit / max(1, self.manifest.n_chunks))
        with self.pool.connection() as conn:
            rows = conn.execute(f"SELECT id, embedding::real[], report_id FROM chunks TABLESAMPLE BERNOULLI ({percent}) REPEATABLE ({seed}) ORDER BY id").fetchall()
        if not rows:
            return [], np.zeros((0, self.manifest.dim), dtype=np.float32), np.zeros(0, dtype=np.int64)
        return [r[0] for r in rows], np.array([r[1] for r in rows], dtype=np.float32), np.array([r[2] for r in rows])


def _first_look(dfs: list[int], postings: float) -> int:
    """How many of the rarest words (by their document frequencies, rarest first) to find a floor from:
    those with that many postings in all, at least one."""
    total = 0
    for e, df in enumerate(dfs):
        total += df
        if total > postings:
            return max(1, e)
    return len(dfs)


def is_current(index: PgIndex, settings: Settings) -> bool:
    """Is every report of the corpus directory in the database as it is now (none missing, none extra)?"""
    from reportqa.ingest.load import read_dir

    raws, _ = read_dir(settings.corpus_dir)
    rows, _ = metadata_rows(settings.corpus_dir, index)
    with index.pool.connection() as conn:
        indexed = dict(conn.execute("SELECT source, fingerprint FROM reports").fetchall())
        queued = conn.execute("SELECT count(*) FROM queue").fetchone()[0]
    return fingerprints(raws, rows) == indexed and not queued


def check_compatible(index: PgIndex, settings: Settings, model_id: str) -> None:
    with index.pool.connection() as conn:
        m = read_manifest(conn)
    wanted = {"embed_model": model_id, "chunker": CHUNKER_VERSION, "chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap}
    differs = {k: (m[k], v) for k, v in wanted.items() if k in m and m[k] != v}
    if differs and index.manifest.n_chunks:
        detail = "；".join(f"{k}: 数据库中为 {old}，当前配置为 {new}" for k, (old, new) in differs.items())
        raise IndexMismatch(f"数据库中的索引与当前配置不一致（{detail}）。请运行 `reportqa build --rebuild` 重建，或改回原来的配置。")


def ready_pg_index(settings: Settings, model_id: str, build_if_stale: bool = True, show_progress: bool = True,
                   log: Callable[[str], None] = lambda message: None) -> PgIndex:
    """The database's index; built or brought up to date from the corpus directory first when asked
    (an app server with no corpus directory of its own serves what the workers wrote)."""
    index = PgIndex(settings.store)
    check_compatible(index, settings, model_id)
    if build_if_stale and settings.corpus_dir.is_dir() and not is_current(index, settings):
        log(f"{settings.corpus_dir} 与数据库 {index.path} 中的索引不一致，正在更新（只处理新增或改动的文件）……")
        report = build_pg(settings, show_progress=show_progress, log=log)
        log(f"索引就绪：{report.summary()}")
        index = PgIndex(settings.store)
    if not index.documents:
        raise IndexMissing(f"数据库 {index.path} 中还没有报告。请先运行 `reportqa build`（或 `reportqa build --worker` 处理队列）。")
    return index
