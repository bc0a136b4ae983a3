"""The gold questions, the corpora they were written on, and their dev/test halves.

Questions were written from the documents alone, on the bundled seed reports
and on one issuer's reports over many years (../shared/corpora/cpc-congress),
so the evaluation sees both many towns and many years. Half of them (by a hash
of the id, so the split never depends on results) are the test half: numbers
on it are reported, never tuned on.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reportqa.ingest.meta import META_FIELDS, SIDECAR_NAME

ROOT = Path(__file__).resolve().parents[2]
CORPORA = {"seeds": ROOT / "corpus", "cpc": ROOT.parent / "shared" / "corpora" / "cpc-congress"}
TYPES = ("fact", "number", "which", "paraphrase", "traditional", "comparison", "summary", "unanswerable")
HALVES = ("dev", "test")


@dataclass
class GoldQuestion:
    id: str
    question: str
    type: str
    answerable: bool
    corpus: str = "seeds"
    sources: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    key_facts: list[str] = field(default_factory=list)
    towns: list[str] = field(default_factory=list)
    years: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # which: the wordings whose documents are the sources
    tags: list[str] = field(default_factory=list)

    @property
    def half(self) -> str:
        return half_of(self.id)


def half_of(question_id: str) -> str:
    """"dev" or "test", fixed by the id alone."""
    return HALVES[int(hashlib.sha1(question_id.encode()).hexdigest()[:8], 16) % 2]


def load_gold(path: str | Path) -> list[GoldQuestion]:
    names = set(GoldQuestion.__dataclass_fields__)
    questions = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            questions.append(GoldQuestion(**{k: v for k, v in record.items() if k in names}))
    return questions


def select(gold: Sequence[GoldQuestion], half: str = "", per_type: int = 0, corpora: Sequence[str] = ()) -> list[GoldQuestion]:
    """The questions of one half and the given corpora; with per_type, the first n of each type
    (a stratified sample for answer backends too slow for all)."""
    kept = [q for q in gold if (not half or q.half == half) and (not corpora or q.corpus in corpora)]
    if not per_type:
        return kept
    taken: Counter[str] = Counter()
    sample = []
    for question in kept:
        taken[question.type] += 1
        if taken[question.type] <= per_type:
            sample.append(question)
    return sample


def available_corpora(corpora: dict[str, Path] = CORPORA) -> dict[str, Path]:
    """The gold corpora present on this machine (the shared ones live outside the repository)."""
    return {name: path for name, path in corpora.items() if (path / SIDECAR_NAME).exists()}


def assemble_corpus(corpora: dict[str, Path], out: Path) -> Path:
    """One corpus directory of links to every gold corpus's files, with their metadata merged:
    the evaluation index is built from it exactly as a user's corpus is."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in corpora.values():
        with (path / SIDECAR_NAME).open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                source = path / row["file"]
                link = out / row["file"]
                if source.exists() and not link.exists():
                    link.symlink_to(source.resolve())
                rows.append(row)
    with (out / (SIDECAR_NAME + ".tmp")).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["file", *META_FIELDS], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    (out / (SIDECAR_NAME + ".tmp")).replace(out / SIDECAR_NAME)
    return out
