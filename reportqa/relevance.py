"""Which search results truly match, and which only pad the list.

Ranking always returns k passages, matching or not; a clerk reading 「共 20 段，
来自 5 个镇街」 takes it as five towns doing X. A passage is weak when it holds
none of the query's terms and its meaning is no closer to the query than an
unrelated passage usually is. "Usually" is measured on this corpus with this
embedder: the cosine of random query–passage pairs from different reports, at
a high percentile, so the line moves with the model and the corpus instead of
being a hand-picked constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HIGHLIGHT_STOP = {"哪个", "哪些", "提到", "什么", "多少", "如何", "怎么", "是否", "有没有", "情况", "主要", "具体"}
CALIBRATION_PAIRS = 48  # random queries, each against passages of other reports
CALIBRATION_PERCENTILE = 95
CALIBRATION_POOL = 20_000  # passages compared against; a store above it gives a random sample
QUERY_CHARS = 16  # a query is a short phrase: the opening words of a random passage stand in for one


@dataclass
class Calibration:
    threshold: float  # cosine at CALIBRATION_PERCENTILE of unrelated pairs
    pairs: int


_cache: dict[tuple[str, float], Calibration] = {}


def query_terms(searcher, query: str) -> list[str]:
    """The words of a query a matching passage should contain, longest first (also what is highlighted)."""
    from reportqa.which import which_term

    understanding = searcher.understand(query)
    term = which_term(understanding, searcher) if understanding.kind == "which" else ""
    if term:
        return [term]  # 「哪个镇提到未来社区」: 未来社区, not 未来 in 未来筒仓
    terms = {t for t in searcher.index.tokenizer.tokens(query) if (len(t) >= 2 or t.isdigit()) and t not in HIGHLIGHT_STOP}
    return sorted(terms, key=lambda t: (-len(t), t))


def calibrate(searcher, pairs: int = CALIBRATION_PAIRS, seed: int = 0) -> Calibration:
    """The cosine above which a passage is closer to a query than chance, for this index and embedder (cached)."""
    index = searcher.index
    key = (str(index.path), index.manifest.generation, index.manifest.built_at)
    if key in _cache:
        return _cache[key]
    rng = np.random.default_rng(seed)
    ids, vectors, report_of = index.sample(CALIBRATION_POOL, seed)
    picks = rng.choice(len(ids), size=min(pairs, len(ids)), replace=False)
    queries = np.stack([searcher.embed(index.chunks[ids[i]].text.strip()[:QUERY_CHARS]) for i in picks])
    sims = queries @ vectors.T  # (queries, chunks)
    same = report_of[picks][:, None] == report_of[None, :]
    unrelated = sims[~same]
    threshold = float(np.percentile(unrelated, CALIBRATION_PERCENTILE)) if unrelated.size else 1.0
    _cache[key] = Calibration(threshold, int(unrelated.size))
    return _cache[key]


def is_weak(passage, terms: list[str], calibration: Calibration) -> bool:
    text = passage.chunk.embedding_text()
    return not all(t in text for t in terms) and passage.dense < calibration.threshold


def split_weak(searcher, query: str, passages: list) -> tuple[list, list]:
    """(passages that match, weak ones), each in rank order."""
    terms = query_terms(searcher, query)
    calibration = calibrate(searcher)
    strong = [p for p in passages if not is_weak(p, terms, calibration)]
    return strong, [p for p in passages if is_weak(p, terms, calibration)]
