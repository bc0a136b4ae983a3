"""BM25 in SQL, MaxScore (PgIndex.bm25_scores) against reading every posting of the query's words (one
query over all of them, as before MaxScore), on the bench_stores queries of a size: wall and app+server
CPU per search, and whether both give the same n best in the same order.

    python eval/bench_bm25_pg.py postgresql://…/bench1000000 1000000
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_index import latency  # noqa: E402
from bench_stores import WORK, server_clock  # noqa: E402

from reportqa.pgstore.index import PgIndex  # noqa: E402
from reportqa.retrieve import CANDIDATES  # noqa: E402


def main() -> None:
    uri, n = sys.argv[1], int(sys.argv[2])
    index = PgIndex(uri)
    asked = [(index.tokenizer.tokens(q["text"]), index.allowed_ids(q["filters"]))
             for q in json.loads((WORK / f"queries-{n}.json").read_text(encoding="utf-8"))]

    def every_posting(q) -> list[int]:
        tokens, allowed = q
        weights = {t: index.idf[t] * tokens.count(t) for t in dict.fromkeys(tokens) if t in index.idf}
        return [i for i, _ in index._bm25_query(list(weights), [], weights, allowed, CANDIDATES, 0.0)] if weights else []

    def maxscore(q) -> list[int]:
        return index.bm25_scores(q[0], q[1], CANDIDATES)[0]

    same = sum(every_posting(q) == maxscore(q) for q in asked)
    clock = server_clock(uri)
    for name, fn in (("every posting", every_posting), ("MaxScore", maxscore)):
        t = latency(fn, asked, clock)
        print(f"{n:,} chunks, {name}: wall p50 / p95 {t['p50']:.1f} / {t['p95']:.1f} ms, "
              f"app+server CPU p50 / p95 {t['total_cpu_p50']:.1f} / {t['total_cpu_p95']:.1f} ms")
    print(f"same {CANDIDATES} best in the same order: {same} of {len(asked)} queries")


if __name__ == "__main__":
    main()
