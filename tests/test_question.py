"""Reading a question against the corpus's own metadata: figures, years, places, kinds of question.

No index and no model: a small catalog stands for the corpus, so each rule is
checked on its own and on names no gold question uses.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from reportqa.catalog import Catalog, Report, ordinals
from reportqa.figures import asked_measure, chinese_number, figures, has_figure, stripped_figure
from reportqa.lexicon import Tokenizer
from reportqa.periods import absolute_years, relative_years, section_years, stated_years, years_in
from reportqa.question import understand

CATALOG = Catalog.from_metas([
    ("a.txt", {"title": "2023年凤桥镇政府工作报告", "town": "凤桥镇", "county": "南湖区", "doc_type": "政府工作报告", "year": "2023"}),
    ("b.txt", {"title": "2022年凤桥镇政府工作报告", "town": "凤桥镇", "county": "南湖区", "doc_type": "政府工作报告", "year": "2022"}),
    ("c.txt", {"title": "对话余新镇党委书记", "town": "余新镇", "county": "南湖区", "doc_type": "访谈", "year": "2022"}),
    ("d.txt", {"title": "在中国共产党第十五次全国代表大会上的报告", "doc_type": "党代会报告", "year": "1997"}),
    ("e.txt", {"title": "十六大报告", "doc_type": "党代会报告", "year": "2002"}),
    ("f.txt", {"title": "北京共产主义组织的报告 (一大)", "doc_type": "党代会报告", "year": "1921"}),
    ("g.txt", {"title": "廣州共產黨報告 (一大)", "doc_type": "党代会报告", "year": "1921"}),
])
TOKENIZER = Tokenizer(["凤桥镇", "余新镇", "南湖区", "规上工业产值", "未来社区"])
VOCABULARY = {"返乡", "镇中心医院", "乡镇干部", "规上工业产值", "未来社区", "党委书记"}


def ask(question: str, filters=None):
    return understand(question, CATALOG, TOKENIZER, VOCABULARY.__contains__, filters)


# ---------------------------------------------------------------- figures


@pytest.mark.parametrize("text, value", [
    ("城镇新增就业1310万人", 1310), ("增长4.8%左右", 4.8), ("１０９２０亿元", 10920),
    ("百分之二十一点七", 21.7), ("七百六十六亿四千万元", 76_640_000_000), ("从40个减少到29个", 40),
    ("至少需要上百年时间", 100), ("把全国三分之一的企业建成", 1 / 3), ("吸引数十万人", 100_000), ("近千家企业", 1000),
    ("中央收到了几千份草案", 1000),  # a round number before any measure word asked of (份, 件, 起)
])
def test_figures_in_every_notation(text, value):
    assert figures(text) and figures(text)[0].value == pytest.approx(value)
    assert has_figure(text)


def test_chinese_numbers_and_what_is_not_a_figure():
    assert chinese_number("二〇二二") == 2022 and chinese_number("一千三百一十") == 1310
    assert not has_figure("一是加快发展，统一思想")  # list leads and words, not amounts
    assert not has_figure("党员代表是头一次参加大会") and not has_figure("千方百计，百年大计")  # an ordinal; words
    assert not has_figure("要靠千千万万高素质党员来体现") and chinese_number("十万") == 100000  # an idiom; a leading 十
    assert not has_figure("关键是要构建“1439”工作体系") and has_figure("实现“5”个提升，投资3亿元")  # a quoted name
    assert stripped_figure("高新技术产业产值万元，同比增长%") and not stripped_figure("产值12万元")
    assert not stripped_figure("完成工业投资6700余万元") and stripped_figure("完成工业投资余万元"), "余 and 多 stand between a figure and its unit"
    assert not stripped_figure("完成亿元以上备案内资项目13个") and not stripped_figure("新增亿元企业3家"), "a unit before a noun classes it"


@pytest.mark.parametrize("question, answers, does_not_answer", [
    ("给孩子发了多少钱", "发放补助22.09万元", "共有41名困境儿童"),  # 钱 is counted in 元
    ("北京组织有多少名党员", "党员共有九人", "人口不超过九十三万，"),  # 名 is 人; a bare number is not
    ("修了几公里绿道", "新建绿道7.2公里", "新建绿道3条"),
    ("同比涨了百分之几", "同比增长56%", "产值4.8亿元"),
    ("财政总收入是多少", "财政总收入4.04亿元", "财政总收入年均增长8%"),  # a level, not a rate
    ("定的人均GDP是多少美元", "人均2万美元", "从三万九千八百元增加到八万一千元"),
    ("“四人帮”是哪一天被粉碎的", "一九七六年十月六日粉碎了“四人帮”", "粉碎“四人帮”，是又一个伟大胜利"),
    ("那两个工人俱乐部各有多少工人", "各有四十至五十名工人", "产生了两个工人组织"),  # not the question's own figure
    ("三星村被命名为第几批示范村", "被命名为第九批“全国民主法治示范村”", "命名了3批示范村"),  # 第几 asks a place in a row
    ("中心医院迁建啥时候完工", "力争2024年底完工投用", "推动中心医院易地迁建"),  # a time: a year, month or day
    ("有几个同志被关在牢里", "另外还有十个同志被关在狱中", "十分重要"),  # ten needs no digit
    ("新院区什么时候开工", "预计6月开工", "新院区占地3万平方米"),
    ("2010年的GDP目标是多少", "国内生产总值比二000年翻一番，达到二十万亿元", "前十年要全面完成“十五”计划"),  # a span of years is no level
    ("实现现代化大概要花多长时间", "至少需要上百年时间", "要建设六个示范区"),
    ("今年粮食产量是多少", "粮食总产量5000吨", "——2021年12月25日在天目山镇第三届人民代表大会"),  # a date is no level
])
def test_a_figure_answers_in_the_measure_asked(question, answers, does_not_answer):
    measure = asked_measure(question)
    assert has_figure(answers, measure) and not has_figure(does_not_answer, measure)


def test_a_question_without_a_measure_word_takes_any_level_and_a_growth_question_a_rate():
    assert has_figure("回乡创业53人", asked_measure("有多少在外打拼的人回乡创业"))
    assert has_figure("同比增长21%", asked_measure("产值增长了多少"))


def test_a_figure_asked_against_a_baseline_is_a_change():
    asked = ask("凤桥镇2022年财政总收入比上一年增长了多少").measure
    assert asked.change and not has_figure("全年财政总收入4.04亿元", asked), "how much, not by how much it grew"
    assert has_figure("财政总收入同比增长8%", asked) and has_figure("比上年增加1.2亿元", asked)
    assert ask("凤桥去年旅游收入比前年涨了多少").measure.change and ask("税收同比涨了多少").measure.change
    assert not ask("凤桥去年刑事警情有多少起，比上一年降了多少").measure.change, "first asks a level"
    assert not ask("凤桥镇2022年财政总收入是多少").measure.change


def test_a_figure_before_the_counted_noun_counts_it_in_the_measure_asked():
    asked = replace(asked_measure("台湾同胞有多少人"), counted=frozenset({"台湾", "同胞"}))
    assert has_figure("两千三百万台湾同胞是我们的手足兄弟", asked), "the people asked of, counted by the noun"
    assert not has_figure("两千三百万台湾同胞是我们的手足兄弟", asked_measure("台湾同胞有多少人")), "nothing counted: 台 is no 人"
    assert not has_figure("三万元台湾同胞专项资金", asked), "元 counts money, whatever follows"


def test_n_da_counts_the_noun_after_it_and_names_nothing_else():
    asked = replace(asked_measure("陶堰街道要定几项民生实事"), counted=frozenset({"民生", "实事"}))
    assert has_figure("确定2022年度十大民生实事项目", asked), "十大民生实事: ten of them"
    assert not has_figure("深入学习贯彻党的十九大精神", replace(asked_measure("是多少"), counted=frozenset({"民生"}))), "a congress, no level"
    assert not has_figure("深化四大战略", asked), "strategies are not what is counted"


@pytest.mark.parametrize("question, counter", [
    ("新建了多少所学校", True), ("引进了几家企业", True),  # a report may count them in 个
    ("水稻亩产有多少斤", False), ("发了多少钱", False), ("种了多少亩", False), ("有多少人", False),
])
def test_only_a_counter_may_be_answered_in_another_counter(question, counter):
    assert asked_measure(question).counter is counter


# ---------------------------------------------------------------- years


def test_years_absolute_relative_and_plans():
    assert absolute_years("2019年和二〇二一年") == {2019, 2021}
    assert relative_years("去年的产值", 2023) == {2022} and relative_years("前年", 2023) == {2021}
    assert years_in("十四五期间", 2023) == set(range(2021, 2026))
    assert years_in("过去五年", 2022) == set(range(2017, 2022))
    assert years_in("2019年以来", 2023) == set(range(2019, 2024)) == years_in("二〇一九年以来", 2023), "since a year: to the reference year"
    assert years_in("1997年以来", 2022) == set(range(1997, 2023)) and years_in("2002年到2012年", 2022) == set(range(2002, 2013))


def test_years_written_with_arabic_or_full_width_zeros_are_years():
    assert absolute_years("二0一一年和二００一年、２０２２年") == {2011, 2001, 2022}


def test_a_sentence_states_only_years_written_before_年():
    assert stated_years("计划投资2000万元，到2026年实现目标，2016-2020年累计") == {2026, *range(2016, 2021)}
    assert stated_years("近20年来") == set()


def test_a_year_is_one_search_token_however_a_report_writes_it():
    """Congress reports write 二〇三五年 and 二0一一年; staff ask 2035年."""
    assert "2035" in TOKENIZER.tokens("到二〇三五年，我国发展的总体目标是") and "2035" in TOKENIZER.tokens("到2035年的总体目标")
    assert "2011" in TOKENIZER.tokens("二0一一年国内生产总值") and "2011" not in TOKENIZER.tokens("三十三年来")


def test_section_years_speak_of_the_heading_year_else_the_report_year():
    assert section_years(("2023年政府工作报告", "一、2022年工作回顾"), 2023) == {2022}
    assert section_years(("2023年政府工作报告", "二、今年主要目标"), 2023) == {2023}


# ---------------------------------------------------------------- catalog


def test_catalog_labels_issuers_and_congress_ordinals():
    assert CATALOG.reports["a.txt"].label() == "凤桥镇 · 2023年 · 政府工作报告"
    assert "1997年" in CATALOG.reports["d.txt"].label()
    assert CATALOG.reports["g.txt"].label() == "广州共产党报告 (一大) · 1921年 · 党代会报告", "titles shown in simplified script, as the text is"
    long = Report("h.txt", "高举中国特色社会主义伟大旗帜 为全面建设社会主义现代化国家而团结奋斗 (二十大)", doc_type="党代会报告", year=2022)
    assert long.label() == "二十大 · 2022年 · 党代会报告", "a long title is shown by the short name it gives itself"
    city = Report("i.txt", "政府工作报告", city="杭州市", doc_type="政府工作报告", year=2019)
    assert city.label() == "杭州市 · 政府工作报告 · 2019年", "the place that issues it, where the title does not say"
    assert Report("j.txt", "德清县2015年政府工作报告", county="德清县", doc_type="政府工作报告", year=2015).label() == "德清县2015年政府工作报告"
    assert ordinals("十五大报告提出") == {(15, "党代会")} and ordinals("第十六次全国代表大会") == {(16, "党代会")}
    assert CATALOG.by_ordinal[(15, "党代会")] == ["d.txt"]
    assert ordinals("十九大的下一届党代会") == {(19, "党代会")}  # 「下一届」 points at a congress, it does not number one
    assert ordinals("在天目山镇第三届人民代表大会第一次会议上") == {(3, "人代会")}  # a town's, not 三大
    assert ordinals("十五大到十七大") == {(15, "党代会"), (16, "党代会"), (17, "党代会")}, "a range names those between"
    assert ordinals("最近一次党代会报告") == set(), "「最近一次」 points at a congress, it does not number one"


def test_the_number_of_a_named_congress_is_no_figure_the_question_states():
    assert 15 not in ask("十五大报告说改革开放搞了多少年").measure.given
    assert 2 in ask("那两个俱乐部各有多少人").measure.given


def test_since_a_congress_is_the_years_from_it_not_its_report():
    since = ask("十五大以来党代会报告讲了哪些改革")
    assert since.reports == [] and since.years == list(range(1997, 2003))
    assert ask("十六大报告说十五大以来的五年有什么成就").reports == ["e.txt"]


def test_the_latest_report_is_the_newest_in_scope():
    assert ask("上一次党代会报告讲了什么").report_years == [2002]
    latest = ask("凤桥镇最新一份报告说了什么")
    assert latest.report_years == [2023] and latest.filters()["town"] == ["凤桥镇"]
    assert ask("凤桥镇最新的报告说了什么").report_years == [2023] and ask("最新报告讲了什么").report_years == [2023]
    assert ask("十六大的上一届报告说了什么").reports == ["d.txt"], "with a report named, 上一届 is its neighbour"


@pytest.mark.parametrize("question, reports, years", [
    ("十五大的下一届报告提出了什么", ["e.txt"], []), ("十六大之前的上一次报告讲了什么", ["d.txt"], []),
    ("2002年党代会的上一届报告里，1996年的情况", ["d.txt"], [1996]),
])
def test_the_report_next_to_the_one_named(question, reports, years):
    u = ask(question)
    assert u.reports == reports and u.years == years and "一届" not in u.item and not u.missing_reports


def test_of_two_reports_with_one_number_the_title_the_question_uses():
    assert ask("一大广州共产党报告最后提了哪几条意见").reports == ["g.txt"]
    assert ask("一大的时候北京组织和广州组织各自办了什么刊物").reports == ["f.txt", "g.txt"]
    assert ask("一大的报告讲了什么").reports == ["f.txt", "g.txt"]


def test_a_report_past_the_end_of_its_series_is_missing():
    u = ask("十六大的下一届报告说了什么")
    assert u.reports == [] and u.missing_reports and "十六大" in u.missing_reports[0]


def test_a_congress_the_corpus_lacks_is_missing_unless_it_is_only_a_topic():
    assert ask("八大报告是怎么概括国内主要矛盾的").missing_reports == ["八大"]
    assert ask("十五大报告怎么评价八大").reports == ["d.txt"] and not ask("十五大报告怎么评价八大").missing_reports
    beside_a_place = ask("凤桥镇的报告提到十五大了吗")
    assert beside_a_place.reports == [] and not beside_a_place.missing_reports
    assert not ask("凤桥镇第十九届人民代表大会提出了什么").missing_reports, "no town report is titled by its congress"
    assert ask("十五大的下一届党代会报告说了什么").scope().count("党代会报告") == 0


def test_a_year_before_the_kind_of_document_is_the_reports_own_year():
    named = ask("1997年的党代会报告说了什么")
    assert named.report_years == [1997] and named.filters()["year"] == ["1997"] and not named.missing_reports
    assert ask("2019年党代会报告说了什么").missing_reports == ["2019年的党代会报告"]
    assert ask("凤桥镇2021年的政府工作报告说了什么").missing_reports == ["凤桥镇2021年的政府工作报告"]
    assert ask("凤桥镇2022年规上工业产值是多少").report_years == [], "a year the report speaks of"
    assert ask("余新镇的政府工作报告提到未来社区了吗").missing_reports == ["余新镇的政府工作报告"], "余新镇 has an interview only"
    assert not ask("余新镇的访谈里说了什么").missing_reports
    assert not ask("区党代会报告点赞了余新镇哪两项工作").missing_reports, "the kind is spoken of, not searched in"
    assert ask("2002年党代会的上一届报告里，1996年的情况").report_years == [], "the report is named otherwise"
    assert ask("1997年江泽民报告说了什么").report_years == [1997], "a speaker's name may stand between"
    named_alone = ask("1997年报告里说过去五年经济增长多少")
    assert named_alone.report_years == [1997], "报告 alone names a document too"
    assert named_alone.years == list(range(1992, 1998)), "its 过去五年 are the report's, not the newest report's"
    assert ask("2019年的报告里说了什么").missing_reports == ["2019年的材料"]
    last = ask("凤桥镇去年的政府工作报告定的目标是什么")
    assert last.report_years == [2022] and last.years == [2022], "去年 names the report: it is not also the year before it"
    assert ask("凤桥镇去年的政府工作报告里说过去一年完成了什么").years == [2021]
    recent = ask("最近两次党代会报告都提到了什么新目标")
    assert recent.report_years == [1997, 2002] and recent.filters()["year"] == ["1997", "2002"], "the newest two of the kind"
    since = ask("1997年以来的党代会报告里，哪几次提到依法治国")
    assert since.report_years == list(range(1997, 2003)) and since.kind == "which", "every report from 1997 on, not the 1997 one"
    both = ask("1997年和2002年的党代会报告对依法治国的提法有啥变化")
    assert both.report_years == [1997, 2002] and both.kind == "compare"


# ---------------------------------------------------------------- understanding


def test_places_years_and_relative_years_from_the_catalog():
    u = ask("凤桥去年规上工业产值是多少")
    assert u.places == {"town": ["凤桥镇"]} and u.years == [2022] and u.wants_figure
    assert "2022年" in u.query and u.label().startswith("按 凤桥镇 · 2022年")
    assert ask("十五大报告讲了什么").reports == ["d.txt"]
    assert ask("十五大報告講了什麼").reports == ["d.txt"] and ask("鳳橋去年規上工業產值是多少").places == {"town": ["凤桥镇"]}
    rate = ask("凤桥今年工业投资比上年增长了百分之几")  # 上年 is the rate's baseline, not a year asked about
    assert rate.years == [2023] and rate.kind == "figure" and "比上年" in rate.query
    written = ask("凤桥镇二〇二三年想新增几家企业")  # a year written out stands as written, not 「2023年年」
    assert written.years == [2023] and written.query == "凤桥镇二〇二三年想新增几家企业"


def test_each_place_of_a_comparison_keeps_the_year_written_beside_it():
    """「凤桥去年」 is 2022 by 凤桥镇's newest report; a year written for one place is not the other's."""
    assert ask("凤桥去年和余新镇2021年的产值各是多少").side_years == {"凤桥镇": [2022], "余新镇": [2021]}
    assert ask("2021年的余新镇和去年的凤桥谁的产值高").side_years == {"余新镇": [2021], "凤桥镇": [2022]}
    u = ask("凤桥镇2022年和余新镇的产值谁高")
    assert u.side_years == {} and [years for _, _, years in u.sides()] == [set(), set()], "one year: the question's, not a side's"


@pytest.mark.parametrize("question", ["返乡创业有什么政策", "镇中心医院建得怎么样", "乡镇干部怎么考核", "招投标给公家省下了多少钱"])
def test_words_with_place_characters_are_not_unknown_places(question):
    assert ask(question).unknown_places == []


def test_a_place_outside_the_corpus_is_unknown():
    assert "乌镇" in ask("乌镇2022年的财政总收入是多少").unknown_places
    assert "乌镇" in ask("凤桥镇和乌镇谁的产值高").unknown_places and "乌镇" in ask("乌镇比凤桥镇产值高吗").unknown_places
    assert ask("凤桥以后对临街小店有啥整治打算").unknown_places == [], "beside a place of the corpus, 临街 is a topic"
    assert ask("於潜镇2021年农民人均收入是多少").unknown_places == ["于潜镇"], "jieba gives 于 to the word before: 于/潜镇"
    assert ask("老镇改造了没有").unknown_places == [], "an adjective and 镇 are no name"


@pytest.mark.parametrize("question, over_towns", [
    ("哪个镇提到未来社区", True), ("未来社区在哪几份材料里被提到了", False),
    ("哪几个地方的报告讲到了未来社区", True), ("哪几次党代会报告提到了依法治国", False),
    ("说到营商环境的都有哪几家", True), ("一共有几个镇提到了未来社区", True), ("有几份报告提到依法治国", False),
])
def test_which_questions_in_any_wording(question, over_towns):
    u = ask(question)
    assert u.kind == "which" and u.which_towns == over_towns


@pytest.mark.parametrize("question", ["十五大报告说中美两国是哪一年建交的", "十五大报告说的伟大纲领是哪份文件",
                                      "2002年的党代会报告提出到哪年翻两番", "十五大报告说哪个地方的改革走在前面"])
def test_with_one_report_named_a_which_question_asks_inside_it(question):
    assert ask(question).kind != "which"


@pytest.mark.parametrize("question", ["凤桥镇有没有提到未来社区", "凤桥镇是不是提到了未来社区", "凤桥镇提没提未来社区"])
def test_a_verb_asked_yes_or_no_is_no_part_of_the_item(question):
    u = ask(question)
    assert u.yes_no and u.item == "未来社区"


def test_a_conflict_with_the_filters_is_reported_not_resolved():
    u = ask("余新镇党委书记是谁", {"town": ["凤桥镇"]})
    assert u.conflicts and "余新镇" in u.conflicts[0] and "凤桥镇" in u.conflicts[0]
    assert ask("凤桥镇党委书记是谁", {"town": ["凤桥镇"]}).conflicts == []


def test_kinds_of_question():
    assert ask("凤桥镇怎么发展旅游").kind == "list" and ask("凤桥今年农业上要干些啥").kind == "list"
    assert ask("凤桥今年在养老上准备干点啥").kind == "list" and ask("陶堰街道去年做什么了").kind == "list"
    assert ask("凤桥镇成立的村级服务站叫什么").kind != "list"
    assert ask("凤桥镇和余新镇的未来社区有什么不同").kind == "compare"
    assert ask("凤桥镇和余新镇对未来社区的提法有啥变化").item == "未来社区"
    assert ask("“三步走”每一步的目标分别是什么").kind == "list"
    assert ask("凤桥镇2022年的财政收入比上年涨了多少").kind != "compare"  # one place and one year: nothing to compare
    assert not ask("哪几个村的文化礼堂获评五星级").wants_figure and ask("哪几家企业获评省级荣誉").kind != "which"
    assert ask("全区有几个镇").kind == "figure", "a count of towns, not of the towns that mention something"
    assert ask("凤桥镇入选了哪个省级城镇称号").kind != "which" and ask("余新镇在什么市场上有优势").kind != "which", "省级, 市场 are words"
    assert ask("凤桥镇党委书记叫什么名字").wants_person and not ask("凤桥镇成立的村级服务站叫什么").wants_person
    assert not ask("要把握的那几个“必须坚持”是什么").wants_figure and ask("要把握的那几个“必须坚持”是什么").kind == "list"
    assert ask("十五大报告提出的十四条基本方略包括哪些").count == 14 and ask("凤桥镇2022年规上工业产值是多少").count == 0
    assert ask("今年新修了几公里绿道").wants_figure and ask("十五大报告说中美两国是哪一年建交的").wants_figure


def test_the_items_nouns_are_segmented_in_the_whole_question():
    """Joined up without its interrogative, 「修了几公里林道」 would read 修林道, a word no report uses."""
    assert "林道" in ask("天目山镇今年修了几公里林道，新种了多少亩林子").item_nouns


def test_the_percent_asked_is_no_part_of_the_item():
    assert ask("凤桥镇基本养老保险的参保率是百分之多少").item == "基本养老保险参保率"
