"""The gold evaluation set is well-formed and every evidence snippet is in the cleaned corpus."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "eval" / "gold.jsonl"
CORPUS = ROOT / "corpus"
REQUIRED_TYPES = {"fact", "number", "which_towns", "paraphrase", "traditional", "comparison", "summary", "unanswerable"}


def _check_gold_module():
    spec = importlib.util.spec_from_file_location("check_gold", ROOT / "eval" / "check_gold.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _records():
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_gold_has_no_problems():
    problems = _check_gold_module().check_gold(GOLD, CORPUS)
    assert problems == [], "\n".join(problems)


def test_gold_size_and_types():
    records = _records()
    assert len(records) >= 80
    assert REQUIRED_TYPES <= {r["type"] for r in records}


def test_future_community_question():
    # 「哪个镇提到未来社区」: 余新镇 (渔里/世合未来社区) and 凤桥镇 (凤桥社区创建省级未来社区, in traditional script).
    record = next(r for r in _records() if r["question"] == "哪个镇提到未来社区？")
    assert record["type"] == "which_towns"
    assert set(record["towns"]) == {"余新镇", "凤桥镇"}


def test_checker_catches_a_bad_snippet(tmp_path):
    records = _records()
    bad = dict(next(r for r in records if r["type"] == "number"))
    bad["evidence"] = ["这句话在语料里不存在的啊"]
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(bad, ensure_ascii=False) + "\n", encoding="utf-8")
    problems = _check_gold_module().check_gold(path, CORPUS)
    assert any("not found" in p for p in problems)
