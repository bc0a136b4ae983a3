"""Cleaning, sections and chunks on the real seed reports."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from reportqa.ingest import chunk_document, load_documents, prepare_document
from reportqa.ingest.clean import clean_text
from reportqa.ingest.load import LoadError, read_bytes, read_file
from reportqa.ingest.sections import parse_sections

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


def test_only_a_town_the_opening_names_is_the_issuer():
    """A place the body talks about is a topic: 「文化名镇」 in the 陶堰 plan, 「上山下乡」 in a national report."""
    plan = prepare_document(read_file(CORPUS / SEED["003"]), None).meta
    assert plan.town == "" and plan.title.startswith("2022年是党的二十大召开之年") and plan.title.endswith("…")
    opening = "中国共产党第九次全国代表大会，将是一次在我党历史上有深远影响的代表大会。" * 9
    national = f"在中国共产党第九次全国代表大会上的报告\n同志们！\n{opening}\n" + "知识青年上山下乡，大有作为。" * 3
    assert prepare_document(read_bytes("cpc09.txt", national.encode()), None).meta.town == ""
    interview = prepare_document(read_file(CORPUS / SEED["000"]), None).meta
    assert interview.town == "余新镇"


def test_a_dateline_in_chinese_numerals_gives_the_year_a_date_in_a_sentence_does_not():
    dated = "政府工作报告\n——二〇〇五年二月十六日在某县第十四届人民代表大会第三次会议上\n各位代表：\n现在，我代表县人民政府作报告。"
    assert prepare_document(read_bytes("2005.txt", dated.encode()), None).meta.year == "2005"
    told = "在中国共产党第十次全国代表大会上的报告\n同志们！\n党的九大是一九六九年四月召开的。"
    assert prepare_document(read_bytes("cpc10.txt", told.encode()), None).meta.year == "", "history, not the report's date"


def test_a_file_name_gives_the_year_the_text_does_not_but_a_hash_in_it_does_not():
    """A series saved one file a year (2019年政府工作报告.txt) may open with a bare 「政府工作报告」 and
    no dateline; the year the opening reviews is not the report's."""
    bare = "政府工作报告\n各位代表：\n一、2018年工作回顾\n过去一年，全县上下…"
    assert prepare_document(read_bytes("2019年政府工作报告.txt", bare.encode()), None).meta.year == "2019"
    assert prepare_document(read_bytes("report_2019.txt", bare.encode()), None).meta.year == "2019"
    assert prepare_document(read_bytes("001_2bd2019c6d8315c75.txt", bare.encode()), None).meta.year == "2018"
    titled = "德清县2015年政府工作报告\n各位代表："
    assert prepare_document(read_bytes("2019.txt", titled.encode()), None).meta.year == "2015", "the title outranks the name"


def test_the_title_or_dateline_gives_the_year_and_the_issuers_places():
    """Reports of one county over many years, with no metadata.csv: the year is the title's or the
    dateline's, not the year the opening reviews; a town's name may hold 市 (新市镇)."""
    county = "政府工作报告\n（二〇一九年一月二十日在安吉县第十六届人民代表大会第四次会议上）\n各位代表：\n一、2018年工作回顾\n递铺街道…"
    meta = prepare_document(read_bytes("c.txt", county.encode()), None).meta
    assert (meta.year, meta.county, meta.town) == ("2019", "安吉县", "")
    city = "政府工作报告\n——2019年1月15日在杭州市第十三届人民代表大会第三次会议上\n各位代表：\n一、2018年工作回顾"
    assert prepare_document(read_bytes("a.txt", city.encode()), None).meta.city == "杭州市"
    town = "新市镇2018年政府工作报告\n——在新市镇第十七届人民代表大会第三次会议上\n各位代表：\n一、2017年工作回顾"
    assert prepare_document(read_bytes("d.txt", town.encode()), None).meta.town == "新市镇"
    assert prepare_document(read_bytes("b.txt", "德清县2015年政府工作报告\n各位代表：".encode()), None).meta.county == "德清县"
    for title, year in (("德清县1998年政府工作报告", "1998"), ("德清县二〇〇三年政府工作报告", "2003")):  # a series reaches back before 2000
        assert prepare_document(read_bytes("e.txt", f"{title}\n各位代表：\n一、上年工作回顾".encode()), None).meta.year == year


def test_a_numbered_heading_running_on_into_its_paragraph_keeps_the_paragraph():
    text = "三、重点工作\n（一）推进乡村振兴。建设高标准农田1200亩。\n（二）加强生态保护。"
    sections = {section.title: section for _, section in parse_sections(text).walk()}
    assert set(sections) >= {"（一）推进乡村振兴。", "（二）加强生态保护。"}
    start, end = sections["（一）推进乡村振兴。"].body[0]
    assert text[start:end] == "（一）推进乡村振兴。建设高标准农田1200亩。"
    assert not sections["（二）加强生态保护。"].body, "a heading alone on its line has no text of its own"


def test_report_sections(documents):
    root = documents["002"].sections
    titles = {section.title for _, section in root.walk()}
    assert "一、抓产业、增后劲，经济运行稳中有进" in titles
    assert "2022年重点工作安排" in titles
    parts = [child.title for child in root.children]
    assert parts[:3] == ["2021年和本届政府工作回顾", "今后五年发展目标任务", "2022年重点工作安排"]
    review = root.children[0]
    assert "一、抓产业、增后劲，经济运行稳中有进" in [c.title for c in review.children]


WIKI_PAGE = """在中国共产党第十一次全国代表大会上的政治报告
同志们：

多数是愿意并且可以改正错误的，属于人民内部矛盾，我们对这些同志一定要执行
惩前毖后，治病救人
的方针。

毛主席一再说：“
她并不代表我，她代表她自己。
”这就把问题讲清楚了。

形势和任务

当前国内形势大好。
"""


def test_wiki_line_breaks_inside_sentences_are_joined_and_make_no_headings():
    """Wiki pages end paragraphs with a blank line; a link's text breaks the sentence around it."""
    text = clean_text(WIKI_PAGE).text
    assert "一定要执行惩前毖后，治病救人的方针。" in text
    assert "毛主席一再说：“她并不代表我，她代表她自己。”这就" in text
    assert text.startswith("在中国共产党第十一次全国代表大会上的政治报告\n同志们：")
    titles = [section.title for _, section in parse_sections(text).walk() if section.title]
    assert titles == ["形势和任务"]


def test_wikisource_notes_are_dropped_and_their_marks_read_as_no_citation():
    """「邓同志[4]在唐山…」: the mark, split over lines by the markup, would read as citation [4]."""
    page = "我想提出批评意见。\n\n鄧同志\n[\n4\n]\n在唐山和科烏\n[\n5\n]\n礦工罷工時犯了嚴重錯誤。\n\n\n↑\n \n為代表大會之誤，下同。\n\n↑\n \n原文無貨幣單位。\n"
    text = clean_text(page).text
    assert "邓同志在唐山和科乌矿工罢工时犯了严重错误。" in text
    assert "[" not in text and "代表大会之误" not in text and "货币单位" not in text


def test_circled_numbers_are_the_finest_headings():
    """「①工会学校」 under 「3．成立工人学校」 is a sub-heading, not a part title above 一、."""
    text = "三、今后意见\n2．成立工会\n这个问题更是困难，工会已增加到一百多个。\n3．成立工人学校\n①工会学校\n成立这类学校的计划是：各派两名代表。\n" \
           "②工人夜校\n目前只有一所学校是由我们的同志直接领导的。\n4．对农民的宣传工作\n我们要千方百计地帮助他扩大影响。\n"
    paths = [path for path, section in parse_sections(text).walk() if section.body]
    assert paths == [
        ("三、今后意见", "2．成立工会"),
        ("三、今后意见", "3．成立工人学校", "①工会学校"),
        ("三、今后意见", "3．成立工人学校", "②工人夜校"),
        ("三、今后意见", "4．对农民的宣传工作"),
    ]


def test_points_led_by_horizontal_bars_are_points_as_with_dashes():
    """cpc17 types the dash that leads a point as 「――」 (U+2015), cpc20 as 「——」."""
    text = clean_text("四、新要求\n我们在全面建设小康社会目标的基础上对我国发展提出新的更高要求。\n――增强发展协调性，努力实现经济又好又快发展。转变发展方式取得重大进展。\n"
                      "――扩大社会主义民主，更好保障人民权益和社会公平正义。公民政治参与有序扩大。\n").text
    paths = [path for path, section in parse_sections(text).walk() if section.body]
    assert paths[-2:] == [("四、新要求", "增强发展协调性，努力实现经济又好又快发展。"), ("四、新要求", "扩大社会主义民主，更好保障人民权益和社会公平正义。")]


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


# ---------------------------------------------------------------- faults staff cause (issue 13)

from reportqa.ingest.load import read_dir  # noqa: E402
from reportqa.ingest.meta import COLUMNS, DocMeta, SidecarInvalid, load_sidecar, parse_sidecar, read_sidecar  # noqa: E402

HEADER = ",".join(COLUMNS)
ROW_A = "a.txt,凤桥镇政府工作报告,凤桥镇,南湖区,嘉兴市,浙江省,政府工作报告,2023,2023-02-28,朱勤中"
ROW_B = "b.txt,余新镇访谈,余新镇,南湖区,嘉兴市,浙江省,访谈,2022,,蒋婷婷"
ROW_C = "c.txt,陶堰街道工作计划,陶堰街道,越城区,绍兴市,浙江省,工作计划,2022,,"


def test_gbk_sidecar_saved_by_excel_is_read(tmp_path):
    (tmp_path / "a.txt").write_text("凤桥镇", encoding="utf-8")
    (tmp_path / "metadata.csv").write_bytes(f"{HEADER}\r\n{ROW_A}\r\n".encode("gbk"))
    sidecar = load_sidecar(tmp_path)
    assert sidecar.encoding == "gb18030" and sidecar.problems == []
    assert sidecar.rows["a.txt"].town == "凤桥镇" and sidecar.rows["a.txt"].speaker == "朱勤中"
    (tmp_path / "metadata.csv").write_bytes(f"{HEADER}\n{ROW_A}\n".encode("utf-16"))
    assert load_sidecar(tmp_path).rows["a.txt"].town == "凤桥镇"


def test_an_unbalanced_quote_loses_only_its_own_row():
    broken = ROW_B.replace("余新镇访谈", '"余新镇访谈')
    sidecar = parse_sidecar("\n".join([HEADER, ROW_A, broken, ROW_C]))
    assert set(sidecar.rows) == {"a.txt", "c.txt"} and sidecar.rejected == {"b.txt"}
    assert sidecar.rows["c.txt"].town == "陶堰街道"
    (problem,) = sidecar.problems
    assert problem.line == 3 and "引号" in str(problem) and "沿用上次索引" in str(problem)
    previous = {"b.txt": DocMeta(town="余新镇")}
    assert sidecar.resolve(previous)["b.txt"].town == "余新镇", "the broken row keeps its indexed metadata"


def test_missing_column_keeps_the_previous_metadata_instead_of_dropping_it():
    header = HEADER.replace(",town", "")
    sidecar = parse_sidecar("\n".join([header, ROW_A.replace(",凤桥镇,", ",", 1)]))
    assert not sidecar.usable
    assert [p.column for p in sidecar.problems] == ["town"] and "没有重新向量化" in str(sidecar.problems[0])
    previous = {"a.txt": DocMeta(town="凤桥镇")}
    assert sidecar.resolve(previous) == previous


def test_no_header_short_row_duplicates_and_chinese_year():
    sidecar = parse_sidecar("\n".join([ROW_A, "b.txt,余新镇访谈,余新镇", ROW_C.replace(",2022,", ",二〇二二年,"), ROW_A.replace("朱勤中", "别人")]))
    messages = [str(p) for p in sidecar.problems]
    assert "没有表头行" in messages[0]
    assert any("第 2 行" in m and "有 3 格" in m for m in messages)
    assert any("二〇二二年" in m and "按 2022 读取" in m for m in messages)
    assert any("第 4 行" in m and "第 1 行已登记（内容不同）" in m for m in messages)
    assert sidecar.rows["c.txt"].year == "2022" and sidecar.rows["a.txt"].speaker == "朱勤中"
    assert "b.txt" in sidecar.rejected and "b.txt" not in sidecar.rows


def test_rewriting_a_sidecar_with_broken_rows_is_refused(tmp_path):
    (tmp_path / "metadata.csv").write_text("\n".join([HEADER, ROW_A, '"b.txt,x']), encoding="utf-8")
    with pytest.raises(SidecarInvalid, match="第 3 行"):
        read_sidecar(tmp_path)


def test_utf16_and_utf32_with_bom_are_text_and_punctuation_is_not(tmp_path):
    text = "凤桥镇2023年政府工作报告\n一、工作回顾\n建成省级未来社区。"
    for encoding in ("utf-16", "utf-32"):
        raw = read_bytes(f"r-{encoding}.txt", text.encode(encoding))
        assert raw.text == text and raw.encoding == encoding
    with pytest.raises(LoadError, match="只有标点"):
        read_bytes("p.txt", "。。。！！！——……，，，\n？？？".encode())


def test_a_report_re_encoded_as_gb18030_is_indexed_once(tmp_path):
    text = (CORPUS / SEED["003"]).read_text(encoding="utf-8")
    shutil.copy(CORPUS / SEED["003"], tmp_path / "a.txt")
    (tmp_path / "b.txt").write_bytes(text.replace("\n", "\r\n").encode("gb18030"))
    documents, errors = read_dir(tmp_path)
    assert [d.source for d in documents] == ["a.txt"]
    (error,) = errors
    assert error.source == "b.txt" and "编码或换行不同" in error.reason
