"""Figures in every form reports write them: 4.8亿元, 1 310万人, 百分之二十一点七, 七百六十六亿四千万元, 三分之一.

A figure question is answered by the sentence that states the asked item with
its figure, and a figure the scrape lost (「产值万元，同比增长%」) must be told
apart from one written in Chinese numerals. Both need one reader of numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_BIG_UNITS = {"万": 10**4, "亿": 10**8}
CN_NUMERAL = "〇零○一二三四五六七八九两十百千万亿"
ARABIC = r"\d+(?:[ ,]\d{3})*(?:\.\d+)?"
FIGURE = re.compile(rf"{ARABIC}|百分之[{CN_NUMERAL}点]+|[{CN_NUMERAL}]+分之[{CN_NUMERAL}]+|[{CN_NUMERAL}][{CN_NUMERAL}点]*")
ORDINAL_PREFIXES = ("第", "头")  # 第二项, 头一次: a place in a row, not a quantity
APPROXIMATE = set("上数近几")  # before a lone 十/百/千/万: 上百年 is about a hundred years
MEASURE_WORDS = set("年日元人个户家项所座条次倍亩吨岁名位%届大")  # a lone Chinese digit before these is a count (十大民生实事)
# What a 「多少」 asks for: the measure word right after it (多少名 / 几公里 / 多少万元 / 百分之几); measure
# words are a closed class. 多少钱 is answered in 元, 多少名 in 人.
COUNTING_JI = r"(?<![哪那这近前])几"  # 几 that asks a count: 哪几 / 那几个 / 这几年 / 近几年 point, they do not count
ASKS_DATE = r"哪一?天|几月几|几号"  # a day, as 哪一年 asks a year
ASKS_WHEN = r"什么时候|啥时候|何时|几时"  # a time: a year, a month or a day answers it
ASKED = re.compile(rf"百分之(?:几|多少)|哪一?(年)|({ASKS_DATE})|({ASKS_WHEN})|(?:多少|{COUNTING_JI})([万亿千百]?)([\u4e00-\u9fff%％]{{0,2}})|(多长时间|多久)")
ASKABLE_MEASURES = MEASURE_WORDS | set("枚份张台辆公米平立克斤天月套间株棵只头场批期节栋幢层部篇本美欧英港")
SAME_MEASURE = {"钱": "元", "块": "元", "名": "人", "位": "人", "号": "日"}
DATES = {"年", "日", "时"}  # 哪一年 / 哪一天 / 什么时候: a date is the quantity asked
# Units of measure, money and time (and 人, whose other counters SAME_MEASURE maps): a figure in
# another unit is another quantity (亩 never answers 多少斤). Counters (个, 所, 家, 项) stand in for each
# other: a report may count in 个 what the question counts in 所.
UNITS = set("元%公米平立克斤吨亩岁年日天月时人美欧英港")
RATE = re.compile(r"率|增|降|减|涨|跌|升|提高|提升|比|占|百分|幅|速|成|目标|预期|%|％")  # a question that may be answered by a rate (a target is set as one: 增长10%以上)
CHANGE = re.compile(r"(?:增(?!加值)|减|降|升|涨|跌|提高|提升|扩大|缩小|翻)[^，；。\d]{0,4}$")  # the words before a percentage that make it a change
# Units a lost figure leaves behind: 「产值万元，」「增长%。」 (a digit should stand right before them), where the
# quantity ends; a unit before a noun classes it: 「亿元以上项目」「亿元企业」「超亿元项目」.
STRIPPED = re.compile(rf"(?:(?<![\d{CN_NUMERAL}.％%余多])(?:万元|亿元|万人|万吨|万亩|%)|(?<![\d{CN_NUMERAL}.])[余多](?:万元|亿元|万人|万吨|万亩))(?=[，。；、,.;：:）)\s]|$)")


@dataclass(frozen=True)
class Figure:
    text: str
    value: float
    start: int
    end: int


def chinese_number(text: str) -> float | None:
    """一九九七 → 1997, 七百六十六亿四千万 → 76640000000, 二十一点七 → 21.7; None if it is not a number."""
    if not text or any(c not in CN_NUMERAL + "点" for c in text):
        return None
    whole, _, fraction = text.partition("点")
    if fraction and not all(c in CN_DIGITS for c in fraction):
        return None
    if whole and all(c in CN_DIGITS for c in whole) and len(whole) > 1:  # digit by digit: 一九九七, 二〇二二
        value = float("".join(str(CN_DIGITS[c]) for c in whole))
    else:
        value = _positional(whole) if whole else 0.0
        if value is None:
            return None
    if fraction:
        value += float("0." + "".join(str(CN_DIGITS[c]) for c in fraction))
    return value


def _positional(text: str) -> float | None:
    total, section, digit = 0, 0, None
    for c in text:
        if c in CN_DIGITS:
            if digit is not None:
                return None  # two digits in a row inside a positional number
            digit = CN_DIGITS[c]
        elif c in CN_SMALL_UNITS:
            if digit is None and (section or total):
                return None  # only a leading 十 goes without its digit: 千千万万 is an idiom, not a number
            section += (1 if digit is None else digit) * CN_SMALL_UNITS[c]
            digit = None
        else:  # 万 / 亿
            section += digit or 0
            if section == 0 and total == 0:
                return None
            total = (total + section) * CN_BIG_UNITS[c] if CN_BIG_UNITS[c] > 10**4 else total + section * CN_BIG_UNITS[c]
            section, digit = 0, None
    return float(total + section + (digit or 0))


def figures(text: str) -> list[Figure]:
    """Every number the text states, Arabic or Chinese."""
    found = []
    for match in FIGURE.finditer(text):
        raw = match.group(0)
        if raw[0].isdigit():
            value = float(raw.replace(" ", "").replace(",", ""))
        elif "分之" in raw and not raw.startswith("百分之"):  # 三分之一: a fraction
            whole, part = (chinese_number(side) for side in raw.split("分之"))
            if not whole or part is None:
                continue
            value = part / whole
        else:
            value = chinese_number(raw.removeprefix("百分之"))
            if value is None or not _reads_as_figure(raw, text, match.end()):
                continue
        found.append(Figure(raw, value, match.start(), match.end()))
    return found


def _reads_as_figure(raw: str, text: str, end: int) -> bool:
    """A run of Chinese numerals is a figure when it is a percentage, an ordinal (第九批), positional
    (七百六十六), a count or year before a measure word (三个, 十个, 一九九七年), or a round number
    after 上/数/近/几 (上百年);
    「一是」「千方百计」「十分重要」 are words."""
    if raw.startswith("百分之") or _ordinal(text, end - len(raw)):  # 第九批
        return True
    if raw == "十":  # ten needs no digit: 十个同志
        return text[end : end + 1] in MEASURE_WORDS
    if raw in CN_SMALL_UNITS or raw in CN_BIG_UNITS:  # a round number: 上百年, 数十万人, 近千家
        return text[end - 2 : end - 1] in APPROXIMATE and text[end : end + 1] in ASKABLE_MEASURES | set("万亿")
    if len(raw) > 1 and any(c in raw for c in "十百千万亿点"):
        return not (raw.startswith("十分") or raw.startswith("千万"))
    return text[end : end + 1] in MEASURE_WORDS and raw[-1] in CN_DIGITS


def amounts(text: str) -> list[Figure]:
    """The figures that state a quantity: a date (2022年, 二〇二二年, 12月25日), an ordinal (第二项,
    头一次), a plan's name (十四五) or a quoted name (“1439”工作体系) answers no 「多少」."""
    return [f for f in figures(text) if not (_is_year(f, text) or _is_day(f, text) or _ordinal(text, f.start) or text[f.end : f.end + 1] == "五" or _quoted(f, text))]


def _ordinal(text: str, start: int) -> bool:
    """Does the figure starting here follow 第 or 头 (第九批, 头一次)?"""
    return start > 0 and text[start - 1] in ORDINAL_PREFIXES


def _quoted(figure: Figure, text: str) -> bool:
    return figure.start > 0 and text[figure.start - 1] in "“‘「" and text[figure.end : figure.end + 1] in "”’」"


def _is_year(figure: Figure, text: str) -> bool:
    return 1900 <= figure.value <= 2100 and figure.value.is_integer() and text[figure.end : figure.end + 1] in "年－-—至到" and figure.end < len(text)


def _is_day(figure: Figure, text: str) -> bool:
    """A month or a day of a date: 12月, 25日, 6号 (not 3个月, 30天)."""
    return figure.value.is_integer() and 1 <= figure.value <= 31 and text[figure.end : figure.end + 1] in ("月", "日", "号")


def has_figure(text: str, asked: Measure | None = None) -> bool:
    """Does the text state a quantity, and one of the asked measure when the question says which?
    For 「哪一年」「哪一天」 the date is the quantity; for 「第几批」 the place in a row (第九批)."""
    if asked and asked.ordinal:
        stated = [f for f in figures(text) if _ordinal(text, f.start)]
    else:
        stated = figures(text) if asked and asked.unit in DATES else amounts(text)
    return any(asked is None or asked.fits(figure, text) for figure in stated)


@dataclass(frozen=True)
class Measure:
    """The measure a figure question asks for: a percentage, a measure word (人, 公里, 元), or
    any level when the question names none. A level question (「财政总收入是多少」) is not answered
    by a growth rate."""

    unit: str = ""  # "%" for a share or rate; "" when the question names no measure word
    rate_ok: bool = False
    given: frozenset[float] = frozenset()  # figures the question states itself (「那两个俱乐部」): not its answer
    ordinal: bool = False  # 「第几批」: a place in a row, not a quantity
    counted: frozenset[str] = frozenset()  # the nouns counted: 「十大民生实事」 counts 民生实事 in 大
    change: bool = False  # asked against a baseline (「比上一年增长了多少」): a level alone does not answer

    @property
    def counter(self) -> bool:
        """Is it a counter (个, 所, 家, 项), for which another counter may stand in? A unit (亩, 元, 斤) may not."""
        return bool(self.unit) and self.unit not in UNITS

    def fits(self, figure: Figure, text: str) -> bool:
        if figure.value in self.given:
            return False
        unit = unit_of(figure, text)
        if self.change and unit != "%" and not CHANGE.search(text[: figure.start]):
            return False  # 「财政总收入4.04亿元」 says how much, not by how much it grew
        if unit == "大" and not any(text.startswith(noun, figure.end + 1) for noun in self.counted):
            return False  # 「十九大报告」 names a congress, 「四大战略」 counts strategies: only the counted item counts
        if self.unit == "%":
            return unit == "%"
        if self.unit == "时":
            return unit in ("年", "月", "日")
        if (self.unit == "人" or self.counter) and any(text.startswith(noun, figure.end) for noun in self.counted):
            return True  # 「两千三百万台湾同胞」 counts the people asked of in 多少人
        if self.unit:
            return unit[:1] == self.unit[:1] or (unit == "大" and self.counter)  # 「多少亿元」 is no rate
        # 「前十年」 is a span of time, no level of the item; 「增长12%」 a change, no level (「出租70%」 is one)
        return unit != "年" and (unit != "%" or self.rate_ok or not CHANGE.search(text[: figure.start]))


def _measure_word(text: str) -> str:
    text = text.lstrip("多余近约万亿千百十 ")
    return "%" if text[:1] in "%％" or text.startswith(("个百分点", "个点")) else SAME_MEASURE.get(text[:1], text[:1])


def unit_of(figure: Figure, text: str) -> str:
    """「22.09万元」 → 元, 「56%」 → %, 「百分之八」 → %, 「41名」 → 人, 「七千多万党员」 → 党."""
    if figure.text.startswith("百分之"):
        return "%"
    return _measure_word(text[figure.end :])


def asked_measure(question: str) -> Measure:
    """「多少名党员」 → 人; 「百分之几」 → %; 「哪一年」「多长时间」 → 年; 「哪一天 / 几月几号」 → 日; 「什么时候」 → 时
    (a year, month or day); 「是多少」 → any level (not a span of years), or a rate when it asks of
    growth; never a figure the question states itself."""
    rate_ok = bool(RATE.search(question))
    given = frozenset(f.value for f in figures(question))
    match = ASKED.search(question)
    if not match:
        return Measure("", rate_ok, given)
    if match.group(0).startswith("百分之"):
        return Measure("%", True, given)
    if match.group(1) or match.group(2) or match.group(3):
        return Measure("年" if match.group(1) else "日" if match.group(2) else "时", rate_ok, given)
    if match.group(6):  # 「要花多长时间」: a span of years (上百年)
        return Measure("年", rate_ok, given)
    word = match.group(5)
    unit = _measure_word(match.group(4) + word) if word else ""
    ordinal = question[match.start() - 1 : match.start()] == "第"
    rate_ok = rate_ok and not match.group(4)  # 「要干到多少亿」 asks a level in 亿, no rate
    return Measure(unit if unit in ASKABLE_MEASURES else "", rate_ok, given, ordinal)


def stripped_figure(text: str) -> bool:
    """A unit with its number lost (「高新技术产业产值万元」): the 004 scrape did this to many figures."""
    return bool(STRIPPED.search(text))
