"""The evaluation written out: Markdown tables per half (dev / test), charts, per-question lines for the dev half.

Per-question failures are listed for the dev half only: the test half is for
reporting, and reading its failures would be tuning on it.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from reportqa.evaluation.gold import HALVES, TYPES, half_of
from reportqa.evaluation.metrics import (
    OVERALL,
    RETRIEVAL_LABELS,
    RETRIEVAL_METRICS,
    AnswerCheck,
    gate_outcome,
    grid,
    recommend_thresholds,
    summarize_answers,
    summarize_retrieval,
)
from reportqa.evaluation.runner import EvalResults

ALL = "all"


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


def _halves(results: EvalResults) -> list[str]:
    return [results.half] if results.half else [*HALVES, ALL]


def _in(half: str, rows: Iterable) -> list:
    return [r for r in rows if half == ALL or half_of(r.id) == half]


def _mean(values: Iterable[float]) -> float | None:
    kept = list(values)
    return sum(kept) / len(kept) if kept else None


def headline(results: EvalResults, backend: str = "extractive") -> list[list[str]]:
    """One row per half: the numbers the project is judged by."""
    rows = []
    for half in _halves(results):
        hybrid = summarize_retrieval([s for s in _in(half, results.retrieval) if s.mode == "hybrid"]).get("hybrid", {}).get(OVERALL, {})
        answers = summarize_answers(_in(half, results.answers.get(backend, []))).get(OVERALL, {})
        which = _in(half, results.which)
        rows.append([
            half,
            answers.get("n", len(_in(half, results.calibration))),
            _fmt(hybrid.get("recall_at_5")),
            _fmt(answers.get("all_facts")),
            _fmt(answers.get("false_refusal")),
            _fmt(answers.get("refusal_accuracy")),
            _fmt(answers.get("citation_precision")),
            _fmt(_mean(r.recall for r in which)),
            _fmt(_mean(r.precision for r in which)),
            _fmt(answers.get("median_ms"), 0),
        ])
    return rows


HEADLINE = ["half", "n", "R@5 (hybrid)", "all key facts", "false refusals", "refusal acc.", "citation precision", "which recall", "which precision", "median ms"]


def retrieval_markdown(results: EvalResults) -> str:
    parts = [
        f"# Retrieval evaluation — embed model `{results.embed_model}`",
        "",
        f"Index of {results.n_chunks} chunks over every gold corpus; top 10 per mode; answerable questions only. "
        "A passage is relevant when its text (section path + body) contains an evidence snippet (eval/README.md). "
        "Which-questions list every matching document's evidence first, in every mode, as the product's search does. "
        f"Retrieval took {results.timings.get('retrieval_s', 0):.0f} s for all modes.",
    ]
    for half in _halves(results):
        summary = summarize_retrieval(_in(half, results.retrieval))
        if not summary:
            continue
        types = [t for t in (*TYPES, OVERALL) if t in summary.get("hybrid", {})]
        parts += [
            "", f"## {half} half" if half != ALL else "## Both halves", "",
            _table(["mode", *RETRIEVAL_LABELS.values()], [[mode, *(_fmt(summary[mode][OVERALL][m]) for m in RETRIEVAL_METRICS)] for mode in summary]),
            "", "Evidence recall@5 per question type:", "",
            _table(["type", "n", *summary], [[t, summary["hybrid"][t]["n"], *(_fmt(summary[m][t]["recall_at_5"]) for m in summary)] for t in types]),
        ]
    dev = [s for s in _in("dev", results.retrieval) if s.mode == "hybrid" and s.recall_at_10 < 1.0]
    if dev:
        parts += ["", "## Dev half, hybrid: evidence missing from the top 10", "", _table(
            ["id", "type", "R@10", "first hit", "SrcR@10"],
            [[s.id, s.type, _fmt(s.recall_at_10), s.first_hit or "–", _fmt(s.source_recall_at_10)] for s in dev],
        )]
    if results.unreachable:
        parts += ["", "Evidence snippets that no single passage contains (cut by chunking): "
                  + "; ".join(f"{qid} 「{snippet}」" for qid, snippet in results.unreachable)]
    if results.which:
        parts += ["", "## Which-questions (every document in scope scanned)", "", _table(
            ["half", "n", "document recall", "document precision"],
            [[h, len(_in(h, results.which)), _fmt(_mean(r.recall for r in _in(h, results.which))), _fmt(_mean(r.precision for r in _in(h, results.which)))] for h in _halves(results)],
        )]
        dev_which = [r for r in _in("dev", results.which) if r.recall < 1 or r.precision < 1]
        if dev_which:
            parts += ["", "Dev half, which-questions not exact:", "", _table(
                ["id", "term", "listed", "missed", "extra"],
                [[r.id, r.term or "–", len(r.found), "、".join(sorted(set(r.gold) - set(r.found))) or "–", "、".join(sorted(set(r.found) - set(r.gold))) or "–"] for r in dev_which],
            )]
    return "\n".join(parts) + "\n"


def calibration_markdown(results: EvalResults) -> str:
    """The refusal gate's thresholds chosen on the dev half, and what they give on the test half."""
    dev, test = _in("dev", results.calibration), _in("test", results.calibration)
    if not dev:
        return ""
    d, m, accuracy, false = recommend_thresholds(dev)
    gated = [r for r in dev if not r.bypass]

    def spread(values):
        return f"{_fmt(min(values), 2)} / {_fmt(statistics.median(values), 2)} / {_fmt(max(values), 2)}" if values else "–"

    distinctive, meaning = grid([r.held for r in gated]), grid([r.meaning for r in gated])
    parts = [
        "## Refusal gate calibration (extractive writer, dev half)",
        "",
        "The writer refuses when the best of the top-5 passages holds less than MIN_DISTINCTIVE of the question's "
        "distinctive (rarer-than-median idf) weight **and** no candidate sentence reaches MIN_MEANING cosine. "
        "Questions naming what the corpus lacks are always refused; which-questions never reach the gate. "
        "Cells: refusal accuracy on unanswerable / false-refusal rate on answerable, of the gate alone.",
        "",
        _table(["dev, gated", "n", "distinctive held min / median / max", "meaning min / median / max"], [
            [label, len(group), spread([r.held for r in group]), spread([r.meaning for r in group])]
            for label, group in (("answerable", [r for r in gated if r.answerable]), ("unanswerable", [r for r in gated if not r.answerable]))
        ]),
        "",
        _table(["MIN_DISTINCTIVE \\ MIN_MEANING", *(f"{x:.2f}" for x in meaning)], [
            [f"{dv:.2f}", *("{:.2f} / {:.2f}".format(*gate_outcome(dev, dv, mv)) for mv in meaning)] for dv in distinctive
        ]),
        "",
        f"Best on dev (accuracy − 2 × false refusals): MIN_DISTINCTIVE={d:.2f}, MIN_MEANING={m:.2f} → {accuracy:.2f} / {false:.2f}. "
        f"Current extractive.py (MIN_DISTINCTIVE={results.gate[0]}, MIN_MEANING={results.gate[1]}): "
        "dev {:.2f} / {:.2f}".format(*gate_outcome(dev, *results.gate))
        + (", test {:.2f} / {:.2f}.".format(*gate_outcome(test, *results.gate)) if test else "."),
    ]
    return "\n".join(parts) + "\n"


def side_by_side(results: EvalResults) -> list[str]:
    """The backends on the same questions in one table, when more than one was run (extractive beside an LLM)."""
    if len(results.answers) < 2:
        return []
    rows = []
    for backend, checks in results.answers.items():
        for half, row in zip(_halves(results), headline(results, backend)):
            asked = _in(half, checks)
            dropped = [c for c in asked if c.dropped]
            rows.append([backend, *row, sum(c.fell_back for c in asked), f"{sum(len(c.dropped) for c in dropped)} in {len(dropped)}"])
    return [
        "## Backends side by side", "",
        "The same questions through each backend; the verifier checks every backend's answer the same way. "
        "`fell back`: answers where the LLM failed and the extractive answer was given; "
        "`verifier dropped`: sentences removed as unsupported by the passages they cite, in how many answers.", "",
        _table(["backend", *HEADLINE, "fell back", "verifier dropped"], rows), "",
    ]


def answers_markdown(results: EvalResults) -> str:
    parts = [f"# Answer evaluation — embed model `{results.embed_model}`", ""]
    if not results.answers:
        parts.append("Answers were not evaluated (--no-answers).")
    parts += side_by_side(results)
    for backend, checks in results.answers.items():
        fallbacks = sum(c.fell_back for c in checks)
        parts += [
            f"## Backend `{backend}`",
            "",
            f"{len(checks)} questions in {results.timings.get(f'answers_{backend}_s', 0):.0f} s"
            + (f"; {fallbacks} fell back to the extractive answer (LLM unreachable)" if fallbacks else "") + ".",
            "",
            _table(HEADLINE, headline(results, backend)),
        ]
        for half in _halves(results):
            summary = summarize_answers(_in(half, checks))
            parts += ["", f"### {half} half by type" if half != ALL else "### Both halves by type", "", _table(
                ["type", "n", "all key facts", "key-fact share", "refusal acc.", "false refusals", "citation precision", "median ms", "p95 ms"],
                [[t, s["n"], _fmt(s["all_facts"]), _fmt(s["fact_share"]), _fmt(s["refusal_accuracy"]), _fmt(s["false_refusal"]), _fmt(s["citation_precision"]), _fmt(s["median_ms"], 0), _fmt(s["p95_ms"], 0)] for t, s in summary.items()],
            )]
        problems = [c for c in _in("dev", checks) if _problem(c)]
        if problems:
            parts += ["", "### Dev half: questions to look at", "", _table(
                ["id", "type", "problem", "answer (start)"],
                [[c.id, c.type, _problem(c), c.text.replace("\n", " ").replace("|", "｜")[:60]] for c in problems],
            )]
        parts.append("")
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
    """retrieval.md, answers.md, retrieval.png, answers.png (test half, else what was run) and
    per-question JSON lines of the dev half under out_dir."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("retrieval.md", retrieval_markdown(results)), ("answers.md", answers_markdown(results))):
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)

    shown = results.half or "test"
    summary = summarize_retrieval(_in(shown, results.retrieval))
    if summary:
        types = [t for t in (*TYPES, OVERALL) if t in summary["hybrid"]]
        fig, ax = plt.subplots(figsize=(10.5, 4.5))
        _bar_chart(ax, types, {m: [summary[m][t]["recall_at_5"] for t in types] for m in summary}, f"Evidence recall@5 per question type, {shown} half ({results.embed_model})")
        fig.tight_layout()
        fig.savefig(out / "retrieval.png", dpi=100)
        plt.close(fig)
        written.append(out / "retrieval.png")
    if results.answers:
        fig, axes = plt.subplots(len(results.answers), 1, figsize=(10.5, 4.5 * len(results.answers)), squeeze=False)
        for ax, (backend, checks) in zip(axes[:, 0], results.answers.items()):
            s = summarize_answers(_in(shown, checks))
            types = list(s)
            _bar_chart(ax, types, {
                "all key facts": [s[t]["all_facts"] for t in types],
                "citation precision": [s[t]["citation_precision"] for t in types],
                "false refusals": [s[t]["false_refusal"] for t in types],
                "refusal accuracy": [s[t]["refusal_accuracy"] for t in types],
            }, f"Answers per question type, {shown} half — {backend} ({results.embed_model})")
        fig.tight_layout()
        fig.savefig(out / "answers.png", dpi=100)
        plt.close(fig)
        written.append(out / "answers.png")

    with open(out / "questions.jsonl", "w", encoding="utf-8") as f:
        rows = [*results.retrieval, *results.which, *results.calibration, *(c for checks in results.answers.values() for c in checks)]
        for row in _in("dev", rows):
            f.write(json.dumps({type(row).__name__: asdict(row)}, ensure_ascii=False) + "\n")
    written.append(out / "questions.jsonl")
    return written
