"""The app's pure parts without a browser or a model: rendering and the import guard."""

import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from reportqa import ui
from reportqa.config import Settings
from reportqa.ingest import Chunk

ROOT = Path(__file__).resolve().parents[1]


class FakeTokenizer:
    def tokens(self, text):
        return [t for t in ("未来社区", "未来", "社区", "财政", "收入") if t in text]


def fake_backend(tmp_path, documents=None, chunks=None):
    corpus = tmp_path / "corpus"
    if not corpus.exists():
        shutil.copytree(ROOT / "corpus", corpus)
    index = SimpleNamespace(documents=documents or {}, chunks=chunks or [], tokenizer=FakeTokenizer())
    backend = SimpleNamespace(
        settings=Settings(home=tmp_path, corpus_dir=corpus, index_dir=tmp_path / "index"),
        lock=threading.RLock(), index=index, reloaded=False,
    )
    backend.reload = lambda: pytest.fail("a rejected file must not trigger a reload")
    return backend


def snapshot(corpus: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in corpus.iterdir()}


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("空.txt", b"", "文件为空"),
        ("空白.txt", b"  \n\t ", "文件为空"),
        ("图片.png", b"\x89PNG....", "不支持的文件类型"),
        ("二进制.txt", b"abc\x00\x01\x02" * 10, "二进制"),
        ("坏的.docx", b"PK not really a docx", "损坏"),
        ("../逃逸.txt", "某镇政府工作报告。".encode(), "文件名不可用"),
        (".隐藏.txt", "某镇政府工作报告。".encode(), "文件名不可用"),
        ("metadata.csv", b"file,title\n", "文件名不可用"),
    ],
)
def test_bad_files_are_rejected_before_anything_is_written(tmp_path, name, data, reason):
    backend = fake_backend(tmp_path)
    before = snapshot(backend.settings.corpus_dir)
    result = ui.import_report(backend, name, data, {})
    assert not result.ok and reason in result.message and "没有任何改动" in result.message
    assert snapshot(backend.settings.corpus_dir) == before


def test_existing_name_and_duplicate_content_are_rejected(tmp_path):
    backend = fake_backend(tmp_path)
    corpus = backend.settings.corpus_dir
    before = snapshot(corpus)
    existing = "001_2bd030c6d8315c75.txt"
    result = ui.import_report(backend, existing, "完全不同的内容。".encode(), {})
    assert not result.ok and "同名文件" in result.message
    result = ui.import_report(backend, "换个名字.txt", (corpus / existing).read_bytes(), {})
    assert not result.ok and "已经在库中" in result.message and existing in result.message
    assert snapshot(corpus) == before


@pytest.mark.parametrize("meta, reason", [({"year": "二〇二三"}, "四位数字"), ({"doc_type": "通知"}, "文档类型")])
def test_bad_metadata_is_rejected(tmp_path, meta, reason):
    backend = fake_backend(tmp_path)
    before = snapshot(backend.settings.corpus_dir)
    result = ui.import_report(backend, "新报告.txt", "测试镇2024年工作计划。全力推进生态公园建设。".encode(), meta)
    assert not result.ok and reason in result.message
    assert snapshot(backend.settings.corpus_dir) == before


def test_failed_index_build_takes_the_file_back_out(tmp_path, monkeypatch):
    backend = fake_backend(tmp_path)
    corpus = backend.settings.corpus_dir
    before = snapshot(corpus)

    def broken_build(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("reportqa.store.build_index", broken_build)
    result = ui.import_report(backend, "新报告.txt", "测试镇2024年工作计划。全力推进生态公园建设。".encode(), {"town": "测试镇"})
    assert not result.ok and "已撤回" in result.message and "disk full" in result.message
    assert snapshot(corpus) == before


def test_preview_upload_reads_metadata_off_the_text(tmp_path):
    path = tmp_path / "凤桥.txt"
    shutil.copy(ROOT / "corpus" / "001_2bd030c6d8315c75.txt", path)
    message, meta = ui.preview_upload(str(path))
    assert "可以读取" in message and "凤桥镇" in meta["title"] and meta["doc_type"] == "政府工作报告"
    empty = tmp_path / "空.txt"
    empty.write_bytes(b"")
    message, meta = ui.preview_upload(str(empty))
    assert "文件为空" in message and meta == {}


def test_highlight_escapes_html_and_marks_terms():
    out = ui.highlight("<script>x</script>推进未来社区建设，未来可期", ["未来社区", "未来"])
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert out.count("<mark>") == 2 and "<mark>未来社区</mark>" in out and "<mark>未来</mark>可期" in out
    assert ui.highlight("a<b", []) == "a&lt;b"


def _chunk(source, text, start, section_path=("标题", "一、工作回顾")):
    meta = {"town": "凤桥镇", "year": "2023", "doc_type": "政府工作报告", "title": "标题"}
    return Chunk("c1", source, section_path, text, start, start + len(text), start, start + len(text), meta)


def test_answer_html_shows_citations_context_and_notes(tmp_path):
    text = "前文" * 200 + "推进凤桥社区创建省级未来社区。" + "后文" * 200
    start = text.index("推进")
    chunk = _chunk("001.txt", "推进凤桥社区创建省级未来社区。", start)
    documents = {"001.txt": SimpleNamespace(text=text, meta=chunk.meta)}
    backend = fake_backend(tmp_path, documents, [chunk])
    passage = SimpleNamespace(chunk=chunk, score=0.9)
    answer = SimpleNamespace(
        question="哪个镇提到未来社区", text="凤桥镇提到未来社区。[1]", refused=False, related=[],
        citations=[SimpleNamespace(n=1, passage=passage)], notes=["大模型不可用，已改用摘录式回答。"],
        backend="extractive", latency_ms=12.0,
    )
    out = ui.answer_html(backend, answer)
    assert "<span class='rq-cite'>[1]</span>" in out
    assert "一、工作回顾" in out and "<mark>未来社区</mark>" in out
    assert "<details>" in out and "前文" * 150 in out and "…" in out  # ±300 characters of surrounding text
    assert "大模型不可用" in out
    refused = SimpleNamespace(**{**answer.__dict__, "refused": True, "citations": [], "related": [passage], "text": "资料中未提及。", "notes": []})
    out = ui.answer_html(backend, refused)
    assert "可能相关" in out and "[1]" not in out.split("可能相关")[1].split("rq-passage-text")[0]


def test_filters_accept_lists_and_comma_strings():
    assert ui._filters(town=["余新镇"], year=None, doc_type=[]) == {"town": ["余新镇"]}
    assert ui._filters(town="余新镇, 凤桥镇", county="") == {"town": ["余新镇", "凤桥镇"]}
