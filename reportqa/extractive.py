"""The writer used without an LLM: the retrieved sentences that answer, each cited.

Many of our users have no hosted LLM, so the default answer is composed from
the reports' own sentences. Candidate sentences from the top passages are
scored by the question's weighted terms (idf) and by their meaning (the
embedder over the candidates), then chosen by what the question asks: the
sentence stating the item with its figure, the points of a section or the most
relevant distinct sentences for a how/what question, every side for a
comparison, every document for a which-question. When the passages lack the
question's distinctive terms, the answer is 「资料中未提及」.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from itertools import pairwise, takewhile
from statistics import NormalDist, fmean, pstdev

from reportqa.evidence import Evidence
from reportqa.figures import DATES, Measure, chinese_number, has_figure, stripped_figure
from reportqa.ingest import Chunk
from reportqa.ingest.meta import META_LABELS
from reportqa.lexicon import nouns_of
from reportqa.periods import as_year, relative_years, stated_years
from reportqa.question import Understanding, years_label
from reportqa.retrieve import CANDIDATES, HybridSearcher, Passage, bigrams, without
from reportqa.store import years_of
from reportqa.which import WhichAnswer

NOT_FOUND = "资料中未提及"
SENTENCES = re.compile(r"(?:“[^”。！？\n]*(?=[。！？]?”)|[^。！？；\n])+(?:[。！？；]+[”’」）]?)?(?:\s*\[\d+\])*")  # a quotation's ； ends no sentence
NUMBER = re.compile(r"\d+(?:\.\d+)?")
SPEAKER = re.compile(r"^[\u4e00-\u9fff]{2,4}[：:]")  # 孙雷：… at the start of an answer turn
LIST_LEAD = re.compile(r"^(?:[一二三四五六七八九十]+是|第[一二三四五六七八九十]+[，、是]|\d{1,2}[.、．](?!\d)|（[一二三四五六七八九十\d]{1,3}）|[①②③④⑤⑥⑦⑧⑨⑩])")
CLAUSE = re.compile(r"[，；、：]")
ANNOUNCES = re.compile(r"以下|如下|：$")  # 「必须牢牢把握以下重大原则。」: what follows are the points
ENUMERATOR = re.compile(r"^(\D{0,2}?)(?:(?:\d{1,2}|[一二三四五六七八九十]{1,3})(\D)|[①②③④⑤⑥⑦⑧⑨⑩])")  # 「“1”」「一是」「（二）」「第三，」

TOP_PASSAGES = 6  # sentences are drawn from these
TOP_SECTIONS = 3  # a how/what answer lists the points of the section, on these passages' paths, that names the item
SEMANTIC_CANDIDATES = 8  # the best by terms are embedded and compared with the question
MAX_FACT_SENTENCES = 3
MAX_POINTS = 8
REDUNDANT_BIGRAMS = 0.5  # MMR: a sentence sharing this share of bigrams with a chosen one adds nothing
# Refusal from evidence: the share of the question's distinctive weight (rare words by idf) the
# best passages must hold, unless a sentence is this close in meaning. Calibrated on the gold set's
# dev half (eval/reports/answers.md).
MIN_DISTINCTIVE = 0.5
MIN_MEANING = 0.88
PHRASE_GAP = 2  # characters a report may set between two nouns a question puts side by side: 工业[总]产值
# A sentence stating the asked figure holds most of the item's nouns by idf weight: 「城镇化率年均提高…」
# shares only 年均 with 「GDP年均增长」. Calibrated on the dev half: with no such share / 0.6 / 0.75 / 1.0,
# 36 / 37 / 38 / 38 of 42 unanswerable questions were refused and 8 / 8 / 9 / 16 of 206 answerable ones.
FIGURE_ITEM_SHARE = 0.75


@dataclass
class Reading:
    """What the writer makes of the evidence before choosing sentences."""

    weights: dict[str, float]  # the item's terms by idf
    nouns: dict[str, float]  # the item's nouns by idf: what an answering clause is about
    measure: Measure  # what a figure answer must be counted in (人, 元, %)
    top: list[Passage]  # the best passages within the scope the question and the user set: sentences come from these
    pool: list[Candidate]  # best first
    held: float  # share of the distinctive weight the best of the top 5 passages holds
    elsewhere: float  # share of it in nouns other documents hold but none in the question's scope
    absent: list[str]  # those nouns
    year: int | None = None  # the one year the question asks about (去年, 2019年), apart from a report's own
    asked: frozenset[str] = frozenset()  # the question's bigrams: what sentences share by answering it

    def of_year(self, candidate: Candidate) -> bool:
        """Can the sentence state the asked year's figure? It speaks of that year: a 2021 report's
        「全年完成工业投资…」 is 2021's, not 2019's."""
        return self.year is None or self.year in candidate.years

    @property
    def meaning(self) -> float:
        return max((c.meaning for c in self.pool), default=0.0)

    @property
    def off_scope(self) -> bool:
        """The documents the question names lack most of its distinctive words while others hold
        them (人工智能, asked of the 1982 report): no sentence of theirs is about it, however close
        in meaning."""
        return self.elsewhere > 1 - MIN_DISTINCTIVE

    def lacks_evidence(self) -> bool:
        """Neither the item's distinctive words nor a sentence close in meaning, or off the scope: refuse."""
        return not self.pool or self.off_scope or (self.held < MIN_DISTINCTIVE and self.meaning < MIN_MEANING)


@dataclass
class Candidate:
    text: str
    n: int  # the passage's number in the answer's list, from 1
    terms: float = 0.0  # weighted share of the question's terms it holds
    meaning: float = 0.0  # cosine to the question
    figure: bool = False  # states a figure in the clause about the item
    years: frozenset[int] = frozenset()  # the years it speaks of (dated_statements)
    more: list[tuple[str, Chunk]] = field(default_factory=list)  # points it announces that run into later passages

    @property
    def score(self) -> float:
        return self.terms + self.meaning


def term_weights(searcher: HybridSearcher, text: str) -> dict[str, float]:
    """Each token of the text weighted by its idf; a token the corpus lacks weighs the most."""
    idf = searcher.index.idf
    return {t: idf.get(t, searcher.rarest_idf) for t in set(searcher.index.tokenizer.tokens(text))}


def coverage(weights: dict[str, float], text: str) -> float:
    total = sum(weights.values())
    lowered = text.lower()
    return sum(w for t, w in weights.items() if t in lowered) / total if total else 0.0


def distinctive(searcher: HybridSearcher, weights: dict[str, float], item: str) -> dict[str, float]:
    """The rarer half of the item's terms: the words an answer cannot do without. A name no report
    holds counts (an answer about 张三 must name him); a verb no report uses (涨 for 增长) is the
    question's own wording, which no passage can hold."""
    nouns = searcher.index.tokenizer.nouns(item)
    weights = {t: w for t, w in weights.items() if t in searcher.index.idf or any(t in noun for noun in nouns)} or weights
    return {t: w for t, w in weights.items() if w >= searcher.median_idf} or weights


def held_elsewhere(searcher: HybridSearcher, core: dict[str, float], item: str, sources: list[str]) -> list[str]:
    """The distinctive nouns, and the phrases of two nouns the question sets side by side, that none
    of these documents holds while more than one passage of the others does: 生态文明 asked of the
    1982 report, which says 生态平衡 and 精神文明 but never the two together. A report may set a word
    between them (工业总产值 for 工业产值). The asker's verbs (打算, 一共) and a word one passage happens
    to use (娃娃) say nothing of what these documents are about."""
    index = searcher.index
    if not sources or not core:
        return []
    tagged, rarest = index.tokenizer.tagged(item), searcher.rarest_idf
    nouns = nouns_of(tagged)
    missing = [
        t for t in core
        if any(t in noun for noun in nouns) and index.idf.get(t, rarest) < rarest and not index.texts_holding(sources, [[t]])
    ]
    others, run_ends = [source for source in index.catalog.reports if source not in sources], -1
    for at, ((first, _), (second, _)) in enumerate(pairwise(tagged)):
        phrase = first + second
        if first in nouns and second in nouns and any(t in phrase for t in core):
            near = re.compile(f"{re.escape(first)}.{{0,{PHRASE_GAP}}}{re.escape(second)}")
            held_here = any(near.search(text) for text in index.texts_holding(sources, [[first, second]]).values())
            if not held_here and sum(text.count(phrase) for text in index.texts_holding(others, [[phrase]]).values()) > 1:
                if run_ends == at:  # 民生实事 then 实事项目: 民生实事项目
                    missing[-1] += second
                else:
                    missing.append(phrase)
                run_ends = at + 1
    return sorted(missing, key=item.find)  # as the question says them


def statements(text: str) -> list[str]:
    """Sentences that can answer: an interviewer's question or a bare speaker label cannot. A
    garbled character read as 「？」 ends a sentence early; the rest starts with no comma (「…秸猩？，全年…」)."""
    out = []
    for sentence in SENTENCES.findall(text):
        sentence = SPEAKER.sub("", sentence.strip()).strip().lstrip("，、：,:")
        if len(sentence) >= 6 and not sentence.endswith(("？", "?")) and not sentence.startswith(("问：", "主持人")):
            out.append(sentence)
    return out


def dated_statements(chunk: Chunk) -> list[tuple[str, frozenset[int]]]:
    """The chunk's statements, each with the years it speaks of: those it names, absolute or
    relative to its report's year (a 1921 report's 「去年一年之中，工会已增加到一百多个」 is 1920's),
    else those its paragraph named last (「到2026年，…；…。在此基础上，…；农民人均收入达到5万元。」),
    else its section's."""
    out, section, reference = [], years_of(chunk), as_year(chunk.meta.get("year"))
    for paragraph in chunk.text.split("\n"):
        context: frozenset[int] = frozenset()
        for sentence in statements(paragraph):
            context = frozenset(stated_years(sentence) | (relative_years(sentence, reference) if reference else set())) or context
            out.append((sentence, context or section))
    return out


def _lead(line: str) -> str | None:
    """How an enumerated line opens, its number levelled; None for a line that opens with no number."""
    lead = ENUMERATOR.match(line)
    return _levelled(lead) if lead else None


def _levelled(lead: re.Match) -> str:
    """An enumerator with its number levelled: 「“1”即」 and 「“4”即」 are both 「“0”」, 「一是」 and 「二是」 「0是」."""
    return lead.group(1) + "0" + (lead.group(2) or "")


def _completed(index, chunk: Chunk, sentence: str) -> tuple[str, list[tuple[str, Chunk]]]:
    """A sentence ending in 「：」 announces what follows: the lines after it that open alike
    (「“1”即…」「“4”即…」), read on in the report past the passage's end (those come back with the
    passage holding them), else the next sentence. A paragraph of one sentence followed by such
    lines (「党代会报告里点赞了我们的两项特色、亮点工作。」「第一项是…」「第二项是…」) announces their
    opening sentences. The report's text is read only when the lines run to the passage's end."""
    at = chunk.text.find(sentence)
    end = at + len(sentence)
    announces = sentence.endswith("：")
    if not (announces or ((at == 0 or chunk.text[at - 1] == "\n") and chunk.text[end : end + 1] == "\n")):
        return sentence, []
    lines, items = _alike_lines(chunk.text, end, chunk.start, announces)
    if len(items) == len(lines):  # the run may go on in the next passage
        lines, items = _alike_lines(index.documents[chunk.source].text, chunk.start + end, 0, announces)
    if len(items) < 2:
        rest = statements(chunk.text[end:]) if announces else []
        return (sentence + rest[0] if rest else sentence), []
    inside = "".join(line for start, line in items if start + len(line) <= chunk.end)
    beyond = [(line, holder) for start, line in items if start + len(line) > chunk.end and (holder := _holding(index, chunk.source, start, len(line)))]
    return sentence + inside, beyond


def _alike_lines(text: str, position: int, offset: int, whole: bool) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The lines after position (with their starts, offset into the report) and the first of them
    that open alike: whole lines, or their opening sentences."""
    lines = []
    for line in text[position:].split("\n", MAX_POINTS + 1)[: MAX_POINTS + 1]:
        if line.strip():
            lines.append((offset + position, line.strip() if whole else (statements(line) or [""])[0]))
        position += len(line) + 1
    lead = _lead(lines[0][1]) if lines else None
    return lines, list(takewhile(lambda item: lead and _lead(item[1]) == lead, lines))


def _holding(index, source: str, start: int, length: int) -> Chunk | None:
    """The report's passage that holds the whole span."""
    return next((c for c in (index.chunks[i] for i in index.chunks_by_source[source]) if c.start <= start and start + length <= c.end), None)


def _number(passages: list[Passage], chunk: Chunk) -> int:
    """The chunk's number in the answer's passages, added at the end if it is not among them."""
    if chunk.id not in {p.chunk.id for p in passages}:
        passages.append(Passage(chunk, 0.0, 0.0, 0.0))
    return next(i for i, p in enumerate(passages, 1) if p.chunk.id == chunk.id)


def cited_candidate(candidate: Candidate, passages: list[Passage]) -> str:
    """The candidate cited, and the points it announces that later passages hold, each cited to its own."""
    return cited(candidate.text, candidate.n) + "".join(cited(point, _number(passages, chunk)) for point, chunk in candidate.more)


def cited(sentence: str, n: int) -> str:
    return f"{sentence if sentence[-1] in '。！？；：' else sentence + '。'}[{n}]"


def about_item(sentence: str, core: dict[str, float], weights: dict[str, float]) -> list[str]:
    """The clause holding the item's distinctive words, and the ones after it while each shares a
    word with the question (「产值万元，同比增长21%」 for 同比增长; 「在第五个五年计划期内，把全国三分之一的
    企业建成大庆式企业」); none when no clause holds enough."""
    clauses = CLAUSE.split(sentence)
    return [clauses[i] for i in item_span(clauses, core, weights)]


def item_span(clauses: list[str], core: dict[str, float], weights: dict[str, float]) -> range:
    """Where about_item's clauses stand among the sentence's clauses (empty when none holds enough)."""
    return next(iter(item_spans(clauses, core, weights)), range(0))


def item_spans(clauses: list[str], core: dict[str, float], weights: dict[str, float], floor: float = MIN_DISTINCTIVE) -> list[range]:
    """Each run of clauses about the item: one from every clause holding the most of its nouns (at
    least floor of them), through the clauses after it that share a word with the question. A long
    sentence may name the item twice (「…省级企业研究院等在科创…，省级企业研究院新增1家」), its figure
    with the second."""
    fits = [coverage(core, c) for c in clauses]
    top = max(fits, default=0.0)
    if not top or top < floor:
        return []
    spans = []
    for best in (i for i, fit in enumerate(fits) if fit == top):
        end = best + 1
        while end < len(clauses) and coverage(weights, clauses[end]) > 0:
            end += 1
        spans.append(range(best, end))
    return spans


def naming_titles(searcher: HybridSearcher, u: Understanding) -> str:
    """The titles of the reports the question names: their words (陈独秀 of 「陈独秀在三大报告里…」)
    say which report, not which of its sentences."""
    return "".join(searcher.index.catalog.reports[source].title for source in u.reports)


def item_nouns(searcher: HybridSearcher, u: Understanding, weights: dict[str, float], titles: str) -> dict[str, float]:
    """The item's nouns, in their smallest indexed parts (工业产值 → 工业, 产值: the report may say
    工业总产值), by idf: what the sentence answering it must be about. The question's verbs and
    adverbs (要涨, 一共) are its own wording, not the report's, and so is a word no report uses
    (老家 for 返乡, 涨): no clause can hold it, so it cannot mark the clause about the item. Nor can
    the title words by which the question names its report (广州 in 「一大广州共产党报告说…」), nor the
    measure it asks in (人 in 「脱贫了多少人」). The nouns are read both in the item and in the whole
    question: the item joins words the question kept apart (修林道 of 「修了几公里林道」), the question
    may tag a noun as a verb (收入 of 「农民的收入每年」)."""
    tokenizer, idf = searcher.index.tokenizer, searcher.index.idf
    parts = {}
    for noun in dict.fromkeys(tokenizer.nouns(u.item or u.query) + u.item_nouns):
        parts.update({t: idf[t] for t in tokenizer.smallest_parts(noun) if t in idf and t not in titles and t != u.measure.unit})
    return parts or {t: w for t, w in weights.items() if t in idf}


def _states_figure(sentence: str, core: dict[str, float], weights: dict[str, float], measure: Measure) -> bool:
    """Does the sentence, holding most of the item's nouns, state a quantity of the asked measure
    (not a year, an ordinal, or a rate for a level) about the item? A measure the question names
    (人, 元) may follow in the next clause: 「工人中有许多人力车夫，计有五万到六万人」, or lead
    it, as a date does: 「全年投入资金2600万元，全面完成7个新时代美丽乡村建设项目」「到一九八○年，要建成…工业体系」."""
    if coverage(core, sentence) < FIGURE_ITEM_SHARE:
        return False
    clauses = CLAUSE.split(sentence)
    return any(_span_states(clauses, span, measure) for span in item_spans(clauses, core, weights))


def _span_states(clauses: list[str], span: range, measure: Measure) -> bool:
    if any(has_figure(clauses[i], measure) for i in span):
        return True
    if measure.change and span.stop < len(clauses) and has_figure(clauses[span.stop], measure):
        return True  # 「国内生产总值达到九万五千九百三十三亿元，比一九八九年增长近两倍」
    if not measure.unit:
        return False
    if span.start > 0 and has_figure(clauses[span.start - 1], replace(measure, rate_ok=False)):
        return True
    return measure.unit not in DATES and span.stop < len(clauses) and has_figure(clauses[span.stop], replace(measure, rate_ok=False))


def candidates(searcher: HybridSearcher, numbered: list[Passage], passages: list[Passage], weights: dict[str, float], core: dict[str, float], vector, measure: Measure) -> list[Candidate]:
    """Every answering sentence of the passages, scored by terms and, for the best, by meaning;
    numbered by their place in the answer's list. A heading or the report's title names a topic:
    it answers nothing."""
    number = {p.chunk.id: n for n, p in enumerate(numbered, 1)}
    found: dict[str, Candidate] = {}
    for passage in passages:
        headings = {*passage.chunk.section_path, passage.chunk.meta.get("title", "")}
        for sentence, years in dated_statements(passage.chunk):
            sentence, more = _completed(searcher.index, passage.chunk, sentence)
            if sentence not in found and sentence.rstrip("。：") not in headings:
                found[sentence] = Candidate(sentence, number[passage.chunk.id], coverage(weights, sentence), years=years, more=more)
    ranked = sorted(found.values(), key=lambda c: -c.terms)
    best = ranked[:SEMANTIC_CANDIDATES]
    if not any(c.terms for c in best):  # the question's words are in no sentence: meaning alone must choose, among all
        best = ranked
    if best:
        vectors = searcher.embed_sentences([c.text for c in best])
        for candidate, cosine in zip(best, vectors @ vector):
            candidate.meaning = float(cosine)
    for candidate in ranked:
        candidate.figure = _states_figure(candidate.text, core, weights, measure)
    return sorted(best, key=lambda c: -c.score) + ranked[SEMANTIC_CANDIDATES:]


def mmr(pool: list[Candidate], limit: int, floor: float, asked: frozenset[str] = frozenset()) -> list[Candidate]:
    """The best candidates that do not repeat each other (maximal marginal relevance, by bigrams).
    Points of a list may all repeat the question (asked): 「中国式现代化是人口规模巨大的现代化」 and
    「中国式现代化是人与自然和谐共生的现代化」 are two points about 中国式现代化. Two figures of
    one item are not: the second must differ in more than the item."""
    chosen: list[Candidate] = []
    for candidate in pool:
        if len(chosen) >= limit or candidate.score < floor:
            break
        grams = bigrams(candidate.text) - asked
        if all(len(grams & bigrams(c.text)) / max(len(grams), 1) < REDUNDANT_BIGRAMS for c in chosen):
            chosen.append(candidate)
    return chosen


def refuse(reason: str = "与该问题直接相关的内容") -> str:
    return f"{NOT_FOUND}{reason}。"


# ---------------------------------------------------------------- which documents


def which_draft(found: WhichAnswer, passages: list[Passage]) -> str:
    """「共 2 份材料提到「未来社区」：余新镇[1]、凤桥镇[2]。」 then each document's sentence, under its label."""
    if not found.documents:
        return refuse(f"「{found.term}」（在所查范围的全部材料中都没有找到）")
    number = {p.chunk.id: n for n, p in enumerate(passages, 1)}
    verbatim = [d for d in found.documents if d.wording == found.term]
    reworded = [d for d in found.documents if d.wording != found.term]

    def names(documents) -> str:
        return "、".join(f"{_short_label(d, found)}[{number[d.passages[0].chunk.id]}]" for d in documents)

    unit = ("个镇街" if all(d.report.town for d in found.documents) else "个地方") if found.over_towns else "份材料"
    count = len({d.report.issuer for d in found.documents}) if found.over_towns else len(found.documents)
    if verbatim:
        lines = [f"资料中共有 {count} {unit}提到「{found.term}」：{names(verbatim)}。"] + ([f"说法相近的有：{names(reworded)}。"] if reworded else [])
    else:  # none says it in so many words: they are not said to mention it
        lines = [f"资料中没有「{found.term}」的原话；说法相近的有 {count} {unit}：{names(reworded)}。"]
    for document in found.documents:
        first = document.passages[0]
        quote = next((s for s in statements(first.chunk.text) if document.wording in s), first.chunk.text[:80])
        lines.append(f"{document.report.label()}：{cited(quote, number[first.chunk.id])}")
    return "\n".join(lines)


def _short_label(document, found: WhichAnswer) -> str:
    report = document.report
    if found.over_towns or (report.town and sum(d.report.issuer == report.issuer for d in found.documents) == 1):
        return report.issuer
    return report.label()


# ---------------------------------------------------------------- the writer


def extractive_draft(searcher: HybridSearcher, evidence: Evidence) -> tuple[str, list[Passage]]:
    """The draft with [n] citations into the returned passages (which may add a section's chunks)."""
    u, passages = evidence.understanding, list(evidence.passages)
    if evidence.refusal:
        return refuse(evidence.refusal), passages
    if passages and (field := report_field(searcher, u)):  # 「…报告是哪一年作的」 reads as which-years too
        return report_field_draft(searcher, u, passages, field), passages
    if evidence.which is not None:
        return which_draft(evidence.which, passages), passages
    if not passages:
        return refuse(), passages
    reading = read(searcher, evidence)
    if reading.lacks_evidence():
        if reading.off_scope:
            where = " · ".join(u.scope()) or "、".join(v for values in evidence.scope.values() for v in values)  # else the user's filters
            words = [w for w in reading.absent if not any(w != other and w in other for other in reading.absent)]
            return refuse(f"{where}中关于「{'、'.join(words)}」的内容（资料库中的其他材料提到了）"), passages
        return refuse(), passages
    pool = reading.pool
    if u.kind == "compare":
        return compare_draft(searcher, evidence, reading)
    if u.wants_figure and u.kind != "list":
        answer = figure_draft(reading)
        if answer.startswith(NOT_FOUND) and evidence.scope and (further := stated_further(searcher, evidence, reading)):
            candidate, passage = further
            return cited(candidate.text, _number(passages, passage.chunk)), passages
        return answer, passages
    if u.wants_person:
        return person_draft(searcher, u, reading), passages
    if u.kind == "list":
        return list_draft(searcher, evidence, reading)
    floor = 0.85 * pool[0].score
    return "".join(cited_candidate(c, passages) for c in mmr(pool, MAX_FACT_SENTENCES, floor, reading.asked)), passages


def read(searcher: HybridSearcher, evidence: Evidence) -> Reading:
    u, passages = evidence.understanding, evidence.passages
    weights, titles = term_weights(searcher, u.item or u.query), naming_titles(searcher, u)
    weights = {t: w for t, w in weights.items() if t not in titles} or weights
    sources = [r.source for r in searcher.index.catalog.in_scope(evidence.scope)] if evidence.scope else []
    top = [p for p in passages if not sources or p.chunk.source in sources][:TOP_PASSAGES]  # not those filling up a small scope
    nouns = item_nouns(searcher, u, weights, titles)
    measure = replace(u.measure, counted=frozenset(nouns))
    pool = candidates(searcher, passages, top, weights, nouns, evidence.vector, measure)
    core = distinctive(searcher, weights, u.item or u.query)
    held = max((coverage(core, p.chunk.embedding_text()) for p in top[:5]), default=0.0)
    absent = held_elsewhere(searcher, core, u.item or u.query, sources)
    phrases = [word for word in absent if word not in core]  # 生态文明 weighs as 生态 and 文明
    elsewhere = sum(w for t, w in core.items() if t in absent or any(t in p for p in phrases)) / sum(core.values()) if core else 0.0
    years = set(u.years) - set(u.report_years)
    year = years.pop() if len(years) == 1 else None
    return Reading(weights, nouns, measure, top, pool, held, elsewhere, absent, year, frozenset(bigrams(u.item or u.query)))


def figure_draft(reading: Reading) -> str:
    """The best sentence stating the item with its figure, in the measure asked (人 for 多少名) if one
    does, else in another (the report may count in 个 what the question counts in 所); a rate never
    answers a level. Where the best sentence about the item has its figure stripped (「产值万元」,
    lost in conversion), say the source gives no value. The best sentence by words and meaning
    may state it where no clause holds most of the item's nouns (leading_figure). A question in
    other words than the report's (「没人照看的孩子发了多少钱」 for 困境儿童) has no clause about its nouns; there the
    sentence closest in meaning answers if it stands out from the others and states a figure of the
    asked measure (元, or any level).
    A question asking one year's figure takes only sentences that speak of that year."""
    pool = [c for c in reading.pool if reading.of_year(c)]
    asked = "增减" if reading.measure.change else "数字"  # a change asked of: the level may well be there
    missing = f"{years_label([reading.year])}的该项{asked}" if reading.year else f"该项的具体{asked}"
    if not pool:
        return refuse(missing)
    for candidate in pool:
        if candidate.figure:
            stating = [c for c in pool if c.figure]
            return "".join(cited(c.text, c.n) for c in mmr(stating, 2, 0.9 * candidate.score))
        if stripped_figure(candidate.text) and candidate.terms >= MIN_DISTINCTIVE:
            return refuse("该项的具体数字（原文此处没有给出数值）")
    if reading.measure.counter:  # 个 may answer 多少所; 亩 never answers 多少斤
        any_measure = replace(reading.measure, unit="")
        stating = [c for c in pool if _states_figure(c.text, reading.nouns, reading.weights, any_measure)]
        if stating:
            return cited(stating[0].text, stating[0].n)
    if leader := leading_figure(reading):
        return cited(leader.text, leader.n)
    closest = max(pool[:SEMANTIC_CANDIDATES], key=lambda c: c.meaning)
    if stands_out(closest, pool[:SEMANTIC_CANDIDATES]) and not about_item(closest.text, reading.nouns, reading.weights) and has_figure(closest.text, reading.measure):
        return cited(closest.text, closest.n)
    return refuse(missing)


def leading_figure(reading: Reading) -> Candidate | None:
    """The best sentence by the question's words and meaning, where it stands out from the others
    by both, holds at least half the item's nouns and states a figure in the measure the question
    names in the clauses that share the most of its words: 「开十七大的时候党成立多少年了」 is
    answered by 「我们党已经成立八十六年」 although its nouns (时候, 党) share a clause elsewhere
    in the sentence, 「帮多少人解决了就业」 by 「完成就业帮扶186人」 although 解决 is the asker's
    word. Without a measure word (「是多少」) any level would do, and a neighbouring item's would
    answer."""
    leader = reading.pool[0]
    if not (reading.measure.unit and reading.of_year(leader) and coverage(reading.nouns, leader.text) >= MIN_DISTINCTIVE):
        return None
    clauses = CLAUSE.split(leader.text)
    spans = item_spans(clauses, reading.weights, reading.weights, floor=0.0)
    if not any(has_figure(clauses[i], reading.measure) for span in spans for i in span):
        return None
    return leader if stands_out(leader, reading.pool[:SEMANTIC_CANDIDATES], lambda c: c.score) else None


def stands_out(closest: Candidate, among: list[Candidate], value: Callable[[Candidate], float] = lambda c: c.meaning) -> bool:
    """Is the sentence closest in meaning (or best by another value) further ahead of the others
    than the best of as many random draws would be (the expected maximum of n normal scores, by
    Blom's formula)? A paraphrase of the question stands out; when nothing answers, the closest is
    one of a crowd."""
    scores = [value(c) for c in among]
    if len(scores) < 3 or not (spread := pstdev(scores)):
        return False
    n = len(scores)
    return (value(closest) - fmean(scores)) / spread > NormalDist().inv_cdf((n - 0.375) / (n + 0.25))


def stated_further(searcher: HybridSearcher, evidence: Evidence, reading: Reading) -> tuple[Candidate, Passage] | None:
    """A figure of a common item is one sentence in a passage about other things: 「拥有七千多万党员」
    in a passage on 党的建设, below the passages that use 党员 on every line. Within the documents the
    question names, the passages further down by the item's words are read for a sentence stating
    it in the asked measure, of the asked year. Found that far down, the sentence must hold every
    noun of the item as the question writes it (落实率, not only 落实)."""
    u = evidence.understanding
    nouns = [n for n in searcher.index.tokenizer.nouns(u.item or u.query) if searcher.index.knows(n)]
    further = without(searcher.search(u.item or u.query, evidence.scope, CANDIDATES, "bm25", evidence.vector), reading.top)
    pool = candidates(searcher, further, further, reading.weights, reading.nouns, evidence.vector, reading.measure)
    stating = sorted((c for c in pool if c.figure and reading.of_year(c) and nouns and all(n in c.text for n in nouns)), key=lambda c: -c.terms)
    return (stating[0], further[stating[0].n - 1]) if stating else None


def person_draft(searcher: HybridSearcher, u: Understanding, reading: Reading) -> str:
    """「…是谁」: the best sentence naming a person (jieba's nr, not a place the corpus knows) in
    the clause about the item (镇长, not 党委书记)."""
    for candidate in reading.pool[:SEMANTIC_CANDIDATES]:
        for clause in about_item(candidate.text, reading.nouns, reading.weights):
            names = [w for w, flag in searcher.index.tokenizer.tagged(clause) if flag == "nr" and w not in u.question]
            if any(not searcher.index.catalog.places.get(name) for name in names):
                return cited(candidate.text, candidate.n)
    return refuse("相关人员的姓名")


def report_field(searcher: HybridSearcher, u: Understanding) -> str:
    """The metadata field a question about nothing but the report itself asks for (its item, past
    the names, is at most a one-character verb: 作, 讲, 开): 「十八大报告是谁作的」 its speaker,
    「十五大是哪一年开的」 its year; "" for any other question. (The recorded date is the page's
    publication date, not the day the report was given.)"""
    if any(len(w) >= 2 for w in searcher.index.tokenizer.words(u.item)):
        return ""
    if u.wants_person:
        return "speaker"
    return "year" if u.measure.unit in ("年", "时") else ""


def report_field_draft(searcher: HybridSearcher, u: Understanding, passages: list[Passage], field: str) -> str:
    """The report's own record (讲话人, 年份), not its sentences: only when what the question
    names (place, report, year, kind) leaves one report, since the best passage's report would be a
    guess."""
    label = META_LABELS[field]
    named = [r for r in searcher.index.catalog.in_scope(u.filters()) if not u.years or r.year in u.years]
    if len(named) != 1:
        return refuse(f"是哪一份材料的{label}（问题所指的不是资料库中的某一份材料，请写明镇街、年份或报告）")
    n = next((i for i, p in enumerate(passages, 1) if p.chunk.source == named[0].source), None)
    value = str(passages[n - 1].chunk.meta.get(field) or "") if n else ""
    if not value:
        return refuse(f"这份材料的{label}（资料信息中没有记录）")
    return cited(f"{passages[n - 1].source_label()}的{label}：{value}{'年' if field == 'year' else ''}", n)


def list_draft(searcher: HybridSearcher, evidence: Evidence, reading: Reading) -> tuple[str, list[Passage]]:
    """How/what/summary: the points of the section about the item (sub-headings, 一是… leads), or
    the enumerated points around the best sentence (「分为三派：1.…2.…」), else the most relevant
    distinct sentences."""
    passages, pool, count = list(evidence.passages), reading.pool, evidence.understanding.count
    points = section_points(searcher, reading.top[:TOP_SECTIONS], reading.nouns)
    if count >= 2 and len(points) != count:
        points = counted_run(searcher.index, reading.top[:TOP_SECTIONS], count) or points
    if len(points) < 2 and announces_list(pool[0].text):
        points = enumerated(passages[pool[0].n - 1].chunk)
    if len(points) < 2 and ANNOUNCES.search(pool[0].text):
        points = sections_after(searcher.index, passages[pool[0].n - 1].chunk, pool[0].text)
    if len(points) < 2:
        headings = (c for c in pool[:SEMANTIC_CANDIDATES] if names_whole(c.text, reading.nouns))
        points = next((run for c in headings if (run := paragraph_points(searcher.index, passages[c.n - 1].chunk, c.text))), [])
        points = points or headed_paragraph(searcher.index, passages[pool[0].n - 1].chunk, pool[0].text, reading.nouns)
    if len(points) >= 2:
        lines = []
        for point, chunk in points[: max(MAX_POINTS, count)]:
            lines.append(cited(point, _number(passages, chunk)))
        return "\n".join(lines), passages
    chosen = mmr(pool, MAX_POINTS // 2 + 1, 0.7 * pool[0].score, reading.asked)
    return "\n".join(cited_candidate(c, passages) for c in chosen), passages


def section_points(searcher: HybridSearcher, top: list[Passage], nouns: dict[str, float]) -> list[tuple[str, Chunk]]:
    """The section (on the top passages' paths) whose heading best names the item, and its points:
    its sub-headings, else its enumerated sentences."""
    fitting = [
        (coverage(nouns, p.chunk.section_path[i - 1]), -i, p.chunk.section_path[:i], p.chunk.source)
        for p in top
        for i in range(2, len(p.chunk.section_path) + 1)
    ]
    fitting = [f for f in fitting if f[0] >= MIN_DISTINCTIVE]
    if not fitting:
        return []
    _, _, section, source = max(fitting)
    index = searcher.index
    inside = [index.chunks[i] for i in index.chunks_by_source[source] if index.chunks[i].section_path[: len(section)] == section]
    points = sub_headings(inside, section)
    if len(points) < 2:
        points = {point: chunk for chunk in inside for point, _ in enumerated(chunk)}
    if len(points) < 2 and all(noun in section[-1].lower() for noun in nouns):
        points = run_in_headings(inside)
    return list(points.items())


def counted_run(index, top: list[Passage], count: int) -> list[tuple[str, Chunk]]:
    """「抓纲治国的八项任务都有哪些」 says how many points there are. A report may give them as
    paragraphs that open 第一，… 第八，, each followed by paragraphs of its own, too far apart for one
    passage: the run of such paragraphs with that many, around a top passage, gives them, each
    paragraph's opening sentence a point."""
    for passage in top:
        source = passage.chunk.source
        for run in lead_runs(index.documents[source].text):
            if len(run) == count and run[0][0] < passage.chunk.end and passage.chunk.start <= run[-1][0]:
                return [(sentence, chunk) for start, sentence in run if (chunk := _holding(index, source, start, len(sentence)))]
    return []


def lead_runs(text: str) -> list[list[tuple[int, str]]]:
    """The runs of paragraphs that open alike and count up from one (第一，… 第二，…; 一是… 二是…),
    other paragraphs between them: each paragraph's start and opening sentence."""
    runs: dict[str, list[tuple[int, str]]] = {}
    done: list[list[tuple[int, str]]] = []
    position = 0
    for line in text.split("\n"):
        lead = ENUMERATOR.match(line)
        if lead and (number := _lead_number(lead)):
            key = _levelled(lead)
            run = runs.setdefault(key, [])
            if number != len(run) + 1:
                if len(run) >= 2:
                    done.append(run)
                run = runs[key] = []
            if number == 1 or run:
                run.append((position, (statements(line) or [line])[0]))
        position += len(line) + 1
    return done + [run for run in runs.values() if len(run) >= 2]


def _lead_number(lead: re.Match) -> int:
    """The number an enumerator counts (三 of 「第三，」, 2 of 「2.」), 0 for ①…"""
    digits = lead.group(0)[len(lead.group(1)) :].rstrip(lead.group(2) or "")
    value = int(digits) if digits.isdigit() else chinese_number(digits)
    return int(value) if value else 0


def run_in_headings(chunks: list[Chunk]) -> dict[str, Chunk]:
    """A section named for the whole item but without sub-headings may open each paragraph with
    one (「打造“美丽生态”长效版。持续开展…」): a sentence of one clause, with more after it. Each is a
    point, with the sentence that begins to carry it out."""
    points: dict[str, Chunk] = {}
    for chunk in chunks:
        for line in chunk.text.split("\n"):
            sentences = statements(line)
            if len(sentences) >= 2 and one_clause(sentences[0]):
                points.setdefault(f"{sentences[0]}{sentences[1]}", chunk)
    return points


def sub_headings(chunks: Iterable[Chunk], section: tuple[str, ...]) -> dict[str, Chunk]:
    """The headings one level below a section among its chunks, in order, each with its first chunk."""
    firsts: dict[str, Chunk] = {}
    for chunk in chunks:
        if len(chunk.section_path) > len(section):
            firsts.setdefault(chunk.section_path[len(section)], chunk)
    return {_point(title, chunk): chunk for title, chunk in firsts.items()}


def _point(title: str, chunk: Chunk) -> str:
    """A lead paragraph whose opening sentence is too long to be a heading (「——在优化结构…翻两番，
    综…」, cut by the parser) has no short point: the point is the paragraph."""
    paragraph = chunk.text.split("\n", 1)[0].lstrip("—")
    return paragraph if title.endswith("…") and paragraph.startswith(title.removesuffix("…")) else title


def sections_after(index, chunk: Chunk, sentence: str) -> list[tuple[str, Chunk]]:
    """「必须牢牢把握以下重大原则。」 closing a passage announces the sub-sections right after it
    (「——坚持和加强党的全面领导。」…): their headings are the points."""
    if not chunk.text.rstrip().endswith(sentence):
        return []
    parts = [index.chunks[i] for i in index.chunks_by_source[chunk.source]]
    after = parts[[part.id for part in parts].index(chunk.id) + 1 :]
    depth = len(chunk.section_path)
    below = takewhile(lambda part: part.section_path[:depth] == chunk.section_path and len(part.section_path) > depth, after)
    points = sub_headings(below, chunk.section_path)
    return list(points.items())[:MAX_POINTS] if len(points) >= 2 else []


def names_whole(sentence: str, nouns: dict[str, float]) -> bool:
    """Is the sentence a heading of the item: one clause that holds all its nouns (「（三）实施乡村振兴
    战略。」), where a longer sentence only mentions it among other things?"""
    return bool(nouns) and one_clause(sentence) and all(noun in sentence.lower() for noun in nouns)


def one_clause(sentence: str) -> bool:
    """Is the sentence one clause, as a heading is (「抓项目、优环境」 lists within one)?"""
    return not CLAUSE.search(sentence.replace("、", ""))


def paragraph_points(index, chunk: Chunk, sentence: str) -> list[tuple[str, Chunk]]:
    """A run-in heading (「全面抓好安全生产。」 opening its paragraph) stands for its paragraph: the
    paragraph's sentences, read on across chunk boundaries, are the points."""
    at = chunk.text.find(sentence)
    if at < 0 or (at > 0 and chunk.text[at - 1] != "\n"):
        return []
    points, position = [], chunk.start + at
    for part in (index.chunks[i] for i in index.chunks_by_source[chunk.source]):
        if part.end <= position:
            continue
        if part.start > position:
            break
        rest = part.text[position - part.start :]
        line, ends = rest.split("\n", 1)[0], "\n" in rest
        points += [(s, part) for s in statements(line)]
        position += len(line)
        if ends or len(points) >= MAX_POINTS:
            break
    return points[:MAX_POINTS] if len(points) >= 2 else []


def headed_paragraph(index, chunk: Chunk, sentence: str, nouns: dict[str, float]) -> list[tuple[str, Chunk]]:
    """The points of the paragraph holding the sentence, where its run-in heading names the item
    (「工业转型扎实推进。」 before 「全面完成“一企一档”调查，…」), which may lie in an earlier passage;
    else the paragraph the sentence opens."""
    text, at = index.documents[chunk.source].text, chunk.text.find(sentence)
    start = text.rfind("\n", 0, chunk.start + max(at, 0)) + 1
    opening = next(iter(statements(text[start:].split("\n", 1)[0])), "")
    if opening and opening != sentence and names_whole(opening, nouns) and (holder := _holding(index, chunk.source, start, len(opening))):
        return paragraph_points(index, holder, opening)
    return paragraph_points(index, chunk, sentence)


def announces_list(sentence: str) -> bool:
    """「可以分为三派：1.民主主义运动」: the sentence opens an enumeration after its colon."""
    return any(LIST_LEAD.match(part) for part in sentence.split("：")[1:])


def enumerated(chunk: Chunk) -> list[tuple[str, Chunk]]:
    """The sentences of a passage that open with an enumerator (一是, 第二, 1., （三）, ②), the first
    one also after the colon that announces it (「分为三派：1.民主主义运动；」)."""
    points = []
    for sentence in statements(chunk.text):
        opened = sentence.rsplit("：", 1)[-1]
        if LIST_LEAD.match(opened):
            points.append((opened, chunk))
    return points


def compare_draft(searcher: HybridSearcher, evidence: Evidence, reading: Reading) -> tuple[str, list[Passage]]:
    """Every side the question names (places, reports or years), answered under its label with
    the best sentences of its own passages (the evidence searched each side on its own)."""
    passages = list(evidence.passages)
    lines = []
    for label, own in evidence.sides:
        pool = candidates(searcher, passages, own, reading.weights, reading.nouns, evidence.vector, reading.measure)
        if evidence.understanding.wants_figure:  # 「各有几家」: a side's sentence stating the figure comes first
            pool = sorted(pool, key=lambda c: not c.figure)
        if pool:
            lines.append(f"{label}：" + "".join(cited(c.text, c.n) for c in mmr(pool, 2, 0.9 * pool[0].score)))
        else:
            lines.append(f"{label}：{NOT_FOUND}。")
    return "\n".join(lines), passages
