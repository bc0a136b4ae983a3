"""「哪个镇提到未来社区」: questions answered over every document, not the top k.

A top-k list can miss a town whose mention is short, so these questions find
every document whose cleaned text contains the key term (or, failing that,
passages very close to it in meaning) and group the evidence by town.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reportqa.retrieve import HybridSearcher, Passage

WHICH = re.compile(r"(哪个|哪些|哪几个|哪|什么|有没有|是否有)(乡镇|镇街|镇|乡|街道|地方|地区|单位|区县|村)")
SCAFFOLD = re.compile(
    r"(哪个|哪些|哪几个|哪|什么|有没有|是否有)(乡镇|镇街|镇|乡|街道|地方|地区|单位|区县|村)|"
    r"(的?(报告|文件|资料)[里中]|提到了?|提及|说到|谈到|讲到|涉及|在推进|推进了?|正在|开展了?|在搞|搞了?|有|建设了?|打造了?|实施了?|计划|都|还|也|了|过|的|吗|呢|呀|？|\?|。|，)"
)
QUOTED_TERM = re.compile(r"[“「\"']([^”」\"']{2,12})[”」\"']")
GENERIC_EDGES = re.compile(r"^(培育|推进|深化|加强|开展|建设|打造|实施|推动|发展|做好|提升|创建)|(企业|建设|工作|改革|项目|问题|情况|方面)$")
DENSE_MATCH = 0.93  # cosine to the term itself; e5 scores crowd near 0.8, so only near-verbatim matches pass
PER_TOWN = 2


@dataclass
class TownEvidence:
    town: str
    source: str
    passages: list[Passage] = field(default_factory=list)
    exact: bool = True  # the term occurs verbatim in this document


@dataclass
class TownsAnswer:
    term: str
    towns: list[TownEvidence]


def is_which_towns(question: str) -> bool:
    return bool(WHICH.search(question))


def key_term(question: str, documents: list[str] = ()) -> str:
    """The thing asked about: a quoted term, else the question minus its 「哪个镇提到…」 scaffolding.

    When that phrase occurs in no document, generic verbs and nouns at its edges
    are trimmed (培育专精特新企业 → 专精特新) so the core term can still be found.
    """
    quoted = QUOTED_TERM.search(question)
    if quoted:
        return quoted.group(1)
    phrase = max(SCAFFOLD.sub(" ", question).split(), key=len, default="")
    while phrase and documents and not any(phrase in text for text in documents):
        trimmed = GENERIC_EDGES.sub("", phrase)
        if trimmed == phrase or len(trimmed) < 2:
            break
        phrase = trimmed
    return phrase


def _passage(searcher: HybridSearcher, i: int, cosine: float) -> Passage:
    return Passage(searcher.index.chunks[i], score=cosine, dense=cosine, bm25=0.0)


def find_towns(searcher: HybridSearcher, question: str, filters: dict | None = None) -> TownsAnswer | None:
    """Every town whose documents mention the question's key term, with its best passages."""
    from reportqa.embed import embed_query

    index = searcher.index
    term = key_term(question, [d.text for d in index.documents.values()]) if is_which_towns(question) else ""
    if not term:
        return None
    allowed = searcher.allowed_ids(filters)
    pool = set(range(len(index.chunks)) if allowed is None else allowed.tolist())
    vector = embed_query(searcher.embedder, term)
    exact = [i for i in pool if term in index.chunks[i].text]
    exact_sources = {index.chunks[i].source for i in exact}
    dense_ids, dense = searcher.dense_scores(vector, allowed, 50)
    close = [i for i in dense_ids if dense[i] >= DENSE_MATCH and index.chunks[i].source not in exact_sources]
    cosine = {**dict(zip(exact, (index.vectors[exact] @ vector).tolist())), **dense}

    by_source: dict[str, TownEvidence] = {}
    for i in sorted(exact, key=lambda i: -cosine[i]) + close:
        chunk = index.chunks[i]
        evidence = by_source.setdefault(chunk.source, TownEvidence(chunk.meta.get("town") or chunk.source, chunk.source, exact=chunk.source in exact_sources))
        if len(evidence.passages) < PER_TOWN:
            evidence.passages.append(_passage(searcher, i, float(cosine[i])))
    towns = sorted(by_source.values(), key=lambda e: (not e.exact, -e.passages[0].dense))
    return TownsAnswer(term, towns)
