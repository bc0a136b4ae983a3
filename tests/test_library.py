"""Library changes from the app: checked first, undone whole when the index build fails, nothing erased."""

import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from reportqa import library
from reportqa.config import Settings
from reportqa.ingest.meta import read_sidecar

ROOT = Path(__file__).resolve().parents[1]
FENGQIAO = "001_2bd030c6d8315c75.txt"


@pytest.fixture
def backend(tmp_path, monkeypatch):
    """The bundled corpus copied, with the index build and reload recorded instead of run."""
    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    builds = []
    monkeypatch.setattr("reportqa.store.build_index", lambda settings, **kw: builds.append(1) or SimpleNamespace(n_chunks=1, seconds=0.1, skipped=[]))
    return SimpleNamespace(
        settings=Settings(home=tmp_path, corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index"),
        lock=threading.RLock(), index=SimpleNamespace(chunks=[], chunks_by_source={}), reload=lambda: None, builds=builds,
    )


def snapshot(corpus: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in corpus.iterdir()}


def test_delete_moves_the_file_to_the_trash_and_drops_its_row(backend):
    corpus = backend.settings.corpus_dir
    original = (corpus / FENGQIAO).read_bytes()
    result = library.delete_report(backend, FENGQIAO)
    assert result.ok and "已删除" in result.message and backend.builds
    assert not (corpus / FENGQIAO).exists() and FENGQIAO not in read_sidecar(corpus)
    [kept] = list(library.trash_dir(corpus).iterdir())
    assert kept.name.endswith(FENGQIAO) and kept.read_bytes() == original
    assert not library.delete_report(backend, "nope.txt").ok


def test_a_failed_build_puts_everything_back(backend, monkeypatch):
    corpus = backend.settings.corpus_dir
    before = snapshot(corpus)

    def broken(settings, **kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr("reportqa.store.build_index", broken)
    for result in (library.delete_report(backend, FENGQIAO), library.replace_report(backend, FENGQIAO, "新.txt", "凤桥镇更正稿。全年实现规上工业总产值92亿元。".encode()),
                   library.edit_meta(backend, FENGQIAO, {"town": "凤桥"})):
        assert not result.ok and "已撤回" in result.message and "disk full" in result.message
        assert snapshot(corpus) == before


def test_replace_keeps_the_metadata_and_trashes_the_old_file(backend):
    corpus = backend.settings.corpus_dir
    row = read_sidecar(corpus)[FENGQIAO]
    result = library.replace_report(backend, FENGQIAO, "凤桥更正.txt", "凤桥镇更正稿。全年实现规上工业总产值92亿元。".encode())
    assert result.ok and "替换" in result.message
    assert "92亿元" in (corpus / FENGQIAO).read_text(encoding="utf-8") and read_sidecar(corpus)[FENGQIAO] == row
    assert len(list(library.trash_dir(corpus).iterdir())) == 1
    same = library.replace_report(backend, FENGQIAO, "again.txt", (corpus / FENGQIAO).read_bytes())
    assert not same.ok and "无需替换" in same.message
    as_docx = library.replace_report(backend, FENGQIAO, "x.png", b"\x89PNG")
    assert not as_docx.ok and "不支持" in as_docx.message


def test_edit_meta_checks_and_writes_the_row(backend):
    corpus = backend.settings.corpus_dir
    assert not library.edit_meta(backend, FENGQIAO, {"year": "二〇二三"}).ok
    result = library.edit_meta(backend, FENGQIAO, {"title": "凤桥镇2023年政府工作报告（更正）", "year": "2023"})
    assert result.ok and read_sidecar(corpus)[FENGQIAO].title == "凤桥镇2023年政府工作报告（更正）"
    assert read_sidecar(corpus)[FENGQIAO].town == "凤桥镇"  # fields not given stay


def test_several_files_import_in_one_build_and_bad_ones_are_named(backend):
    corpus = backend.settings.corpus_dir
    files = [("甲镇2024年工作计划.txt", "甲镇2024年工作计划。建设萤火虫公园。".encode()),
             ("乙镇2024年工作计划.txt", "乙镇2024年工作计划。建设湿地公园。".encode()),
             ("重复.txt", (corpus / FENGQIAO).read_bytes()), ("空.txt", b"")]
    result = library.import_reports(backend, files)
    assert result.ok and len(backend.builds) == 1
    assert (corpus / "甲镇2024年工作计划.txt").exists() and (corpus / "乙镇2024年工作计划.txt").exists()
    assert "已经在库中" in result.message and "文件为空" in result.message and not (corpus / "重复.txt").exists()
    assert read_sidecar(corpus)["甲镇2024年工作计划.txt"].year == "2024"
