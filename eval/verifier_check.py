"""How well does the verifier catch invented sentences, and how often does it drop true ones?

No LLM runs on the machines this is measured on, so the answers are composed the
way a small model writes them: for each answerable gold question, true sentences
taken from the passages retrieved for it (some whole, some cut to their first
clauses, some with their [n] left out, as models often do, some reworded with
a synonym for each verb a model likes to swap), each cited to its passage,
plus invented sentences of six kinds injected among them:

* ``uncited``      – an uncited claim with no number or place (「该镇还将建成月球基地。」)
* ``claim``        – a cited claim about a real subject the passage never makes
* ``number``       – a true sentence with one number changed
* ``place``        – a true sentence about another town
* ``clause``       – a true sentence with an invented clause appended
* ``wrong_cite``   – a true sentence cited to a passage that does not hold it

Each answer goes through ``answer.verify`` with its passages; a dropped injected
sentence is a true positive, a dropped true sentence a false positive.

    python eval/verifier_check.py [--gold eval/gold.jsonl] [--out eval/reports/verifier.md]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from reportqa.answer import CITE, verify  # noqa: E402
from reportqa.config import Settings  # noqa: E402
from reportqa.extractive import NUMBER, SENTENCES  # noqa: E402

PASSAGES = 5
PREDICATES = (
    "由外星人设计建造", "居民全部免费入住", "建成了月球基地", "获评联合国最佳城镇", "全部实现无人驾驶公交",
    "引进了深海养殖潜艇", "为每户发放一辆新能源汽车", "将承办世界杯足球赛分赛场", "开通了直达火星的专线",
    "所有村民都已移居海外", "建成全球最大的熊猫乐园", "取消了全部农业生产",
)
KINDS = ("uncited", "claim", "number", "place", "clause", "wrong_cite")
# Words a model swaps for a near synonym when it retells a report (推进 → 推动 …).
SYNONYMS = {"推进": "推动", "加快": "加速", "提升": "提高", "开展": "进行", "完成": "实现", "打造": "建设",
            "持续": "不断", "深化": "深入推进", "积极": "主动", "全力": "全面", "实施": "推行", "启动": "开始"}


@dataclass
class Line:
    text: str
    kind: str  # "true", "reworded" (true, with synonyms) or one of KINDS


def true_sentences(passage_text: str) -> list[str]:
    return [s.strip() for s in SENTENCES.findall(passage_text) if 12 <= len(s.strip()) <= 160 and not CITE.search(s)]


def ends(sentence: str) -> str:
    return sentence if sentence[-1] in "。！？；" else sentence + "。"


def shortened(sentence: str) -> str:
    """The first clauses of a sentence, as a model quotes a long one."""
    clauses = re.split(r"(?<=，)", sentence.rstrip("。！？；"))
    return ends("".join(clauses[:2]).rstrip("，")) if len(clauses) > 2 else ends(sentence)


def reworded(sentence: str) -> str:
    for word, synonym in SYNONYMS.items():
        sentence = sentence.replace(word, synonym)
    return sentence


def compose(rng: random.Random, texts: list[str], towns: list[str], subjects: list[str]) -> list[Line] | None:
    """An answer: two or three true sentences cited to their passages, and two invented ones."""
    pools = [(n, true_sentences(t)) for n, t in enumerate(texts, 1)]
    pools = [(n, pool) for n, pool in pools if pool]
    if not pools:
        return None
    lines: list[Line] = []
    used: set[str] = set()
    for n, pool in rng.sample(pools, min(3, len(pools))):
        sentence = rng.choice(pool)
        used.add(sentence)
        form = rng.random()
        text = shortened(sentence) if form < 0.3 else ends(sentence)
        kind = "true"
        if 0.55 < form <= 0.8 and any(word in text for word in SYNONYMS):
            text, kind = reworded(text), "reworded"
        lines.append(Line(text if form > 0.8 else f"{text}[{n}]", kind))
    n, pool = rng.choice(pools)
    unused = [x for x in pool if x not in used]
    if not unused:
        return lines
    base = ends(rng.choice(unused))
    for kind in rng.sample(KINDS, 2):
        predicate = rng.choice(PREDICATES)
        if kind == "uncited":
            text = f"该镇还{predicate}。"
        elif kind == "claim":
            text = f"{rng.choice(subjects)}{predicate}。[{n}]"
        elif kind == "number":
            numbers = NUMBER.findall(base)
            if not numbers:
                continue
            old = rng.choice(numbers)
            text = base.replace(old, str(int(float(old)) * 3 + 7), 1) + f"[{n}]"
        elif kind == "place":
            here = [t for t in towns if t in base]
            others = [t for t in towns if t not in texts[n - 1]]
            if not here or not others:
                continue
            text = base.replace(here[0], rng.choice(others)) + f"[{n}]"
        elif kind == "clause":
            text = base.rstrip("。！？；") + f"，并且{predicate}。[{n}]"
        else:
            elsewhere = [m for m, t in enumerate(texts, 1) if base.rstrip("。") not in t]
            if not elsewhere:
                continue
            text = f"{base}[{rng.choice(elsewhere)}]"
        lines.insert(rng.randrange(len(lines) + 1), Line(text, kind))
    return lines if any(line.kind in KINDS for line in lines) else None


def body(sentence: str) -> str:
    return CITE.sub("", sentence).strip()


def run(gold_path: Path, seed: int = 13) -> tuple[Counter, list[dict]]:
    from reportqa.retrieve import open_searcher

    searcher = open_searcher(Settings(), show_progress=False, log=lambda message: print(message, file=sys.stderr))
    towns = sorted(searcher.index.towns)
    rng = random.Random(seed)
    counts: Counter = Counter()
    examples: list[dict] = []
    questions = [json.loads(line) for line in gold_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for item in questions:
        if not item.get("answerable", True):
            continue
        passages = searcher.search(item["question"], k=PASSAGES)
        texts = [p.chunk.text for p in passages]
        subjects = [t for t in searcher.index.tokenizer.terms if len(t) >= 3 and any(t in x for x in texts)] or towns
        lines = compose(rng, texts, towns, subjects)
        if lines is None:
            continue
        counts["answers"] += 1
        _, _, dropped = verify(searcher, item["question"], "".join(line.text for line in lines), passages)
        dropped_bodies = {body(s) for s in dropped}
        for line in lines:
            caught = body(line.text) in dropped_bodies
            counts[(line.kind, caught)] += 1
            if caught != (line.kind in KINDS):
                examples.append({"id": item.get("id"), "kind": line.kind, "sentence": line.text, "dropped": caught})
    return counts, examples


def markdown(counts: Counter, examples: list[dict], command: str) -> str:
    tp = sum(counts[(k, True)] for k in KINDS)
    fn = sum(counts[(k, False)] for k in KINDS)
    fp = counts[("true", True)] + counts[("reworded", True)]
    tn = counts[("true", False)] + counts[("reworded", False)]
    reworded_n = counts[("reworded", True)] + counts[("reworded", False)]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    rows = [f"| {kind} | {counts[(kind, True)] + counts[(kind, False)]} | {counts[(kind, True)]} |" for kind in KINDS]
    missed = [e for e in examples if e["kind"] in KINDS][:12]
    wrongly = [e for e in examples if e["kind"] not in KINDS][:12]
    return "\n".join([
        "# Verifier: invented sentences caught, true sentences kept",
        "",
        f"Command: `{command}`",
        "",
        "No LLM runs here, so the answers are composed from real passage sentences (cited, some shortened to their",
        "first clauses, one in five left uncited as small models do) with invented sentences injected",
        "(see the docstring of eval/verifier_check.py for the six kinds). Positive = the verifier dropped the sentence.",
        "The true sentences are the reports' own words, whole, cut to their first clauses, or with common verbs swapped",
        "for synonyms (推进 → 推动 …): a model that rewords more freely will see more of its true sentences dropped.",
        "",
        f"- answers: **{counts['answers']}**, true sentences: {fp + tn}, injected: {tp + fn}",
        f"- **precision {precision:.3f}** (of the dropped sentences, the share that were invented)",
        f"- **recall {recall:.3f}** (of the invented sentences, the share dropped)",
        f"- true sentences wrongly dropped: {fp} of {fp + tn} ({fp / max(fp + tn, 1):.1%}); of those reworded with synonyms: "
        f"{counts[('reworded', True)]} of {reworded_n}",
        "",
        "| injected kind | n | dropped |",
        "| --- | --- | --- |",
        *rows,
        "",
        "## Invented sentences kept",
        "",
        *(f"- {e['id']} ({e['kind']}): {e['sentence']}" for e in missed),
        "",
        "## True sentences dropped",
        "",
        *(f"- {e['id']} ({e['kind']}): {e['sentence']}" for e in wrongly),
        "",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", default=str(REPO / "eval" / "gold.jsonl"))
    parser.add_argument("--out", default=str(REPO / "eval" / "reports" / "verifier.md"))
    args = parser.parse_args()
    counts, examples = run(Path(args.gold))
    command = "REPORTQA_HOME=<a copy of the repo's corpus/> python eval/verifier_check.py"
    report = markdown(counts, examples, command + (f" --gold {args.gold}" if args.gold != parser.get_default("gold") else ""))
    Path(args.out).write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
