"""The retrieval step of every answer and search: read the question, narrow, rank, and say when the corpus cannot answer.

A place, report or document kind the question names narrows the search; a
year ranks the passages that speak of it first. A name the corpus does not
hold, a year it has no material on, or a question at odds with the user's
filters is a reason to refuse, said exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reportqa.question import Understanding, years_label
from reportqa.retrieve import CANDIDATES, HybridSearcher, Passage, without
from reportqa.store import years_of
from reportqa.which import WhichAnswer, evidence_first, find_documents

MIN_PASSAGES = 10
SIDE_PASSAGES = 3  # a comparison's passages per side


@dataclass
class Evidence:
    question: str
    understanding: Understanding
    passages: list[Passage]  # ranked; a which-question's documents first
    which: WhichAnswer | None
    vector: np.ndarray  # the question's embedding, computed once for search and for the writer
    refusal: str = ""  # why the corpus cannot answer, when it cannot
    sides: list[tuple[str, list[Passage]]] = field(default_factory=list)  # a comparison's sides: label, best passages
    scope: dict = field(default_factory=dict)  # the filters the question and the user set together


def year_tier(searcher: HybridSearcher, passage: Passage, years: set[int]) -> int:
    """0: the passage's section speaks of an asked year; 1: its report is of that year; 2: neither."""
    if years_of(passage.chunk) & years:
        return 0
    return 1 if passage.chunk.meta.get("year") and int(passage.chunk.meta["year"]) in years else 2


def _has_year(searcher: HybridSearcher, filters: dict, years: set[int]) -> bool:
    """Does any passage in scope speak of one of the years, by its section or in its text (a 2021
    report's 「到2026年」 target)?"""
    return searcher.index.speaks_of(searcher.allowed_ids(filters), years)


def refusal_reason(searcher: HybridSearcher, u: Understanding, filters: dict) -> str:
    """What the corpus lacks for this question, in the words a user needs, or ""."""
    if u.conflicts:
        return "；".join(u.conflicts) + "。请调整筛选条件或问题"
    if u.unknown_places:
        return f"{'、'.join(u.unknown_places)}的情况（资料库中没有关于该地的材料）"
    if u.missing_reports:
        return f"{'、'.join(u.missing_reports)}（资料库中没有这份材料）"
    if u.unknown_doc_types:
        return f"{'、'.join(u.unknown_doc_types)}（资料库中没有这类材料）"
    if u.years and not _has_year(searcher, filters, set(u.years)):
        where = "、".join(u.place_names + u.reports_label)
        return f"{where}{years_label(u.years)}的情况（资料库中没有{where}{years_label(u.years)}的材料）"
    return ""


def ranked(searcher: HybridSearcher, u: Understanding, filters: dict, given: dict | None, k: int, mode: str, vector,
           sides: list[tuple[str, list[Passage]]]) -> list[Passage]:
    """The top passages within what the question names: a comparison's sides first, taken in
    turn, else the passages that speak of an asked year first. A small scope is filled up from the
    user's own filters, ranked after."""
    want = max(k, MIN_PASSAGES)
    if sides:
        in_turn = [side[i] for i in range(SIDE_PASSAGES) for _, side in sides if i < len(side)]
        return _numbered(in_turn + searcher.search(u.query, filters, want, mode, vector))[:want]
    years = set(u.years) - set(u.report_years)  # 「2022年的党代会报告」 filters on its year; it does not speak only of 2022
    passages = searcher.search(u.query, filters, CANDIDATES if years else want, mode, vector)
    if years and all(year_tier(searcher, p, years) == 2 for p in passages):  # 「到2035年的总体目标」: no section or report of 2035
        years, passages = set(), passages[:want]
    if filters and mode == "hybrid" and not years:
        bests = searcher.search(u.query, filters, 1, "bm25", vector) + searcher.search(u.query, filters, 1, "dense", vector)
        passages = _numbered(first_with(passages, bests) + passages)
    if years:
        passages = sorted(passages, key=lambda p: year_tier(searcher, p, years))[:want]
    if len(passages) < want and filters != (given or {}):
        passages += without(searcher.search(u.query, given, want, mode, vector), passages)[: want - len(passages)]
    return _numbered(passages)


def by_side(searcher: HybridSearcher, u: Understanding, filters: dict, mode: str) -> list[tuple[str, list[Passage]]]:
    """A comparison's sides, each searched on its own for the item alone (the other side's name
    would pull its passages in). A year side keeps the passages whose section speaks of its year
    alone (a 2023 report's 「2022年工作回顾」 is 2022's), whichever report holds them; a review of
    2016–2020 is no one year's."""
    query = u.item or u.query
    vector = searcher.embed(query)
    found = []
    for label, side, years in u.sides():
        scope, n = {**filters, **side}, CANDIDATES if years else SIDE_PASSAGES
        passages = _speaking_of(searcher.search(query, scope, n, mode, vector), years)
        if mode == "hybrid":  # by words only: with three passages a side, adding the best by meaning measured worse
            passages = first_with(passages, _speaking_of(searcher.search(query, scope, n, "bm25", vector), years)[:1])
        found.append((label, passages[:SIDE_PASSAGES]))
    return found


def _speaking_of(passages: list[Passage], years: set[int]) -> list[Passage]:
    """A year side's passages: those whose section speaks of its years alone (all, for a place or report side)."""
    return [p for p in passages if years_of(p.chunk) <= years] if years else passages


def first_with(passages: list[Passage], bests: list[Passage]) -> list[Passage]:
    """The first SIDE_PASSAGES passages, with the bests among them. Within a named scope (a town's or
    one congress's reports, a comparison's side) the passages share the scope's topics, and rank
    fusion can bury the one passage that either list puts first: the one holding the item's rare
    words (「裁减军队员额二十万」 in a passage of four topics), or the one saying it in other words.
    A best that fusion left out takes one of the last places."""
    ids = {p.chunk.id for p in passages[:SIDE_PASSAGES]}
    extra = list({p.chunk.id: p for p in bests if p.chunk.id not in ids}.values())
    return passages[: SIDE_PASSAGES - len(extra)] + extra


def _numbered(passages: list[Passage]) -> list[Passage]:
    """Each passage once, in order, ranked from 1."""
    first: dict[str, Passage] = {}
    for passage in passages:
        first.setdefault(passage.chunk.id, passage)
    unique = list(first.values())
    for rank, passage in enumerate(unique, 1):
        passage.rank = rank
    return unique


def gather(searcher: HybridSearcher, question: str, filters: dict | None = None, k: int = 10, mode: str = "hybrid") -> Evidence:
    u = searcher.understand(question, filters)
    scope = u.filters(filters)
    vector = searcher.embed(u.query)
    refusal = refusal_reason(searcher, u, scope)
    which = None if refusal else find_documents(searcher, u, scope, vector)
    sides = by_side(searcher, u, scope, mode) if u.kind == "compare" else []
    passages = evidence_first(which, ranked(searcher, u, scope, filters, k, mode, vector, sides))
    return Evidence(question, u, passages, which, vector, refusal, sides, scope)


def search_passages(searcher: HybridSearcher, query: str, filters: dict | None = None, k: int = 10, mode: str = "hybrid") -> list[Passage]:
    """Search as staff use it, through the same step as answers: names narrow, years rank, a
    which-question lists every matching document's evidence first."""
    passages = gather(searcher, query, filters, k, mode).passages[:k]
    for rank, passage in enumerate(passages, 1):
        passage.rank = rank
    return passages
