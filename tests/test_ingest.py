"""Cleaning, sections and chunks on the real seed reports."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from reportqa.ingest import chunk_document, load_documents, prepare_document
from reportqa.ingest.clean import clean_text
from reportqa.ingest.load import LoadError, read_bytes, read_file

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SEED = {
    "000": "000_8c1686c3ebcfc303.txt",
    "001": "001_2bd030c6d8315c75.txt",
    "002": "002_f33962c4148b52b6.txt",
    "003": "003_4716113be698249b.txt",
    "004": "004_49881e2bc210889c.txt",
}


@pytest.fixture(scope="module")
def documents():
    docs, errors = load_documents(CORPUS)
    assert errors == []
    return {d.source[:3]: d for d in docs}


def test_traditional_report_is_simplified_without_pinyin(documents):
    text = documents["001"].text
    assert "凤桥镇政府工作报告" in text
    assert "省级未来社区" in text
    assert not re.search(r"[（(][A-Za-zà-üāēīōūǎěǐǒǔǖǘǚǜ]+[)）]", text)
    assert "?zhèn" not in text and "鳳" not in text


def test_web_boilerplate_is_removed(documents):
    text = documents["000"].text
    assert "您当前的位置" not in text and "村镇频道" not in text
    assert "二维码" not in text and "分享到" not in text and "相关阅读" not in text
    assert text.rstrip().endswith("营造和谐稳定的社会氛围。")
    tail = documents["004"].text
    assert "转载请注明" not in tail and "上一篇" not in tail and "热点文章" not in tail


def test_publication_table_becomes_metadata(documents):
    doc = documents["002"]
    assert "索引号" not in doc.text
    assert doc.meta.date == "2022-05-05"
    raw = read_file(CORPUS / SEED["002"])
    extracted = prepare_document(raw, None).meta
    assert extracted.extracted and extracted.date == "2022-05-05" and extracted.town == "天目山镇"


def test_report_sections(documents):
    root = documents["002"].sections
    titles = {section.title for _, section in root.walk()}
    assert "一、抓产业、增后劲，经济运行稳中有进" in titles
    assert "2022年重点工作安排" in titles
    parts = [child.title for child in root.children]
    assert parts[:3] == ["2021年和本届政府工作回顾", "今后五年发展目标任务", "2022年重点工作安排"]
    review = root.children[0]
    assert "一、抓产业、增后劲，经济运行稳中有进" in [c.title for c in review.children]


def test_interview_has_one_section_per_host_question(documents):
    doc = documents["000"]
    questions = doc.sections.children
    assert len(questions) == doc.original.count("主持人提问") == 4
    assert questions[1].title.startswith("2021年我们余新在经济社会发展")
    inline = documents["004"].sections.children
    assert len(inline) == 5 and all(q.title.endswith("？") for q in inline)


def test_chunks_stay_inside_sections_and_map_back(documents):
    for doc in documents.values():
        chunks = chunk_document(doc, size=300, overlap=50)
        assert chunks
        leaves = {path: section for path, section in doc.sections.walk()}
        for chunk in chunks:
            section = leaves[chunk.section_path]
            own = {i for s, e in section.body for i in range(s, e)}
            outside = [i for i in range(chunk.start, chunk.end) if i not in own and not doc.text[i].isspace()]
            assert not outside, f"{chunk.id} crosses out of {chunk.section}"
            assert len(chunk.text) <= 300
            assert doc.text[chunk.start : chunk.end] == chunk.text
            # the original slice, cleaned on its own, is the same passage
            assert clean_text(doc.original[chunk.orig_start : chunk.orig_end]).text == chunk.text


def test_chunk_ids_are_stable(documents):
    first = [c.id for c in chunk_document(documents["002"])]
    again = [c.id for c in chunk_document(load_documents(CORPUS)[0][2])]
    assert first == again and len(set(first)) == len(first)


def test_gbk_copy_reads_the_same(tmp_path, documents):
    original = (CORPUS / SEED["002"]).read_text(encoding="utf-8")
    gbk = tmp_path / "gbk_copy.txt"
    gbk.write_bytes(original.encode("gbk"))
    assert prepare_document(read_file(gbk), None).text == documents["002"].text


def test_bad_files_are_reported_and_skipped(tmp_path):
    shutil.copy(CORPUS / SEED["003"], tmp_path / SEED["003"])
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "image.txt").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / "dup.txt").write_bytes((CORPUS / SEED["003"]).read_bytes())
    docs, errors = load_documents(tmp_path)
    assert [d.source for d in docs] == [SEED["003"]]
    reasons = {e.source: e.reason for e in errors}
    assert "为空" in reasons["empty.txt"]
    assert "二进制" in reasons["image.txt"]
    assert "不支持" in reasons["sheet.xlsx"]
    assert "相同" in reasons["dup.txt"]


def test_other_formats(tmp_path):
    import docx

    html = "<html><body><nav>首页 > 新闻</nav><article><p>余新镇推进渔里未来社区建设。</p></article><footer>版权所有</footer></body></html>"
    assert read_bytes("a.html", html.encode()).text.strip() == "余新镇推进渔里未来社区建设。"
    word = docx.Document()
    word.add_paragraph("一、工作回顾")
    word.add_paragraph("凤桥镇建成省级未来社区。")
    word.save(tmp_path / "r.docx")
    assert "省级未来社区" in read_file(tmp_path / "r.docx").text
    with pytest.raises(LoadError, match="损坏"):
        read_bytes("broken.pdf", b"%PDF-1.4 garbage")
    with pytest.raises(LoadError, match="编码"):
        read_bytes("latin.txt", b"\xff\xfe\xfa" * 50)
