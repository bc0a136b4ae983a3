"""「哪个镇提到未来社区」: questions answered over every document, not the top k.

A top-k list can miss a town whose mention is short, so these questions find
every document whose cleaned text contains the key term, else a near-verbatim
wording of it (严禁秸秆焚烧 for 秸秆禁烧), else passages very close to it in
meaning, and group the evidence by town.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from reportqa.ingest import Chunk
from reportqa.retrieve import HybridSearcher, Passage, without

WHICH = re.compile(r"(哪个|哪些|哪几个|哪|什么|有没有|是否有)(乡镇|镇街|镇|乡|街道|地方|地区|单位|区县|村)")
SCAFFOLD = re.compile(
    r"(哪个|哪些|哪几个|哪|什么|有没有|是否有)(乡镇|镇街|镇|乡|街道|地方|地区|单位|区县|村)|"
    r"(的?(报告|文件|资料)[里中]|提到了?|提及|说到|谈到|讲到|涉及|在推进|推进了?|正在|开展了?|在搞|搞了?|有|建设了?|打造了?|实施了?|计划|都|还|也|了|过|的|吗|呢|呀|？|\?|。|，)"
)
QUOTED_TERM = re.compile(r"[“「\"']([^”」\"']{2,12})[”」\"']")
GENERIC_EDGES = re.compile(r"^(培育|推进|深化|加强|开展|建设|打造|实施|推动|发展|做好|提升|创建)|(企业|建设|工作|改革|项目|问题|情况|方面)$")
DENSE_MATCH = 0.93  # cosine to the term itself; e5 scores crowd near 0.8, so only near-verbatim matches pass
PER_TOWN = 2
CLAUSE = re.compile(r"[^，。；！？、：\n“”「」（）()《》]+")
NEAR_SLACK = 2  # a reworded mention may spread the term's characters over this many more
NEAR_MIN_LENGTH = 4  # shorter terms reworded match too much by chance
HEAD_MIN_LENGTH = 4  # 农村文化礼堂 → 文化礼堂; a two-character head (农田, 社区) is too common


@dataclass
class TownEvidence:
    town: str
    source: str
    passages: list[Passage] = field(default_factory=list)
    mention: str = ""  # the words that matched: the term, a near-verbatim wording, or "" for a meaning match


@dataclass
class TownsAnswer:
    term: str
    towns: list[TownEvidence]

    def evidence(self) -> list[Passage]:
        """Every town's first passage, then their second ones, so a short list still names every town."""
        return [town.passages[n] for n in range(PER_TOWN) for town in self.towns if n < len(town.passages)]


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


def near_mention(term: str, text: str, head: str = "") -> str:
    """A wording of the term that is not verbatim, or "".

    Two rewordings recur in reports: the same characters reordered within one
    clause (秸秆禁烧 / 严禁秸秆焚烧, 美丽生态 / 生态环境美丽), and the term's head
    noun without its modifier (农村文化礼堂 / 村级数字文化礼堂 → 文化礼堂).
    """
    if head and head in text:
        return head
    if len(term) < NEAR_MIN_LENGTH or not all(c in text for c in set(term)):
        return ""
    need, width = Counter(term), len(term) + NEAR_SLACK
    for clause in CLAUSE.findall(text):
        if not all(c in clause for c in need):
            continue
        for start in range(max(1, len(clause) - len(term) + 1)):
            if Counter(clause[start : start + width]) >= need:
                return clause
    return ""


def head_noun(searcher: HybridSearcher, term: str) -> str:
    """For a modifier + noun term (农村 + 文化礼堂), the noun when it is long enough to stand alone:
    Chinese compounds end in their head. Longer phrases are not compounds and have none."""
    words = searcher.index.tokenizer.words(term)
    return words[1] if len(words) == 2 and len(words[1]) >= HEAD_MIN_LENGTH else ""


def _passage(searcher: HybridSearcher, i: int, cosine: float) -> Passage:
    return Passage(searcher.index.chunks[i], score=cosine, dense=cosine, bm25=0.0)


def term_mentions(chunks: Sequence[Chunk], allowed: np.ndarray | None, term: str, head: str, lexical: np.ndarray) -> dict[int, str]:
    """Chunk id → how it mentions the term: the term itself or, in a document without it verbatim,
    a near-verbatim wording. Those are looked for only in chunks sharing a word with the term
    (lexical: their BM25 scores for it), which keeps the character scan off most of a large corpus."""
    ids = range(len(chunks)) if allowed is None else allowed.tolist()
    mentions = {i: term for i in ids if term in chunks[i].text}
    verbatim = {chunks[i].source for i in mentions}
    candidates = np.flatnonzero(lexical > 0)
    if allowed is not None:
        candidates = np.intersect1d(candidates, allowed)
    for i in candidates.tolist():
        if chunks[i].source not in verbatim and (mention := near_mention(term, chunks[i].text, head)):
            mentions[i] = mention
    return mentions


def find_towns(searcher: HybridSearcher, question: str, filters: dict | None = None) -> TownsAnswer | None:
    """Every town whose documents mention the question's key term, with its best passages."""
    from reportqa.embed import embed_query

    index = searcher.index
    term = key_term(question, [d.text for d in index.documents.values()]) if is_which_towns(question) else ""
    if not term:
        return None
    allowed = searcher.allowed_ids(filters)
    mentions = term_mentions(index.chunks, allowed, term, head_noun(searcher, term), searcher.lexical_scores(term))
    found_sources = {index.chunks[i].source for i in mentions}
    vector = embed_query(searcher.embedder, term)
    dense_ids, dense = searcher.dense_scores(vector, allowed, 50)
    close = [i for i in dense_ids if dense[i] >= DENSE_MATCH and index.chunks[i].source not in found_sources]
    matched = list(mentions)
    cosine = {**dict(zip(matched, (index.vectors[matched] @ vector).tolist())), **dense}

    by_source: dict[str, TownEvidence] = {}
    for i in sorted(matched, key=lambda i: (mentions[i] != term, -cosine[i])) + close:
        chunk = index.chunks[i]
        evidence = by_source.setdefault(chunk.source, TownEvidence(chunk.meta.get("town") or chunk.source, chunk.source, mention=mentions.get(i, "")))
        if len(evidence.passages) < PER_TOWN:
            evidence.passages.append(_passage(searcher, i, float(cosine[i])))
    towns = sorted(by_source.values(), key=lambda e: (e.mention != term, not e.mention, -e.passages[0].dense))
    return TownsAnswer(term, towns)


def search_passages(searcher: HybridSearcher, query: str, filters: dict | None = None, k: int = 10, mode: str = "hybrid") -> list[Passage]:
    """Search as staff use it: a which-towns question lists every town's evidence before the ranking."""
    ranked = searcher.search(query, filters, k, mode)
    found = find_towns(searcher, query, filters)
    passages = evidence_first(found, ranked)[:k]
    for rank, passage in enumerate(passages, 1):
        passage.rank = rank
    return passages


def evidence_first(found: TownsAnswer | None, passages: list[Passage]) -> list[Passage]:
    """The towns' evidence, then the ranked passages it does not already hold (keeping their scores)."""
    if not found or not found.towns:
        return passages
    ranked = {p.chunk.id: p for p in passages}
    evidence = [ranked.get(p.chunk.id, p) for p in found.evidence()]
    return evidence + without(passages, evidence)
