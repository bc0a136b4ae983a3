"""Which years a question or a section speaks of.

A corpus holds a report for every year of every town, and staff ask
「2019年…」「去年…」「十四五期间…」. A 2023 report's 「2022年工作回顾」 speaks of
2022, its 「今年」 means 2023 and 「过去五年」 2018–2022. These are calendar facts,
so they are read the same way from any report and any question.
"""

from __future__ import annotations

import re

from reportqa.figures import CN_DIGITS, chinese_number

CN_YEAR_DIGITS = "".join(CN_DIGITS)
CN_YEAR = re.compile(rf"(?<![{CN_YEAR_DIGITS}0０-９])[{CN_YEAR_DIGITS}0０-９]{{4}}(?=年)")  # 二〇三五年; 二0一一年, 二００一年, ２０２２年 as some reports type it
ABSOLUTE = re.compile(rf"(?<![\d.])((?:19|20)\d{{2}})(?![\d.])|([{CN_YEAR_DIGITS}]{{4}})(?=年)|(?<![\d.])(\d{{2}})(?=年)")
STATED = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?=年)")
RANGE = re.compile(r"((?:19|20)\d{2})年?\s*[-—～~至到]\s*((?:19|20)\d{2})")  # 2016-2020, 2002年到2012年
# 今年 / 去年 … : offset from the reference year.
RELATIVE = {"今年": 0, "本年": 0, "当年": 0, "去年": -1, "上年": -1, "上一年": -1, "过去一年": -1, "前年": -2, "明年": 1, "下一年": 1, "后年": 2}
RELATIVE_WORDS = re.compile("|".join(sorted(RELATIVE, key=len, reverse=True)))
# 「比上年增长」「较2020年提高」: the year after 比 is a rate's baseline, not a year asked about.
BASELINE = re.compile(rf"(?<=[比较])(?:{RELATIVE_WORDS.pattern}|(?:19|20)\d{{2}}年|[{CN_YEAR_DIGITS}]{{4}}年)")
SPAN_WORDS = re.compile(r"(过去|近|前|今后|未来|后)([一二三四五六七八九十两\d]+)年|([一二三四五六七八九十两\d]+)年(来|以来)")
SINCE = re.compile(r"((?:19|20)\d{2})年?(?:以来|至今)")  # 「2019年以来」: from that year to the reference year
# 五年规划: 一五 1953–57, 二五 1958–62, then from 三五 (1966–70) every five years.
PLAN_ORDINAL = "一二三四五六七八九十"
PLAN = re.compile(
    rf"(?<![第{PLAN_ORDINAL}])[“\"「]([{PLAN_ORDINAL}]{{1,3}})五[”\"」]|"
    rf"(?<![第{PLAN_ORDINAL}])([{PLAN_ORDINAL}]{{1,3}})五(?=规划|计划|期间|时期|末|初|以来|开局|收官)"
)


def plan_years(ordinal: int) -> range:
    start = {1: 1953, 2: 1958}.get(ordinal, 1966 + 5 * (ordinal - 3))
    return range(start, start + 5)


def _count(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    value = chinese_number(text)
    return int(value) if value else None


def arabic_years(text: str) -> str:
    """「二〇三五年」「二0一一年」 → 「2035年」「2011年」: a year is one token however a report writes it,
    the way questions write it."""
    return CN_YEAR.sub(lambda m: "".join(str(CN_DIGITS[c] if c in CN_DIGITS else int(c)) for c in m.group(0)), text)


def absolute_years(text: str, reference: int | None = None) -> set[int]:
    """Years written out: 2019, 2019年, 二〇一九年, 二0一一年, 19年 (the century nearest the reference), 2016-2020年."""
    text = arabic_years(text)
    years = _ranges(text)
    for full, chinese, short in ABSOLUTE.findall(text):
        if full:
            years.add(int(full))
        elif chinese:
            value = chinese_number(chinese)
            if value and 1900 <= value <= 2100:
                years.add(int(value))
        elif short:
            base = (reference or 2000) // 100 * 100
            candidates = [base - 100 + int(short), base + int(short)]
            years.add(min(candidates, key=lambda y: abs(y - (reference or 2000))))
    return years


def stated_years(text: str) -> set[int]:
    """The years a report's sentence states: four digits before 年 (2019年, 二〇一九年), alone or in
    a range. In running text a bare 2000 is a quantity (投资2000万元) and 10年 a span."""
    text = arabic_years(text)
    return _ranges(text) | {int(y) for y in STATED.findall(text)}


def _ranges(text: str) -> set[int]:
    """The years of the ranges written out (2016-2020, 2016至2020年)."""
    years: set[int] = set()
    for start, end in RANGE.findall(text):
        if int(start) <= int(end) and int(end) - int(start) <= 20:
            years.update(range(int(start), int(end) + 1))
    return years


def relative_years(text: str, reference: int) -> set[int]:
    """今年/去年/前年…, 过去五年 / 五年来 / 今后五年, 2019年以来, and 五年规划 periods (十四五 → 2021–2025)."""
    text = arabic_years(text)  # 二〇一九年以来 is no 「一九年以来」 span
    years = {reference + RELATIVE[word] for word in RELATIVE_WORDS.findall(text)}
    for since in SINCE.findall(text):
        if int(since) <= reference:
            years.update(range(int(since), reference + 1))
    for before, n, count, since in SPAN_WORDS.findall(text):
        span = _count(n or count)
        if not span or span > 20:
            continue
        if before in ("今后", "未来", "后"):
            years.update(range(reference, reference + span))
        else:
            years.update(range(reference - span, reference))
    for quoted, bare in PLAN.findall(text):
        value = chinese_number(quoted or bare)
        if value and 1 <= value <= 20:
            years.update(plan_years(int(value)))
    return years


def years_in(text: str, reference: int | None) -> set[int]:
    """Every year the text names, absolute or relative to the reference year."""
    years = absolute_years(text, reference)
    return years | (relative_years(text, reference) if reference else set())


def section_years(section_path: tuple[str, ...], report_year: int | None) -> frozenset[int]:
    """The years a section speaks of: those its deepest dated heading names (the root title,
    which only dates the report, aside), else the report's own year."""
    for heading in reversed(section_path[1:]):
        years = years_in(heading, report_year)
        if years:
            return frozenset(years)
    return frozenset({report_year} if report_year else ())


def as_year(value: str | int | None) -> int | None:
    """A metadata year ("2022", "二〇二二") as an int, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    years = absolute_years(f"{value}年")
    return min(years) if len(years) == 1 else None
