"""Benchmark the index as reportqa builds and searches it: the seed corpus, then synthetic scale.

It answers how build and search cost grow with the corpus and which FAISS index
each size needs (`store.make_faiss`: exact FlatIP up to `store.EXACT_UP_TO`
chunks, IVF lists above). Every stage runs in its own interpreter so that its
peak memory is its own.

* seed: `store.build_index` of corpus/ (chunks/s), `load_index`, and the latency
  of `HybridSearcher.search` over the gold questions, end to end and by part.
* N chunks (default 100k and 1M): vectors are real seed-chunk vectors plus
  Gaussian noise (renormalised); token lists are seed chunks' jieba tokens with a
  quarter swapped for random corpus tokens. Measured with the product's own code
  (`make_faiss`, `HybridSearcher.dense_scores` / `bm25_scores`, bm25s as store.py
  builds it) against exact FlatIP as the baseline in the same run: build time,
  single-query latency, recall@10, filtered search, BM25 build and scoring, and
  the which-question scan (`which.mention_in` over every document, as
  `which.find_documents` does) over reports built from the seed chunks' texts.

Embedding throughput is measured on its own by eval/bench_embed.py. Timings are
wall and process-CPU time; on a shared machine compare CPU times and ratios.

    nice python eval/bench_index.py                       # seed, 100k, 1M (about 15 minutes on 2 cores)
    nice python eval/bench_index.py --sizes 100000 --hnsw  # also time an HNSW graph for comparison

Tables are printed and written to eval/reports/bench.md; its Findings block is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from reportqa.insearch import InMemorySearch

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "eval" / "reports" / "bench.md"
CACHE = Path(tempfile.gettempdir()) / "reportqa-bench"
NOISE = 0.5  # × each dimension's spread over the seed vectors
SWAP = 0.25  # share of a synthetic chunk's tokens replaced by random corpus tokens
EXTRA_QUERIES = 108  # held-out synthetic chunks added to the gold questions as dense queries
CHUNKS_PER_REPORT = 22  # synthetic chunks are grouped into reports of the seed reports' mean size
SEED = 7


def timed(fn, *args, **kwargs):
    """(result, wall seconds, process CPU seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def latency(fn, inputs, other_cpu=None) -> dict:
    """p50/p95 in ms of fn(x) over inputs, wall and CPU, after three warm-up calls. With other_cpu (a
    clock of another process's CPU seconds: a database server) also its CPU per call, and the sum per call."""
    for x in inputs[:3]:
        fn(x)
    calls = []
    for x in inputs:
        before = other_cpu() if other_cpu else 0.0
        wall, cpu = timed(fn, x)[1:]
        calls.append((wall, cpu, other_cpu() - before if other_cpu else 0.0))
    wall, cpu, other = (np.array(column) for column in zip(*calls))
    ms = lambda values, q: float(np.percentile(values, q) * 1000)  # noqa: E731
    out = {"p50": ms(wall, 50), "p95": ms(wall, 95), "cpu_p50": ms(cpu, 50), "cpu_p95": ms(cpu, 95)}
    if other_cpu:
        out.update({"server_p50": ms(other, 50), "server_p95": ms(other, 95), "server_mean": float(other.mean() * 1000),
                    "total_cpu_p50": ms(cpu + other, 50), "total_cpu_p95": ms(cpu + other, 95)})
    return out


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def seed_stage() -> dict:
    """Build and search the bundled corpus; leave its vectors and tokens in CACHE for the scale stages."""
    from reportqa.config import Settings
    from reportqa.embed import embed_query, load_embedder, model_id
    from reportqa.evaluation import load_gold
    from reportqa.retrieve import CANDIDATES, HybridSearcher
    from reportqa.store import build_index, load_index
    from reportqa.which import content_words, head_noun, which_term

    gold = load_gold(ROOT / "eval" / "gold.jsonl")
    questions = [q.question for q in gold]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=ROOT).with_(index_dir=Path(tmp) / "index")
        report, build_wall, build_cpu = timed(build_index, settings, rebuild=True, show_progress=False)
        model = load_embedder(settings.embed_model)
        index, load_wall, _ = timed(load_index, settings, model_id(model))
        disk = sum(p.stat().st_size for p in settings.index_dir.rglob("*") if p.is_file())
    searcher = HybridSearcher(index, model)
    vectors = {q: embed_query(model, q) for q in questions}
    parts = {
        "search, end to end": latency(searcher.search, questions),
        "embed_query": latency(lambda q: embed_query(model, q), questions),
        "dense_scores": latency(lambda q: searcher.dense_scores(vectors[q], None, CANDIDATES), questions),
        "bm25_scores (with jieba)": latency(lambda q: searcher.bm25_scores(q, None, CANDIDATES), questions),
    }
    CACHE.mkdir(exist_ok=True)
    np.savez(CACHE / "seed.npz", chunks=index.vectors, questions=np.stack([vectors[q] for q in questions]))
    tokens = {
        "chunks": [index.tokenizer.tokens(c.embedding_text()) for c in index.chunks],
        "reports": [c.source for c in index.chunks],
        "questions": [index.tokenizer.tokens(q) for q in questions],
        "texts": [c.text for c in index.chunks],
        "which": [
            {"term": term, "head": head_noun(searcher, term), "words": content_words(searcher, term)}
            for term in (which_term(searcher.understand(q.question), searcher) for q in gold if q.type == "which")
        ],
    }
    (CACHE / "seed.json").write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
    return {
        "stage": "seed", "chunks": report.n_chunks, "reports": len(index.documents), "faiss": index.manifest.faiss_type,
        "build_wall": build_wall, "build_cpu": build_cpu, "load_wall": load_wall, "disk_mib": disk / 2**20,
        "queries": len(questions), "latency": parts, "peak_rss_mib": peak_rss_mib(),
    }


def noisy_copies(seed: np.ndarray, sources: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sigma = (NOISE * seed.std(axis=0)).astype(np.float32)
    out = np.empty((len(sources), seed.shape[1]), dtype=np.float32)
    for start in range(0, len(sources), 100_000):  # blocks keep the temporaries small at 1M
        block = seed[sources[start : start + 100_000]]
        block += rng.standard_normal(block.shape, dtype=np.float32) * sigma
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def token_lists(seed_tokens: list[list[str]], sources: np.ndarray, rng: np.random.Generator) -> list[list[str]]:
    vocab = np.array(sorted({t for tokens in seed_tokens for t in tokens}), dtype=object)
    position = {t: i for i, t in enumerate(vocab)}
    seed_ids = [np.array([position[t] for t in tokens], dtype=np.int32) for tokens in seed_tokens]
    ids = np.concatenate([seed_ids[s] for s in sources])
    swap = rng.random(len(ids)) < SWAP
    corpus = np.concatenate(seed_ids)  # draws by corpus frequency
    ids[swap] = corpus[rng.integers(0, len(corpus), int(swap.sum()))]
    ends = np.cumsum([len(seed_ids[s]) for s in sources])[:-1]
    return [part.tolist() for part in np.split(vocab[ids], ends)]


def recall_at_10(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f[:10]) & set(e[:10])) / 10 for f, e in zip(found, exact)]))


class Arrays(SimpleNamespace, InMemorySearch):
    """Just the arrays a scale stage builds, searched by the file index's own code."""


def scale_stage(n: int, hnsw: bool) -> dict:
    """FAISS and BM25 at n synthetic chunks, each against exact FlatIP in the same run."""
    import bm25s
    import faiss

    from reportqa.retrieve import CANDIDATES, HybridSearcher
    from reportqa.store import make_faiss
    from reportqa.which import mention_in

    arrays, material = np.load(CACHE / "seed.npz"), json.loads((CACHE / "seed.json").read_text(encoding="utf-8"))
    rng = np.random.default_rng(SEED)
    sources = rng.integers(0, len(arrays["chunks"]), n)
    vectors = noisy_copies(arrays["chunks"], sources, rng)
    queries = np.vstack([arrays["questions"], noisy_copies(arrays["chunks"], rng.integers(0, len(arrays["chunks"]), EXTRA_QUERIES), rng)])
    n_gold = len(arrays["questions"])

    builds = {"FlatIP (baseline)": lambda: make_faiss(vectors, exact_up_to=n)[0], "make_faiss (product)": lambda: make_faiss(vectors)[0]}
    if hnsw:
        builds["HNSWFlat32 (ef 128)"] = lambda: hnsw_index(vectors)
    exact, rows = None, []
    for name, build in builds.items():
        faiss.omp_set_num_threads(os.cpu_count())  # builds use every core, searches one (as HybridSearcher)
        index, wall, cpu = timed(build)
        searcher = HybridSearcher(Arrays(dense=index, vectors=vectors), embedder=None)
        found = index.search(queries, 10)[1]
        exact = found if exact is None else exact  # the baseline is built first
        rows.append({
            "index": f"{name}: {type(index).__name__}", "build_wall": wall, "build_cpu": cpu,
            "mib": len(faiss.serialize_index(index)) / 2**20,
            "latency": latency(lambda q: searcher.dense_scores(q, None, CANDIDATES), list(queries)),
            "recall": recall_at_10(found, exact), "recall_gold": recall_at_10(found[:n_gold], exact[:n_gold]),
        })

    reports = np.array(material["reports"])[sources]
    allowed = np.flatnonzero(reports == material["reports"][0])  # one report's chunks, as a town filter keeps
    exact_scorer = HybridSearcher(Arrays(vectors=vectors), embedder=None)  # a filtered query never reaches FAISS
    filtered = latency(lambda q: exact_scorer.dense_scores(q, allowed, CANDIDATES), list(queries[:50]))

    tokens = token_lists(material["chunks"], sources, rng)
    bm25 = bm25s.BM25()
    _, index_wall, index_cpu = timed(bm25.index, tokens, show_progress=False)
    del tokens
    with tempfile.TemporaryDirectory() as tmp:
        _, save_wall, _ = timed(bm25.save, Path(tmp) / "bm25", show_progress=False)
        disk = sum(p.stat().st_size for p in (Path(tmp) / "bm25").iterdir())
        _, load_wall, _ = timed(bm25s.BM25.load, Path(tmp) / "bm25", show_progress=False)
    lexical = HybridSearcher(Arrays(bm25=bm25, tokenizer=SimpleNamespace(tokens=list), chunks=range(n)), embedder=None)
    bm25_latency = latency(lambda q: lexical.bm25_scores(q, None, CANDIDATES), material["questions"])
    texts = material["texts"]
    documents = ["\n".join(texts[s] for s in sources[i : i + CHUNKS_PER_REPORT].tolist()) for i in range(0, n, CHUNKS_PER_REPORT)]
    mentions = latency(lambda w: [mention_in(w["term"], w["words"], w["head"], d) for d in documents], material["which"])
    return {
        "stage": "scale", "n": n, "dense": rows, "filtered": filtered, "filtered_share": len(allowed) / n,
        "bm25": {"index_wall": index_wall, "index_cpu": index_cpu, "save_wall": save_wall, "load_wall": load_wall, "mib": disk / 2**20, "latency": bm25_latency},
        "mentions": mentions,
        "peak_rss_mib": peak_rss_mib(),
    }


def hnsw_index(vectors: np.ndarray):
    """The HNSW graph store.py used before IVF, for comparison only."""
    import faiss

    index = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction, index.hnsw.efSearch = 80, 128
    index.add(vectors)
    return index


# ----------------------------------------------------------------------------- report


def ms(d: dict, key: str = "cpu_p50") -> str:
    return f"{d[key]:.2f}"


def size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def render(results: list[dict]) -> str:
    seed = next((r for r in results if r["stage"] == "seed"), None)
    scale = [r for r in results if r["stage"] == "scale"]
    lines = [
        "# Index benchmark",
        "",
        f"`python eval/bench_index.py` on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}. Latencies are p50 / p95 in ms "
        "over one query per call; CPU = this process's CPU time, which other jobs on a shared machine inflate less than wall time.",
        "",
    ]
    if seed:
        lines += [
            f"## Seed corpus ({seed['reports']} reports, {seed['chunks']} chunks, FAISS {seed['faiss']})",
            "",
            f"`build_index` (embedding included): {seed['build_wall']:.1f} s wall, {seed['build_cpu']:.1f} s CPU = "
            f"**{seed['chunks'] / seed['build_wall']:.2f} chunks/s** wall; `load_index` {seed['load_wall']:.2f} s; "
            f"index on disk {seed['disk_mib']:.1f} MiB; peak RSS {seed['peak_rss_mib']:.0f} MiB.",
            "",
            f"| part ({seed['queries']} gold questions) | wall p50 / p95 | CPU p50 / p95 | share of search CPU p50 |",
            "|---|---:|---:|---:|",
        ]
        total = seed["latency"]["search, end to end"]["cpu_p50"]
        for name, d in seed["latency"].items():
            lines.append(f"| {name} | {ms(d, 'p50')} / {ms(d, 'p95')} | {ms(d)} / {ms(d, 'cpu_p95')} | {100 * d['cpu_p50'] / total:.1f} % |")
        lines.append("")
    if scale:
        lines += [
            "## Synthetic scale: dense",
            "",
            f"Queries: the gold questions plus {EXTRA_QUERIES} held-out synthetic chunks; recall@10 against the exact FlatIP top-10 "
            "(all queries / gold questions). Latency: `HybridSearcher.dense_scores`, top-50, one thread.",
            "",
            "| chunks | index | build s wall (CPU) | MiB | wall p50 / p95 | CPU p50 | CPU p50 ÷ FlatIP | recall@10 (gold) |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in scale:
            base = r["dense"][0]["latency"]["cpu_p50"]
            for row in r["dense"]:
                d = row["latency"]
                lines.append(
                    f"| {size_label(r['n'])} | {row['index']} | {row['build_wall']:.1f} ({row['build_cpu']:.1f}) | {row['mib']:.0f} | "
                    f"{ms(d, 'p50')} / {ms(d, 'p95')} | {ms(d)} | {d['cpu_p50'] / base:.3f} | {row['recall']:.3f} ({row['recall_gold']:.3f}) |"
                )
        lines += [
            "",
            "Filtered search (`dense_scores` with one report's chunks allowed: exact scores over the stored vectors):",
            "",
            "| chunks | allowed | wall p50 / p95 | CPU p50 | ÷ unfiltered FlatIP CPU p50 |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in scale:
            d, base = r["filtered"], r["dense"][0]["latency"]["cpu_p50"]
            lines.append(f"| {size_label(r['n'])} | {100 * r['filtered_share']:.0f} % | {ms(d, 'p50')} / {ms(d, 'p95')} | {ms(d)} | {d['cpu_p50'] / base:.2f} |")
        lines += [
            "",
            "## Synthetic scale: BM25 (bm25s, as store.py builds it) and peak memory",
            "",
            "| chunks | index s wall (CPU) | MiB on disk | save / load s | `bm25_scores` wall p50 / p95 | CPU p50 | peak RSS MiB |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in scale:
            b, d = r["bm25"], r["bm25"]["latency"]
            lines.append(
                f"| {size_label(r['n'])} | {b['index_wall']:.1f} ({b['index_cpu']:.1f}) | {b['mib']:.0f} | {b['save_wall']:.1f} / {b['load_wall']:.1f} | "
                f"{ms(d, 'p50')} / {ms(d, 'p95')} | {ms(d)} | {r['peak_rss_mib']:.0f} |"
            )
        lines += [
            "",
            f"Which-question scan (`which.mention_in` over every document: the term verbatim, reordered within a clause, its "
            f"words in one sentence, or its head noun) for the gold which-questions' terms, chunks grouped into "
            f"reports of {CHUNKS_PER_REPORT}:",
            "",
            "| chunks | wall p50 / p95 | CPU p50 / p95 |",
            "|---|---:|---:|",
        ]
        for r in scale:
            d = r["mentions"]
            lines.append(f"| {size_label(r['n'])} | {ms(d, 'p50')} / {ms(d, 'p95')} | {ms(d)} / {ms(d, 'cpu_p95')} |")
        if seed:
            embed = seed["latency"]["embed_query"]["cpu_p50"]
            lines += ["", f"Hybrid query estimate (CPU p50 ms): embed_query {embed:.1f} (seed stage) + product dense + BM25:", ""]
            for r in scale:
                dense, bm25 = r["dense"][1]["latency"]["cpu_p50"], r["bm25"]["latency"]["cpu_p50"]
                lines.append(f"* {size_label(r['n'])}: {embed:.1f} + {dense:.2f} + {bm25:.2f} = **{embed + dense + bm25:.1f} ms**")
    return "\n".join(lines) + "\n"


def write_report(body: str) -> None:
    """Keep the hand-written Findings block of the previous report."""
    old = REPORT.read_text(encoding="utf-8") if REPORT.exists() else ""
    begin, end = "<!-- findings:begin -->", "<!-- findings:end -->"
    findings = old[old.index(begin) : old.index(end) + len(end)] if begin in old and end in old else f"{begin}\n## Findings\n\n{end}"
    title, rest = body.split("\n", 1)
    REPORT.write_text(f"{title}\n\n{findings}\n{rest}", encoding="utf-8")


def run_worker(args: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, "--worker", *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--no-seed", action="store_true", help="reuse the seed vectors left in the cache by an earlier run")
    parser.add_argument("--hnsw", action="store_true", help="also build an HNSW graph (slow: about 11 minutes at 1M)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        stage, *rest = args.worker
        print(json.dumps(seed_stage() if stage == "seed" else scale_stage(int(stage), rest == ["hnsw"])))
        return
    results = [] if args.no_seed else [run_worker(["seed"])]
    results += [run_worker([str(n), *(["hnsw"] if args.hnsw else [])]) for n in args.sizes]
    body = render(results)
    print(body)
    write_report(body)


if __name__ == "__main__":
    main()
