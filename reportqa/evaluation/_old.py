"""Evaluation against the gold set (eval/gold.jsonl): retrieval, which-towns, answers, refusal gate.

Evaluators need repeatable numbers, so every metric is a plain function of plain
inputs (passage texts, sources, an Answer) and the runners only collect those
inputs from the same library the CLI and the app use. Definitions:

* a retrieved passage is *relevant* when its text contains at least one of the
  question's evidence snippets (verbatim snippets of the cleaned text). The
  passage's text is its section path plus its body, as shown to users and as
  embedded: headings live only in the section path, and some evidence is a
  heading (「进一步提升“活力指数”」);
* evidence recall@k – share of the question's snippets found in the top-k texts;
* MRR@10 – 1/rank of the first relevant passage (0 when none in the top 10);
* nDCG@10 – binary relevance; the ideal ranking puts every relevant chunk of the
  index (chunks containing a snippet) first;
* source recall@10 – share of the gold source files among the top-10 passages' sources;
* answers: key facts are substrings of the answer text; refusal accuracy on
  unanswerable questions; false refusals and citation precision on answerable ones.

Only answerable questions enter the retrieval metrics.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

TYPES = ("fact", "number", "which_towns", "paraphrase", "traditional", "comparison", "summary", "unanswerable")
MODES = ("bm25", "dense", "hybrid")
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
COVERAGE_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


# ---------------------------------------------------------------- gold set


@dataclass
class GoldQuestion:
    id: str
    question: str
    type: str
    answerable: bool
    sources: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    key_facts: list[str] = field(default_factory=list)
    towns: list[str] = field(default_factory=list)


def load_gold(path: str | Path) -> list[GoldQuestion]:
    names = set(GoldQuestion.__dataclass_fields__)
    questions = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            questions.append(GoldQuestion(**{k: v for k, v in record.items() if k in names}))
    return questions


# ---------------------------------------------------------------- retrieval metrics (pure)


def first_per_type(gold: Sequence[GoldQuestion], n: int) -> list[GoldQuestion]:
    """The first n questions of each type: a stratified sample for answer backends too slow for all."""
    taken: Counter[str] = Counter()
    sample = []
    for question in gold:
        taken[question.type] += 1
        if taken[question.type] <= n:
            sample.append(question)
    return sample


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


# ---------------------------------------------------------------- which towns (pure)


@dataclass
class TownScore:
    id: str
    term: str
    predicted: list[str]
    gold: list[str]
    recall: float
    precision: float
    inexact: dict[str, str] = field(default_factory=dict)  # town → the wording matched instead of the term ("" = by meaning)


def town_recall_precision(predicted: Sequence[str], gold: Sequence[str]) -> tuple[float, float]:
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


def _plain(text: str) -> str:
    from reportqa.answer import CITE

    return CITE.sub("", text)


def check_answer(question: GoldQuestion, answer, backend: str | None = None) -> AnswerCheck:
    """Score one reportqa.answer.Answer against its gold question."""
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
        fell_back=any("大模型不可用" in note for note in getattr(answer, "notes", [])),
        text=answer.text,
        missing=missing,
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


# ---------------------------------------------------------------- refusal gate calibration


@dataclass
class CalibrationRow:
    id: str
    type: str
    answerable: bool
    top_dense: float  # cosine of the first passage the extractive writer sees
    coverage: float  # best weighted term coverage among its top-5 passages
    bypass: str = ""  # "unknown_place" (always refused) or "towns" (never gated), else ""


def gate_refuses(row: CalibrationRow, min_dense: float, min_coverage: float) -> bool:
    """The extractive writer's refusal gate (extractive.extractive_draft) with the given thresholds."""
    if row.bypass == "unknown_place":
        return True
    if row.bypass == "towns":
        return False
    return row.top_dense < min_dense and row.coverage < min_coverage


def gate_outcome(rows: Sequence[CalibrationRow], min_dense: float, min_coverage: float) -> tuple[float, float]:
    """(refusal accuracy on unanswerable, false-refusal rate on answerable) of the gate alone."""
    unanswerable = [r for r in rows if not r.answerable]
    answerable = [r for r in rows if r.answerable]
    accuracy = sum(gate_refuses(r, min_dense, min_coverage) for r in unanswerable) / len(unanswerable) if unanswerable else float("nan")
    false = sum(gate_refuses(r, min_dense, min_coverage) for r in answerable) / len(answerable) if answerable else float("nan")
    return accuracy, false


def dense_grid(rows: Sequence[CalibrationRow]) -> list[float]:
    """Candidate MIN_DENSE values from the data: deciles of the gated questions' top cosines."""
    values = [r.top_dense for r in rows if not r.bypass]
    if not values:
        return [0.8]
    return sorted({round(float(v), 2) for v in np.percentile(values, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100])} | {0.80})


def recommend_thresholds(rows: Sequence[CalibrationRow], dense_values: Sequence[float] | None = None, coverage_values: Sequence[float] = COVERAGE_GRID) -> tuple[float, float, float, float]:
    """(min_dense, min_coverage, refusal accuracy, false-refusal rate) maximising accuracy − 2 × false refusals.

    False refusals cost double: refusing an answerable question hides an answer
    staff need, while a wrongly-answered unanswerable one still shows its citations.
    """
    best = None
    for d in dense_values or dense_grid(rows):
        for c in coverage_values:
            accuracy, false = gate_outcome(rows, d, c)
            key = (accuracy - 2 * false, -false, -d, -c)
            if best is None or key > best[0]:
                best = (key, d, c, accuracy, false)
    return best[1], best[2], best[3], best[4]


# ---------------------------------------------------------------- runners (need a searcher)


@dataclass
class EvalResults:
    embed_model: str
    n_chunks: int
    retrieval: list[RetrievalScore] = field(default_factory=list)
    towns: list[TownScore] = field(default_factory=list)
    answers: dict[str, list[AnswerCheck]] = field(default_factory=dict)  # backend name → checks
    calibration: list[CalibrationRow] = field(default_factory=list)
    unreachable: list[tuple[str, str]] = field(default_factory=list)  # (id, snippet) in no single chunk
    timings: dict[str, float] = field(default_factory=dict)
    gate: tuple[float, float] = (0.0, 0.0)  # the MIN_DENSE / MIN_COVERAGE in extractive.py


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
    import copy

    cached = copy.copy(searcher)
    cached.embedder = _CachedQueries(searcher.embedder)
    return cached


def passage_text(chunk) -> str:
    """What a passage shows and what is embedded: its section path, then its body."""
    return chunk.embedding_text()


def evaluate_retrieval(searcher, gold: Sequence[GoldQuestion], modes: Sequence[str] = MODES, k: int = K) -> tuple[list[RetrievalScore], list[tuple[str, str]]]:
    """Scores of every answerable question in every mode; and snippets no chunk contains whole."""
    texts_all = [passage_text(c) for c in searcher.index.chunks]
    from reportqa.evidence import search_passages

    scores, unreachable = [], []
    for question in gold:
        if not question.answerable:
            continue
        n_relevant = sum(relevance(texts_all, question.evidence))
        unreachable += [(question.id, s) for s in question.evidence if not any(s in t for t in texts_all)]
        for mode in modes:
            passages = search_passages(searcher, question.question, None, k, mode)
            texts = [passage_text(p.chunk) for p in passages]
            sources = [p.chunk.source for p in passages]
            scores.append(score_ranking(question, mode, texts, sources, n_relevant))
    return scores, unreachable


def evaluate_towns(searcher, gold: Sequence[GoldQuestion]) -> list[TownScore]:
    from reportqa.towns import find_towns

    rows = []
    for question in gold:
        if question.type != "which_towns":
            continue
        found = find_towns(searcher, question.question)
        towns = found.towns if found else []
        predicted = list(dict.fromkeys(t.town for t in towns))
        recall, precision = town_recall_precision(predicted, question.towns)
        inexact = {t.town: t.mention for t in towns if t.mention != found.term}
        rows.append(TownScore(question.id, found.term if found else "", predicted, list(question.towns), recall, precision, inexact))
    return rows


def evaluate_answers(answerer, gold: Sequence[GoldQuestion], backend: str, k: int = K) -> list[AnswerCheck]:
    if gold:
        answerer.ask(gold[0].question, None, k)  # warm-up, so the first latency is not one-off loading
    return [check_answer(q, answerer.ask(q.question, None, k), backend) for q in gold]


def calibration_row(searcher, question: GoldQuestion, k: int = K) -> CalibrationRow:
    """The inputs of the extractive refusal gate for one question, computed as extractive.py computes them."""
    from reportqa.answer import gather
    from reportqa.extractive import coverage, question_weights

    inputs = gather(searcher, question.question, None, k)
    passages = inputs["passages"]
    bypass = "unknown_place" if inputs["unknown_places"] else "towns" if inputs["towns"] and inputs["towns"].towns else ""
    weights = question_weights(searcher, question.question)
    top_dense = passages[0].dense if passages else 0.0
    best_coverage = max((coverage(weights, p.chunk.text) for p in passages[:5]), default=0.0)
    return CalibrationRow(question.id, question.type, question.answerable, float(top_dense), float(best_coverage), bypass)


def run_evaluation(
    searcher,
    gold: Sequence[GoldQuestion],
    embed_model: str,
    answers: bool = True,
    llm_config=None,
    log: Callable[[str], None] = lambda message: None,
) -> EvalResults:
    """Everything in one pass: retrieval (all modes), which-towns, answers (extractive, optionally LLM), gate calibration."""
    from reportqa.answer import Answerer
    from reportqa.extractive import MIN_COVERAGE, MIN_DENSE
    from reportqa.llm import LLMConfig

    results = EvalResults(embed_model, len(searcher.index.chunks), gate=(MIN_DENSE, MIN_COVERAGE))
    answer_searcher, searcher = searcher, caching_searcher(searcher)
    started = time.perf_counter()
    log(f"检索评测：{sum(q.answerable for q in gold)} 个可回答问题 × {len(MODES)} 种模式")
    results.retrieval, results.unreachable = evaluate_retrieval(searcher, gold)
    results.timings["retrieval_s"] = time.perf_counter() - started

    started = time.perf_counter()
    results.towns = evaluate_towns(searcher, gold)
    results.timings["towns_s"] = time.perf_counter() - started

    started = time.perf_counter()
    log("拒答阈值校准")
    results.calibration = [calibration_row(searcher, q) for q in gold]
    results.timings["calibration_s"] = time.perf_counter() - started

    if answers:
        started = time.perf_counter()
        log(f"回答评测（extractive）：{len(gold)} 个问题")
        results.answers["extractive"] = evaluate_answers(Answerer(answer_searcher, LLMConfig()), gold, "extractive")
        results.timings["answers_extractive_s"] = time.perf_counter() - started
        if llm_config is not None and llm_config.backend != "extractive":
            name = f"{llm_config.backend}:{llm_config.model if llm_config.backend == 'openai' else Path(llm_config.gguf_path).name}"
            started = time.perf_counter()
            log(f"回答评测（{name}）：{len(gold)} 个问题")
            results.answers[name] = evaluate_answers(Answerer(answer_searcher, llm_config), gold, name)
            results.timings[f"answers_{llm_config.backend}_s"] = time.perf_counter() - started
    return results


# ---------------------------------------------------------------- reports


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def retrieval_markdown(results: EvalResults) -> str:
    summary = summarize_retrieval(results.retrieval)
    n_questions = len({s.id for s in results.retrieval})
    parts = [
        f"# Retrieval evaluation — embed model `{results.embed_model}`",
        "",
        f"{n_questions} answerable gold questions, index of {results.n_chunks} chunks, top 10 per mode. "
        "A passage is relevant when its text (section path + body) contains an evidence snippet (see eval/README.md). "
        "Which-towns questions list `find_towns`' evidence first, the same in every mode, as the product's search does. "
        f"Retrieval took {results.timings.get('retrieval_s', 0):.0f} s for all modes.",
        "",
        "## Overall",
        "",
        _table(["mode", *RETRIEVAL_LABELS.values()], [[mode, *(_fmt(summary[mode][OVERALL][m]) for m in RETRIEVAL_METRICS)] for mode in summary]),
        "",
        "## Evidence recall@5 per question type",
        "",
    ]
    types = [t for t in (*TYPES, OVERALL) if t in summary.get("hybrid", next(iter(summary.values()), {}))]
    parts.append(_table(["type", "n", *summary], [[t, summary[next(iter(summary))][t]["n"], *(_fmt(summary[m][t]["recall_at_5"]) for m in summary)] for t in types]))
    for mode in summary:
        parts += ["", f"## {mode}", "", _table(["type", "n", *RETRIEVAL_LABELS.values()], [[t, summary[mode][t]["n"], *(_fmt(summary[mode][t][m]) for m in RETRIEVAL_METRICS)] for t in types])]
    hybrid = [s for s in results.retrieval if s.mode == "hybrid"]
    misses = [s for s in hybrid if s.recall_at_10 < 1.0]
    if misses:
        parts += ["", "## Hybrid: questions with evidence missing from the top 10", "", _table(
            ["id", "type", "R@10", "first hit", "SrcR@10"],
            [[s.id, s.type, _fmt(s.recall_at_10), s.first_hit or "–", _fmt(s.source_recall_at_10)] for s in misses],
        )]
    if results.unreachable:
        parts += ["", "Evidence snippets that no single passage (section path + text) contains, so never retrievable whole: "
                  + "; ".join(f"{qid} 「{snippet}」" for qid, snippet in results.unreachable)]
    if results.towns:
        towns_recall = _mean(r.recall for r in results.towns)
        towns_precision = _mean(r.precision for r in results.towns)
        parts += [
            "",
            "## Which towns (`find_towns` over all documents)",
            "",
            f"Town recall {_fmt(towns_recall)}, precision {_fmt(towns_precision)} over {len(results.towns)} questions "
            f"({results.timings.get('towns_s', 0):.1f} s).",
            "",
            _table(
                ["id", "term", "found", "gold", "recall", "precision"],
                [[r.id, r.term or "–", "、".join(_town_label(t, r.inexact) for t in r.predicted) or "–", "、".join(r.gold), _fmt(r.recall), _fmt(r.precision)] for r in results.towns],
            ),
            "",
            "（≈ …）: the document words the term differently (characters reordered in one clause, or the term's head noun alone); "
            "\\* found only by the dense fallback.",
        ]
    return "\n".join(parts) + "\n"


def _town_label(town: str, inexact: dict[str, str]) -> str:
    if town not in inexact:
        return town
    return f"{town}（≈{inexact[town]}）" if inexact[town] else f"{town}*"


def calibration_markdown(results: EvalResults) -> str:
    rows = results.calibration
    if not rows:
        return ""
    grid = dense_grid(rows)
    d, c, accuracy, false = recommend_thresholds(rows, grid)
    now_accuracy, now_false = gate_outcome(rows, *results.gate)
    gated = [r for r in rows if not r.bypass]

    def spread(values):
        return f"{_fmt(min(values), 2)} / {_fmt(statistics.median(values), 2)} / {_fmt(max(values), 2)}" if values else "–"

    parts = [
        "## Refusal gate calibration (extractive writer)",
        "",
        "The gate refuses when the first passage's cosine < MIN_DENSE **and** the best top-5 term coverage < MIN_COVERAGE. "
        "Questions naming a town outside the corpus are always refused, which-towns questions with hits never reach the gate. "
        "Cells: refusal accuracy on unanswerable / false-refusal rate on answerable, of the gate alone "
        "(the writer can still refuse later, e.g. when no number is found).",
        "",
        _table(["", "gated n", "top cosine min / median / max", "coverage min / median / max"], [
            [label, len(group), spread([r.top_dense for r in group]), spread([r.coverage for r in group])]
            for label, group in (("answerable", [r for r in gated if r.answerable]), ("unanswerable", [r for r in gated if not r.answerable]))
        ]),
        "",
        _table(["MIN_DENSE \\ MIN_COVERAGE", *(f"{x:.1f}" for x in COVERAGE_GRID)], [
            [f"{dv:.2f}", *("{:.2f} / {:.2f}".format(*gate_outcome(rows, dv, cv)) for cv in COVERAGE_GRID)] for dv in grid
        ]),
        "",
        f"Current extractive.py gate (MIN_DENSE={results.gate[0]}, MIN_COVERAGE={results.gate[1]}): refusal accuracy {now_accuracy:.2f}, false refusals {now_false:.2f}. "
        f"Best on this data (accuracy − 2 × false refusals): MIN_DENSE={d:.2f}, MIN_COVERAGE={c:.1f} → {accuracy:.2f} / {false:.2f}.",
    ]
    return "\n".join(parts) + "\n"


def answers_markdown(results: EvalResults) -> str:
    parts = [f"# Answer evaluation — embed model `{results.embed_model}`", ""]
    if not results.answers:
        parts.append("Answers were not evaluated (--no-answers).")
    for backend, checks in results.answers.items():
        summary = summarize_answers(checks)
        fallbacks = sum(c.fell_back for c in checks)
        parts += [
            f"## Backend `{backend}`",
            "",
            f"{len(checks)} questions in {results.timings.get('answers_' + backend.split(':')[0] + '_s', 0):.0f} s"
            + (f"; {fallbacks} fell back to the extractive answer (LLM unreachable)" if fallbacks else "") + ".",
            "",
            _table(
                ["type", "n", "all key facts", "key-fact share", "refusal acc.", "false refusals", "citation precision", "median ms", "p95 ms"],
                [[t, s["n"], _fmt(s["all_facts"]), _fmt(s["fact_share"]), _fmt(s["refusal_accuracy"]), _fmt(s["false_refusal"]), _fmt(s["citation_precision"]), _fmt(s["median_ms"], 0), _fmt(s["p95_ms"], 0)] for t, s in summary.items()],
            ),
            "",
        ]
        problems = [c for c in checks if c.false_refusal or c.refusal_correct is False or (c.all_facts is False) or (c.citation_precision is not None and c.citation_precision < 1)]
        if problems:
            parts += ["### Questions to look at", "", _table(
                ["id", "type", "problem", "answer (start)"],
                [[c.id, c.type, _problem(c), c.text.replace("\n", " ").replace("|", "｜")[:60]] for c in problems],
            ), ""]
    parts.append(calibration_markdown(results))
    return "\n".join(parts).rstrip() + "\n"


def _problem(check: AnswerCheck) -> str:
    if check.false_refusal:
        return "refused (answerable)"
    if check.refusal_correct is False:
        return "answered (unanswerable)"
    bits = []
    if check.all_facts is False:
        bits.append("missing " + "、".join(check.missing))
    if check.citation_precision is not None and check.citation_precision < 1:
        bits.append(f"citation precision {check.citation_precision:.2f}")
    return "; ".join(bits)


def _bar_chart(ax, groups: Sequence[str], series: dict[str, Sequence[float | None]], title: str) -> None:
    width = 0.8 / max(len(series), 1)
    x = np.arange(len(groups))
    for i, (name, values) in enumerate(series.items()):
        heights = [np.nan if v is None else v for v in values]
        ax.bar(x + (i - (len(series) - 1) / 2) * width, heights, width, label=name)
    ax.set_xticks(x, groups, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def write_report(results: EvalResults, out_dir: str | Path) -> list[Path]:
    """retrieval.md, answers.md, retrieval.png, answers.png (and per-question JSON lines) under out_dir."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("retrieval.md", retrieval_markdown(results)), ("answers.md", answers_markdown(results))):
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)

    summary = summarize_retrieval(results.retrieval)
    if summary:
        types = [t for t in (*TYPES, OVERALL) if t in next(iter(summary.values()))]
        fig, ax = plt.subplots(figsize=(10.5, 4.5))
        _bar_chart(ax, types, {m: [summary[m][t]["recall_at_5"] for t in types] for m in summary}, f"Evidence recall@5 per question type ({results.embed_model})")
        fig.tight_layout()
        fig.savefig(out / "retrieval.png", dpi=100)
        plt.close(fig)
        written.append(out / "retrieval.png")

    if results.answers:
        fig, axes = plt.subplots(len(results.answers), 1, figsize=(10.5, 4.5 * len(results.answers)), squeeze=False)
        for ax, (backend, checks) in zip(axes[:, 0], results.answers.items()):
            s = summarize_answers(checks)
            types = list(s)
            _bar_chart(ax, types, {
                "all key facts": [s[t]["all_facts"] for t in types],
                "key-fact share": [s[t]["fact_share"] for t in types],
                "citation precision": [s[t]["citation_precision"] for t in types],
                "false refusals": [s[t]["false_refusal"] for t in types],
                "refusal accuracy": [s[t]["refusal_accuracy"] for t in types],
            }, f"Answers per question type — {backend} ({results.embed_model})")
        fig.tight_layout()
        fig.savefig(out / "answers.png", dpi=100)
        plt.close(fig)
        written.append(out / "answers.png")

    with open(out / "retrieval.jsonl", "w", encoding="utf-8") as f:
        for row in results.retrieval:
            f.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
    with open(out / "answers.jsonl", "w", encoding="utf-8") as f:
        for checks in results.answers.values():
            for row in checks:
                f.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
        for row in results.calibration:
            f.write(json.dumps({"calibration": asdict(row)}, ensure_ascii=False) + "\n")
    return written
