"""Run the gold questions through the same library the CLI and the app use, collecting inputs for the metrics."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reportqa.evaluation.gold import GoldQuestion
from reportqa.evaluation.metrics import (
    K,
    AnswerCheck,
    CalibrationRow,
    RetrievalScore,
    WhichScore,
    check_answer,
    relevance,
    score_ranking,
    set_recall_precision,
)

MODES = ("bm25", "dense", "hybrid")


@dataclass
class EvalResults:
    embed_model: str
    n_chunks: int
    half: str  # "dev", "test" or "" for both
    retrieval: list[RetrievalScore] = field(default_factory=list)
    which: list[WhichScore] = field(default_factory=list)
    answers: dict[str, list[AnswerCheck]] = field(default_factory=dict)  # backend name → checks
    calibration: list[CalibrationRow] = field(default_factory=list)
    unreachable: list[tuple[str, str]] = field(default_factory=list)  # (id, snippet) in no single chunk
    timings: dict[str, float] = field(default_factory=dict)
    gate: tuple[float, float] = (0.0, 0.0)  # MIN_DISTINCTIVE / MIN_MEANING in extractive.py


class _CachedQueries:
    """An embedder proxy that embeds each query text once (the three modes search the same question)."""

    def __init__(self, embedder):
        self._embedder = embedder
        self._cache: dict[tuple, np.ndarray] = {}

    def encode_query(self, text, **kwargs):
        key = (text, tuple(sorted(kwargs.items())))
        if key not in self._cache:
            self._cache[key] = self._embedder.encode_query(text, **kwargs)
        return self._cache[key]

    def __getattr__(self, name):
        return getattr(self._embedder, name)


def caching_searcher(searcher):
    """A copy of the searcher whose query vectors are cached; never used where latency is measured."""
    cached = copy.copy(searcher)
    cached.embedder = _CachedQueries(searcher.embedder)
    return cached


def evaluate_retrieval(searcher, gold: Sequence[GoldQuestion], modes: Sequence[str] = MODES, k: int = K) -> tuple[list[RetrievalScore], list[tuple[str, str]]]:
    """Scores of every answerable question in every mode; and snippets no chunk contains whole."""
    from reportqa.evidence import search_passages

    texts_all = [c.embedding_text() for c in searcher.index.chunks]
    scores, unreachable = [], []
    for question in gold:
        if not question.answerable:
            continue
        n_relevant = sum(relevance(texts_all, question.evidence))
        unreachable += [(question.id, s) for s in question.evidence if not any(s in t for t in texts_all)]
        for mode in modes:
            passages = search_passages(searcher, question.question, None, k, mode)
            texts = [p.chunk.embedding_text() for p in passages]
            sources = [p.chunk.source for p in passages]
            scores.append(score_ranking(question, mode, texts, sources, n_relevant))
    return scores, unreachable


def evaluate_which(searcher, gold: Sequence[GoldQuestion]) -> list[WhichScore]:
    """The documents a which-question lists (every in-scope document scanned) against the gold sources."""
    from reportqa.evidence import gather

    rows = []
    for question in gold:
        if question.type != "which":
            continue
        found = gather(searcher, question.question).which
        documents = found.documents if found else []
        sources = [d.report.source for d in documents]
        recall, precision = set_recall_precision(sources, question.sources)
        rows.append(WhichScore(question.id, found.term if found else "", sources, list(question.sources), recall, precision, [d.report.label() for d in documents]))
    return rows


def calibration_row(searcher, question: GoldQuestion) -> CalibrationRow:
    """The inputs of the extractive refusal gate for one question, computed as the writer computes them."""
    from reportqa.evidence import gather
    from reportqa.extractive import read

    evidence = gather(searcher, question.question)
    bypass = "refusal" if evidence.refusal else "which" if evidence.which is not None else ""
    reading = read(searcher, evidence) if evidence.passages and not bypass else None
    return CalibrationRow(question.id, question.type, question.answerable, reading.held if reading else 0.0, reading.meaning if reading else 0.0, bypass)


def evaluate_answers(answerer, gold: Sequence[GoldQuestion], backend: str, k: int = K) -> list[AnswerCheck]:
    if gold:
        answerer.ask(gold[0].question, None, k)  # warm-up, so the first latency is not one-off loading
    return [check_answer(q, answerer.ask(q.question, None, k), backend) for q in gold]


def run_evaluation(
    searcher,
    gold: Sequence[GoldQuestion],
    embed_model: str,
    half: str = "",
    answers: bool = True,
    llm_config=None,
    log: Callable[[str], None] = lambda message: None,
) -> EvalResults:
    """Everything in one pass: retrieval (all modes), which-questions, gate calibration, answers
    (extractive, and the configured LLM backend side by side)."""
    from reportqa.answer import Answerer
    from reportqa.extractive import MIN_DISTINCTIVE, MIN_MEANING
    from reportqa.llm import LLMConfig

    results = EvalResults(embed_model, len(searcher.index.chunks), half, gate=(MIN_DISTINCTIVE, MIN_MEANING))
    answer_searcher, searcher = searcher, caching_searcher(searcher)

    def timed(name: str, step: Callable):
        started = time.perf_counter()
        value = step()
        results.timings[name] = time.perf_counter() - started
        return value

    log(f"检索评测：{sum(q.answerable for q in gold)} 个可回答问题 × {len(MODES)} 种模式")
    results.retrieval, results.unreachable = timed("retrieval_s", lambda: evaluate_retrieval(searcher, gold))
    results.which = timed("which_s", lambda: evaluate_which(searcher, gold))
    log("拒答阈值校准")
    results.calibration = timed("calibration_s", lambda: [calibration_row(searcher, q) for q in gold])
    if answers:
        backends = [("extractive", LLMConfig())]
        if llm_config is not None and llm_config.backend != "extractive":
            model = llm_config.model if llm_config.backend == "openai" else Path(llm_config.gguf_path).name
            backends.append((f"{llm_config.backend}:{model}", llm_config))
        for name, config in backends:
            log(f"回答评测（{name}）：{len(gold)} 个问题")
            results.answers[name] = timed(f"answers_{name}_s", lambda: evaluate_answers(Answerer(answer_searcher, config), gold, name))
    return results
