"""Hybrid search and the which-question scan on the real seed index."""

from __future__ import annotations

import json
import statistics
from types import SimpleNamespace

from reportqa.catalog import Report
from reportqa.cli import main
from reportqa.lexicon import Tokenizer
from reportqa.retrieve import HybridRetriever
from reportqa.evidence import first_with, gather, search_passages
from reportqa.which import _specific, content_words, mention_in, near_mention


def which(searcher, question):
    return gather(searcher, question).which


def test_future_community_found_in_both_towns(searcher):
    passages = searcher.search("未来社区", k=10)
    towns = {p.chunk.meta["town"] for p in passages}
    assert {"余新镇", "凤桥镇"} <= towns


def test_exact_policy_term_and_paraphrase(searcher):
    top = searcher.search("亩均论英雄", k=5)
    assert any("亩均论英雄" in p.chunk.text for p in top)
    paraphrase = searcher.search("生活不能自理的老人", k=10)
    assert any("失能老人" in p.chunk.text for p in paraphrase)


def test_filters_apply_before_ranking(searcher):
    passages = searcher.search("规上工业总产值", {"town": "唐坊镇"}, k=10)
    assert passages and all(p.chunk.meta["town"] == "唐坊镇" for p in passages)
    assert searcher.search("规上工业总产值", {"year": "1999"}, k=10) == []


def test_modes_differ_and_scores_are_ranked(searcher):
    for mode in ("bm25", "dense", "hybrid"):
        passages = searcher.search("固定资产投资", k=10, mode=mode)
        assert [p.rank for p in passages] == list(range(1, len(passages) + 1))
        assert all(a.score >= b.score for a, b in zip(passages, passages[1:]))


def test_langchain_retriever_interface(searcher):
    docs = HybridRetriever(searcher=searcher, k=3).invoke("渔里未来社区")
    assert len(docs) == 3 and docs[0].metadata["source"].endswith(".txt")


def test_which_towns_groups_every_mentioning_town(searcher):
    answer = which(searcher, "哪个镇提到未来社区")
    assert answer.term == "未来社区" and answer.over_towns
    assert {d.report.town for d in answer.documents} == {"余新镇", "凤桥镇"}
    for document in answer.documents:
        assert all(p.chunk.source == document.report.source for p in document.passages)
        assert "未来社区" in document.passages[0].chunk.text
    assert which(searcher, "哪些地方的报告讲到了“污水零直排”").term == "污水零直排"
    assert which(searcher, "余新镇的财政收入是多少") is None


def test_which_questions_in_other_wordings(searcher):
    for question in ("交通安全大会战在哪几份材料里被提到了", "哪几个地方的报告讲到了乡贤", "有没有哪个镇提到民宿", "一共有几个镇提到了乡贤"):
        assert which(searcher, question) is not None, question
    assert {d.report.town for d in which(searcher, "哪几个地方的报告讲到了乡贤").documents} == {"天目山镇", "陶堰街道"}


def test_the_reports_of_a_series_are_listed_from_the_first():
    congress = [Report(f"cpc{n}.txt", f"{n}大", doc_type="党代会报告", year=year) for n, year in ((19, 2017), (17, 2007), (18, 2012))]
    town = Report("a.txt", town="凤桥镇", doc_type="政府工作报告", year=2023)
    assert [r.year for r in sorted([*congress, town], key=Report.order)] == [2007, 2012, 2017, 2023]


def test_which_term_drops_the_common_words_around_what_is_asked():
    # idf as a corpus of many reports has it: 内容, 相关, 问题, 职工 are common, the topics rare
    idf = {"运河": 6.0, "下岗": 5.5, "秸秆": 5.0, "禁烧": 5.2, "相关": 1.5, "内容": 1.8, "问题": 1.2, "职工": 2.2, "工作": 1.0, "乡贤": 5.8, "民宿": 5.9}
    text = "唐津运河省级乡村振兴示范区。吸纳下岗失业人员再就业。严禁秸秆禁烧。扫黑除恶斗争。"
    index = SimpleNamespace(idf=idf, tokenizer=Tokenizer(), holds=text.__contains__)
    specific = lambda term: _specific(SimpleNamespace(index=index, median_idf=statistics.median(idf.values())), term)
    assert specific("运河相关内容") == "运河" and specific("职工下岗问题") == "下岗" and specific("秸秆禁烧") == "秸秆禁烧"
    assert specific("扫黑除恶工作") == "扫黑除恶" and specific("共享单车问题") == ""
    # in a corpus of many reports most words are rare: the median is high, and 枫桥经验 falls below it
    idf = {"到": 1.7, "坚持": 0.8, "发展": 0.4, "时代": 1.5, "枫桥经验": 5.8}
    index = SimpleNamespace(idf=idf, tokenizer=Tokenizer(["枫桥经验"]), holds="坚持发展新时代“枫桥经验”。".__contains__)
    assert _specific(SimpleNamespace(index=index, median_idf=6.2), "到坚持发展时代枫桥经验") == "枫桥经验", "the part that says the most, not the longest"


def test_a_reworded_mention_needs_only_the_terms_rare_words():
    # 职工 is in many passages: 「下岗失业人员」 mentions 职工下岗; one common word alone mentions nothing
    idf = {"职工": 2.2, "下岗": 5.5, "秸秆": 5.0, "禁烧": 5.2, "工作": 1.0, "相关": 1.5, "失业": 4.0, "学雷锋": 6.0, "雷锋": 5.8, "政府": 1.2, "主义": 1.4, "无政府主义": 6.0}
    index = SimpleNamespace(idf=idf, tokenizer=Tokenizer(), knows=idf.__contains__)
    searcher = SimpleNamespace(index=index, median_idf=statistics.median(idf.values()))
    assert content_words(searcher, "职工下岗") == ["下岗"] and content_words(searcher, "秸秆禁烧") == ["秸秆", "禁烧"]
    assert content_words(searcher, "职工") == []
    assert content_words(searcher, "学雷锋") == ["雷锋"], "one word of the dictionary is reworded by its rare part (学习雷锋)"
    assert content_words(searcher, "无政府主义") == ["无政府主义"], "never by common parts (政府, 主义)"
    assert mention_in("职工下岗", ["下岗"], "", "对吸纳下岗失业人员再就业的企业给予政策支持。") == "对吸纳下岗失业人员再就业的企业给予政策支持"
    assert mention_in("学雷锋", ["雷锋"], "", "毛主席说：“要团结。”广泛开展学习雷锋的群众运动。") == "广泛开展学习雷锋的群众运动", "the quote closes the sentence before"


def test_which_towns_accepts_reworded_mentions_and_says_so(searcher):
    answer = which(searcher, "哪些地方提到了秸秆禁烧？")
    assert {d.report.town: d.wording for d in answer.documents} == {"唐坊镇": "秸秆禁烧", "陶堰街道": "严禁秸秆焚烧"}
    reworded = which(searcher, "哪些地方提到了农村文化礼堂？")
    assert {d.report.town: d.wording for d in reworded.documents}["陶堰街道"] == "文化礼堂"
    assert "农村文化礼堂" in reworded.documents[0].passages[0].chunk.text  # verbatim mentions come first


def test_which_for_a_term_in_no_report_lists_nothing(searcher):
    assert which(searcher, "哪个镇提到共享单车").documents == []


def test_which_for_a_term_the_reports_spread_out_is_no_typo(searcher):
    found = which(searcher, "哪些镇提到了工业产值")  # the reports say 工业总产值; 产业产值 differs by one character
    assert found.term == "工业产值" and {"凤桥镇", "天目山镇"} <= {d.report.town for d in found.documents}


def test_which_for_a_mistyped_term_takes_the_corpus_spelling(searcher):
    answer = which(searcher, "哪个镇提到文化礼棠")
    assert answer.term == "文化礼堂"
    assert [d.report.source for d in answer.documents] == [d.report.source for d in which(searcher, "哪个镇提到文化礼堂").documents]


def test_near_mention_stays_within_a_clause_and_a_compound():
    assert near_mention("秸秆禁烧", "坚决打赢蓝天保卫战，严禁秸秆焚烧，推进秸秆资源化综合利用") == "严禁秸秆焚烧"
    assert near_mention("农村文化礼堂", "改造提升村级数字文化礼堂", head="文化礼堂") == "文化礼堂"
    assert near_mention("未来社区", "建设未来乡村、社区服务中心") == ""  # the characters are split over two clauses
    assert near_mention("一老一小", "一批老旧小区改造") == ""  # every repeated character is needed
    assert near_mention("民宿", "宿民") == ""  # two characters reordered match by chance


def test_which_towns_search_lists_every_town_before_the_ranking(searcher):
    passages = search_passages(searcher, "哪些地方提到了农村文化礼堂？", k=5)
    assert {p.chunk.meta["town"] for p in passages[:3]} == {"余新镇", "天目山镇", "陶堰街道"}
    assert [p.rank for p in passages] == [1, 2, 3, 4, 5]
    plain = search_passages(searcher, "未来社区", k=5)
    assert [p.chunk.id for p in plain] == [p.chunk.id for p in searcher.search("未来社区", k=5)]


def test_a_comparison_has_every_side_at_the_top(searcher):
    passages = search_passages(searcher, "余新镇和天目山镇在民宿上有什么不同", k=5)
    assert {p.chunk.meta["town"] for p in passages[:2]} == {"余新镇", "天目山镇"}
    assert [p.rank for p in passages] == [1, 2, 3, 4, 5]


def test_the_best_by_words_and_by_meaning_are_among_the_first_passages():
    a, b, c, d, e = (SimpleNamespace(chunk=SimpleNamespace(id=i)) for i in "abcde")
    assert first_with([a, b, c], [d]) == [a, b, d], "a best that fusion buried takes the last place"
    assert first_with([a, b, c], [d, e]) == [a, d, e] and first_with([a, b, c], [d, d]) == [a, b, d]
    assert first_with([a, b, c, d], [b, c]) == [a, b, c] and first_with([a, b], []) == [a, b]
    assert first_with([a], [d]) == [a, d] and first_with([], [d]) == [d]


def test_a_named_town_puts_its_best_passages_by_words_and_by_meaning_among_the_first(searcher):
    for question, mode in (("天目山镇成立了全区首个什么组织的镇级分会", "bm25"), ("天目山镇准备把村里哪些土货推到外面去卖", "dense"),
                           ("天目山镇到2035年准备把村里哪些土货推到外面去卖", "bm25")):  # no section nor report is of 2035: the year ranks nothing
        u = searcher.understand(question)
        best = searcher.search(u.query, u.filters(None), 1, mode)[0]
        assert best.chunk.id in {p.chunk.id for p in search_passages(searcher, question, k=3)}, mode


def test_search_json_contract(searcher, seed_settings, capsys, monkeypatch):
    monkeypatch.setenv("REPORTQA_HOME", str(seed_settings.home))
    assert main(["search", "未来社区", "--json", "-k", "10"]) == 0
    passages = json.loads(capsys.readouterr().out)
    assert len(passages) == 10
    assert set(passages[0]) >= {"source", "town", "section", "text", "score"}
