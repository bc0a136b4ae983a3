"""Grow the PostgreSQL store that `bench_stores.py --sizes 100000` left to 10^6 chunks by repetition, in SQL.

Nine copies of every report, chunk and posting (new random unit vectors), then the indexes and statistics as
the product builds them (`ensure_ann_index`). Writing 10^6 chunks through `write_report` takes over an hour on
2 cores; this measures the search side at 10^6 in minutes. Its time, server CPU and size go to
build-pg-1000000.json for `python eval/bench_stores.py --sizes 100000 1000000 --search-only`
(queries-1000000.json: the 10^5 queries, no exact top 10).

    python eval/replicate_bench_pg.py postgresql://…/bench
"""
import json
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_stores import WORK, server_clock  # noqa: E402

from reportqa.pgstore.build import ensure_ann_index  # noqa: E402

c = psycopg.connect(sys.argv[1], autocommit=True)
server = server_clock(sys.argv[1])
t0, server0 = time.time(), server()


def step(name, sql, *params):
    t = time.time()
    c.execute(sql, *params)
    print(f"{name}: {time.time() - t:.0f}s (total {time.time() - t0:.0f}s)", flush=True)


c.execute("SET maintenance_work_mem = '2GB'")
c.execute("SET max_parallel_maintenance_workers = 2")
step("drop indexes", "DROP INDEX IF EXISTS chunks_ivf; ALTER TABLE postings DROP CONSTRAINT postings_pkey; DROP INDEX postings_chunk; DROP INDEX chunks_years")
R, N = 4546, 100000
for r in range(1, 10):
    step(f"reports {r}", "INSERT INTO reports (id, source, fingerprint, sha256, meta, text) SELECT id + %s, source || '.r' || %s, fingerprint, sha256, meta, text FROM reports WHERE id <= %s", (r * R, r, R))
    step(f"chunks {r}", "INSERT INTO chunks (id, report_id, ord, body, text, n_tokens, years, embedding) SELECT id + %s, report_id + %s, ord, body, text, n_tokens, years, "
         "l2_normalize(ARRAY(SELECT random() - 0.5 FROM generate_series(1, 384 + 0 * c.id))::real[]::vector) FROM chunks c WHERE id <= %s", (r * N, r * R, N))
    step(f"postings {r}", "INSERT INTO postings SELECT token, chunk_id + %s, report_id + %s, tf, dl FROM postings WHERE chunk_id <= %s", (r * N, r * R, N))
step("sequences", "SELECT setval('reports_id_seq', (SELECT max(id) FROM reports)), setval('chunks_id_seq', (SELECT max(id) FROM chunks))")
step("terms", "UPDATE terms SET df = df * 10")
step("manifest", "UPDATE manifest SET value = to_jsonb(value::bigint * 10) WHERE key IN ('n_chunks', 'n_tokens')")
step("postings key", "ALTER TABLE postings ADD PRIMARY KEY (token, chunk_id) INCLUDE (report_id, tf, dl)")
step("postings_chunk", "CREATE INDEX postings_chunk ON postings (chunk_id)")
step("chunks_years", "CREATE INDEX chunks_years ON chunks USING gin (years)")
t = time.time()
ensure_ann_index(c, 384, print)
print(f"ivf: {time.time() - t:.0f}s", flush=True)
step("vacuum", "VACUUM ANALYZE")
size = float(c.execute("SELECT pg_database_size(current_database()) / 1048576.0").fetchone()[0])
built = {"build_s": time.time() - t0, "build_cpu_s": time.process_time(), "server_cpu_s": server() - server0, "size_mib": size, "by": "SQL copies"}
print(built, flush=True)
(WORK / "build-pg-1000000.json").write_text(json.dumps(built), encoding="utf-8")

# The searches at 10^6 ask the 10^5 queries; their exact top 10 is not known here, so no recall is reported.
queries = json.loads((WORK / "queries-100000.json").read_text(encoding="utf-8"))
(WORK / "queries-1000000.json").write_text(json.dumps([{**q, "exact": []} for q in queries]), encoding="utf-8")
