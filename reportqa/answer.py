"""The answer chain: retrieve → numbered passages → write (LLM or extractive) → verify.

Staff trust an answer only if every fact points at the passage it came from
and nothing is invented, so whatever writes the draft, the same verifier
removes citations to passages that were not given, drops sentences whose
numbers or names are not in the passages they cite, and turns an answer with
nothing left into an honest 「资料中未提及」.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from reportqa.conversation import compound_follow_up
from reportqa.evidence import Evidence, gather
from reportqa.extractive import NOT_FOUND, NUMBER, SENTENCES, extractive_draft, refuse
from reportqa.figures import DATES, has_figure
from reportqa.ingest.meta import META_LABELS
from reportqa.lexicon import STOPWORDS, TOKEN_OK
from reportqa.limits import check_ask
from reportqa.llm import LLMConfig, LLMUnavailable, chat_model, guarded
from reportqa.question import Understanding, years_label
from reportqa.retrieve import HybridSearcher, Passage, bigrams
from reportqa.store import years_of

CITE = re.compile(r"\s*\[(\d+)\]")
ASKS = re.compile(r"多少|几|什么|啥|哪|谁|怎|如何|吗|是否|有没有")  # an interrogative: a part of a question that asks

FALLBACK_NOTE = "大模型暂时不可用，已改用摘录式回答"
LLM_PASSAGES = 8  # what fits a small model's context with room to answer
ATTRIBUTION_OVERLAP = 2 / 3  # share of the character pairs an uncited sentence adds to the question one passage must hold

SYSTEM_PROMPT = (
    "你是乡镇政府报告问答助手。只根据下面编号的资料用中文回答问题。"
    "每句话末尾用 [编号] 标明它依据的资料，例如 [1] 或 [2][3]。"
    "数字、地名、项目名必须与资料原文一致，不得编造。"
    "如果资料中没有问题要的信息，只回答「资料中未提及」，不要猜测。回答简洁，不超过五句话。"
)
PROMPT = ChatPromptTemplate.from_messages([("system", SYSTEM_PROMPT), ("human", "资料：\n{context}\n\n问题：{question}{scope}")])


@dataclass
class Citation:
    n: int
    passage: Passage

    def as_json(self) -> dict:
        return {"n": self.n, **self.passage.as_json()}


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation]
    refused: bool
    passages: list[Passage]  # what the answer was drawn from, ranked
    related: list[Passage] = field(default_factory=list)  # 可能相关, shown with a refusal instead of citations
    backend: str = "extractive"
    notes: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # sentences the verifier removed
    latency_ms: float = 0.0
    understanding: Understanding | None = None  # how the question was read (places, years, item)

    def as_json(self, id_: str = "") -> dict:
        """One line of the `ask --jsonl` contract."""
        return {
            "id": id_,
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.as_json() for c in self.citations],
            "retrieved": [p.as_json() for p in self.passages],
            "latency_ms": round(self.latency_ms, 1),
        }


def label(n: int, passage: Passage) -> str:
    return f"[{n}]（{passage.source_label()}｜{passage.chunk.section}）{passage.chunk.text}"


def scope_note(u: Understanding) -> str:
    """The constraints the question set, for the LLM prompt: 「（只回答 余新镇 · 2022年 的情况）」."""
    named = u.place_names + u.reports_label + ([years_label(u.years)] if u.years else [])
    return f"\n（只根据 {' · '.join(named)} 的资料回答；其他地方或年份的数字不能用。）" if named else ""


# ---------------------------------------------------------------- verification

# Words an answer uses to frame what it cites (「资料中提到…的有」「具体如下」), which no passage needs to hold.
FRAMING_WORDS = frozenset(
    "资料 提到 镇街 共有 说法 相近 原文 具体 如下 以下 分别 包括 主要 其中 有关 相关 情况 内容 根据 按照 "
    "表示 指出 提出 此外 另外 目前 已经 进一步 有所 回答 问题 介绍".split()
)
CONTENT_FLAGS = ("n", "v", "a", "m", "x", "eng", "i", "j", "l", "s", "t", "z")  # jieba: nouns, verbs, adjectives, numerals, terms, idioms
SUPPORTED_SHARE = 0.8  # share of a sentence's content words its passages (or the question) must hold; eval/reports/verifier.md
CLAUSE_SHARE = 0.5  # … and of each clause's
CLAUSE_BREAK = re.compile(r"[，；：,;:]")
LIST_MARKER = re.compile(r"^\s*(?:\d{1,2}[.、．)）]|[-*•])\s*")  # 「1. 开展……」: the writer's numbering, not a figure


def support_text(passage: Passage) -> str:
    """What a citation of this passage vouches for: its text and section, the years its section
    speaks of (a comparison's side 「2020年：」 quoting a 2021 report's review of 2016–2020), and the
    report it is from as users see it (the label line of a which-answer, 「凤桥镇 · 2023年 · 政府工作报告」,
    and its record as an answer quotes it: 「讲话人 / 受访人：孙雷」「年份：2021年」)."""
    meta = passage.chunk.meta
    fields = (str(meta.get(k) or "") for k in ("title", "town", "county", "city", "province", "year", "doc_type"))
    record = (f"{META_LABELS[k]}：{meta[k]}{'年' if k == 'year' else ''}" for k in ("speaker", "year") if meta.get(k))
    years = (f"{year}年" for year in sorted(years_of(passage.chunk)))
    return " ".join([passage.chunk.embedding_text(), *years, passage.source_label(), *fields, *record])


def _dictionary_terms(searcher: HybridSearcher, text: str) -> list[str]:
    return [t for t in searcher.index.tokenizer.terms if len(t) >= 2 and t in text]


def content_words(searcher: HybridSearcher, text: str) -> list[str]:
    """The words that carry a sentence's claim (nouns, verbs, adjectives, numerals, named terms),
    without stopwords and the answer's framing words."""
    return [
        word for word, flag in searcher.index.tokenizer.tagged(text)
        if len(word) >= 2 and flag.startswith(CONTENT_FLAGS) and TOKEN_OK.search(word)
        and word not in STOPWORDS and word not in FRAMING_WORDS
    ]


def unsupported(searcher: HybridSearcher, body: str, support: str, question: str) -> list[str]:
    """What the support text fails to hold of a sentence: any number or named term; its content words
    when fewer than SUPPORTED_SHARE of them occur (a paraphrase may reword a little, not invent); or
    a clause most of whose content words are absent (a true sentence with an invented clause appended)."""
    body = LIST_MARKER.sub("", body, count=1)
    missing = [n for n in NUMBER.findall(body) if n not in support]
    missing += [t for t in _dictionary_terms(searcher, body) if t not in support and t not in question]
    clauses = [[w for w in content_words(searcher, c) if w not in question] for c in CLAUSE_BREAK.split(body)]
    words = [w for clause in clauses for w in clause]
    absent = [w for w in words if w not in support]
    invented_clause = any(sum(w not in support for w in c) > (1 - CLAUSE_SHARE) * len(c) for c in clauses)
    if len(absent) > (1 - SUPPORTED_SHARE) * len(words) or invented_clause:
        missing += absent
    return missing


def _pairs(text: str) -> set[str]:
    return bigrams(re.sub(r"[^\u4e00-\u9fff0-9A-Za-z]", "", text))


def attribute(body: str, supports: list[str], question: str = "") -> int | None:
    """The passage (numbered from 1, by its support text) that holds most of an uncited sentence's
    wording, if one holds enough.

    Small local models answer from the passages but often leave out the [n]; the verifier
    then checks the sentence against this passage as if the model had cited it. Only what the
    sentence adds to the question counts (蒋婷婷 in 「余新镇党委书记是蒋婷婷」): the words it
    repeats from the question say nothing about its source. A bare answer too short to weigh
    (「刘青。」) belongs to the first passage that holds it word for word.
    """
    pairs = _pairs(body) - _pairs(question)
    if not pairs or not supports or NOT_FOUND in body:
        return None
    if len(pairs) == 1:
        word = re.sub(r"[^\u4e00-\u9fff0-9A-Za-z.%]", "", body)
        return next((n for n, text in enumerate(supports, 1) if word in text), None)
    held = [len(pairs & _pairs(text)) / len(pairs) for text in supports]
    best = max(range(len(held)), key=held.__getitem__)
    return best + 1 if held[best] >= ATTRIBUTION_OVERLAP else None


def verify(searcher: HybridSearcher, question: str, draft: str, passages: list[Passage]) -> tuple[str, list[int], list[str]]:
    """Check every sentence, cited or not, against the passages it cites or is attributed to: its
    numbers, named terms and content words must be there. An uncited sentence no passage holds is
    kept only when it claims nothing (「具体如下：」) or only an absence (「2020年：资料中未提及。」);
    everything else unsupported is dropped.

    Returns the checked text (citations renumbered), the original passage numbers in citation
    order, and the dropped sentences as written.
    """
    lines: list[str] = []
    dropped: list[str] = []
    order: list[int] = []
    supports = [support_text(p) for p in passages]  # each passage's once, for every sentence citing it
    for line in draft.strip().splitlines():
        kept = []
        for sentence in SENTENCES.findall(line):
            cited = [int(n) for n in CITE.findall(sentence)]
            valid = list(dict.fromkeys(n for n in cited if 1 <= n <= len(passages)))
            sentence = CITE.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= len(passages) else "", sentence).strip()
            body = CITE.sub("", sentence).strip()
            if not body:
                continue
            if not cited and (source := attribute(body, supports, question)):
                valid, sentence = [source], f"{sentence}[{source}]"
            support = " ".join(supports[n - 1] for n in valid)
            if valid and not unsupported(searcher, body, support, question):
                order.extend(n for n in valid if n not in order)
                kept.append(sentence)
            elif not cited and (NOT_FOUND in body or not unsupported(searcher, body, "", question)):
                kept.append(body)  # 「具体如下：」 claims nothing; 「2020年：资料中未提及。」 claims only an absence
            else:
                dropped.append(sentence)
        lines.append("".join(kept))
    return renumber("\n".join(line for line in lines if line), order), order, dropped


def renumber(text: str, order: list[int]) -> str:
    """Citations numbered 1, 2, … in the order of `order` (the passages' numbers as drafted)."""
    new = {old: n for n, old in enumerate(order, 1)}
    return CITE.sub(lambda m: f"[{new[int(m.group(1))]}]", text)


# ---------------------------------------------------------------- the chain


def _finish(searcher: HybridSearcher, evidence: Evidence, draft: str, passages: list[Passage], citable: int, backend: str) -> Answer:
    u = evidence.understanding
    if evidence.which is not None:
        # The listing is the full scan itself, metadata and verbatim quotes: nothing was composed to check.
        order, dropped = list(dict.fromkeys(int(n) for n in CITE.findall(draft))), []
        text = renumber(draft, order)
    else:
        text, order, dropped = verify(searcher, evidence.question, draft, passages[:citable])
    citations = [Citation(new, passages[old - 1]) for new, old in enumerate(order, 1)]
    # an ordinal (第九批) is the figure 「第几批」 asks for, a date (2月28日) the one 「哪天」 asks for, though no quantity
    asked = u.measure if u.measure.ordinal or u.measure.unit in DATES else None
    if citations and u.wants_figure and u.kind not in ("which", "list") and not has_figure(CITE.sub("", text), asked):
        # 「产值万元，同比增长%」: a figure the scrape lost, copied without its digits, answers nothing
        draft, citations = refuse("该项的具体数字（原文此处没有给出数值）"), []
    if not citations:
        reason = draft.strip() if draft.strip().startswith(NOT_FOUND) else refuse()
        return Answer(evidence.question, reason, [], True, passages, related=passages[:3], backend=backend, dropped=dropped, understanding=u)
    if u.scope():
        text = f"（{u.scope_label()}）\n{text}"
    return Answer(evidence.question, text, citations, False, passages, backend=backend, dropped=dropped, understanding=u)


def write_extractive(searcher: HybridSearcher, evidence: Evidence) -> Answer:
    draft, passages = extractive_draft(searcher, evidence)
    return _finish(searcher, evidence, draft, passages, len(passages), "extractive")


def llm_drafts(llm: Runnable, evidence: Evidence) -> Iterator[str]:
    """The LLM's draft from the numbered passages under the question's constraints, growing as it streams."""
    shown = evidence.passages[:LLM_PASSAGES]
    context = "\n".join(label(n, p) for n, p in enumerate(shown, 1))
    chain = PROMPT | llm | StrOutputParser()
    draft = ""
    for piece in chain.stream({"context": context, "question": evidence.question, "scope": scope_note(evidence.understanding)}):
        draft += piece
        yield draft


def write(searcher: HybridSearcher, llm: Runnable | None, evidence: Evidence) -> Iterator[str | Answer]:
    """With an LLM, its draft as it grows, then the verified Answer; without one, the extractive Answer alone.

    The draft starts empty: on a CPU a small model reads the passages for a minute before its first
    word, and a page can say meanwhile that it is at work. Which-questions and questions the corpus
    cannot answer are written without the LLM, from the full scan and the reason."""
    if llm is None or evidence.refusal or evidence.which is not None:
        yield write_extractive(searcher, evidence)
        return
    draft = ""
    yield draft
    for draft in llm_drafts(llm, evidence):
        yield draft
    yield _finish(searcher, evidence, draft, evidence.passages, LLM_PASSAGES, "llm")


def compound_parts(searcher: HybridSearcher, question: str, filters: dict | None) -> list[str]:
    """「去年新增了几家，今年目标是几家」 asks two things: each part that asks (holds an interrogative)
    after a comma or question mark, read as a follow-up of the first (its place, report and subject
    carried over). Empty for a question that asks one thing."""
    parts: list[str] = []
    for piece in re.split(r"(?<=[，,；;？?])", question):
        if parts and ASKS.search(parts[-1]) and ASKS.search(piece):
            parts.append(piece)  # a new question begins
        elif parts:
            parts[-1] += piece  # a piece that asks nothing, or follows one that asked nothing yet, goes on with it
        else:
            parts.append(piece)
    parts = [p.rstrip("，,；;？? ") for p in parts if p.strip("，,；;？? ")]
    if len(parts) < 2:
        return []
    first = searcher.understand(parts[0], filters)
    return [parts[0]] + [compound_follow_up(first, searcher.understand(p, filters)) for p in parts[1:]]


def _figures_of_years(u: Understanding) -> bool:
    """Does it ask a figure of more than one year (「去年完成了几个，今年又定了几个」)? One sentence
    seldom states both."""
    return u.wants_figure and u.kind != "compare" and len(set(u.years) - set(u.report_years)) > 1


def joined(answers: list[Answer], question: str) -> Answer:
    """The parts' answers one after another, their citations numbered on (some part is answered).
    A part answered by the very sentence of an earlier part (「有多少起，比上一年降了多少」: 「刑事警情450起，
    同比下降4.86%」) is not repeated."""
    answers = [answer for i, answer in enumerate(answers) if answer.text not in {a.text for a in answers[:i]}]
    texts, citations, offset = [], [], 0
    for answer in answers:
        texts.append(CITE.sub(lambda m: f"[{int(m.group(1)) + offset}]", answer.text))
        citations += [Citation(c.n + offset, c.passage) for c in answer.citations]
        offset += len(answer.citations)
    passages = list({p.chunk.id: p for a in answers for p in a.passages}.values())
    return Answer(question, "\n".join(texts), citations, False, passages,
                  notes=[n for a in answers for n in a.notes], dropped=[d for a in answers for d in a.dropped], understanding=answers[0].understanding)


class Answerer:
    """Loads the writer once; falls back to the extractive answer, saying why, on any LLM fault."""

    def __init__(self, searcher: HybridSearcher, llm_config: LLMConfig | None = None):
        self.searcher = searcher
        self.config = llm_config or LLMConfig()
        self.llm = guarded(chat_model(self.config), self.config)

    def stream(self, question: str, filters: dict | None = None, k: int = 10) -> Iterator[str | Answer]:
        """The LLM's unverified draft as it grows (nothing with the extractive backend), then the final Answer.

        question → gather (understand, narrow, rank) → write → verify. A fault midway drops the draft and
        ends with the extractive answer, its note saying why. Raises limits.InputRejected, naming what is
        allowed, for a question, k or filter out of bounds.
        """
        started = time.perf_counter()
        question, filters, k = check_ask(question, filters, k, self.searcher.index)
        evidence = gather(self.searcher, question, filters, k)
        notes = []
        try:
            for item in write(self.searcher, self.llm, evidence):
                if isinstance(item, Answer):
                    answer = item
                else:
                    yield item
        except LLMUnavailable as unavailable:
            notes.append(f"{FALLBACK_NOTE}：{unavailable}")
            answer = write_extractive(self.searcher, evidence)
        if answer.backend == "extractive" and (answer.refused or _figures_of_years(evidence.understanding)) and (
                parts := compound_parts(self.searcher, question, filters)):
            # 「去年新增了几家，今年目标是几家」 refused as one question, or answered by one year's figure, may
            # be answered a part at a time
            answers = [write_extractive(self.searcher, gather(self.searcher, part, filters, k)) for part in parts]
            enough = any if answer.refused else all  # an answered whole gives way only to every part answered
            if enough(not a.refused for a in answers):
                answer = joined(answers, question)
        unsupported_sentences = [d for d in answer.dropped if NOT_FOUND not in d]  # a refusal's own wording is no claim
        if unsupported_sentences:
            notes.append(f"核查删除了 {len(unsupported_sentences)} 句在所引资料中找不到依据的内容")
        answer.notes = notes + answer.notes
        answer.latency_ms = (time.perf_counter() - started) * 1000
        yield answer

    def ask(self, question: str, filters: dict | None = None, k: int = 10) -> Answer:
        """The final Answer of :meth:`stream`."""
        *_, answer = self.stream(question, filters, k)
        return answer
