"""Evaluation against the gold set (eval/gold.jsonl): retrieval, which-questions, answers, refusal gate.

gold.py holds the questions and their halves, metrics.py the pure metrics,
runner.py collects inputs through the product's own library, report.py
writes the tables and charts.
"""

from reportqa.evaluation.gold import GoldQuestion, load_gold, select
from reportqa.evaluation.report import answers_markdown, retrieval_markdown, write_report
from reportqa.evaluation.runner import EvalResults, run_evaluation

__all__ = ["EvalResults", "GoldQuestion", "answers_markdown", "load_gold", "retrieval_markdown", "run_evaluation", "select", "write_report"]
