"""Validate the gold evaluation set (eval/gold.jsonl) against the corpora it was written on.

Checks the schema of every question and that each evidence snippet occurs verbatim
in the *cleaned* text (the project's own ingest pipeline: OpenCC to simplified,
inline pinyin removed, punctuation normalised) of at least one of its sources, in
the corpus the question was written on (`corpus`: seeds = corpus/, cpc =
../shared/corpora/cpc-congress). A which-question's sources must be exactly the
documents holding one of its `terms`, and its key facts the towns of those
documents or, for documents without a town, their years. Questions on a corpus
missing from this machine are counted, not checked.

    python eval/check_gold.py [GOLD]

Prints one line per problem and exits 1 if there is any; otherwise prints a
summary and exits 0. Importable: check_gold(gold_path, corpora).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reportqa.evaluation.gold import CORPORA, TYPES, available_corpora, half_of  # noqa: E402

DEFAULT_GOLD = ROOT / "eval" / "gold.jsonl"
FIELDS = {
    "id": str,
    "question": str,
    "type": str,
    "answerable": bool,
    "corpus": str,
    "sources": list,
    "evidence": list,
    "key_facts": list,
    "towns": list,
    "years": list,
    "terms": list,
    "tags": list,
}
ID_RE = re.compile(r"^[qc]\d{3,}$")
YEAR_RE = re.compile(r"^\d{4}$")
# Snippets may hold only CJK characters, digits, '.', '%' and the marks 、“”。 — nothing that
# punctuation/whitespace normalisation could rewrite.
SNIPPET_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff0-9.%、“”。]+$")
SNIPPET_MIN, SNIPPET_MAX = 6, 30
KEY_FACT_MAX = 30
TRADITIONAL_SHARE = 0.02  # text in traditional script: this share of its characters change in OpenCC t2s


@dataclass
class CorpusText:
    texts: dict[str, str]  # source → cleaned text
    towns: dict[str, str]
    years: dict[str, str]
    traditional: set[str]  # sources written in traditional script


def _load_corpus(corpus_dir: Path) -> tuple[CorpusText, list[str]]:
    from reportqa.ingest import load_documents
    from reportqa.ingest.load import read_dir

    documents, errors = load_documents(corpus_dir)
    problems = [f"{corpus_dir}: cannot load {e}" for e in errors]
    traditional = {raw.source for raw in read_dir(corpus_dir)[0] if is_traditional(raw.text)}
    return CorpusText(
        texts={d.source: d.text for d in documents},
        towns={d.source: d.meta.town or "" for d in documents},
        years={d.source: d.meta.year or "" for d in documents},
        traditional=traditional,
    ), problems


def is_traditional(text: str) -> bool:
    import opencc

    changed = sum(a != b for a, b in zip(text, opencc.OpenCC("t2s").convert(text)))
    return changed >= TRADITIONAL_SHARE * max(len(text), 1)


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
    for name in ("sources", "evidence", "key_facts", "towns", "years", "terms", "tags"):
        value = rec.get(name)
        if isinstance(value, list) and not all(isinstance(v, str) and v for v in value):
            problems.append(f"{where}: {name} must be a list of non-empty strings")
        if isinstance(value, list) and len(set(value)) != len(value):
            problems.append(f"{where}: {name} has duplicates")
    return problems


def _check_question(rec: dict, where: str, corpus: CorpusText) -> list[str]:
    """Everything that needs the corpus text."""
    problems: list[str] = []
    qtype, sources, evidence, key_facts = rec["type"], rec["sources"], rec["evidence"], rec["key_facts"]
    known_towns = set(corpus.towns.values()) - {""}
    for town in rec["towns"]:
        if town not in known_towns:
            problems.append(f"{where}: town {town!r} is in no document of corpus {rec['corpus']!r}")
    if qtype == "unanswerable":
        return problems
    for source in sources:
        if source not in corpus.texts:
            problems.append(f"{where}: source {source!r} is not a loaded document of corpus {rec['corpus']!r}")
    known = [s for s in sources if s in corpus.texts]
    texts = corpus.texts

    expected_towns = {corpus.towns[s] for s in known} - {""}
    if set(rec["towns"]) != expected_towns:
        problems.append(f"{where}: towns {rec['towns']} are not the towns of the sources {sorted(expected_towns)}")
    expected_years = {corpus.years[s] for s in known} - {""}
    if set(rec["years"]) != expected_years:
        problems.append(f"{where}: years {rec['years']} are not the years of the sources {sorted(expected_years)}")

    if qtype == "which":
        holding = {s for s, text in texts.items() if any(term in text for term in rec["terms"])}
        if not rec["terms"]:
            problems.append(f"{where}: which-question without terms")
        elif holding != set(sources):
            problems.append(f"{where}: the documents holding {rec['terms']} are {sorted(holding)}, not the sources")
        labels = {corpus.towns[s] or corpus.years[s] for s in known}
        if set(key_facts) != labels:
            problems.append(f"{where}: which key_facts should be the sources' towns (else years) {sorted(labels)}")
    elif rec["terms"]:
        problems.append(f"{where}: only which-questions have terms")
    if qtype == "traditional" and not (is_traditional(rec["question"]) or set(known) & corpus.traditional):
        problems.append(f"{where}: traditional question neither asked nor answered in traditional script")
    if qtype == "comparison" and len(sources) < 2 and len(evidence) < 2:
        problems.append(f"{where}: comparison question needs two sides (sources or evidence)")

    for snippet in evidence:
        if not SNIPPET_MIN <= len(snippet) <= SNIPPET_MAX:
            problems.append(f"{where}: evidence {snippet!r} has {len(snippet)} chars (want {SNIPPET_MIN}-{SNIPPET_MAX})")
        if not SNIPPET_RE.match(snippet):
            problems.append(f"{where}: evidence {snippet!r} has characters other than CJK, digits, . % 、“”。")
        if known and not any(snippet in texts[s] for s in known):
            problems.append(f"{where}: evidence {snippet!r} not found in cleaned text of {known}")
    for source in known:
        if evidence and not any(snippet in texts[source] for snippet in evidence):
            problems.append(f"{where}: no evidence snippet occurs in source {source}")
    for fact in key_facts:
        if len(fact) > KEY_FACT_MAX:
            problems.append(f"{where}: key fact {fact!r} is longer than {KEY_FACT_MAX} chars")
        if qtype != "which" and known and not any(fact in texts[s] for s in known):
            problems.append(f"{where}: key fact {fact!r} not found in cleaned text of {known}")
    return problems


def check_gold(gold_path: Path | str = DEFAULT_GOLD, corpora: dict[str, Path] | None = None) -> list[str]:
    """Every problem found in the gold set, one human-readable line each (empty list: all good)."""
    gold_path = Path(gold_path)
    corpora = available_corpora() if corpora is None else corpora
    problems: list[str] = []
    try:
        lines = gold_path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        return [f"{gold_path}: cannot read: {exc}"]
    loaded: dict[str, CorpusText] = {}
    for name, path in corpora.items():
        loaded[name], load_problems = _load_corpus(path)
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
            problems.append(f"{where}: id should look like q001 or c001")
        if qid in seen_ids:
            problems.append(f"{where}: duplicate id")
        seen_ids.add(qid)
        question = rec["question"].strip()
        if not question:
            problems.append(f"{where}: empty question")
        if question in seen_questions:
            problems.append(f"{where}: duplicate question")
        seen_questions.add(question)
        if rec["corpus"] not in CORPORA:
            problems.append(f"{where}: unknown corpus {rec['corpus']!r}")
            continue
        if rec["type"] not in TYPES:
            problems.append(f"{where}: unknown type {rec['type']!r}")
            continue
        if rec["answerable"] != (rec["type"] != "unanswerable"):
            problems.append(f"{where}: answerable={rec['answerable']} does not fit type {rec['type']!r}")
        for year in rec["years"]:
            if not YEAR_RE.match(year):
                problems.append(f"{where}: year {year!r} is not four digits")
        if rec["type"] == "unanswerable":
            for name in ("sources", "evidence", "key_facts"):
                if rec[name]:
                    problems.append(f"{where}: unanswerable question must have empty {name}")
        else:
            for name in ("sources", "evidence", "key_facts"):
                if not rec[name]:
                    problems.append(f"{where}: answerable question without {name}")
        if rec["corpus"] in loaded:
            problems += _check_question(rec, where, loaded[rec["corpus"]])

    if not lines:
        problems.append(f"{gold_path}: no questions")
    return problems


def summary(gold_path: Path | str = DEFAULT_GOLD) -> str:
    records = [json.loads(line) for line in Path(gold_path).read_text(encoding="utf-8").splitlines() if line.strip()]
    parts = []
    for corpus in CORPORA:
        rows = [r for r in records if r.get("corpus") == corpus]
        types = Counter(r.get("type") for r in rows)
        halves = Counter(half_of(r["id"]) for r in rows)
        checked = "" if corpus in available_corpora() else " (corpus absent here: not checked)"
        parts.append(f"{corpus}: {len(rows)} questions{checked}, dev {halves['dev']} / test {halves['test']} ("
                     + ", ".join(f"{t} {types.get(t, 0)}" for t in TYPES) + ")")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    gold = Path(argv[0]) if argv else DEFAULT_GOLD
    problems = check_gold(gold)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {gold}", file=sys.stderr)
        return 1
    print("OK\n" + summary(gold))
    return 0


if __name__ == "__main__":
    sys.exit(main())
