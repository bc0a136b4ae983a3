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
from dataclasses import dataclass, field

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableBranch, RunnableLambda, RunnablePassthrough

from reportqa.extractive import ASKS_FIGURE, NOT_FOUND, NUMBER, SENTENCES, extractive_draft
from reportqa.llm import LLMConfig, as_unavailable, chat_model
from reportqa.retrieve import HybridSearcher, Passage, bigrams, without
from reportqa.towns import evidence_first, find_towns

CITE = re.compile(r"\s*\[(\d+)\]")
PLACE = re.compile(r"([\u4e00-\u9fff]{1,3}(?:镇(?![区域])|乡(?![村镇])|街道))")
NOT_A_PLACE = re.compile(r"[个些各全本该哪两三几城小老新集乡]$")  # 各镇, 老镇, 城镇 … are not names

LLM_PASSAGES = 8  # what fits a small model's context with room to answer
ATTRIBUTION_OVERLAP = 2 / 3  # share of the character pairs an uncited sentence adds to the question one passage must hold

SYSTEM_PROMPT = (
    "你是乡镇政府报告问答助手。只根据下面编号的资料用中文回答问题。"
    "每句话末尾用 [编号] 标明它依据的资料，例如 [1] 或 [2][3]。"
    "数字、地名、项目名必须与资料原文一致，不得编造。"
    "如果资料中没有问题要的信息，只回答「资料中未提及」，不要猜测。回答简洁，不超过五句话。"
)
PROMPT = ChatPromptTemplate.from_messages([("system", SYSTEM_PROMPT), ("human", "资料：\n{context}\n\n问题：{question}")])


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
    meta = passage.chunk.meta
    where = "·".join(x for x in (meta.get("town"), meta.get("year"), meta.get("doc_type")) if x)
    return f"[{n}]（{where}｜{passage.chunk.section}）{passage.chunk.text}"


# ---------------------------------------------------------------- retrieval step


def named_places(question: str, known: set[str]) -> tuple[list[str], list[str]]:
    """Towns the question names: those in the corpus, and any other X镇/X乡/X街道 (not in the corpus)."""
    named = [town for town in known if town in question]
    rest = question
    for town in named:
        rest = rest.replace(town, "，")
    unknown = [p for p in PLACE.findall(rest) if not NOT_A_PLACE.search(p.removesuffix("街道").rstrip("镇乡"))]
    return named, unknown


def gather(searcher: HybridSearcher, question: str, filters: dict | None, k: int) -> dict:
    """Passages for the question; a question naming towns is searched within those towns."""
    filters = dict(filters or {})
    towns_answer = find_towns(searcher, question, filters)
    places, unknown = named_places(question, searcher.index.towns)
    auto_filter = bool(places) and not filters.get("town") and not unknown
    passages = searcher.search(question, {**filters, "town": places} if auto_filter else filters, max(k, 10))
    if auto_filter and len(passages) < max(k, 10):  # a small report: fill up from the whole corpus, ranked after
        passages += without(searcher.search(question, filters, max(k, 10)), passages)[: max(k, 10) - len(passages)]
    return {"question": question, "passages": evidence_first(towns_answer, passages), "towns": towns_answer, "places": places, "unknown_places": unknown}


# ---------------------------------------------------------------- verification


def _dictionary_terms(searcher: HybridSearcher, text: str) -> list[str]:
    return [t for t in searcher.index.tokenizer.terms if len(t) >= 2 and t in text]


def _pairs(text: str) -> set[str]:
    return bigrams(re.sub(r"[^\u4e00-\u9fff0-9A-Za-z]", "", text))


def attribute(body: str, passages: list[Passage], question: str = "") -> int | None:
    """The passage (numbered from 1) that holds most of an uncited sentence's wording, if one holds enough.

    Small local models answer from the passages but often leave out the [n]; the verifier
    then checks the sentence against this passage as if the model had cited it. Only what the
    sentence adds to the question counts (蒋婷婷 in 「余新镇党委书记是蒋婷婷」): the words it
    repeats from the question say nothing about its source.
    """
    pairs = _pairs(body) - _pairs(question)
    if len(pairs) < 2 or not passages or NOT_FOUND in body:
        return None
    held = [len(pairs & _pairs(p.chunk.embedding_text())) / len(pairs) for p in passages]
    best = max(range(len(held)), key=held.__getitem__)
    return best + 1 if held[best] >= ATTRIBUTION_OVERLAP else None


def verify(searcher: HybridSearcher, question: str, draft: str, passages: list[Passage]) -> tuple[str, list[int], list[str]]:
    """Keep sentences whose numbers and named terms occur in the passages they cite (or, uncited, in the
    passage holding their wording); renumber citations.

    Returns the checked text, the original passage numbers in citation order, and the dropped sentences.
    """
    lines: list[str] = []
    dropped: list[str] = []
    order: list[int] = []
    for line in draft.strip().splitlines():
        kept = []
        for sentence in SENTENCES.findall(line):
            cited = [int(n) for n in CITE.findall(sentence)]
            valid = list(dict.fromkeys(n for n in cited if 1 <= n <= len(passages)))
            sentence = CITE.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= len(passages) else "", sentence).strip()
            body = CITE.sub("", sentence).strip()
            if not body:
                continue
            if not cited and (source := attribute(body, passages, question)):
                valid, sentence = [source], f"{sentence}[{source}]"
            terms = _dictionary_terms(searcher, body)
            support = "".join(passages[n - 1].chunk.embedding_text() + passages[n - 1].chunk.meta.get("town", "") for n in valid)
            facts_ok = all(num in support for num in NUMBER.findall(body)) and all(t in support or t in question for t in terms)
            if valid and facts_ok:
                order.extend(n for n in valid if n not in order)
                kept.append(sentence)
            elif not cited and not NUMBER.search(body) and not terms and NOT_FOUND not in body:
                kept.append(body)  # a connective phrase such as 「具体如下：」
            else:
                dropped.append(sentence)
        lines.append("".join(kept))
    renumber = {old: new for new, old in enumerate(order, 1)}
    text = "\n".join(line for line in lines if line)
    return CITE.sub(lambda m: f"[{renumber[int(m.group(1))]}]", text), order, dropped


# ---------------------------------------------------------------- the chain


def _finish(searcher: HybridSearcher, inputs: dict, backend: str) -> Answer:
    passages, draft = inputs["passages"], inputs["draft"]
    citable = passages[: inputs.get("citable", len(passages))]  # an LLM may cite only what it was shown
    text, order, dropped = verify(searcher, inputs["question"], draft, citable)
    citations = [Citation(new, passages[old - 1]) for new, old in enumerate(order, 1)]
    if citations and ASKS_FIGURE.search(inputs["question"]) and not NUMBER.search(CITE.sub("", text)):
        # 「产值万元，同比增长%」: a figure the scrape lost, copied without its digits, answers nothing
        draft, citations = f"{NOT_FOUND}该项的具体数字（原文此处没有给出数值）。", []
    if not citations:
        reason = draft.strip() if draft.strip().startswith(NOT_FOUND) else f"{NOT_FOUND}与该问题直接相关的内容。"
        return Answer(inputs["question"], reason, [], True, passages, related=passages[:3], backend=backend, dropped=dropped)
    return Answer(inputs["question"], text, citations, False, passages, backend=backend, dropped=dropped)


def llm_writer(llm: Runnable) -> Runnable:
    """Numbered, labelled passages → the LLM's draft with [n] citations."""
    context = RunnableLambda(
        lambda inputs: {"question": inputs["question"], "context": "\n".join(label(n, p) for n, p in enumerate(inputs["passages"][:LLM_PASSAGES], 1))}
    )
    return RunnablePassthrough.assign(draft=context | PROMPT | llm | StrOutputParser(), citable=lambda _: LLM_PASSAGES)


def answer_chain(searcher: HybridSearcher, llm: Runnable | None = None, filters: dict | None = None, k: int = 10) -> Runnable:
    """question → retrieve → write (LLM, or extractive without one) → verify → Answer.

    Which-towns questions are always written from find_towns' scan of every document: a model that
    sees eight passages cannot list the towns more completely than that scan.
    """
    retrieve = RunnableLambda(lambda question: gather(searcher, question, filters, k))
    extractive = RunnableLambda(lambda inputs: extractive_draft(searcher, inputs))
    lists_towns = RunnableLambda(lambda inputs: bool(inputs["towns"] and inputs["towns"].towns))
    write = extractive if llm is None else RunnableBranch((lists_towns, extractive), llm_writer(llm))
    backend = "extractive" if llm is None else "llm"
    return retrieve | write | RunnableLambda(lambda inputs: _finish(searcher, inputs, backend))


class Answerer:
    """Loads the writer once; falls back to the extractive answer when the LLM cannot be reached."""

    def __init__(self, searcher: HybridSearcher, llm_config: LLMConfig | None = None):
        self.searcher = searcher
        self.config = llm_config or LLMConfig()
        self.llm = chat_model(self.config)

    def ask(self, question: str, filters: dict | None = None, k: int = 10) -> Answer:
        started = time.perf_counter()
        notes = []
        try:
            answer = answer_chain(self.searcher, self.llm, filters, k).invoke(question)
        except Exception as exc:
            unavailable = as_unavailable(exc, self.config) if self.llm is not None else None
            if unavailable is None:
                raise
            notes.append(f"大模型暂时不可用，已改用摘录式回答：{unavailable}")
            answer = answer_chain(self.searcher, None, filters, k).invoke(question)
        answer.notes = notes + answer.notes
        answer.latency_ms = (time.perf_counter() - started) * 1000
        return answer
