"""The answer chain: extractive default, an OpenAI-compatible LLM on a real local server, the verifier."""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace

from reportqa.answer import NOT_FOUND, Answerer, attribute, joined, support_text, verify
from reportqa.cli import main
from reportqa.extractive import Candidate, Reading, _states_figure, about_item, dated_statements, distinctive, item_nouns, lead_runs, leading_figure, mmr, sections_after, stands_out, statements, sub_headings, term_weights, which_draft
from reportqa.figures import Measure, asked_measure, has_figure
from reportqa.ingest import Chunk
from reportqa.lexicon import Tokenizer
from reportqa.llm import LLMConfig
from reportqa.question import Understanding
from reportqa.retrieve import bigrams


def test_which_towns_answer_cites_each_towns_own_report(searcher):
    answer = Answerer(searcher).ask("哪个镇提到未来社区")
    assert not answer.refused
    assert "余新镇" in answer.text and "凤桥镇" in answer.text
    by_town = {c.passage.chunk.meta["town"]: c.passage for c in answer.citations}
    assert by_town["余新镇"].chunk.source.startswith("000_") and by_town["凤桥镇"].chunk.source.startswith("001_")
    assert all("未来社区" in p.chunk.text for p in by_town.values())


def test_which_towns_answer_sets_reworded_mentions_apart(searcher):
    answer = Answerer(searcher).ask("哪些地方提到了秸秆禁烧？")
    assert answer.text.startswith("资料中共有 2 个镇街提到「秸秆禁烧」：唐坊镇[1]。\n说法相近的有：陶堰街道[2]。")
    assert "严禁秸秆焚烧" in answer.text and len(answer.citations) == 2


def test_number_answer_is_cited_and_true(searcher):
    answer = Answerer(searcher).ask("余新镇2021年规上工业总产值是多少？")
    assert "94.2亿元" in answer.text and "[1]" in answer.text
    assert answer.citations[0].passage.chunk.source.startswith("000_")


def test_each_side_of_a_figure_comparison_leads_with_a_sentence_stating_the_figure(searcher):
    """凤桥镇's best sentence by words (研发经费投入2.94亿元) counts no firms; the one with 8家 does."""
    text = Answerer(searcher).ask("余新镇和凤桥镇各有多少家规上企业").text
    assert "凤桥镇：鼓励企业转型升级，新增规上企业8家" in text


def test_a_year_side_quotes_the_passages_that_speak_of_that_year(searcher):
    """凤桥镇 has one report, of 2023: its review of 2022 answers for 2022, its plan for 2023."""
    answer = Answerer(searcher).ask("凤桥镇2022年和2023年的规上工业总产值分别是多少")
    lines = dict(line.split("：", 1) for line in answer.text.splitlines()[1:])
    assert "91.7亿元" in lines["2022年"] and "91.7亿元" not in lines["2023年"]
    one_sided = Answerer(searcher).ask("天目山镇2020年和2021年的财政总收入")
    assert "2020年：资料中未提及。" in one_sided.text.splitlines(), "a side with nothing says so"


def test_who_spoke_and_when_come_from_the_reports_metadata(searcher):
    answer = Answerer(searcher).ask("凤桥镇2023年的政府工作报告是谁作的")
    assert "朱勤中" in answer.text and answer.citations[0].passage.chunk.source.startswith("001_")
    when = Answerer(searcher).ask("天目山镇的政府工作报告是哪一年作的")
    assert "年份：2021年" in when.text and when.citations[0].passage.chunk.source.startswith("002_")
    assert "年份：2021年" in Answerer(searcher).ask("唐坊镇的访谈是哪一年的").text, "the verifier reads the record too"
    assert Answerer(searcher).ask("陶堰街道的工作计划是谁写的").refused  # its metadata names no speaker
    assert Answerer(searcher).ask("十八大报告是谁作的").refused  # names no report of this corpus: no guess
    assert "朱勤中" not in Answerer(searcher).ask("凤桥镇的党委书记是谁").text  # a role is asked of the text


def test_the_clauses_about_the_item_run_on_while_they_share_its_words():
    sentence = "按照大庆式企业和大寨县的标准，在第五个五年计划期内，把全国三分之一的企业建成大庆式企业，人民生活有所改善。"
    weights = {"大庆": 5.0, "大寨": 5.6, "五年计划": 5.6, "企业": 2.1, "建成": 1.6}
    clauses = about_item(sentence, {"大庆": 5.0, "大寨": 5.6}, weights)
    assert clauses == ["按照大庆式企业和大寨县的标准", "在第五个五年计划期内", "把全国三分之一的企业建成大庆式企业"]
    assert has_figure("".join(clauses))


def test_a_figure_in_the_asked_measure_may_follow_the_items_clause():
    nouns = {"人力车": 6.7}
    sentence = "工人中有许多人力车夫，计有五万到六万人。"
    assert _states_figure(sentence, nouns, nouns, asked_measure("北京的人力车夫大概有多少人"))
    assert not _states_figure("公共预算收入万元，同比增长56%。", {"预算": 3.0}, {"预算": 3.0}, asked_measure("公共预算收入完成了多少万元"))


def test_a_date_or_a_figure_in_the_asked_measure_may_lead_the_items_clause():
    nouns = {"公债": 6.0}
    asked = asked_measure("九大报告说到哪年底把公债全部还清了")
    assert _states_figure("到一九六八年底，我们全部还清了公债。", nouns, nouns, asked)
    assert not _states_figure("九大以后，我们全部还清了公债。", nouns, nouns, asked)
    nouns = {"美丽": 3.4, "乡村": 3.5}
    sentence = "全年投入资金2600万元，全面完成7个新时代美丽乡村建设项目。"
    assert _states_figure(sentence, nouns, nouns, asked_measure("美丽乡村建设一共投了多少钱"))
    assert not _states_figure(sentence, nouns, nouns, asked_measure("美丽乡村建设帮了多少人"))


def test_a_change_the_report_does_not_state_is_refused_as_a_change(searcher):
    answer = Answerer(searcher).ask("凤桥镇2022年财政总收入比上一年增长了多少")
    assert answer.refused and answer.text == "资料中未提及2022年的该项增减。", "4.04亿元 is there, its growth is not"


def test_a_change_asked_against_a_baseline_is_answered_by_a_change_not_a_level():
    nouns = {"生产": 1.6, "总值": 4.0}
    asked = replace(asked_measure("2001年的国内生产总值比1989年涨了多少"), change=True)
    assert not _states_figure("全年国内生产总值九万五千九百三十三亿元。", nouns, nouns, asked)
    assert _states_figure("我国国内生产总值达到九万五千九百三十三亿元，比一九八九年增长近两倍。", nouns, nouns, asked), "the change follows the level"
    assert _states_figure("国内生产总值同比增长8%。", nouns, nouns, asked)
    value_added = {"规上": 5.2, "增加值": 4.7}
    asked = replace(asked_measure("规上增加值比前年涨了几个"), change=True)
    assert not _states_figure("规上工业增加值17.45亿元。", value_added, value_added, asked), "增加值 is a level, value added"


def test_a_figure_answers_only_from_a_sentence_holding_most_of_the_items_nouns():
    nouns = {"年均": 4.0, "增长": 2.0}  # of 「GDP年均增长百分之几」: GDP is no word of the corpus
    asked = asked_measure("过去五年GDP年均增长百分之几")
    assert not _states_figure("城镇化率年均提高一点二个百分点。", nouns, nouns, asked)
    assert _states_figure("国内生产总值年均增长百分之七点一。", nouns, nouns, asked)


def test_a_sentence_naming_the_item_twice_may_state_its_figure_with_the_second():
    nouns = {"企业": 2.1, "研究": 2.7}
    sentence = "发挥威能消防省级企业研究院等在科创、人才平台优势及带动效应，全年力争实现新增国家高新技术企业10家，省级企业研究院新增1家。"
    assert _states_figure(sentence, nouns, nouns, asked_measure("省级企业研究院打算新增几家"))


def test_a_share_answers_a_level_a_change_does_not():
    asked = asked_measure("飞地产业园租出去多少了")
    assert has_figure("若尔盖、遂昌飞地产业园出租70%", asked) and has_figure("城乡居民医保覆盖率达99.61%", asked)
    assert not has_figure("服务效率提升30%以上", asked) and not has_figure("火灾发生数同比下降35%", asked)


def test_a_target_may_be_set_as_a_rate_a_level_may_not():
    nouns = {"规上": 2.8, "工业": 1.9, "产值": 2.7}
    sentence = "主要目标是：规上工业总产值增长10%以上，力争突破百亿；"
    assert _states_figure(sentence, nouns, nouns, asked_measure("规上工业产值目标是多少"))
    assert not _states_figure(sentence, nouns, nouns, asked_measure("规上工业产值是多少"))
    assert not _states_figure(sentence, nouns, nouns, asked_measure("规上工业产值目标定的是多少亿元")), "a unit asked is no rate"
    assert not _states_figure(sentence, nouns, nouns, asked_measure("规上工业产值要干到多少亿")), "nor is a magnitude"
    assert asked_measure("比前年涨了几个点").unit == "%", "a point is a percentage point"


def test_a_sentence_announcing_what_follows_is_answered_by_the_sub_sections_after_it():
    path = ("报告", "三、使命任务")
    texts = [(path, "前进道路上，必须牢牢把握以下重大原则。"), (path + ("坚持党的全面领导。",), "——坚持党的全面领导。坚决维护党中央权威。"),
             (path + ("坚持深化改革开放。",), "——坚持深化改革开放。深入推进改革创新。"), (path, "同志们！")]
    chunks = [Chunk(str(n), "r.txt", p, t, 0, 0, 0, 0) for n, (p, t) in enumerate(texts)]
    index = SimpleNamespace(chunks=chunks, chunks_by_source={"r.txt": [0, 1, 2, 3]})
    points = sections_after(index, chunks[0], "前进道路上，必须牢牢把握以下重大原则。")
    assert [(point, chunk.id) for point, chunk in points] == [("坚持党的全面领导。", "1"), ("坚持深化改革开放。", "2")]
    assert sections_after(index, chunks[0], "前进道路上") == [], "only a sentence that closes its passage announces"


def test_a_section_named_for_the_item_lists_the_run_in_headings_of_its_paragraphs():
    """「美丽指数准备咋提升」: the section 「…提升“美丽指数”」 has no sub-headings; each paragraph opens
    with one clause (「打造“美丽生态”长效版。」), and that with the sentence after it is a point.
    A section naming only part of the item lists nothing."""
    from reportqa.extractive import section_points
    from reportqa.retrieve import Passage

    path = ("报告", "2022年重点工作安排", "二、坚持绿色发展，进一步提升“美丽指数”")
    chunks = [Chunk("0", "r.txt", path, "打造“美丽生态”长效版。持续开展“新增违建严控”专项行动，严格审批。开展清淤疏浚行动。\n打造“美丽乡村”升级版。开展4村美丽乡村创建。", 0, 0, 0, 0),
              Chunk("1", "r.txt", path, "打造“美丽城镇”强化版。打通断头路，建设15分钟生活圈。", 0, 0, 0, 0)]
    searcher = SimpleNamespace(index=SimpleNamespace(chunks=chunks, chunks_by_source={"r.txt": [0, 1]}))
    top = [Passage(chunks[0], 1.0, 1.0, 0.0)]
    points = [point for point, _ in section_points(searcher, top, {"美丽": 3.0, "指数": 3.0})]
    assert points == ["打造“美丽生态”长效版。持续开展“新增违建严控”专项行动，严格审批。", "打造“美丽乡村”升级版。开展4村美丽乡村创建。",
                      "打造“美丽城镇”强化版。打通断头路，建设15分钟生活圈。"]
    assert section_points(searcher, top, {"美丽": 3.0, "乡村": 3.0}) == []


def test_a_heading_names_the_item_whole_a_long_sentence_only_mentions_it():
    from reportqa.extractive import names_whole

    nouns = {"乡村": 3.0, "振兴": 3.0, "战略": 1.0}
    assert names_whole("（三）实施乡村振兴战略。", nouns)
    assert not names_whole("坚定实施科教兴国战略、人才强国战略、乡村振兴战略，突出抓重点。", nouns), "one clause only"
    assert not names_whole("（四）坚持新发展理念。", nouns) and not names_whole("实施乡村振兴战略。", {})


def test_a_paragraph_whose_run_in_heading_names_the_item_is_listed_from_its_heading(searcher):
    """The best sentences sit in the second half of the paragraph 「工业转型扎实推进。…」, in another
    passage than its heading; a sentence naming 工业 in passing (「…规上工业增加值1.55亿元。」) heads nothing."""
    text = Answerer(searcher).ask("天目山镇今年工业这块主要做了哪几件事？").text
    assert "工业转型扎实推进" in text and "机器换人" in text and "66家企业有序用电" in text


def test_a_lead_paragraph_too_long_for_a_heading_is_its_own_point():
    path = ("报告", "三、奋斗目标")
    long_lead = "在优化结构和提高效益的基础上，国内生产总值到二0二0年力争比二000年翻两番，综合国力明显增强。基本实现工业化。"
    chunks = [Chunk("1", "r.txt", path + (long_lead[:40] + "…",), "——" + long_lead, 0, 0, 0, 0),
              Chunk("2", "r.txt", path + ("社会主义民主更加完善。",), "——社会主义民主更加完善。依法治国基本方略得到全面落实。", 0, 0, 0, 0)]
    points = sub_headings(chunks, path)
    assert list(points) == [long_lead, "社会主义民主更加完善。"], "a cut heading gives way to its paragraph; a whole one stays"


def test_points_of_a_list_may_repeat_the_question_but_not_each_other():
    pool = [Candidate(f"——中国式现代化是{what}的现代化。", n, 1.0, 0.9) for n, what in enumerate(["人口规模巨大", "全体人民共同富裕", "人与自然和谐共生"], 1)]
    pool.append(Candidate("——中国式现代化是人口规模巨大的现代化！", 4, 1.0, 0.9))
    asked = frozenset(bigrams("中国式现代化有哪些特征"))
    assert [c.n for c in mmr(pool, 5, 0.0, asked)] == [1, 2, 3]
    assert [c.n for c in mmr(pool, 5, 0.0)] == [1]


def test_a_named_report_lacking_a_term_other_reports_hold_is_refused_naming_it(searcher):
    answer = Answerer(searcher).ask("唐坊镇是怎么推进共同富裕的")
    assert answer.text.startswith(NOT_FOUND) and "唐坊镇" in answer.text and "「共同富裕」" in answer.text
    assert "共同富裕" in Answerer(searcher).ask("凤桥镇是怎么推进共同富裕的").text.split("。")[0]
    assert Answerer(searcher).ask("共同富裕怎么推进", {"town": ["唐坊镇"]}).text.startswith(f"{NOT_FOUND}唐坊镇中关于「共同富裕」")


def test_a_named_report_holding_a_phrases_words_only_apart_lacks_the_phrase(searcher):
    """余新镇 says 服务业 and 增加值, never together, while other towns state their 服务业增加值."""
    assert Answerer(searcher).ask("余新镇的服务业增加值是多少").text.startswith(f"{NOT_FOUND}余新镇中关于「服务业增加值」")
    assert Answerer(searcher).ask("余新镇的民生实事项目有哪些").text.startswith(f"{NOT_FOUND}余新镇中关于「民生实事项目」")


def test_a_semicolon_inside_a_quotation_ends_no_sentence():
    text = "对于世界大战，有两条，“第一条，反对；第二条，不怕。”全党要牢记这一教导。坚持“两个确立”；做到“两个维护”。"
    assert statements(text) == ["对于世界大战，有两条，“第一条，反对；第二条，不怕。”", "全党要牢记这一教导。", "坚持“两个确立”；", "做到“两个维护”。"]


def test_a_sentence_cut_short_by_a_garbled_question_mark_starts_with_no_comma():
    assert statements("持续开展精准专题招商、延链补链秸猩？，全年力实到外资3000万美元。")[-1] == "全年力实到外资3000万美元。"


def test_a_sentence_speaks_of_the_years_it_names_or_its_paragraph_or_section_does():
    chunk = Chunk("1", "r.txt", ("2021年政府工作报告", "二、主要目标"),
                  "到2026年，规上工业总产值10.5亿元；农业增加值7.1亿元。在此基础上，农民人均收入达到5万元。\n全年完成工业投资6700余万元。",
                  0, 0, 0, 0, meta={"year": "2021"})
    years = [sorted(y) for _, y in dated_statements(chunk)]
    assert years == [[2026], [2026], [2026], [2021]]
    history = Chunk("2", "r.txt", ("广州共产党报告",), "在广州影响最大的是机械工人工会。因为去年一年之中，工会已增加到一百多个。", 0, 0, 0, 0, meta={"year": "1921"})
    assert [sorted(y) for _, y in dated_statements(history)] == [[1921], [1920]], "去年 is the year before the report's"


def test_a_figure_of_one_year_is_answered_only_by_a_sentence_about_that_year(searcher):
    """天目山镇's one report is of 2021: its 2021 figure does not answer for 2019, its 2026 target does for 2026."""
    missing = Answerer(searcher).ask("天目山镇前年的工业投资是多少")
    assert missing.refused and "2019年" in missing.text and "6700" not in missing.text
    target = Answerer(searcher).ask("天目山镇到二〇二六年农民人均收入要达到多少")
    assert "5万元" in target.text and "4万元" not in target.text


def test_meaning_alone_chooses_among_all_sentences_where_none_holds_the_questions_words(searcher):
    answer = Answerer(searcher).ask("凤桥镇去年在治污减排上做了哪些事")  # 治污, 减排: in no report
    assert "污水零直排" in answer.text


def test_the_measure_asked_in_is_no_noun_of_the_item():
    """「脱贫了多少人」: 人 says what to count, not what the answering clause is about."""
    index = SimpleNamespace(tokenizer=Tokenizer(), idf={"脱贫": 4.6, "人": 2.1, "就业": 3.0})
    u = Understanding("十九大以来脱贫了多少人", item="脱贫人", measure=asked_measure("脱贫了多少人"))
    assert "脱贫" in item_nouns(SimpleNamespace(index=index), u, {"脱贫": 4.6, "人": 2.1}, "")


def test_refuses_figures_the_report_lost_and_places_it_lacks(searcher):
    lost = Answerer(searcher).ask("唐坊镇高新技术产业产值是多少？")
    assert lost.refused and lost.text.startswith(NOT_FOUND) and not lost.citations
    assert lost.related, "a refusal still shows the closest passages"
    elsewhere = Answerer(searcher).ask("乌镇2022年的财政总收入是多少？")
    assert elsewhere.refused and "乌镇" in elsewhere.text


def test_verifier_removes_fabricated_citation_and_unsupported_number(searcher):
    passages = searcher.search("余新镇规上工业总产值", {"town": "余新镇"}, k=3)
    assert "94.2亿元" in passages[0].chunk.text
    draft = "余新镇规上工业总产值94.2亿元[1][7]。余新镇GDP达到300亿元[1]。"
    text, order, dropped = verify(searcher, "余新镇规上工业总产值是多少", draft, passages)
    assert text == "余新镇规上工业总产值94.2亿元[1]。"
    assert order == [1] and dropped == ["余新镇GDP达到300亿元[1]。"]


def test_verifier_does_not_read_a_list_number_as_a_figure(searcher):
    from reportqa.answer import support_text

    passages = searcher.search("余新镇规上工业总产值", {"town": "余新镇"}, k=3)
    number = next(str(n) for n in range(99, 9, -1) if str(n) not in support_text(passages[0]))
    text, _, dropped = verify(searcher, "余新镇规上工业总产值是多少", f"{number}. 余新镇规上工业总产值94.2亿元[1]。", passages)
    assert "94.2亿元" in text and not dropped


def test_verifier_attributes_an_uncited_sentence_to_the_passage_holding_it(searcher):
    passages = searcher.search("余新镇规上工业总产值", {"town": "余新镇"}, k=3)
    draft = "余新镇全年预计完成规上工业总产值94.2亿元。余新镇规上工业总产值达到300亿元。具体如下："
    text, order, dropped = verify(searcher, "余新镇规上工业总产值是多少", draft, passages)
    assert text == "余新镇全年预计完成规上工业总产值94.2亿元。[1]具体如下："
    assert passages[order[0] - 1] is passages[0] and dropped == ["余新镇规上工业总产值达到300亿元。"]


def test_llm_answer_through_local_openai_server(searcher, openai_server):
    openai_server.reply = "余新镇2021年规上工业总产值为94.2亿元[1]。同比增长99%[2]。另见[9]。"
    config = LLMConfig(backend="openai", base_url=openai_server.base_url, model="scripted-model", timeout_s=10)
    answer = Answerer(searcher, config).ask("余新镇2021年规上工业总产值是多少？")
    assert answer.backend == "llm" and not answer.refused
    assert answer.text == "（按 余新镇 · 2021年 理解）\n余新镇2021年规上工业总产值为94.2亿元[1]。"
    assert answer.citations[0].passage.chunk.meta["town"] == "余新镇"
    prompt = openai_server.requests[-1]["messages"][-1]["content"]
    assert "[1]（余新镇" in prompt and "问题：余新镇2021年规上工业总产值是多少？" in prompt


def test_stream_shows_the_draft_as_it_grows_then_the_verified_answer(searcher, openai_server):
    openai_server.reply = "余新镇2021年规上工业总产值为94.2亿元[1]。该镇将建成月球基地。"
    config = LLMConfig(backend="openai", base_url=openai_server.base_url, model="m", timeout_s=10)
    *drafts, answer = Answerer(searcher, config).stream("余新镇2021年规上工业总产值是多少？")
    assert len(drafts) > 3 and all(isinstance(d, str) for d in drafts) and drafts[0] == "", "empty while the model reads"
    assert all(later.startswith(earlier) for earlier, later in zip(drafts, drafts[1:]))
    assert drafts[-1] == openai_server.reply, "the draft is shown unverified, as the model writes it"
    assert answer.backend == "llm" and "月球" not in answer.text and answer.dropped == ["该镇将建成月球基地。"]


def test_extractive_stream_is_the_answer_alone(searcher):
    assert [type(item).__name__ for item in Answerer(searcher).stream("哪个镇提到未来社区")] == ["Answer"]


def test_llm_that_invents_everything_becomes_a_refusal(searcher, openai_server):
    openai_server.reply = "唐坊镇高新技术产业产值为12.5亿元[1]。"
    config = LLMConfig(backend="openai", base_url=openai_server.base_url, model="m", timeout_s=10)
    answer = Answerer(searcher, config).ask("唐坊镇高新技术产业产值是多少？")
    assert answer.refused and answer.text.startswith(NOT_FOUND) and "12.5" not in answer.text


def test_llm_copying_a_figure_without_its_digits_becomes_a_refusal(searcher, openai_server):
    openai_server.reply = "唐坊镇高新技术产业产值万元，同比增长%。[1]"  # as the scrape left 004
    config = LLMConfig(backend="openai", base_url=openai_server.base_url, model="m", timeout_s=10)
    answer = Answerer(searcher, config).ask("唐坊镇高新技术产业产值是多少？")
    assert answer.refused and "原文此处没有给出数值" in answer.text
    assert searcher.understand("有几个村").wants_figure
    assert not searcher.understand("哪几个村的文化礼堂获评五星级").wants_figure, "「哪几个」 asks which, not how many"


def test_which_towns_answer_comes_from_the_full_scan_even_with_an_llm(searcher, openai_server):
    openai_server.reply = "只有余新镇提到了未来社区[1]。"
    asked = len(openai_server.requests)
    config = LLMConfig(backend="openai", base_url=openai_server.base_url, model="m", timeout_s=10)
    answer = Answerer(searcher, config).ask("哪个镇提到未来社区")
    assert "余新镇" in answer.text and "凤桥镇" in answer.text and len(openai_server.requests) == asked


def test_unreachable_llm_falls_back_to_extractive(searcher, closed_port_url):
    config = LLMConfig(backend="openai", base_url=closed_port_url, model="m", timeout_s=3)
    answer = Answerer(searcher, config).ask("余新镇2021年规上工业总产值是多少？")
    assert "94.2亿元" in answer.text and answer.backend == "extractive"
    assert answer.notes and "REPORTQA_LLM_BASE_URL" in answer.notes[0]


def test_ask_jsonl_contract(searcher, seed_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTQA_HOME", str(seed_settings.home))
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "q1", "question": "哪个镇提到未来社区", "type": "which"}, ensure_ascii=False) + "\n"
        + json.dumps({"id": "q2", "question": "唐坊镇高新技术产业产值是多少"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    assert main(["ask", "--jsonl", str(questions), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q2"]
    for row in rows:
        assert set(row) == {"id", "question", "answer", "refused", "citations", "retrieved", "latency_ms"}
        assert len(row["retrieved"]) >= 10
    assert rows[0]["citations"][0]["n"] == 1 and rows[0]["citations"][0]["source"].startswith("000_")
    assert rows[1]["refused"] is True and rows[1]["citations"] == []


def test_attribution_counts_only_what_a_sentence_adds_to_the_question(searcher):
    passages = searcher.search("余新镇党委书记是谁？", k=5)
    supports = [support_text(p) for p in passages]
    assert attribute("余新镇党委书记是蒋婷婷。", supports, "余新镇党委书记是谁？")
    assert attribute("余新镇党委书记是张国栋。", supports, "余新镇党委书记是谁？") is None
    word = "婷婷"  # a bare two-character answer: one character pair, too little to weigh by overlap
    holding = next(n for n, p in enumerate(passages, 1) if word in p.chunk.text)
    assert attribute(f"{word}。", supports, "余新镇有什么项目？") == holding
    assert attribute("鑫淼。", supports, "余新镇有什么项目？") is None


def test_a_run_in_heading_stands_for_its_whole_paragraph(searcher):
    from reportqa.extractive import paragraph_points

    index = searcher.index
    lead = "全面抓好安全生产。"
    chunk = next(c for c in index.chunks if f"\n{lead}" in c.text or c.text.startswith(lead))
    points = paragraph_points(index, chunk, lead)
    text = "".join(point for point, _ in points)
    assert points[0][0] == lead and "应急管理办" in text and "强化" in text
    assert "全面提升治理效能" not in text, "the next paragraph is another point"
    assert paragraph_points(index, chunk, "统筹组建街道应急管理办") == [], "only a paragraph's opening sentence leads it"


def test_an_enumeration_starts_after_the_colon_that_announces_it():
    from reportqa.extractive import enumerated
    from reportqa.ingest import Chunk

    text = "知识分子的政治运动可以分为三派：1.民主主义运动；2.基尔特社会主义；3.无政府主义运动。"
    chunk = Chunk("c", "a.txt", ("报告",), text, 0, len(text), 0, len(text))
    assert [point for point, _ in enumerated(chunk)] == ["1.民主主义运动；", "2.基尔特社会主义；", "3.无政府主义运动。"]


def test_a_count_about_the_item_never_answers_which_year():
    """「中美两国是哪一年建交的」 over a sentence about 两国 whose only figure is 五项原则: no year, no answer."""
    from reportqa.extractive import Candidate, Reading, figure_draft
    from reportqa.figures import asked_measure

    sentence = Candidate("中苏两国关系应在和平共处五项原则基础上正常化。", 1, terms=0.6, meaning=0.9)
    nouns = {"两国": 5.0, "关系": 2.0}
    reading = Reading(nouns, nouns, asked_measure("十大报告说中美两国是哪一年正式建交的"), [], [sentence], held=1.0, elsewhere=0.0, absent=[])
    assert figure_draft(reading).startswith(NOT_FOUND)
    counted = Reading(nouns, nouns, asked_measure("两国关系讲了几项原则"), [], [sentence], held=1.0, elsewhere=0.0, absent=[])
    assert "五项原则" in figure_draft(counted), "a count in another measure word still answers a count"


def test_a_sentence_announcing_parts_takes_the_lines_that_open_alike_in_the_passages_after_it_too():
    from reportqa.extractive import _completed

    text = "关键是要构建“1439”工作体系：\n“1”即聚焦创新平台。\n“4”即深化四大战略，\n“3”即开展三年行动。\n围绕总体要求，重点抓好以下工作：\n（一）加快转型"
    four = text.index("“4”即")  # the first passage ends inside the 「“4”即」 line; the second, overlapping it, starts there
    first, second = (Chunk(name, "a.txt", (), text[start:end], start, end, start, end) for name, start, end in (("1", 0, four + 4), ("2", four, len(text))))
    index = SimpleNamespace(documents={"a.txt": SimpleNamespace(text=text)}, chunks=[first, second], chunks_by_source={"a.txt": [0, 1]})
    assert _completed(index, first, "关键是要构建“1439”工作体系：") == (
        "关键是要构建“1439”工作体系：“1”即聚焦创新平台。", [("“4”即深化四大战略，", second), ("“3”即开展三年行动。", second)])
    assert _completed(index, second, "重点抓好以下工作：") == ("重点抓好以下工作：（一）加快转型", [])
    text = "上级点赞了我们的两项工作。\n第一项是文化礼堂。礼堂全覆盖。\n第二项是未来社区。老街改造。\n其他工作也有进展。"
    whole = Chunk("3", "b.txt", (), text, 0, len(text), 0, len(text))
    index.documents["b.txt"], index.chunks, index.chunks_by_source["b.txt"] = SimpleNamespace(text=text), [first, second, whole], [2]
    assert _completed(index, whole, "上级点赞了我们的两项工作。") == ("上级点赞了我们的两项工作。第一项是文化礼堂。第二项是未来社区。", [])
    assert _completed(index, whole, "礼堂全覆盖。") == ("礼堂全覆盖。", [])


def test_a_town_typed_with_a_homophone_is_answered_as_that_town_and_says_so(searcher):
    answer = Answerer(searcher).ask("天木山镇今年工业投资完成了多少")
    assert not answer.refused and "6700余万元" in answer.text
    assert "天目山镇（问作“天木山镇”）" in answer.text


def test_a_verb_no_report_uses_is_not_a_word_the_answer_must_hold_but_an_unknown_name_is(searcher):
    core = distinctive(searcher, term_weights(searcher, "出口总额涨"), "出口总额涨")
    assert "涨" not in core and core  # the reports say 增长
    assert "大锤" in distinctive(searcher, term_weights(searcher, "王大锤书记"), "王大锤书记")  # 王 / 大锤, in no report


def test_a_figure_of_a_common_item_is_read_further_down_the_named_report(tmp_path):
    """Eight sections use 党员 on every line; the one figure of it sits in a section on tourism."""
    from reportqa.config import Settings
    from reportqa.evidence import gather
    from reportqa.retrieve import open_searcher
    from reportqa.store import build_index

    topics = ["教育培训", "日常管理", "先锋作用", "联系群众", "志愿服务", "积分考核", "组织生活", "发展质量"]
    lines = ["样本镇政府工作报告", "各位代表："]
    for numeral, topic in zip("一二三四五六七八", topics):
        lines += [f"{numeral}、抓实党员{topic}", f"深化党员{topic}，推动党员{topic}常态化。每名党员都要参加{topic}，党员{topic}情况纳入党员年度评议，让党员在{topic}中发挥作用。"]
    lines += ["九、推进乡村旅游", "全镇共有党员1268名，民宿新增12家，游客接待量增长20%，旅游收入突破3亿元，乡村旅游成为富民产业。"]
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("\n".join(lines), encoding="utf-8")
    (tmp_path / "corpus" / "metadata.csv").write_text(
        "file,title,town,county,city,province,doc_type,year,date,speaker\na.txt,样本镇政府工作报告,样本镇,某县,某市,某省,政府工作报告,2023,2023-02-01,\n", encoding="utf-8")
    settings = Settings(home=tmp_path)
    build_index(settings, show_progress=False)
    searcher = open_searcher(settings, show_progress=False)
    assert not any("1268" in p.chunk.text for p in gather(searcher, "样本镇有多少党员").passages[:6])
    answer = Answerer(searcher).ask("样本镇有多少党员")
    assert "全镇共有党员1268名" in answer.text and "1268" in answer.citations[0].passage.chunk.text
    assert Answerer(searcher).ask("样本镇党员发展率是多少").refused, "far down, every noun of the item must be there"


def test_the_words_naming_a_report_choose_none_of_its_sentences(tmp_path):
    """「陈独秀在三大报告里…」 names the report by its speaker and number: his name, in the title,
    says which report; the sentences that also name him answer nothing about the comrades' work."""
    from reportqa.config import Settings
    from reportqa.retrieve import open_searcher
    from reportqa.store import build_index

    title = "陈独秀在中国共产党第三次全国代表大会上的报告"
    lines = [title, "现在我代表中央委员会作报告。", "就地区来说，上海的同志为党做的工作太少。北京的同志由于不了解建党工作，造成了很多困难。",
             "只有湖南的同志可以说工作得很好。湖北的同志没能及时防止冲突。",
             "陈独秀由于对时局的看法不清楚，再加上他很容易激动，犯了很多错误。陈独秀后来承认了这些错误。"]
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("\n".join(lines), encoding="utf-8")
    (tmp_path / "corpus" / "metadata.csv").write_text(
        f"file,title,town,county,city,province,doc_type,year,date,speaker\na.txt,{title},,,,,党代会报告,1923,,\n", encoding="utf-8")
    settings = Settings(home=tmp_path)
    build_index(settings, show_progress=False)
    answer = Answerer(open_searcher(settings, show_progress=False)).ask("陈独秀在三大报告里说哪个地方的同志工作做得好")
    assert "只有湖南的同志可以说工作得很好" in answer.text and "犯了很多错误" not in answer.text


def test_the_closest_sentence_answers_only_when_it_stands_out_from_the_rest():
    """A paraphrase (困境儿童 for 没人照看的孩子) is well ahead of the other sentences in meaning; when the
    asked figure is nowhere, the closest is one of a crowd (外贸 asked, 主要目标 the nearest)."""
    ahead = [Candidate(str(i), 1, meaning=m) for i, m in enumerate([0.933, 0.880, 0.878, 0.874, 0.871, 0.869, 0.866, 0.862])]
    crowd = [Candidate(str(i), 1, meaning=m) for i, m in enumerate([0.888, 0.887, 0.886, 0.885, 0.880, 0.879, 0.878, 0.877])]
    assert stands_out(ahead[0], ahead)
    assert not stands_out(crowd[0], crowd)


def test_the_best_sentence_answers_a_figure_when_it_leads_and_its_clause_of_the_questions_words_states_one():
    """「开十七大的时候党成立多少年了，在全国执政多少年了」: 时候 and 党 share the sentence's last clause,
    which states nothing, so no clause about the item's nouns holds the figure; the sentence leads
    the others by words and meaning, and its clauses holding the question's words do."""
    weights = {"执政": 2.68, "党": 0.95, "成立": 3.39, "开": 4.65, "时候": 3.37, "全国": 1.23}
    nouns = {"时候": 3.37, "党": 0.95, "全国": 1.23}
    years = Measure(unit="年", rate_ok=True)
    leader = Candidate("我们党已经成立八十六年，在全国执政五十八年，拥有七千多万党员，党的自身建设任务比过去任何时候都更为繁重。", 1, terms=0.71, meaning=0.915)
    others = [Candidate(f"其他第{i}句。", 1, terms=t, meaning=m) for i, (t, m) in enumerate([(0.51, 0.873), (0.51, 0.859), (0.42, 0.863), (0.42, 0.862), (0.34, 0.870), (0.34, 0.861), (0.34, 0.859)])]
    reading = Reading(weights, nouns, years, [], [leader, *others], 1.0, 0.0, [])
    assert not _states_figure(leader.text, nouns, weights, years)
    assert leading_figure(reading) is leader
    crowd = [replace(c, terms=score - c.meaning) for c, score in zip(others, [1.62, 1.60, 1.58, 1.56, 1.54, 1.52, 1.50])]
    assert leading_figure(replace(reading, pool=[leader, *crowd])) is None, "one of a crowd"
    assert leading_figure(replace(reading, measure=Measure())) is None, "no measure word: a neighbouring level would do"
    other_item = replace(leader, text="全年财政总收入4.04亿元，其中一般公共预算收入1.46亿元，党在全国执政的时候成立的机构保持同步。")
    assert leading_figure(replace(reading, pool=[other_item, *others])) is None, "the clause of the question's words states no figure"


def test_a_compound_question_refused_whole_is_answered_a_part_at_a_time(searcher):
    answer = Answerer(searcher).ask("凤桥的省级科技型中小企业去年新增了几家，今年目标是几家")
    assert not answer.refused and "省级科技型中小企业24家" in answer.text and answer.citations
    one = Answerer(searcher).ask("凤桥镇2022年调解了几起矛盾纠纷，一共涉及多少钱")
    assert one.text.count("（按") == 1, "answered whole, so not split"


def test_figures_of_two_years_asked_in_two_parts_are_answered_a_part_at_a_time(searcher):
    """One sentence seldom states both: the whole had been answered with this year's target alone."""
    answer = Answerer(searcher).ask("凤桥亿元以上备案项目，去年完成了几个，今年又定了几个？")
    assert "亿元以上备案内资项目13个" in answer.text and "亿元以上备案项目14个" in answer.text
    assert answer.text.index("2022年") < answer.text.index("13个") < answer.text.index("2023年") < answer.text.index("14个")


def test_paragraphs_opening_first_second_third_are_one_run_across_the_paragraphs_between():
    text = "\n".join([
        "九十年代要着重抓好十个方面。",
        "第一，加快经济改革步伐。建立市场经济体制，要抓好几个环节。",
        "一是转换企业经营机制。", "二是加快市场体系的培育。",
        "第二，进一步扩大对外开放。对外开放的地域要扩大。",
        "第三，调整和优化产业结构。",
        "第一条，反对；第二条，不怕。",
    ])
    runs = [[sentence for _, sentence in run] for run in lead_runs(text)]
    assert ["第一，加快经济改革步伐。", "第二，进一步扩大对外开放。", "第三，调整和优化产业结构。"] in runs
    assert ["一是转换企业经营机制。", "二是加快市场体系的培育。"] in runs, "the points inside a point run apart"
    assert len(runs) == 2, "「第一条，反对；」 opens no third run"
    assert all(text[start:].startswith(sentence) for run in lead_runs(text) for start, sentence in run)


def test_parts_answered_by_the_same_sentence_say_it_once(searcher):
    part = Answerer(searcher).ask("凤桥去年刑事警情有多少起")
    both = joined([part, part], "凤桥去年刑事警情有多少起，比上一年降了多少")
    assert both.text == part.text and len(both.citations) == len(part.citations)


def test_a_yearly_series_without_metadata_is_answered_by_year_and_lists_every_year(tmp_path):
    """One county's reports saved as 2019年政府工作报告.txt …, titled only 「政府工作报告」, no dateline,
    no metadata.csv; each reviews the year before. A numbered heading may run on into its paragraph
    on one line (「（一）推进乡村振兴。建设高标准农田…」): that text is searched like any other."""
    from reportqa.config import Settings
    from reportqa.retrieve import open_searcher
    from reportqa.store import build_index

    (tmp_path / "corpus").mkdir()
    for year, output, fields in ((2019, "119.5", 1190), (2020, "120.5", 1200), (2021, "121.5", 1210)):
        report = [
            "政府工作报告", "各位代表：", "现在，我代表县人民政府，向大会报告工作，请予审议。",
            f"一、{year - 1}年工作回顾", f"过去一年，全县实现地区生产总值{output}亿元。完成固定资产投资{year - 1860}亿元。",
            "二、重点工作", f"（一）推进乡村振兴。建设高标准农田{fields}亩，培育家庭农场{year - 2000}家。",
        ]
        (tmp_path / "corpus" / f"{year}年政府工作报告.txt").write_text("\n".join(report), encoding="utf-8")
    settings = Settings(home=tmp_path)
    build_index(settings, show_progress=False)
    searcher = open_searcher(settings, show_progress=False)
    assert sorted(r.year for r in searcher.index.catalog.reports.values()) == [2019, 2020, 2021]
    which = Answerer(searcher).ask("哪几年的报告提到高标准农田")
    assert which.text.startswith("资料中共有 3 份材料提到「高标准农田」") and all(f"{n}亩" in which.text for n in (1190, 1200, 1210))
    assert "1200亩" in Answerer(searcher).ask("2020年的报告说要建设多少亩高标准农田").text
    own = Answerer(searcher).ask("2020年的报告里固定资产投资完成了多少")  # its four passages are filled up with other years'
    assert "160亿元" in own.text and "161亿元" not in own.text
    assert "120.5亿元" in Answerer(searcher).ask("2019年全县地区生产总值是多少").text, "2019's figure is in the 2020 report"


def test_a_term_only_reworded_is_not_said_to_be_mentioned():
    from reportqa.catalog import Report
    from reportqa.retrieve import Passage
    from reportqa.which import DocumentMention, WhichAnswer

    chunk = Chunk(id="a", source="a.txt", text="全面推进农村生活垃圾分类。", section_path=("政府工作报告",), start=0, end=13, orig_start=0, orig_end=13, meta={})
    report = Report(source="a.txt", title="政府工作报告", town="", county="某县", city="", province="", doc_type="政府工作报告", year=2020, date="")
    found = WhichAnswer("垃圾分类处理", [DocumentMention(report, [Passage(chunk, 1.0, 0.9, 3.0)], wording="农村生活垃圾分类")])
    text = which_draft(found, found.evidence())
    assert text.startswith("资料中没有「垃圾分类处理」的原话；说法相近的有 1 份材料：") and "提到" not in text
