"""Validate the gold evaluation set (eval/gold.jsonl) against the corpus.

Checks the schema of every question and that each evidence snippet occurs verbatim
in the *cleaned* text (the project's own ingest pipeline: OpenCC to simplified,
inline pinyin removed, punctuation normalised) of at least one of its sources.

    python eval/check_gold.py [GOLD] [CORPUS_DIR]

Prints one line per problem and exits 1 if there is any; otherwise prints a
summary (counts per type) and exits 0. Importable: check_gold(gold_path, corpus_dir).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GOLD = ROOT / "eval" / "gold.jsonl"
DEFAULT_CORPUS = ROOT / "corpus"

TYPES = ("fact", "number", "which_towns", "paraphrase", "traditional", "comparison", "summary", "unanswerable")
FIELDS = {
    "id": str,
    "question": str,
    "type": str,
    "answerable": bool,
    "sources": list,
    "evidence": list,
    "key_facts": list,
    "towns": list,
}
TOWNS = ("余新镇", "凤桥镇", "天目山镇", "陶堰街道", "唐坊镇")
TRADITIONAL_SOURCE = "001_2bd030c6d8315c75.txt"
ID_RE = re.compile(r"^q\d{3,}$")
# Snippets may hold only CJK characters, digits, '.', '%' and the marks 、“”。 — nothing that
# punctuation/whitespace normalisation could rewrite.
SNIPPET_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff0-9.%、“”。]+$")
SNIPPET_MIN, SNIPPET_MAX = 6, 30
KEY_FACT_MAX = 30


def _load_corpus(corpus_dir: Path) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Cleaned text and town per source file name, plus load problems."""
    from reportqa.ingest import load_documents

    documents, errors = load_documents(Path(corpus_dir))
    problems = [f"corpus: cannot load {e}" for e in errors]
    texts = {d.source: d.text for d in documents}
    towns = {d.source: (getattr(d.meta, "town", None) or "") for d in documents}
    return texts, towns, problems


def _check_schema(rec: dict, where: str) -> list[str]:
    problems: list[str] = []
    for name, kind in FIELDS.items():
        if name not in rec:
            problems.append(f"{where}: missing field {name!r}")
        elif not isinstance(rec[name], kind):
            problems.append(f"{where}: field {name!r} should be {kind.__name__}, got {type(rec[name]).__name__}")
    extra = set(rec) - set(FIELDS)
    if extra:
        problems.append(f"{where}: unknown field(s) {sorted(extra)}")
    for name in ("sources", "evidence", "key_facts", "towns"):
        value = rec.get(name)
        if isinstance(value, list) and not all(isinstance(v, str) and v for v in value):
            problems.append(f"{where}: {name} must be a list of non-empty strings")
        if isinstance(value, list) and len(set(value)) != len(value):
            problems.append(f"{where}: {name} has duplicates")
    return problems


def check_gold(gold_path: Path | str = DEFAULT_GOLD, corpus_dir: Path | str = DEFAULT_CORPUS) -> list[str]:
    """Every problem found in the gold set, one human-readable line each (empty list: all good)."""
    gold_path, corpus_dir = Path(gold_path), Path(corpus_dir)
    problems: list[str] = []
    try:
        lines = gold_path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        return [f"{gold_path}: cannot read: {exc}"]
    texts, source_towns, load_problems = _load_corpus(corpus_dir)
    problems += load_problems

    seen_ids: set[str] = set()
    seen_questions: set[str] = set()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            problems.append(f"line {lineno}: empty line")
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {lineno}: invalid JSON: {exc}")
            continue
        if not isinstance(rec, dict):
            problems.append(f"line {lineno}: not a JSON object")
            continue
        qid = rec.get("id")
        where = f"line {lineno} ({qid})" if isinstance(qid, str) else f"line {lineno}"
        schema = _check_schema(rec, where)
        problems += schema
        if schema:
            continue

        if not ID_RE.match(qid):
            problems.append(f"{where}: id should look like q001")
        if qid in seen_ids:
            problems.append(f"{where}: duplicate id")
        seen_ids.add(qid)
        question = rec["question"].strip()
        if not question:
            problems.append(f"{where}: empty question")
        if question in seen_questions:
            problems.append(f"{where}: duplicate question")
        seen_questions.add(question)

        qtype, answerable = rec["type"], rec["answerable"]
        sources, evidence, key_facts, towns = rec["sources"], rec["evidence"], rec["key_facts"], rec["towns"]
        if qtype not in TYPES:
            problems.append(f"{where}: unknown type {qtype!r}")
            continue
        if answerable != (qtype != "unanswerable"):
            problems.append(f"{where}: answerable={answerable} does not fit type {qtype!r}")

        for town in towns:
            if town not in TOWNS:
                problems.append(f"{where}: unknown town {town!r}")

        if qtype == "unanswerable":
            for name in ("sources", "evidence", "key_facts"):
                if rec[name]:
                    problems.append(f"{where}: unanswerable question must have empty {name}")
            continue

        if not sources:
            problems.append(f"{where}: answerable question without sources")
        if not evidence:
            problems.append(f"{where}: answerable question without evidence")
        if not key_facts:
            problems.append(f"{where}: answerable question without key_facts")
        if not towns:
            problems.append(f"{where}: answerable question without towns")
        for source in sources:
            if source not in texts:
                problems.append(f"{where}: source {source!r} is not a loaded corpus document")
        known = [s for s in sources if s in texts]

        # towns must be exactly the towns of the listed sources
        expected_towns = {source_towns[s] for s in known if source_towns.get(s)}
        if expected_towns and len(expected_towns) == len(known) and set(towns) != expected_towns:
            problems.append(f"{where}: towns {towns} do not match the towns of the sources {sorted(expected_towns)}")

        if qtype == "which_towns":
            if set(key_facts) != set(towns):
                problems.append(f"{where}: which_towns key_facts should be the town names {towns}")
        if qtype == "traditional" and sources != [TRADITIONAL_SOURCE]:
            problems.append(f"{where}: traditional question must cite only {TRADITIONAL_SOURCE}")
        if qtype == "comparison" and len(sources) < 2:
            problems.append(f"{where}: comparison question needs two or more sources")

        for snippet in evidence:
            if not SNIPPET_MIN <= len(snippet) <= SNIPPET_MAX:
                problems.append(f"{where}: evidence {snippet!r} has {len(snippet)} chars (want {SNIPPET_MIN}-{SNIPPET_MAX})")
            if not SNIPPET_RE.match(snippet):
                problems.append(f"{where}: evidence {snippet!r} has characters other than CJK, digits, . % 、“”。")
            if known and not any(snippet in texts[s] for s in known):
                problems.append(f"{where}: evidence {snippet!r} not found in cleaned text of {known}")
        # every source should be backed by at least one snippet
        for source in known:
            if evidence and not any(snippet in texts[source] for snippet in evidence):
                problems.append(f"{where}: no evidence snippet occurs in source {source}")

        for fact in key_facts:
            if len(fact) > KEY_FACT_MAX:
                problems.append(f"{where}: key fact {fact!r} is longer than {KEY_FACT_MAX} chars")
            if qtype != "which_towns" and known and not any(fact in texts[s] for s in known):
                problems.append(f"{where}: key fact {fact!r} not found in cleaned text of {known}")

    if not lines:
        problems.append(f"{gold_path}: no questions")
    return problems


def type_counts(gold_path: Path | str = DEFAULT_GOLD) -> Counter:
    counts: Counter = Counter()
    for line in Path(gold_path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            counts[json.loads(line).get("type")] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    gold = Path(argv[0]) if argv else DEFAULT_GOLD
    corpus = Path(argv[1]) if len(argv) > 1 else DEFAULT_CORPUS
    problems = check_gold(gold, corpus)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {gold}", file=sys.stderr)
        return 1
    counts = type_counts(gold)
    detail = ", ".join(f"{t} {counts.get(t, 0)}" for t in TYPES)
    print(f"OK: {sum(counts.values())} questions ({detail})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
