"""What a question asks: which places, reports, years and document kinds it names, and what about.

Everything named is matched against the corpus's own catalog (metadata) and
vocabulary, not against lists of phrasings, so 「凤桥去年规上产值」, 「十五大报告」
or 「乌镇」 are read the same way in any corpus. What is left after the names
is the item asked about. The only word lists here are Chinese's closed
classes: interrogatives, and the nouns that stand for places, documents and
years in 「哪些地方／哪几份材料／哪几年」.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from itertools import accumulate

from reportqa.catalog import ORDINAL, PLACE_FIELDS, Catalog, Report, ordinals
from reportqa.figures import ASKS_DATE, ASKS_WHEN, COUNTING_JI, MEASURE_WORDS, Measure, amounts, asked_measure, chinese_number, unit_of
from reportqa.ingest.clean import simplified
from reportqa.ingest.meta import DOC_TYPES
from reportqa.lexicon import Tokenizer, nouns_of
from reportqa.periods import ABSOLUTE, BASELINE, PLAN, RANGE, RELATIVE_WORDS, SPAN_WORDS, years_in

MAX_COUNT = 30  # a larger number in a question is an amount, not a number of points
# 「都有哪几家」 ends the question: which towns or units; 「哪几家企业」 asks about firms.
PLACE_NOUNS = "乡镇|镇街|街镇|镇|乡|街道|地方|地区|区县|县区|县|区|市|省|单位|家(?=$|[？?，。！])"
DOCUMENT_NOUNS = "报告|材料|文件|文档|资料|份|篇|次|届|年份|年|党代会|大会"
WHICH = re.compile(rf"(?:哪|有没有|是否有|有无|什么|(?<!哪)几(?=[个份篇次届]))(?:一|个|些|几)?(?:个|份|篇|次|届)?({PLACE_NOUNS}|{DOCUMENT_NOUNS})")
MENTION = re.compile(r"提到|提及|提过|讲到|讲过|说到|说过|谈到|涉及|出现|写到|写进|有提")
# 「最近一次党代会报告」「上一次的报告」「最新的报告」 with no report named: the newest one in scope.
LATEST = re.compile(r"(?:最近|最新|上)一(?:次|份|届)|最新的?|最近的")
RECENT = re.compile(r"(?:最近|近)([两二三四五六七八九十])(?:次|份|届)")  # 「最近两次党代会报告」: the newest two
# 「十九大的下一届」「2012年党代会的上一届报告」: the report next to the one named, in its series.
NEIGHBOUR = re.compile(r"(?:之后|以后|之前|以前)?的?(下|上|前|后)一(?:届|次|份)")
PERSON = re.compile(r"谁|名字|姓名")  # 「服务站叫什么」 asks a thing's name, 「书记叫什么名字」 a person's
AGAINST = re.compile(rf"{BASELINE.pattern}|同比")  # a change asked against a baseline period
A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")  # 有没有, 是不是, 提没提: a verb asked yes or no
YES_NO = re.compile(rf"{A_NOT_A.pattern}|是否|有无|吗")
# 几 asks a count before a measure word (几公里, 几项), not in 几乎 / 几大; 哪一年 asks for a year as a
# figure (unless it asks which reports: see asks_which).
FIGURE = re.compile(rf"多少|多大|多高|多长|多快|多远|几成|百分之几|比例|比重|占比|增幅|增速|哪一?年|{ASKS_DATE}|{ASKS_WHEN}|{COUNTING_JI}(?=[\u4e00-\u9fff%])(?![乎大])")
# 「干点啥」「做些什么」: what is done, asked with a light verb or a plural 些/点, is a list
LIST = re.compile(r"怎么|怎样|如何|咋|哪些|哪几|那几|这几|(?:[干做搞抓办弄][了过]?)?[些点](?:啥|什么)|[干做搞抓办弄](?:啥|什么)|包括|分别|各自|有什么|有啥|都有|干了|做了|搞了|讲了|说了|内容|概括|总结|归纳|介绍|措施|举措|做法|办法|路径|任务|重点|方面|亮点|成效|成绩")
COMPARE = re.compile(r"和|与|跟|同|及|、|比|对比|相比|比较|区别|不同|差别|差异|变化|谁|哪个更|哪个多|哪个高")
# Closed word classes that say how something is asked, not what about (jieba part-of-speech flags).
SCAFFOLD_FLAGS = {"r", "y", "u", "uj", "ul", "uz", "ug", "uv", "ud", "p", "c", "x", "w", "e", "o", "d", "q", "f", "t"}
SCAFFOLD_WORDS = re.compile(r"^(是|有|在|要|会|能|搞|干|做|弄|讲|说|提|请问|请|一下|这个|那个|报告|材料|文件|文档|资料|说法|提法|表述|字眼|字样|词|概念|事|事情|情况)$|哪|什么|啥|咋|几|多少|怎|^百分之$")
WORDLIKE = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]")
PLACE_SUFFIX_WORD = re.compile(r"^(镇|乡|街道|县|区|市|省)$")


@dataclass
class Understanding:
    question: str
    kind: str = "fact"  # which | figure | list | compare | fact
    item: str = ""  # what is asked about, without names, years and scaffolding
    item_nouns: list[str] = field(default_factory=list)  # its nouns as the whole question segments (林道 of 「修了几公里林道」, not 修林道)
    places: dict[str, list[str]] = field(default_factory=dict)  # field → values named (town → [凤桥镇])
    unknown_places: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)  # sources named by title (十五大 → cpc15.txt)
    reports_label: list[str] = field(default_factory=list)  # those reports as users know them
    missing_reports: list[str] = field(default_factory=list)  # 「十六大的下一届」 where the corpus ends
    years: list[int] = field(default_factory=list)
    year_words: list[str] = field(default_factory=list)  # as written: 去年, 十四五
    report_years: list[int] = field(default_factory=list)  # 「2019年的党代会报告」: the year of the report itself
    doc_types: list[str] = field(default_factory=list)
    unknown_doc_types: list[str] = field(default_factory=list)
    which_towns: bool = False  # a which-question over towns (哪个镇), not over documents or years
    yes_no: bool = False
    wants_figure: bool = False
    measure: Measure = field(default_factory=Measure)  # what a figure answer is counted in (人, 元, %, 年)
    wants_person: bool = False  # 「…是谁」: only a sentence naming a person answers
    wants_list: bool = False
    count: int = 0  # how many points the question says there are (十四条基本方略, 八项任务)
    conflicts: list[str] = field(default_factory=list)  # the question against the filters the user set
    respelled: list[tuple[str, str]] = field(default_factory=list)  # typos read as the corpus's words: (天木山镇, 天目山镇)
    side_years: dict[str, list[int]] = field(default_factory=dict)  # 「凤桥去年和天目山2021年」: each place's own years
    query: str = ""  # the question with relative years written out, for retrieval

    @property
    def place_names(self) -> list[str]:
        return [value for values in self.places.values() for value in values]

    def filters(self, given: Mapping | None = None) -> dict[str, list[str]]:
        """The user's filters narrowed by what the question names (a conflict leaves the user's)."""
        out = {k: _as_list(v) for k, v in (given or {}).items() if v}
        named = {**self.places, "doc_type": self.doc_types, "source": self.reports, "year": [str(y) for y in self.report_years]}
        for key, values in named.items():
            if values and not out.get(key):
                out[key] = list(values)
        return out

    def label(self) -> str:
        """「按 余新镇 · 2022年 · 规上工业产值 理解」: the whole reading, shown with a follow-up so a
        misreading is visible."""
        return "按 " + " · ".join(p for p in [*self.scope(), self.item] if p) + " 理解"

    def scope_label(self) -> str:
        """「按 余新镇 · 2022年 理解」: the names and years an answer kept to."""
        return "按 " + " · ".join(self.scope()) + " 理解"

    def sides(self) -> list[tuple[str, dict[str, list[str]], set[int]]]:
        """What a comparison compares, each side as (label, filters, years): two places, two reports,
        else the years named. A year side is not a filter on the reports' year: a 2023 report's
        review speaks of 2022, so its side holds the passages that speak of the year."""
        if len(self.place_names) >= 2:
            return [
                (" · ".join(filter(None, [value, years_label(self.side_years.get(value, []))])), {name: [value]}, set(self.side_years.get(value, [])))
                for name, values in self.places.items() for value in values
            ]
        if len(self.reports) >= 2:
            return [(label, {"source": [source]}, set()) for source, label in zip(self.reports, self.reports_label)]
        return [(f"{year}年", {}, {year}) for year in self.years]

    def scope(self) -> list[str]:
        kinds = [kind for kind in self.doc_types if not any(kind in label for label in self.reports_label)]
        typos = [f"{word}（问作“{typed}”）" for typed, word in self.respelled]
        parts = typos + [p for p in self.place_names if all(p != word for _, word in self.respelled)]
        parts += self.reports_label + [years_label(self.years)] + kinds
        return [p for p in parts if p]


def _as_list(value) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def years_label(years: list[int]) -> str:
    if not years:
        return ""
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}年"
    return "、".join(f"{y}年" for y in years)


def _match_places(question: str, catalog: Catalog) -> tuple[dict[str, list[str]], dict[str, tuple[int, int]], str]:
    """Catalog places the question names, longest alias first; returns them, where each is first
    named (value → span), and the question with them blanked."""
    places: dict[str, list[str]] = {}
    spans: dict[str, tuple[int, int]] = {}
    rest = question
    for alias in sorted(catalog.places, key=len, reverse=True):
        if alias in rest:
            at = rest.find(alias)
            rest = rest.replace(alias, "＿" * len(alias))
            for field_name, value in catalog.places[alias]:
                if value not in places.setdefault(field_name, []):
                    places[field_name].append(value)
                spans.setdefault(value, (at, at + len(alias)))
    return {f: places[f] for f in PLACE_FIELDS if places.get(f)}, spans, rest


def _narrowest(places: dict[str, list[str]]) -> dict[str, list[str]]:
    """凤桥镇 and 南湖区 both named: the town decides (the county only restates where it is)."""
    for name in PLACE_FIELDS:
        if places.get(name):
            return {name: places[name]}
    return {}


def _unknown_places(tagged: list[tuple[str, str]], known_word: Callable[[str], bool], tokenizer: Tokenizer) -> list[str]:
    """Place names (jieba's ns, or a name before 镇/乡/街道/县/区/市) that the corpus never mentions.
    A name is a proper noun: a common word of the language's dictionary (公家 of 「给公家省下」) is
    none, whatever follows it."""
    found = []
    for i, (word, flag) in enumerate(tagged):
        if "＿" in word or len(word) < 2:
            continue
        suffix = tagged[i + 1][0] if i + 1 < len(tagged) and PLACE_SUFFIX_WORD.match(tagged[i + 1][0]) else ""
        named = suffix and flag not in SCAFFOLD_FLAGS | {"m", "v", "a", "vn"} and not tokenizer.in_dictionary(word)
        if (flag == "ns" or named) and not known_word(word):
            found.append(word + suffix)
        elif (head := _name_tail(tagged, i, tokenizer)) and not known_word(head + word):
            found.append(head + word)
    return found


def _name_tail(tagged: list[tuple[str, str]], i: int, tokenizer: Tokenizer) -> str | None:
    """Is the word the end of a place name whose first character jieba gave to the word before
    (于 + 潜镇 of 「於潜镇」): one character and a place suffix, a pair no dictionary holds, the
    character no adjective (老镇, 新区 are no names)? The head it lost, "" if none; None if no tail."""
    word = tagged[i][0]
    if len(word) != 2 or not PLACE_SUFFIX_WORD.match(word[1]) or tokenizer.in_dictionary(word):
        return None
    if tokenizer.tagged(word[0])[0][1] in SCAFFOLD_FLAGS | {"a", "m"}:
        return None
    before = tagged[i - 1][0] if i else ""
    return before if len(before) == 1 and "＿" not in before else ""


def _side_years(dated: str, u: Understanding, spans: dict[str, tuple[int, int]], catalog: Catalog) -> dict[str, list[int]]:
    """「凤桥去年和天目山2021年新增…各有几家」: each place of a comparison with the years written beside
    it (after it, else before it: 「2021年的天目山和去年的凤桥」), a relative year read from that
    place's newest report. Empty unless every place has its own and they differ."""
    if len(u.place_names) < 2:
        return {}
    order = sorted(((spans[value], name, value) for name, values in u.places.items() for value in values))
    for after in (True, False):
        found = {}
        for i, ((start, end), field_name, value) in enumerate(order):
            segment = dated[end : order[i + 1][0][0] if i + 1 < len(order) else len(dated)] if after else dated[order[i - 1][0][1] if i else 0 : start]
            found[value] = sorted(years_in(segment, catalog.newest_year(catalog.in_scope({field_name: [value]}))))
        if all(found.values()) and len({tuple(years) for years in found.values()}) > 1:
            return found
    return {}


def _beside_known(name: str, rest: str) -> bool:
    """With a place of the corpus named (blanked in rest), another name is a topic of its reports
    (临街 of 「余新以后对临街小店…」, tagged a place) unless the question sets the two side by side:
    「余新镇和乌镇」「乌镇比余新镇」."""
    joined = "(?:和|与|跟|同|及|、|比|对比)"
    return bool(re.search(rf"＿{joined}{re.escape(name)}|{re.escape(name)}{joined}＿", rest))


def _since_congress(rest: str, catalog: Catalog) -> tuple[str, set[str]]:
    """「十八大以来」 speaks of the years from that congress on, not of its report: the congress is
    written as its year (「2012年以来」), and its report is not named."""
    named: set[str] = set()

    def as_year(match: re.Match) -> str:
        sources = [s for n in ordinals(match.group(0)) for s in catalog.by_ordinal.get(n, [])]
        years = {catalog.reports[s].year for s in sources} - {None}
        if not rest[match.end() :].startswith("以来") or len(years) != 1:
            return match.group(0)
        named.update(sources)
        return f"{years.pop()}年"

    return ORDINAL.sub(as_year, rest), named


def _kind_words(kind: str) -> list[str]:
    """How a question names a kind of document: whole, or without 报告 where three characters or
    more are left (党代会 for 党代会报告; 述职 alone is a verb)."""
    head = kind.removesuffix("报告")
    return [kind, head] if head != kind and len(head) >= 3 else [kind]


def _doc_types(question: str, catalog: Catalog) -> tuple[list[str], list[str]]:
    """Document kinds named: those the corpus has, and known kinds it lacks (工作总结 with no summaries)."""
    named, missing = [], []
    for kind in sorted(set(catalog.doc_types) | set(DOC_TYPES) - {"其他"}, key=len, reverse=True):
        if any(words in question for words in _kind_words(kind)):
            (named if kind in catalog.doc_types else missing).append(kind)
    return named, missing


def stated_count(text: str) -> int:
    """「十四条基本方略」 → 14: a whole number of a count measure word; 0 when none is named."""
    counts = [f.value for f in amounts(text) if f.value.is_integer() and f.value <= MAX_COUNT and unit_of(f, text) in MEASURE_WORDS - {"%", "年", "日", "元"}]
    return int(max(counts, default=0))


def _titled(sources: list[str], question: str, catalog: Catalog, tokenizer: Tokenizer) -> list[str]:
    """「一大广州共产党报告」: of the reports a number names, those whose titles' own words (not the
    words all of them share) the question uses; all of them when it uses none."""
    words = {s: {w for w in tokenizer.words(catalog.reports[s].title) if len(w) >= 2} for s in sources}
    shared = set.intersection(*words.values()) if words else set()
    named = [s for s in sources if any(w in question for w in words[s] - shared)]
    return named or sources


def _missing_ordinals(question: str, u: Understanding, scope: list[Report]) -> list[str]:
    """「八大报告…」 where the corpus holds congress reports but not the 8th: the report the question
    names is missing, and a neighbour's passages would answer the wrong congress. A congress named
    beside one the corpus holds (「九大报告怎么评价八大」) is a topic, not the report asked about."""
    if u.reports:
        return []
    held = {n for report in scope for n in ordinals(report.title)}
    bodies = {body for _, body in held}
    missing = []
    for match in ORDINAL.finditer(question):
        if any(body in bodies and (n, body) not in held for n, body in ordinals(match.group(0))):
            missing.append(match.group(0))
    return missing


def _kinds(u: Understanding) -> str:
    """The kinds of document the question names, as a pattern of their words (党代会报告 or 党代会)."""
    return "|".join(re.escape(words) for kind in u.doc_types for words in _kind_words(kind))


def _place_document(question: str, u: Understanding) -> bool:
    """「余新镇的政府工作报告」: a place written just before the kind of document names the place's
    document; in 「区党代会报告点赞了余新镇…」 the kind is what is spoken of."""
    places = "|".join(re.escape(name) for name in u.place_names)
    return bool(places and u.doc_types and re.search(rf"(?:{places})(?:\d{{4}}年|[今去前]年)?的?(?:{_kinds(u)})", question))


def _report_years(question: str, u: Understanding, reference: int | None) -> tuple[list[int], list[str]]:
    """「2019年的党代会报告」「去年的政府工作报告」「2022年报告里说过去十年…」「1923年陈独秀报告」: a year
    written just before the kind of document, or before 报告 / 材料 / 文件 (a speaker's or issuer's
    name of a few characters may stand between), names the report's own year (a
    filter), not a year the report speaks of; with the words naming them. A report named otherwise
    (十九大, 「2012年党代会的上一届」) has its year already."""
    if u.reports or not u.year_words:
        return [], []
    kinds = "|".join(filter(None, [_kinds(u), "报告|材料|文件"]))
    words = "|".join(re.escape(word) for word in u.year_words)
    years: set[int] = set()
    naming = []
    for word in u.year_words:  # 「1987年和2017年的党代会报告」 names two
        since = re.search(rf"{re.escape(word)}年?(?:以来|至今)的?[\u4e00-\u9fff]{{0,4}}?(?:{kinds})", question)
        if since and reference:  # 「1997年以来的党代会报告」: every report from that year on
            return sorted(years_in(since.group(0), reference)), [word]
        if re.search(rf"{re.escape(word)}年?(?:[和与及或、](?:{words})年?)*的?[\u4e00-\u9fff]{{0,4}}?(?:{kinds})", question):
            years |= years_in(word if word.endswith("年") else word + "年", reference)
            naming.append(word)
    return (sorted(years), naming) if 0 < len(years) <= len(u.year_words) else ([], [])


def _neighbours(u: Understanding, rest: str, catalog: Catalog, scope: list[Report]) -> str:
    """「十九大的下一届」: the named report (by its number, or as the one report of a named year)
    is replaced by its neighbour in the series, and the named year by the neighbour's."""
    shift = NEIGHBOUR.search(rest)
    if not shift:
        return rest
    of_year = [r.source for r in scope if r.year in u.years]
    named = u.reports or (of_year if len(of_year) == 1 else [])
    step = 1 if shift.group(1) in "下后" else -1
    moved = {source: catalog.neighbour(source, step) for source in named}
    if named:
        u.years = [y for y in u.years if y not in {catalog.reports[s].year for s in named}]
        u.missing_reports += [f"{catalog.reports[s].label()}{shift.group(0)}" for s, m in moved.items() if not m]
        u.reports = [m for m in moved.values() if m]
    return rest[: shift.start()] + "＿" * len(shift.group(0)) + rest[shift.end() :]


def which_phrase(text: str, tokenizer: Tokenizer) -> re.Match | None:
    """The interrogative over places or documents, its noun a whole word: 「哪个省级城镇称号」 asks
    for a 称号 and 「什么市场」 for a market, not for a 省 or a 市."""
    ends = set(accumulate(len(word) for word in tokenizer.words(text)))
    return next((m for m in WHICH.finditer(text) if m.end() in ends), None)


def asks_which(question: str, which: re.Match | None) -> bool:
    """An interrogative over places or documents (which) plus a term; 「哪一年实现」 asks for a year,
    not for the reports of which years, unless it speaks of mentioning or of reports. 「几个镇」 asks
    which towns, counted, where it speaks of mentioning."""
    if which and which.group(1) in ("年", "年份"):
        return bool(MENTION.search(question) or re.search("报告|材料|文件", question))
    if which and which.group(0).startswith("几"):  # 「有几份报告提到…」 counts documents; 「全区有几个镇」 counts towns
        return bool(MENTION.search(question))
    return bool(which) or bool(MENTION.search(question) and YES_NO.search(question))


def _kind(question: str, u: Understanding, which: re.Match | None, over_towns: bool, one_report: bool) -> str:
    sides = max(len(u.place_names), len(u.reports), len(u.years) if len(u.years) <= 3 else 0)
    # 「九大报告说……是哪份文件」「2012年的党代会报告提出到哪年…」: with one report named, which
    # documents or years mention it is already answered; the question asks something in it. So
    # does 「三大报告说哪个地方的同志工作做得好」, a report named by its title; a year may leave one
    # report by chance (「2021年哪个镇提到…」), and that report's town is the answer.
    if asks_which(question, which) and (not one_report or over_towns and not u.reports):
        return "which"
    if sides >= 2 and COMPARE.search(question):
        return "compare"
    if u.wants_figure:
        return "figure"
    return "list" if u.wants_list else "fact"


def _item(tagged: list[tuple[str, str]], kind: str) -> list[tuple[str, str]]:
    """The words left when names, years, interrogatives and particles are taken out."""
    kept = []
    for word, flag in tagged:
        if "＿" in word or SCAFFOLD_WORDS.search(word) or (flag in SCAFFOLD_FLAGS and flag != "x") or not WORDLIKE.search(word):
            continue
        if flag == "a" and len(word) == 1:  # 高 / 多 in 「哪个高」
            continue
        if flag == "m" and not any(c.isdigit() or c in "〇零一二三四五六七八九十百千万亿两" for c in word.replace("几", "")):
            continue
        if kind == "which" and (MENTION.fullmatch(word) or re.fullmatch(PLACE_NOUNS + "|" + DOCUMENT_NOUNS, word)):
            continue
        if kind == "compare" and COMPARE.fullmatch(word):  # 「表述有啥变化」 compares; 变化 is not what about
            continue
        kept.append((word, flag))
    return kept


def _asks_change(question: str) -> bool:
    """Is the figure asked against a baseline (「比上一年增长了多少」「同比涨了多少」), the baseline
    before the interrogative? 「有多少起，比上一年降了多少」 first asks a level."""
    against, asked = AGAINST.search(question), FIGURE.search(question)
    return bool(against and asked and against.start() < asked.start())


def _blank(pattern: re.Pattern[str], text: str) -> tuple[str, list[str]]:
    found = [m.group(0) for m in pattern.finditer(text)]
    return pattern.sub(lambda m: "＿" * len(m.group(0)), text), found


def understand(question: str, catalog: Catalog, tokenizer: Tokenizer, known_word: Callable[[str], bool], filters: Mapping | None = None) -> Understanding:
    """Read a question against the corpus: names become filters, years a preference, the rest the item."""
    question = simplified(question.strip())
    u = Understanding(question)
    all_places, place_spans, rest = _match_places(question, catalog)
    u.places = _narrowest(all_places)
    u.doc_types, u.unknown_doc_types = _doc_types(question, catalog)
    rest, since = _since_congress(rest, catalog)
    u.reports = [s for n in sorted(ordinals(question)) for s in _titled(catalog.by_ordinal.get(n, []), question, catalog, tokenizer) if s not in since]
    if u.places and u.reports:  # 「凤桥镇的报告提到十九大了吗」: a congress named beside a place is a topic
        u.reports = [r.source for r in catalog.in_scope({**u.places, "source": u.reports})]
    scope = catalog.in_scope(u.filters(filters))
    u.missing_reports = _missing_ordinals(question, u, scope)
    reference = catalog.newest_year(scope) or catalog.newest_year(catalog.reports.values())
    rest, _ = _blank(BASELINE, rest)
    dated = rest
    u.years = sorted(years_in(rest, reference))
    u.side_years = _side_years(dated, u, place_spans, catalog)
    rest = _neighbours(u, rest, catalog, scope)
    u.reports_label = [catalog.reports[s].label() for s in u.reports]
    for pattern in (RANGE, ABSOLUTE, RELATIVE_WORDS, SPAN_WORDS, PLAN, ORDINAL):
        rest, words = _blank(pattern, rest)
        u.year_words += [w for w in words if w and pattern is not ORDINAL]
    u.query = question
    for word in u.year_words:
        if not ABSOLUTE.match(word + "年") and len(u.years) == 1:  # 2023 and 二〇二三 stand as written
            u.query = u.query.replace(word, f"{u.years[0]}年")
    u.report_years, naming = _report_years(question, u, reference)
    if not (u.reports or u.report_years or u.missing_reports):
        if recent := RECENT.search(question):
            u.report_years = sorted({r.year for r in scope if r.year})[-int(chinese_number(recent.group(1))):]
            u.years = u.years or list(u.report_years)
            rest, _ = _blank(RECENT, rest)
        elif LATEST.search(question) and reference:
            u.report_years, u.years = [reference], u.years or [reference]
            rest, _ = _blank(LATEST, rest)
    if len(u.report_years) == 1 and u.report_years[0] != reference:  # 「1997年报告里说过去五年」: 1992–1996
        for word in naming:  # 「去年的报告」 is last year's report; its 去年 is not the year before that
            if not ABSOLUTE.match(f"{word}年"):
                dated = dated.replace(word, "", 1)
        u.years = sorted(years_in(dated, u.report_years[0]) or u.report_years)
    named = catalog.in_scope(u.filters())  # what the question's own names leave
    if (u.report_years or _place_document(question, u)) and not u.missing_reports and not named:
        # 「余新镇的政府工作报告」 where 余新镇 has only an interview: the document named is not there
        u.missing_reports.append(f"{'、'.join(u.place_names)}{years_label(u.report_years)}的{'、'.join(u.doc_types) or '材料'}")
    for kind in u.doc_types + u.unknown_doc_types:
        for words in _kind_words(kind):
            rest = rest.replace(words, "＿" * len(words))
    which_span = which_phrase(rest, tokenizer)
    if which_span:
        rest = rest[: which_span.start()] + "＿" * len(which_span.group(0)) + rest[which_span.end() :]
    rest, _ = _blank(A_NOT_A, rest)
    tagged = tokenizer.tagged(rest)
    u.unknown_places = [p for p in _unknown_places(tagged, known_word, tokenizer) if not u.places or _beside_known(p, rest)]
    u.wants_figure = bool(FIGURE.search(question))
    # 十一 of 十一大 is no figure the question states
    u.measure = replace(asked_measure(_blank(ORDINAL, question)[0]), change=_asks_change(question))
    u.wants_list = bool(LIST.search(question))
    u.count = stated_count(rest)
    u.yes_no = bool(YES_NO.search(question))
    over_towns = bool(which_span and re.fullmatch(r"乡镇|镇街|街镇|镇|乡|街道|地方|地区|家", which_span.group(1)))
    u.kind = _kind(question, u, which_span, over_towns, one_report=bool(u.reports or u.report_years) and len(named) == 1)
    u.which_towns = over_towns and u.kind == "which"
    u.wants_person = bool(PERSON.search(question)) and u.kind in ("fact", "list")
    kept = _item(tagged, u.kind)
    u.item = "".join(word for word, _ in kept).strip("的了")
    u.item_nouns = nouns_of(kept)
    u.conflicts = conflicts(u, filters)
    return u


FIELD_LABELS = {"town": "镇/街道", "county": "县/区", "city": "市", "province": "省", "doc_type": "文档类型", "year": "年份"}


def conflicts(u: Understanding, filters: Mapping | None) -> list[str]:
    """「问题问的是余新镇，筛选条件是 镇/街道=凤桥镇」: never resolved silently either way."""
    given = {k: _as_list(v) for k, v in (filters or {}).items() if v}
    out = []
    named = {**u.places, "doc_type": u.doc_types, "year": [str(y) for y in u.years] if len(u.years) <= 3 else []}
    for key, values in named.items():
        wanted = given.get(key)
        if values and wanted and not set(values) & set(wanted):
            out.append(f"问题问的是{'、'.join(values)}，但筛选条件是 {FIELD_LABELS.get(key, key)}={'、'.join(wanted)}")
    return out
