"""Faults staff and servers cause, end to end (issue 13): a failing LLM server of every kind, invented
claims, inputs out of bounds. Index, sidecar and feedback-database faults are in test_store.py,
test_ingest.py and test_feedback.py."""

from __future__ import annotations

import json
import time

import pytest

from reportqa.answer import Answerer, verify
from reportqa.cli import main
from reportqa.limits import InputRejected, check_filters, csv_cell
from reportqa.llm import LLMConfig

QUESTION = "余新镇2021年规上工业总产值是多少？"
TRUE_ANSWER = "余新镇2021年规上工业总产值为94.2亿元[1]。"


def _config(server, **kw) -> LLMConfig:
    return LLMConfig(**{"backend": "openai", "base_url": server.base_url, "model": "m", "timeout_s": 5, "backoff_s": 0.05, **kw})


# ---------------------------------------------------------------- the LLM server fails


@pytest.mark.parametrize("status, fault, cause", [
    (500, "", "HTTP 500"),
    (503, "", "HTTP 503"),
    (429, "", "HTTP 429"),
    (400, "", "HTTP 400"),
    (404, "", "REPORTQA_LLM_MODEL"),
    (200, "malformed", "无法解析"),
    (200, "no_choices", "中途断开"),
    (200, "cut", "中途断开"),
])
def test_every_llm_fault_falls_back_to_extractive_naming_the_cause(searcher, openai_server, status, fault, cause):
    openai_server.reply, openai_server.status, openai_server.fault = TRUE_ANSWER, status, fault
    answer = Answerer(searcher, _config(openai_server)).ask(QUESTION)
    assert answer.backend == "extractive" and "94.2亿元" in answer.text
    assert len(answer.notes) == 1 and "已改用摘录式回答" in answer.notes[0] and cause in answer.notes[0]
    retried = status in (429, 500, 503)
    assert len(openai_server.requests) == (3 if retried else 1), "5xx/429 retried twice, nothing else retried"


def test_a_stream_cut_midway_ends_with_the_extractive_answer(searcher, openai_server):
    openai_server.reply, openai_server.fault = TRUE_ANSWER + "同比增长很快。" * 5, "cut"
    *drafts, answer = Answerer(searcher, _config(openai_server)).stream(QUESTION)
    assert drafts[0] == "" and TRUE_ANSWER.startswith(drafts[1]), "the first half was shown as it came"
    assert answer.backend == "extractive" and "94.2亿元" in answer.text and "中途断开" in answer.notes[0]


def test_an_empty_reply_falls_back(searcher, openai_server):
    openai_server.reply = "  "
    answer = Answerer(searcher, _config(openai_server)).ask(QUESTION)
    assert answer.backend == "extractive" and "空回答" in answer.notes[0]


def test_a_server_error_that_passes_is_retried_with_backoff(searcher, openai_server):
    openai_server.reply, openai_server.status = TRUE_ANSWER, [500, 429]
    started = time.monotonic()
    answer = Answerer(searcher, _config(openai_server, backoff_s=0.2)).ask(QUESTION)
    assert answer.backend == "llm" and answer.text.endswith(TRUE_ANSWER) and not answer.notes
    assert len(openai_server.requests) == 3 and time.monotonic() - started >= 0.2 + 0.4


def test_cli_ask_against_a_failing_server_answers_with_a_note(seed_settings, searcher, openai_server, monkeypatch, capsys):
    openai_server.status = 500
    monkeypatch.setenv("REPORTQA_HOME", str(seed_settings.home))
    monkeypatch.setenv("REPORTQA_LLM", "openai")
    monkeypatch.setenv("REPORTQA_LLM_BASE_URL", openai_server.base_url)
    assert main(["ask", QUESTION]) == 0
    out = capsys.readouterr().out
    assert "94.2亿元" in out and "HTTP 500" in out


# ---------------------------------------------------------------- the verifier


def test_uncited_invention_without_number_or_place_is_dropped(searcher):
    passages = searcher.search("凤桥镇未来社区", {"town": "凤桥镇"}, k=3)
    n = next(i for i, p in enumerate(passages, 1) if "推动凤桥社区创建省级未来社区" in p.chunk.text)
    draft = f"推动凤桥社区创建省级未来社区[{n}]。该镇将建成月球基地。具体如下："
    text, _, dropped = verify(searcher, "凤桥镇的未来社区", draft, passages)
    assert text == "推动凤桥社区创建省级未来社区[1]。具体如下：" and dropped == ["该镇将建成月球基地。"]


def test_cited_claim_without_number_or_place_is_checked_against_its_passage(searcher):
    passages = searcher.search("凤桥镇未来社区", {"town": "凤桥镇"}, k=3)
    draft = "凤桥社区的未来社区由外星人设计建造，居民全部免费入住。[1]"
    text, order, dropped = verify(searcher, "凤桥镇的未来社区", draft, passages)
    assert text == "" and order == [] and dropped == [draft]


def test_llm_answer_loses_its_invented_sentence_and_says_so(searcher, openai_server):
    openai_server.reply = TRUE_ANSWER + "该镇将建成月球基地。"
    answer = Answerer(searcher, _config(openai_server)).ask(QUESTION)
    assert answer.backend == "llm" and "月球" not in answer.text and answer.dropped == ["该镇将建成月球基地。"]
    assert answer.notes == ["核查删除了 1 句在所引资料中找不到依据的内容"]


def test_a_refusal_is_not_counted_as_a_dropped_claim(searcher):
    answer = Answerer(searcher).ask("乌镇2022年的财政总收入是多少？")
    assert answer.refused and answer.notes == []


def test_true_sentence_with_an_invented_clause_is_dropped(searcher):
    passages = searcher.search("余新镇规上工业总产值", {"town": "余新镇"}, k=3)
    draft = "全年预计完成规上工业总产值94.2亿元，并且建成了国际航天港。[1]"
    assert verify(searcher, "余新镇规上工业总产值", draft, passages)[2] == [draft]


def test_which_answer_label_lines_are_supported_by_their_report(searcher):
    answer = Answerer(searcher).ask("哪个镇提到未来社区")
    passages = [c.passage for c in answer.citations]
    draft = "\n".join(f"{p.source_label()}[{n}]" for n, p in enumerate(passages, 1))
    text, order, dropped = verify(searcher, "哪个镇提到未来社区", draft, passages)
    assert dropped == [] and order == list(range(1, len(passages) + 1))


# ---------------------------------------------------------------- inputs


@pytest.mark.parametrize("question, message", [
    ("？？！！……", "只有标点"), ("   ", "请输入问题"), ("未来社区" * 50_000, "问题太长"),
])
def test_questions_out_of_bounds_are_refused_at_once(searcher, question, message):
    started = time.monotonic()
    with pytest.raises(InputRejected, match=message):
        Answerer(searcher).ask(question)
    assert time.monotonic() - started < 1


def test_k_and_filter_values_are_checked_naming_what_is_allowed(searcher):
    with pytest.raises(InputRejected, match="1–50"):
        Answerer(searcher).ask("未来社区", None, 0)
    with pytest.raises(InputRejected, match="余新镇") as info:
        Answerer(searcher).ask("未来社区", {"town": "乌镇"})
    assert "乌镇" in str(info.value)
    with pytest.raises(InputRejected, match="town、county"):
        check_filters({"village": "x"}, searcher.index)
    assert check_filters({"town": ["余新镇", ""], "year": ""}, searcher.index) == {"town": ["余新镇"]}


@pytest.mark.parametrize("args, message", [
    (["search", ""], "请输入检索内容"), (["search", "未来社区", "--mode", "foo"], "hybrid、dense、bm25"),
    (["search", "未来社区", "-k", "0"], "1–50"), (["ask", "。。。"], "只有标点"),
])
def test_cli_refuses_bad_input_with_a_message(seed_settings, searcher, monkeypatch, capsys, args, message):
    monkeypatch.setenv("REPORTQA_HOME", str(seed_settings.home))
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_jsonl_run_survives_a_bad_question(seed_settings, searcher, monkeypatch, tmp_path):
    monkeypatch.setenv("REPORTQA_HOME", str(seed_settings.home))
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "a", "question": "？？？"}\n{"id": "b", "question": "哪个镇提到未来社区"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["ask", "--jsonl", str(questions), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["refused"] and "只有标点" in rows[0]["answer"] and rows[1]["citations"]


def test_csv_cells_that_excel_would_run_are_neutralised():
    assert csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert [csv_cell(v) for v in ("+1", "-1", "@a", "凤桥镇", 3)] == ["'+1", "'-1", "'@a", "凤桥镇", 3]


def test_import_refuses_re_encoded_duplicates_and_punctuation_only_files(seed_settings, searcher):
    from reportqa.library import import_report
    from reportqa.ui.backend import Backend

    backend = Backend(seed_settings, searcher)
    before = sorted(p.name for p in seed_settings.corpus_dir.iterdir())
    original = (seed_settings.corpus_dir / "003_4716113be698249b.txt").read_text(encoding="utf-8")
    again = import_report(backend, "陶堰另存.txt", original.encode("gb18030"), {})
    assert not again.ok and "编码或换行不同" in again.message and "003_4716113be698249b.txt" in again.message
    marks = import_report(backend, "标点.txt", "。。。！！！\n……".encode(), {})
    assert not marks.ok and "只有标点" in marks.message
    assert sorted(p.name for p in seed_settings.corpus_dir.iterdir()) == before
