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
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from reportqa.llm import LLMConfig, LLMUnavailable, chat_model
from reportqa.retrieve import Passage, HybridSearcher
from reportqa.towns import TownsAnswer, find_towns

NOT_FOUND = "资料中未提及"
CITE = re.compile(r"\s*\[(\d+)\]")
SENTENCES = re.compile(r"[^。！？；\n]+(?:[。！？；]+[”’」）]?)?(?:\s*\[\d+\])*")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
ASKS_QUANTITY = re.compile(r"多少|几[个家项所座条次人户亩]|多大|比例|增[长速]|同比|总额|总值|数量|规模|金额|收入|产值|投资")
ASKS_SUMMARY = re.compile(r"概括|总结|归纳|主要内容|讲了(什么|哪些)|有哪些方面|哪几个方面|主要(做了|有)哪些|重点工作|哪些工作")
PLACE = re.compile(r"([\u4e00-\u9fff]{2,4}?(?:镇|乡|街道))")
PLACE_NOT_NAMES = {"乡镇", "城镇", "哪个镇", "各镇", "全镇", "本镇", "哪个乡", "哪些镇", "小城镇", "哪些乡镇", "哪个街道"}

# Refusal gate, calibrated on the gold set with eval/calibrate.py (see README).
MIN_DENSE = 0.80  # best passage cosine below this and …
MIN_COVERAGE = 0.5  # … less than half the question's weighted terms found → nothing relevant
MAX_SENTENCES = 3

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


def known_towns(searcher: HybridSearcher) -> set[str]:
    return {d.meta.get("town", "") for d in searcher.index.documents.values()} - {""}


def named_places(question: str) -> list[str]:
    return [p for p in PLACE.findall(question) if p not in PLACE_NOT_NAMES and not p.startswith(("哪", "各", "什么"))]


def gather(searcher: HybridSearcher, question: str, filters: dict | None, k: int) -> dict:
    """Passages for the question; a question naming towns is searched within those towns."""
    filters = dict(filters or {})
    towns_answer = find_towns(searcher, question, filters)
    places = named_places(question)
    unknown = [p for p in places if p not in known_towns(searcher)]
    if places and not filters.get("town") and not unknown:
        filters["town"] = places
    passages = searcher.search(question, filters, max(k, 10))
    if towns_answer and towns_answer.towns:
        evidence = [p for town in towns_answer.towns for p in town.passages]
        ids = {p.chunk.id for p in evidence}
        passages = evidence + [p for p in passages if p.chunk.id not in ids]
    return {"question": question, "passages": passages, "towns": towns_answer, "unknown_places": unknown}


# ---------------------------------------------------------------- extractive writer


def _weights(searcher: HybridSearcher, question: str) -> dict[str, float]:
    idf = searcher.index.bm25.idf
    top = max(idf.values(), default=1.0)
    return {t: max(idf.get(t, top), 0.1) for t in set(searcher.index.tokenizer.tokens(question))}


def coverage(weights: dict[str, float], text: str) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in text.lower()) / total if total else 0.0


def _sentence_spans(text: str) -> list[str]:
    return [s.strip() for s in SENTENCES.findall(text) if len(s.strip()) >= 6]


def _towns_draft(towns: TownsAnswer) -> str:
    lines = [f"资料中提到「{towns.term}」的有 {len(towns.towns)} 处：" + "、".join(t.town for t in towns.towns) + "。"]
    n = 0
    for town in towns.towns:
        n += 1
        quote = next((s for s in _sentence_spans(town.passages[0].chunk.text) if towns.term in s), town.passages[0].chunk.text[:80])
        lines.append(f"{town.town}：{quote}[{n}]")
        n += len(town.passages) - 1
    return "\n".join(lines)


def extractive_draft(searcher: HybridSearcher, inputs: dict) -> str:
    """The best evidence sentences, each cited; 「资料中未提及」 when the passages do not answer."""
    question, passages = inputs["question"], inputs["passages"]
    if inputs["unknown_places"]:
        return f"{NOT_FOUND}{'、'.join(inputs['unknown_places'])}的情况。"
    if inputs["towns"] and inputs["towns"].towns:
        return _towns_draft(inputs["towns"])
    weights = _weights(searcher, question)
    if not passages or (passages[0].dense < MIN_DENSE and max(coverage(weights, p.chunk.text) for p in passages[:5]) < MIN_COVERAGE):
        return f"{NOT_FOUND}与该问题直接相关的内容。"
    wants_number = bool(ASKS_QUANTITY.search(question))
    if ASKS_SUMMARY.search(question):
        return _summary_draft(passages, weights)
    scored = []
    for n, passage in enumerate(passages[:5], 1):
        for sentence in _sentence_spans(passage.chunk.text):
            score = coverage(weights, sentence) + 0.3 * passage.score
            if wants_number and NUMBER.search(sentence):
                score += 0.2
            scored.append((score, n, sentence))
    scored.sort(key=lambda item: -item[0])
    if not scored:
        return f"{NOT_FOUND}与该问题直接相关的内容。"
    best = scored[0][0]
    chosen = [(n, s) for score, n, s in scored[:MAX_SENTENCES] if score >= 0.75 * best]
    if wants_number and not any(NUMBER.search(s) for _, s in chosen):
        return f"{NOT_FOUND}该项的具体数字（原文此处未给出数值）。"
    return "".join(f"{s if s[-1] in '。！？；' else s + '。'}[{n}]" for n, s in chosen)


def _summary_draft(passages: list[Passage], weights: dict[str, float]) -> str:
    """A section summary: the lead sentence of each paragraph of the best-matching section."""
    section = passages[0].chunk.section_path
    same = [(n, p) for n, p in enumerate(passages, 1) if p.chunk.section_path == section][:3]
    lines = []
    for n, passage in same:
        for paragraph in passage.chunk.text.split("\n"):
            lead = _sentence_spans(paragraph)
            if lead:
                lines.append(f"{lead[0]}[{n}]")
    return f"「{section[-1]}」主要内容：" + "".join(lines[:6]) if lines else f"{NOT_FOUND}与该问题直接相关的内容。"


# ---------------------------------------------------------------- verification


def _dictionary_terms(searcher: HybridSearcher, text: str) -> list[str]:
    return [t for t in searcher.index.tokenizer.terms if len(t) >= 2 and t in text]


def verify(searcher: HybridSearcher, question: str, draft: str, passages: list[Passage]) -> tuple[str, list[int], list[str]]:
    """Keep sentences whose numbers and named terms occur in the passages they cite; renumber citations."""
    kept_lines: list[list[tuple[str, list[int]]]] = []
    dropped: list[str] = []
    order: list[int] = []
    for line in draft.strip().splitlines():
        kept = []
        for sentence in SENTENCES.findall(line):
            cited = [int(n) for n in CITE.findall(sentence)]
            valid = list(dict.fromkeys(n for n in cited if 1 <= n <= len(passages)))
            body = CITE.sub("", sentence).strip()
            if not body:
                continue
            terms = _dictionary_terms(searcher, body)
            support = "".join(passages[n - 1].chunk.embedding_text() for n in valid)
            facts_ok = all(num in support for num in NUMBER.findall(body)) and all(t in support or t in question for t in terms)
            if valid and facts_ok:
                order.extend(n for n in valid if n not in order)
                kept.append((body, valid))
            elif not valid and not NUMBER.search(body) and not terms and NOT_FOUND not in body:
                kept.append((body, []))  # a connective phrase such as 「具体如下：」
            else:
                dropped.append(sentence.strip())
        kept_lines.append(kept)
    renumber = {old: new for new, old in enumerate(order, 1)}
    lines = ["".join(body + "".join(f"[{renumber[n]}]" for n in valid) for body, valid in kept) for kept in kept_lines]
    return "\n".join(line for line in lines if line), order, dropped


# ---------------------------------------------------------------- the chain


def _finish(searcher: HybridSearcher, inputs: dict, backend: str) -> Answer:
    passages, draft = inputs["passages"], inputs["draft"]
    text, order, dropped = verify(searcher, inputs["question"], draft, passages)
    citations = [Citation(new, passages[old - 1]) for new, old in enumerate(order, 1)]
    if not citations:
        reason = draft.strip() if draft.strip().startswith(NOT_FOUND) else f"{NOT_FOUND}与该问题直接相关的内容。"
        return Answer(inputs["question"], reason, [], True, passages, related=passages[:3], backend=backend, dropped=dropped)
    return Answer(inputs["question"], text, citations, False, passages, backend=backend, dropped=dropped)


def answer_chain(searcher: HybridSearcher, llm: Runnable | None = None, filters: dict | None = None, k: int = 10) -> Runnable:
    """question → Answer, with the LLM as writer when one is given, else the extractive writer."""
    retrieve = RunnableLambda(lambda question: gather(searcher, question, filters, k))
    if llm is None:
        write = RunnableLambda(lambda inputs: extractive_draft(searcher, inputs))
    else:
        context = RunnableLambda(lambda inputs: {"question": inputs["question"], "context": "\n".join(label(n, p) for n, p in enumerate(inputs["passages"][:8], 1))})
        write = context | PROMPT | llm | StrOutputParser()
    backend = "extractive" if llm is None else "llm"
    return retrieve | RunnablePassthrough.assign(draft=write) | RunnableLambda(lambda inputs: _finish(searcher, inputs, backend))


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
        except Exception as exc:  # network errors from any OpenAI-compatible client
            if self.llm is None:
                raise
            notes.append(f"大模型不可用（{LLMUnavailable.__name__}: {type(exc).__name__}: {exc}），已改用摘录式回答。请检查 REPORTQA_LLM_BASE_URL 或稍后重试。")
            answer = answer_chain(self.searcher, None, filters, k).invoke(question)
        answer.notes = notes + answer.notes
        answer.latency_ms = (time.perf_counter() - started) * 1000
        return answer
