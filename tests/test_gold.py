"""The gold evaluation set is well-formed and every evidence snippet is in the cleaned corpus it was written on."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from reportqa.evaluation.gold import CORPORA, TYPES, available_corpora, half_of, load_gold, select

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "eval" / "gold.jsonl"


def _check_gold_module():
    spec = importlib.util.spec_from_file_location("check_gold", ROOT / "eval" / "check_gold.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def _records():
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_gold_has_no_problems():
    problems = _check_gold_module().check_gold(GOLD)
    assert problems == [], "\n".join(problems)


def test_gold_size_types_and_corpora():
    records = _records()
    assert len(records) >= 250
    assert set(TYPES) == {r["type"] for r in records}
    assert {r["corpus"] for r in records} == set(CORPORA)


def test_halves_are_fixed_by_id_and_both_hold_every_type():
    gold = load_gold(GOLD)
    assert half_of("q039") == half_of("q039")
    for half in ("dev", "test"):
        assert {q.type for q in select(gold, half)} == set(TYPES)
    assert len(select(gold, "dev")) + len(select(gold, "test")) == len(gold)


def test_future_community_question():
    # 「哪个镇提到未来社区」: 余新镇 (渔里/世合未来社区) and 凤桥镇 (凤桥社区创建省级未来社区, in traditional script).
    record = next(r for r in _records() if r["question"] == "哪个镇提到未来社区？")
    assert record["type"] == "which"
    assert set(record["towns"]) == {"余新镇", "凤桥镇"}


def test_checker_catches_a_bad_snippet_and_a_missed_which_document(tmp_path):
    records = _records()
    bad = dict(next(r for r in records if r["type"] == "number" and r["corpus"] == "seeds"))
    bad["evidence"] = ["这句话在语料里不存在的啊"]
    which = dict(next(r for r in records if r["id"] == "q039"))
    which["sources"] = which["sources"][:1]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (bad, which)), encoding="utf-8")
    problems = _check_gold_module().check_gold(path, {"seeds": CORPORA["seeds"]})
    assert any("not found" in p for p in problems)
    assert any("not the sources" in p for p in problems)


def test_questions_on_an_absent_corpus_are_counted_not_checked(tmp_path):
    record = next(r for r in _records() if r["corpus"] == "cpc")
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert _check_gold_module().check_gold(path, {"seeds": CORPORA["seeds"]}) == []
    assert "seeds" in available_corpora()
