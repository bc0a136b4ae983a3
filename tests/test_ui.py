"""The app's pure parts without a browser or a model: rendering and the library's import guard."""

import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from reportqa import library
from reportqa.ui import render
from reportqa.ui.app import parse_where
from reportqa.ui.backend import form_filters
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
    result = library.import_report(backend, name, data, {})
    assert not result.ok and reason in result.message and "没有任何改动" in result.message
    assert snapshot(backend.settings.corpus_dir) == before


def test_existing_name_and_duplicate_content_are_rejected(tmp_path):
    backend = fake_backend(tmp_path)
    corpus = backend.settings.corpus_dir
    before = snapshot(corpus)
    existing = "001_2bd030c6d8315c75.txt"
    result = library.import_report(backend, existing, "完全不同的内容。".encode(), {})
    assert not result.ok and "同名文件" in result.message
    result = library.import_report(backend, "换个名字.txt", (corpus / existing).read_bytes(), {})
    assert not result.ok and "已经在库中" in result.message and existing in result.message
    assert snapshot(corpus) == before


@pytest.mark.parametrize("meta, reason", [({"year": "二〇二三"}, "四位数字"), ({"doc_type": "通知"}, "文档类型")])
def test_bad_metadata_is_rejected(tmp_path, meta, reason):
    backend = fake_backend(tmp_path)
    before = snapshot(backend.settings.corpus_dir)
    result = library.import_report(backend, "新报告.txt", "测试镇2024年工作计划。全力推进生态公园建设。".encode(), meta)
    assert not result.ok and reason in result.message
    assert snapshot(backend.settings.corpus_dir) == before


def test_failed_index_build_takes_the_file_back_out(tmp_path, monkeypatch):
    backend = fake_backend(tmp_path)
    corpus = backend.settings.corpus_dir
    before = snapshot(corpus)

    def broken_build(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("reportqa.store.build_index", broken_build)
    result = library.import_report(backend, "新报告.txt", "测试镇2024年工作计划。全力推进生态公园建设。".encode(), {"town": "测试镇"})
    assert not result.ok and "已撤回" in result.message and "disk full" in result.message
    assert snapshot(corpus) == before


def test_preview_upload_reads_metadata_off_the_text(tmp_path):
    path = tmp_path / "凤桥.txt"
    shutil.copy(ROOT / "corpus" / "001_2bd030c6d8315c75.txt", path)
    message, meta = library.preview_upload(str(path))
    assert "可以读取" in message and "凤桥镇" in meta["title"] and meta["doc_type"] == "政府工作报告"
    empty = tmp_path / "空.txt"
    empty.write_bytes(b"")
    message, meta = library.preview_upload(str(empty))
    assert "文件为空" in message and meta == {}


def test_highlight_escapes_html_and_marks_terms():
    out = render.highlight("<script>x</script>推进未来社区建设，未来可期", ["未来社区", "未来"])
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert out.count("<mark>") == 2 and "<mark>未来社区</mark>" in out and "<mark>未来</mark>可期" in out
    assert render.highlight("a<b", []) == "a&lt;b"


def _chunk(source, text, start, section_path=("标题", "一、工作回顾")):
    meta = {"town": "凤桥镇", "year": "2023", "doc_type": "政府工作报告", "title": "标题"}
    return Chunk("c1", source, section_path, text, start, start + len(text), start, start + len(text), meta)


class FakeSearcher:
    def __init__(self, index):
        self.index = index

    def understand(self, question):
        return SimpleNamespace(kind="fact", item="")


def _passage(chunk):
    from reportqa.retrieve import Passage

    return Passage(chunk, 0.9, 0.9, 1.0, 1)


def test_answer_html_links_citations_marks_the_quote_and_opens_the_document(tmp_path):
    text = "前文" * 200 + "推进凤桥社区创建省级未来社区。" + "后文" * 200
    start = text.index("推进")
    chunk = _chunk("001.txt", "推进凤桥社区创建省级未来社区。", start)
    documents = {"001.txt": SimpleNamespace(text=text, meta=chunk.meta)}
    backend = fake_backend(tmp_path, documents, [chunk])
    passage = _passage(chunk)
    answer = SimpleNamespace(
        question="哪个镇提到未来社区", text="（按 未来社区 理解）\n推进凤桥社区创建省级未来社区。[1]", refused=False, related=[],
        citations=[SimpleNamespace(n=1, passage=passage)], notes=["大模型不可用，已改用摘录式回答。"],
        backend="extractive", latency_ms=12.0,
    )
    out = render.answer_html(backend.index, FakeSearcher(backend.index), answer, "rq-src-t1")
    assert "<a class='rq-cite' href='#rq-src-t1-1'>[1]</a>" in out and "id='rq-src-t1-1'" in out
    assert "<mark class='rq-quote'>推进凤桥社区创建省级未来社区</mark>" in out
    assert "<div class='rq-understood'>按 未来社区 理解</div>" in out
    assert "凤桥镇 · 2023年 · 政府工作报告" in out and "001.txt" not in out.replace("#open=001.txt", "")  # named by label, not file
    assert "一、工作回顾" in out and "<details>" in out and "前文" * 150 in out
    assert "大模型不可用" in out
    where = out.split("#open=")[1].split("'")[0]
    from urllib.parse import unquote

    source, span, quote = parse_where(unquote(where))
    assert source == "001.txt" and span == (start, start + len(chunk.text)) and quote == (start, start + len(chunk.text) - 1)
    _, view = render.document_view(backend.index, source, span, quote)
    assert "id='rq-target'" in view and "<mark class='rq-quote'>推进凤桥社区创建省级未来社区</mark>" in view
    refused = SimpleNamespace(**{**answer.__dict__, "refused": True, "citations": [], "related": [passage], "text": "资料中未提及。", "notes": []})
    out = render.answer_html(backend.index, FakeSearcher(backend.index), refused, "rq-src-t2")
    assert "可能相关" in out and "rq-quote" not in out


def test_answer_points_from_several_reports_are_grouped_under_their_labels(tmp_path):
    a = _chunk("001.txt", "余新镇推进未来社区。", 0)
    b = Chunk("c2", "002.txt", ("标题", "二、2023年工作安排"), "凤桥镇创建未来社区。", 0, 10, 0, 10,
              {"town": "凤桥镇", "year": "2023", "doc_type": "政府工作报告", "title": "t"})
    a.meta["town"] = "余新镇"
    by_n = {1: _passage(a), 2: _passage(b)}
    out = render.answer_body("资料中共有 2 个镇街提到「未来社区」：余新镇[1]、凤桥镇[2]。\n余新镇 · 2023年 · 政府工作报告：余新镇推进未来社区。[1]\n凤桥镇创建未来社区。[2]", by_n, "p")
    assert out.index("<p>资料中共有") < out.index("<h4>余新镇 · 2023年 · 政府工作报告</h4>") < out.index("<h4>凤桥镇 · 2023年 · 政府工作报告</h4>")
    assert "<li>余新镇推进未来社区。<a class='rq-cite'" in out  # the label is the heading, not repeated
    assert "（2023年工作安排）" not in out and "（二、2023年工作安排）" in out


def test_weak_search_results_follow_a_divider_and_are_not_counted(tmp_path):
    strong = _passage(_chunk("001.txt", "推进污水零直排。", 0))
    weak = _passage(Chunk("c2", "002.txt", ("t", "x"), "发展乡村旅游。", 0, 7, 0, 7, {"town": "唐坊镇", "year": "2021", "doc_type": "访谈", "title": "t"}))
    weak.rank = 2
    index = SimpleNamespace(documents={})
    out = render.search_html(index, ["污水零直排"], "污水零直排", [strong], [weak])
    assert "共 1 段确切相关，来自 1 个镇街" in out
    assert out.index("凤桥镇") < out.index("rq-weak-divider") < out.index("唐坊镇")
    assert "相关度 0.90" in out


def test_filters_accept_lists_and_comma_strings():
    assert form_filters(town=["余新镇"], year=None, doc_type=[]) == {"town": ["余新镇"]}
    assert form_filters(town="余新镇, 凤桥镇", county="") == {"town": ["余新镇", "凤桥镇"]}
