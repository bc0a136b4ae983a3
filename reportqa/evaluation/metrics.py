"""Evaluation metrics as plain functions of plain inputs: passage texts, sources, an Answer.

Definitions (eval/README.md says more):

* a retrieved passage is *relevant* when its text (section path plus body, as
  shown and as embedded) contains one of the question's evidence snippets;
* evidence recall@k – share of the question's snippets found in the top-k texts;
* MRR@10 – 1/rank of the first relevant passage (0 when none in the top 10);
* nDCG@10 – binary relevance; the ideal ranking puts every relevant chunk first;
* source recall@10 – share of the gold source files among the top-10 sources;
* which-questions: document recall and precision of the documents listed, against
  the gold sources (every document holding the term);
* answers: key facts are substrings of the answer text; refusal accuracy on
  unanswerable questions; false refusals and citation precision on answerable ones.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from reportqa.evaluation.gold import TYPES, GoldQuestion

OVERALL = "overall"
K = 10
RETRIEVAL_METRICS = ("recall_at_5", "recall_at_10", "mrr_at_10", "ndcg_at_10", "source_recall_at_10")
RETRIEVAL_LABELS = {
    "recall_at_5": "R@5",
    "recall_at_10": "R@10",
    "mrr_at_10": "MRR@10",
    "ndcg_at_10": "nDCG@10",
    "source_recall_at_10": "SrcR@10",
}

def relevance(texts: Sequence[str], evidence: Sequence[str]) -> list[bool]:
    """Per passage: does its text contain any evidence snippet?"""
    return [any(snippet in text for snippet in evidence) for text in texts]


def evidence_recall(texts: Sequence[str], evidence: Sequence[str], k: int) -> float:
    """Share of the evidence snippets found in the top-k texts (0 when there is no evidence)."""
    if not evidence:
        return 0.0
    top = texts[:k]
    return sum(any(snippet in text for text in top) for snippet in evidence) / len(evidence)


def mrr_at_k(relevant: Sequence[bool], k: int = K) -> float:
    for rank, hit in enumerate(relevant[:k], 1):
        if hit:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(relevant: Sequence[bool], k: int = K, n_relevant: int | None = None) -> float:
    """Binary nDCG@k. `n_relevant`: how many relevant items exist in all (defaults to those retrieved)."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, hit in enumerate(relevant[:k], 1) if hit)
    found = sum(bool(hit) for hit in relevant)
    ideal_n = min(k, max(n_relevant if n_relevant is not None else 0, found))
    idcg = sum(1.0 / math.log2(rank + 1) for rank in range(1, ideal_n + 1))
    return dcg / idcg if idcg else 0.0


def source_recall(sources: Sequence[str], gold_sources: Sequence[str], k: int = K) -> float:
    if not gold_sources:
        return 0.0
    top = set(sources[:k])
    return sum(source in top for source in set(gold_sources)) / len(set(gold_sources))


@dataclass
class RetrievalScore:
    id: str
    type: str
    mode: str
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float
    ndcg_at_10: float
    source_recall_at_10: float
    first_hit: int | None  # rank of the first relevant passage within the top 10
    sources: list[str] = field(default_factory=list)


def score_ranking(question: GoldQuestion, mode: str, texts: Sequence[str], sources: Sequence[str], n_relevant: int | None = None) -> RetrievalScore:
    """All retrieval metrics of one ranked list (texts and sources of the passages, best first)."""
    relevant = relevance(texts[:K], question.evidence)
    first = next((rank for rank, hit in enumerate(relevant, 1) if hit), None)
    return RetrievalScore(
        id=question.id,
        type=question.type,
        mode=mode,
        recall_at_5=evidence_recall(texts, question.evidence, 5),
        recall_at_10=evidence_recall(texts, question.evidence, 10),
        mrr_at_10=mrr_at_k(relevant, K),
        ndcg_at_10=ndcg_at_k(relevant, K, n_relevant),
        source_recall_at_10=source_recall(sources, question.sources, K),
        first_hit=first,
        sources=list(sources[:K]),
    )


@dataclass
class WhichScore:
    id: str
    term: str
    found: list[str]  # sources of the documents listed
    gold: list[str]
    recall: float
    precision: float
    labels: list[str] = field(default_factory=list)  # how the answer names each document


def set_recall_precision(predicted: Sequence[str], gold: Sequence[str]) -> tuple[float, float]:
    """Set recall and precision; predicting nothing has precision 1 only when nothing was expected."""
    p, g = set(predicted), set(gold)
    recall = len(p & g) / len(g) if g else 1.0
    precision = len(p & g) / len(p) if p else (1.0 if not g else 0.0)
    return recall, precision

# ---------------------------------------------------------------- answers (pure)


@dataclass
class AnswerCheck:
    id: str
    type: str
    backend: str
    answerable: bool
    refused: bool
    facts_found: int
    facts_total: int
    all_facts: bool | None  # None for unanswerable questions
    fact_share: float | None
    refusal_correct: bool | None  # unanswerable only: refused as it should
    false_refusal: bool | None  # answerable only: refused although it should not
    citation_precision: float | None  # answerable with ≥1 citation only
    n_citations: int
    latency_ms: float
    fell_back: bool = False  # LLM unreachable, extractive answer used
    text: str = ""
    missing: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # sentences the verifier removed from the draft


def _plain(text: str) -> str:
    from reportqa.answer import CITE

    return CITE.sub("", text)


def check_answer(question: GoldQuestion, answer, backend: str | None = None) -> AnswerCheck:
    """Score one reportqa.answer.Answer against its gold question."""
    from reportqa.answer import FALLBACK_NOTE, NOT_FOUND

    text = _plain(answer.text)
    found = [fact for fact in question.key_facts if fact in text]
    missing = [fact for fact in question.key_facts if fact not in text]
    citations = [c.passage.chunk.source for c in answer.citations]
    answerable = question.answerable
    gold_sources = set(question.sources)
    return AnswerCheck(
        id=question.id,
        type=question.type,
        backend=backend or answer.backend,
        answerable=answerable,
        refused=bool(answer.refused),
        facts_found=len(found),
        facts_total=len(question.key_facts),
        all_facts=(len(found) == len(question.key_facts)) if answerable and question.key_facts else None,
        fact_share=len(found) / len(question.key_facts) if answerable and question.key_facts else None,
        refusal_correct=None if answerable else bool(answer.refused),
        false_refusal=bool(answer.refused) if answerable else None,
        citation_precision=(sum(s in gold_sources for s in citations) / len(citations)) if answerable and citations else None,
        n_citations=len(citations),
        latency_ms=float(answer.latency_ms),
        fell_back=any(note.startswith(FALLBACK_NOTE) for note in answer.notes),
        text=answer.text,
        missing=missing,
        dropped=[d for d in answer.dropped if NOT_FOUND not in d],  # as Answerer counts them: a refusal's wording is no claim
    )


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def _mean(values: Iterable) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def summarize_answers(checks: Sequence[AnswerCheck]) -> dict[str, dict[str, float | int | None]]:
    """Per type and overall: all facts, fact share, refusal accuracy, false refusals, citation precision, latency."""
    groups: dict[str, list[AnswerCheck]] = {t: [c for c in checks if c.type == t] for t in TYPES}
    groups = {t: cs for t, cs in groups.items() if cs}
    groups[OVERALL] = list(checks)
    out = {}
    for name, cs in groups.items():
        latencies = [c.latency_ms for c in cs]
        out[name] = {
            "n": len(cs),
            "all_facts": _mean(c.all_facts for c in cs),
            "fact_share": _mean(c.fact_share for c in cs),
            "refusal_accuracy": _mean(c.refusal_correct for c in cs),
            "false_refusal": _mean(c.false_refusal for c in cs),
            "citation_precision": _mean(c.citation_precision for c in cs),
            "median_ms": statistics.median(latencies) if latencies else None,
            "p95_ms": percentile(latencies, 95) if latencies else None,
        }
    return out


def summarize_retrieval(scores: Sequence[RetrievalScore]) -> dict[str, dict[str, dict[str, float]]]:
    """mode → type (and overall) → metric → mean over questions, plus n."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for mode in dict.fromkeys(s.mode for s in scores):
        rows = [s for s in scores if s.mode == mode]
        groups = {t: [s for s in rows if s.type == t] for t in TYPES}
        groups = {t: g for t, g in groups.items() if g}
        groups[OVERALL] = rows
        out[mode] = {
            name: {"n": len(g), **{m: sum(getattr(s, m) for s in g) / len(g) for m in RETRIEVAL_METRICS}}
            for name, g in groups.items()
        }
    return out


@dataclass
class CalibrationRow:
    id: str
    type: str
    answerable: bool
    held: float  # share of the question's distinctive weight the best top-5 passage holds
    meaning: float  # cosine of the best candidate sentence to the question
    bypass: str = ""  # "refusal" (the corpus lacks what it names: always refused) or "which" (never gated)


def gate_refuses(row: CalibrationRow, min_distinctive: float, min_meaning: float) -> bool:
    """The extractive writer's refusal gate (extractive.lacks_evidence) with the given thresholds."""
    if row.bypass:
        return row.bypass == "refusal"
    return row.held < min_distinctive and row.meaning < min_meaning


def gate_outcome(rows: Sequence[CalibrationRow], min_distinctive: float, min_meaning: float) -> tuple[float, float]:
    """(refusal accuracy on unanswerable, false-refusal rate on answerable) of the gate alone."""
    unanswerable = [r for r in rows if not r.answerable]
    answerable = [r for r in rows if r.answerable]
    accuracy = sum(gate_refuses(r, min_distinctive, min_meaning) for r in unanswerable) / len(unanswerable) if unanswerable else float("nan")
    false = sum(gate_refuses(r, min_distinctive, min_meaning) for r in answerable) / len(answerable) if answerable else float("nan")
    return accuracy, false


def grid(values: Sequence[float]) -> list[float]:
    """Candidate thresholds from the data: the deciles of the gated questions' values."""
    return sorted({round(float(v), 2) for v in np.percentile(values, range(0, 101, 10))}) if len(values) else [0.5]


def recommend_thresholds(rows: Sequence[CalibrationRow]) -> tuple[float, float, float, float]:
    """(min_distinctive, min_meaning, refusal accuracy, false-refusal rate) maximising accuracy − 2 × false refusals.

    False refusals cost double: refusing an answerable question hides an answer
    staff need, while a wrongly-answered unanswerable one still shows its citations.
    """
    gated = [r for r in rows if not r.bypass]
    best = None
    for d in grid([r.held for r in gated]):
        for m in grid([r.meaning for r in gated]):
            accuracy, false = gate_outcome(rows, d, m)
            key = (accuracy - 2 * false, -false, -d, -m)
            if best is None or key > best[0]:
                best = (key, d, m, accuracy, false)
    return best[1], best[2], best[3], best[4]
