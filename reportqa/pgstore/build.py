"""Building the PostgreSQL index: the corpus directory → a queue of reports → workers that embed them.

`build_pg` (the coordinator, `reportqa build`) reads and chunks the corpus, deletes
reports that left it, queues new and changed ones, and then works the queue
itself. `work` (`reportqa build --worker`, on any number of machines) takes one
queued report at a time with FOR UPDATE SKIP LOCKED and writes its chunks,
tokens, vectors and term counts in the transaction that holds that lock, then
deletes it from the queue: a report is visible whole or not at all, and a worker
killed midway leaves its report queued for the next one.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from reportqa.config import Settings
from reportqa.ingest import Chunk, chunk_document, load_documents
from reportqa.ingest.chunk import CHUNKER_VERSION
from reportqa.lexicon import Tokenizer, dictionary_terms
from reportqa.periods import absolute_years
from reportqa.pgstore.db import connect, migrate
from reportqa.store import (
    EXACT_UP_TO, BuildReport, IndexMismatch, IndexUnusable, chunk_from, chunk_record, fingerprints, metadata_rows, years_of,
)

# 4·√n lists as the file store's FAISS, but at most IVF_MAX_LISTS: pgvector's k-means needs about
# 0.9 MB of maintenance_work_mem a list (4,000 lists at 10^6 chunks asked for 3.4 GB).
IVF_MAX_LISTS = 1000
Log = Callable[[str], None]


@dataclass
class Progress:
    reports: int
    chunks: int
    queued: int
    embedding: int  # queued reports a worker holds now

    def summary(self) -> str:
        return f"已入库 {self.reports} 份报告、{self.chunks} 段；队列中 {self.queued} 份，其中 {self.embedding} 份正在向量化"


def vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form; nine significant digits keep a float32 exactly."""
    return "[" + ",".join(f"{x:.9g}" for x in vector.tolist()) + "]"


def read_manifest(conn: psycopg.Connection) -> dict:
    return dict(conn.execute("SELECT key, value FROM manifest").fetchall())


def _set(conn: psycopg.Connection, values: dict) -> None:
    for key in sorted(values):
        conn.execute("INSERT INTO manifest VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", (key, Jsonb(values[key])))


def _bump(conn: psycopg.Connection, chunks: int, tokens: int) -> None:
    """Count a report in or out (negative numbers) and move the generation on, so apps reload."""
    conn.execute(
        "UPDATE manifest SET value = to_jsonb(value::bigint + CASE key WHEN 'generation' THEN 1 WHEN 'n_chunks' THEN %s ELSE %s END) "
        "WHERE key IN ('generation', 'n_chunks', 'n_tokens')", (chunks, tokens))


def _count_terms(conn: psycopg.Connection, df: Counter, sign: int) -> None:
    """Add (sign 1) or take away (-1) document frequencies; tokens in one order, so writers never deadlock."""
    tokens = sorted(df)
    conn.execute(
        "INSERT INTO terms SELECT t, n FROM unnest(%s::text[], %s::int[]) AS u(t, n) ORDER BY t "
        "ON CONFLICT (token) DO UPDATE SET df = terms.df + EXCLUDED.df", (tokens, [sign * df[t] for t in tokens]))


def remove_report(conn: psycopg.Connection, source: str) -> None:
    """Delete a report, its chunks and its share of the term statistics (in the caller's transaction)."""
    row = conn.execute("SELECT id FROM reports WHERE source = %s FOR UPDATE", (source,)).fetchone()
    if row is None:
        return
    df = conn.execute("SELECT p.token, count(*) FROM chunks c JOIN postings p ON p.chunk_id = c.id WHERE c.report_id = %s GROUP BY p.token", (row[0],)).fetchall()
    n, total = conn.execute("SELECT count(*), coalesce(sum(n_tokens), 0) FROM chunks WHERE report_id = %s", (row[0],)).fetchone()
    _count_terms(conn, Counter(dict(df)), -1)
    conn.execute("DELETE FROM postings WHERE chunk_id IN (SELECT id FROM chunks WHERE report_id = %s)", (row[0],))
    conn.execute("DELETE FROM reports WHERE id = %s", (row[0],))
    _bump(conn, -n, -total)


def write_report(conn: psycopg.Connection, item: dict, chunks: list[Chunk], vectors: np.ndarray, tokenizer: Tokenizer) -> None:
    """Replace a report by its new chunks, tokens and vectors (in the caller's transaction)."""
    remove_report(conn, item["source"])
    report_id = conn.execute(
        "INSERT INTO reports (source, fingerprint, sha256, meta, text) VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (item["source"], item["fingerprint"], item["sha256"], Jsonb(item["meta"]), item["text"])).fetchone()[0]
    tokens = [tokenizer.tokens(c.embedding_text()) for c in chunks]
    ids = [i for (i,) in conn.execute("SELECT nextval('chunks_id_seq') FROM generate_series(1, %s)", (len(chunks),))]
    cursor = conn.cursor()
    with cursor.copy("COPY chunks (id, report_id, ord, body, text, n_tokens, years, embedding) FROM STDIN") as copy:
        for ord_, (chunk_id, chunk, toks, vector) in enumerate(zip(ids, chunks, tokens, vectors)):
            body = {k: v for k, v in chunk_record(chunk).items() if k != "text"}
            years = years_of(chunk) | absolute_years(chunk.text)
            copy.write_row((chunk_id, report_id, ord_, Jsonb(body), chunk.text, len(toks), sorted(years), vector_literal(vector)))
    with cursor.copy("COPY postings (token, chunk_id, report_id, tf, dl) FROM STDIN") as copy:
        for chunk_id, toks in zip(ids, tokens):
            for token, tf in Counter(toks).items():
                copy.write_row((token, chunk_id, report_id, tf, len(toks)))
    _count_terms(conn, Counter(t for toks in tokens for t in set(toks)), 1)
    _bump(conn, len(chunks), sum(len(t) for t in tokens))


def _claim(conn: psycopg.Connection) -> dict | None:
    row = conn.execute(
        "SELECT source, fingerprint, sha256, meta, text, chunks FROM queue ORDER BY queued_at, source "
        "LIMIT 1 FOR UPDATE SKIP LOCKED").fetchone()
    return None if row is None else dict(zip(("source", "fingerprint", "sha256", "meta", "text", "chunks"), row))


class _Lexicon:
    """The tokenizer of the manifest's user dictionary, rebuilt only when the dictionary changes."""

    def __init__(self) -> None:
        self.terms: list[str] | None = None
        self.tokenizer = Tokenizer()

    def current(self, manifest: dict) -> Tokenizer:
        if manifest.get("lexicon") != self.terms:
            self.terms = manifest.get("lexicon") or []
            self.tokenizer = Tokenizer(self.terms)
        return self.tokenizer


def work(uri: str, embed: Callable[[list[str]], np.ndarray], model_id: str, stop_when_empty: bool = True,
         log: Log = lambda message: None, poll_s: float = 2.0) -> int:
    """Embed and write queued reports, one transaction each, until the queue is empty (or forever);
    returns how many this worker wrote."""
    lexicon, done = _Lexicon(), 0
    with connect(uri) as conn:
        # A worker whose machine dies without closing its connection: the server drops it (and the
        # report's lock) after about a minute of silence instead of the system's two hours.
        conn.execute("SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3")
        while True:
            with conn.transaction():
                item = _claim(conn)
                if item is not None:
                    manifest = read_manifest(conn)
                    if manifest.get("embed_model") != model_id:
                        raise IndexMismatch(f"数据库中的索引由 {manifest.get('embed_model')} 建立，本进程的模型是 {model_id}；请用同一模型运行 worker。")
                    chunks = [chunk_from(r) for r in item["chunks"]]
                    vectors = embed([c.embedding_text() for c in chunks])
                    write_report(conn, item, chunks, vectors, lexicon.current(manifest))
                    conn.execute("DELETE FROM queue WHERE source = %s", (item["source"],))
            if item is not None:
                done += 1
                log(f"已写入 {item['source']}（{len(item['chunks'])} 段）")
            elif stop_when_empty and progress(conn).queued == 0:
                return done
            else:
                time.sleep(poll_s)  # the rest is held by other workers, or nothing is queued yet


def progress(conn: psycopg.Connection) -> Progress:
    reports, chunks = conn.execute("SELECT (SELECT count(*) FROM reports), (SELECT (value)::bigint FROM manifest WHERE key = 'n_chunks')").fetchone()
    queued = conn.execute("SELECT count(*) FROM queue").fetchone()[0]
    with conn.transaction():
        free = conn.execute("SELECT count(*) FROM (SELECT 1 FROM queue FOR UPDATE SKIP LOCKED) q").fetchone()[0]
    return Progress(reports, chunks or 0, queued, queued - free)


def ensure_ann_index(conn: psycopg.Connection, dim: int, log: Log) -> None:
    """Above EXACT_UP_TO chunks unfiltered searches use an IVFFlat index, (re)built when the corpus
    has grown fourfold since its lists were trained; filtered searches stay exact."""
    n = int(read_manifest(conn).get("n_chunks", 0))
    built_for = int(read_manifest(conn).get("ann_for", 0))
    if n <= EXACT_UP_TO or (built_for and n < 4 * built_for):
        return
    lists = max(1, min(IVF_MAX_LISTS, int(4 * math.sqrt(n))))
    log(f"正在为 {n} 段建立向量索引（IVFFlat，{lists} 个列表）……")
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute("DROP INDEX IF EXISTS chunks_ivf")
    conn.execute(f"CREATE INDEX chunks_ivf ON chunks USING ivfflat ((embedding::vector({dim})) vector_ip_ops) WITH (lists = {lists})")
    _set(conn, {"ann_for": n, "ann_lists": lists})


def _check_model(manifest: dict, wanted: dict, rebuild: bool) -> None:
    differs = {k: (manifest[k], v) for k, v in wanted.items() if k in manifest and manifest[k] != v}
    if differs and not rebuild and int(manifest.get("n_chunks", 0)):
        detail = "；".join(f"{k}: 数据库中为 {old}，当前配置为 {new}" for k, (old, new) in differs.items())
        raise IndexMismatch(f"数据库中的索引与当前配置不一致（{detail}）。索引未改动；请运行 `reportqa build --rebuild` 重建，或改回原来的配置。")


def enqueue(settings: Settings, model_id: str, dim: int, rebuild: bool, log: Log) -> BuildReport:
    """Bring the queue and the reports table in line with the corpus directory; embeds nothing."""
    started = time.perf_counter()
    migrate(settings.store)
    with connect(settings.store) as conn:
        wanted = {"embed_model": model_id, "dim": dim, "chunker": CHUNKER_VERSION,
                  "chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap}
        with conn.transaction():
            _check_model(read_manifest(conn), wanted, rebuild)
            if rebuild:
                conn.execute("TRUNCATE reports, chunks, postings, terms, queue")
                conn.execute("DROP INDEX IF EXISTS chunks_ivf")  # trained on the old vectors; rebuilt after
                _set(conn, {"n_chunks": 0, "n_tokens": 0, "ann_for": 0})
                _bump(conn, 0, 0)
            indexed = dict(conn.execute("SELECT source, fingerprint FROM reports").fetchall())
            metas = dict(conn.execute("SELECT source, meta FROM reports").fetchall())
        previous = SimpleNamespace(documents={s: SimpleNamespace(meta=m) for s, m in metas.items()})
        rows, problems = metadata_rows(settings.corpus_dir, previous)
        documents, skipped = load_documents(settings.corpus_dir, rows)
        if not documents:
            reasons = "；".join(str(e) for e in skipped) or "目录为空"
            raise IndexUnusable(f"{settings.corpus_dir} 中没有可读的报告（{reasons}）。数据库中的索引未改动。")
        current = fingerprints(documents, rows)
        names = [n for d in documents for n in (d.meta.town, d.meta.county, d.meta.city)]
        lexicon = dictionary_terms((d.text for d in documents), names)
        with conn.transaction():
            _set(conn, {**wanted, "lexicon": lexicon, "built_at": time.time()})
            for source in sorted(set(indexed) - set(current)):
                remove_report(conn, source)
            conn.execute("DELETE FROM queue WHERE NOT source = ANY(%s)", (list(current),))
            for document in documents:
                if indexed.get(document.source) == current[document.source]:
                    continue
                chunks = [chunk_record(c) for c in chunk_document(document, settings.chunk_size, settings.chunk_overlap)]
                conn.execute(
                    "INSERT INTO queue (source, fingerprint, sha256, meta, text, chunks) VALUES (%s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (source) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, sha256 = EXCLUDED.sha256, "
                    "meta = EXCLUDED.meta, text = EXCLUDED.text, chunks = EXCLUDED.chunks, queued_at = now() "
                    "WHERE queue.fingerprint <> EXCLUDED.fingerprint",
                    (document.source, current[document.source], document.sha256, Jsonb(document.meta.as_dict()), document.text, Jsonb(chunks)))
        n_chunks = int(read_manifest(conn).get("n_chunks", 0))
    return BuildReport(
        added=sorted(set(current) - set(indexed)),
        changed=sorted(s for s in current if s in indexed and indexed[s] != current[s]),
        removed=sorted(set(indexed) - set(current)),
        unchanged=sorted(s for s in current if indexed.get(s) == current[s]),
        skipped=skipped, n_chunks=n_chunks, seconds=time.perf_counter() - started, sidecar=problems,
    )


def build_pg(settings: Settings, rebuild: bool = False, show_progress: bool = True, log: Log = lambda message: None,
             embedder=None) -> BuildReport:
    """The coordinator: queue what changed, then work the queue alongside any other workers."""
    from reportqa.embed import embed_passages, load_embedder, model_id

    started = time.perf_counter()
    model = embedder or load_embedder(settings.embed_model)
    mid, dim = model_id(model), model.get_embedding_dimension()
    report = enqueue(settings, mid, dim, rebuild, log)
    work(settings.store, lambda texts: embed_passages(model, texts, show_progress=show_progress), mid, log=log)
    with connect(settings.store) as conn:
        ensure_ann_index(conn, dim, log)
        report.n_chunks = progress(conn).chunks
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["Progress", "build_pg", "enqueue", "progress", "read_manifest", "remove_report", "work", "write_report"]

