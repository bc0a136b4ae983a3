"""「哪个镇提到未来社区」「哪几次党代会报告讲到依法治国」: answered over every document, not the top k.

A top-k list can miss a document whose mention is short, so these questions
scan every document in scope for the item asked about, verbatim or reworded
(严禁秸秆焚烧 for 秸秆禁烧 or 焚烧秸秆), and list each matching document — by
issuer and year, so one issuer's yearly reports stay apart — with the passage
that mentions it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from reportqa.catalog import Report
from reportqa.ingest.chunk import SENTENCE
from reportqa.lexicon import STOPWORDS, nounish
from reportqa.question import Understanding
from reportqa.retrieve import HybridSearcher, Passage, without

QUOTED_TERM = re.compile(r"[“「\"'‘『]([^”」\"'’』]{2,16})[”」\"'’』]")
PER_DOCUMENT = 2
CLAUSE = re.compile(r"[^，。；！？、：\n“”「」（）()《》]+")
NEAR_SLACK = 2  # a reworded mention may spread the term's characters over this many more
NEAR_MIN_LENGTH = 4  # shorter terms reworded match too much by chance
RESPELL_MIN_LENGTH = 3  # a two-character term with one character free matches anything
HEAD_MIN_LENGTH = 4  # 农村文化礼堂 → 文化礼堂; a two-character head (农田, 社区) is too common


@dataclass
class DocumentMention:
    report: Report
    passages: list[Passage] = field(default_factory=list)
    wording: str = ""  # the words that matched: the term itself or a reworded clause


@dataclass
class WhichAnswer:
    term: str
    documents: list[DocumentMention]
    over_towns: bool = False  # 「哪个镇」: each town once, not each report

    def evidence(self) -> list[Passage]:
        """Every document's first passage, then their second ones, so a short list still names each."""
        return [d.passages[n] for n in range(PER_DOCUMENT) for d in self.documents if n < len(d.passages)]


def which_term(u: Understanding, searcher: HybridSearcher | None = None) -> str:
    """The thing asked about: a quoted term; else the question's item if some document holds it,
    else its core, the nouns between the verbs and particles around them (推进未来乡村建设 →
    未来乡村, 点名林彪 → 林彪): staff ask with verbs the reports do not use."""
    quoted = QUOTED_TERM.search(u.question)
    if quoted:
        return quoted.group(1)
    if searcher is None or searcher.index.holds(u.item):
        return u.item
    tagged = searcher.index.tokenizer.tagged(u.item)
    cores = [_trimmed(tagged, strict) for strict in (True, False)]
    named = [c for c in cores if c and not set(searcher.index.tokenizer.words(c)) <= STOPWORDS]  # not 工作 alone
    held = next((c for c in named if searcher.index.holds(c)), "") or _specific(searcher, u.item)
    if held or _reworded_somewhere(searcher, u.item):  # 工业产值 in 「工业总产值」 is no typo of 产业产值
        return held or u.item
    return respelled(searcher, cores[1] or u.item) or cores[1] or u.item


def _reworded_somewhere(searcher: HybridSearcher, term: str) -> bool:
    """Does some document hold the term reordered or spread within a clause (near_mention)?"""
    texts = searcher.index.texts_holding(list(searcher.index.documents), [list(set(term))])
    return any(near_mention(term, text) for text in texts.values())


def respelled(searcher: HybridSearcher, term: str) -> str:
    """The corpus's most frequent string that differs from the term in one character (翻两番 for
    a typed 翻两翻), when the term itself is in no document; "" if none."""
    return searcher.index.respelling(term) if len(term) >= RESPELL_MIN_LENGTH else ""


def _common(searcher: HybridSearcher) -> Callable[[str], bool]:
    """Is a word a stopword or more common than the corpus's median word (by idf)? 工作, 内容, 问题
    are: they do not say what a which-question asks about."""
    idf, median = searcher.index.idf, searcher.median_idf
    return lambda word: word in STOPWORDS or idf.get(word, median) < median


def _specific(searcher: HybridSearcher, term: str) -> str:
    """The part of the term a document holds that says the most (its words' idf summed), once
    common words at its ends are dropped (扫黑除恶工作 → 扫黑除恶, 运河相关内容 → 运河; 到坚持发展时代
    枫桥经验 → 枫桥经验, not the longer 坚持发展); "" if none."""
    common, words, idf = _common(searcher), searcher.index.tokenizer.words(term), searcher.index.idf
    parts = [
        (i, j) for i in range(len(words)) for j in range(len(words), i, -1)
        if all(map(common, words[:i])) and all(map(common, words[j:]))
    ]
    weight = {part: sum(idf.get(w.lower(), 0.0) for w in words[part[0] : part[1]]) for part in parts}
    held = ("".join(words[i:j]) for i, j in sorted(parts, key=lambda part: (-weight[part], part[0] - part[1])))
    return next((part for part in held if searcher.index.holds(part)), "")


def _trimmed(tagged: list[tuple[str, str]], strict: bool) -> str:
    """The words between the first and last noun (strict) or noun-like word (verbal nouns too)."""
    kept = [n for n, (word, flag) in enumerate(tagged) if nounish(word, flag, verbal=not strict)]
    return "".join(word for word, _ in tagged[kept[0] : kept[-1] + 1]) if kept else ""


def near_mention(term: str, text: str, head: str = "") -> str:
    """The term's characters reordered within one clause (秸秆禁烧 / 严禁秸秆焚烧, 美丽生态 /
    生态环境美丽), or its head noun alone (农村文化礼堂 / 村级数字文化礼堂 → 文化礼堂); "" if neither."""
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


def cooccurring(words: list[str], text: str) -> str:
    """The first sentence holding every word, in any order (焚烧 + 秸秆 in 「严禁秸秆焚烧」), cut as the
    chunker cuts (a closing quote after 。 ends the sentence before it, not opens the next), so the
    answer finds it among the passage's sentences to quote; without its closing punctuation."""
    if not words or not all(w in text for w in words):
        return ""
    return next((s.strip().rstrip("。！？；”’」）") for s in SENTENCE.findall(text) if all(w in s for w in words)), "")


def head_noun(searcher: HybridSearcher, term: str) -> str:
    """For a modifier + noun term (农村 + 文化礼堂), the noun when it is long enough to stand alone:
    Chinese compounds end in their head."""
    words = searcher.index.tokenizer.words(term)
    return words[1] if len(words) == 2 and len(words[1]) >= HEAD_MIN_LENGTH else ""


def content_words(searcher: HybridSearcher, term: str) -> list[str]:
    """What a reworded mention must hold: the term's words that are rarer than the corpus's median
    word (职工 is in many passages, so 「下岗失业人员」 mentions 职工下岗), else all the words the
    corpus uses, stopwords aside, when there are two or more (one common word matches anything)."""
    common = _common(searcher)
    words = [w for w in searcher.index.tokenizer.words(term) if w not in STOPWORDS and searcher.index.knows(w)]
    if len(words) == 1:  # 学雷锋 is one word of the dictionary: reworded, it is its rare parts (学习雷锋)
        words = [t for t in searcher.index.tokenizer.smallest_parts(words[0]) if len(t) >= 2 and not common(t)] or words
    words = list(dict.fromkeys(words))
    rare = [w for w in words if not common(w) and len(w) >= 2]
    return rare or (words if len(words) >= 2 else [])


def mention_in(term: str, words: list[str], head: str, text: str) -> str:
    """How a document's text mentions the term: verbatim, reordered in a clause, by its words in
    one sentence, or by its head noun; "" when it does not."""
    if term in text:
        return term
    return near_mention(term, text, "") or cooccurring(words, text) or (head if head and head in text else "")


def find_documents(searcher: HybridSearcher, u: Understanding, filters: dict, vector: np.ndarray) -> WhichAnswer | None:
    """Every document in scope that mentions the item, each with its best passages."""
    term = which_term(u, searcher) if u.kind == "which" else ""
    if not term:
        return None
    index = searcher.index
    scope = [r for r in index.catalog.in_scope(filters) if r.town or not u.which_towns]
    if u.years:
        scope = [r for r in scope if r.year in u.years] or scope
    words, head = content_words(searcher, term), head_noun(searcher, term)
    found: list[DocumentMention] = []
    # What mention_in can find needs the term's characters, all its words or its head in the text:
    # the store narrows the reports to those before they are read.
    groups = [list(set(term))] + ([words] if words else []) + ([[head]] if head else [])
    texts = index.texts_holding([r.source for r in scope], groups)
    for report in scope:
        wording = mention_in(term, words, head, texts[report.source]) if report.source in texts else ""
        if not wording:
            continue
        ids = [i for i in index.chunks_by_source[report.source] if wording in index.chunks[i].text]
        ids = ids or [i for i in index.chunks_by_source[report.source] if mention_in(term, words, head, index.chunks[i].text)]
        if not ids:
            continue
        cosine = index.vectors_of(ids) @ vector
        best = [(ids[j], float(cosine[j])) for j in np.argsort(-cosine, kind="stable")[:PER_DOCUMENT]]
        passages = [Passage(index.chunks[i], c, c, 0.0) for i, c in best]
        found.append(DocumentMention(report, passages, wording))
    found.sort(key=lambda d: (d.wording != term, d.report.order()))
    return WhichAnswer(term, found, over_towns=u.which_towns)


def evidence_first(found: WhichAnswer | None, passages: list[Passage]) -> list[Passage]:
    """The documents' evidence, then the ranked passages it does not already hold (keeping their scores)."""
    if not found or not found.documents:
        return passages
    ranked = {p.chunk.id: p for p in passages}
    evidence = [ranked.get(p.chunk.id, p) for p in found.evidence()]
    return evidence + without(passages, evidence)
