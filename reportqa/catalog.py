"""What the corpus holds, by its metadata: who issued each report, when, and of what kind.

Question understanding matches a question against this catalog rather than
against lists of phrases, so a new town, county or year works the moment its
report is indexed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from reportqa.ingest.clean import simplified
from reportqa.periods import as_year

PLACE_FIELDS = ("town", "county", "city", "province")
SHORT_NAME = re.compile(r"\s*[(（]([^()（）]{1,10})[)）]$")  # 「高举…团结奋斗 (二十大)」: the name the title gives itself
LONG_TITLE = 20  # characters: a longer title is shown by that short name where it gives one
PLACE_SUFFIX = re.compile(r"(特别行政区|自治区|自治州|自治县|街道|镇|乡|区|县|市|省)$")
# 「第九次全国代表大会」「十五大」「第三届人民代表大会」: a numbered congress in a title; 「下一次党代会」
# and 「这一届」「最近一次」 point at one, they do not number it.
ORDINAL_RANGE = re.compile(r"\s*(?:到|至|—|－|-|～|~)\s*")
ORDINAL = re.compile(r"(?<![上下前后这那每同近新])第?([一二三四五六七八九十百]+)(?:次|届)[^，。、]{0,8}?(?:代表大会|党代会|人代会)|([一二三四五六七八九十百]+)大(?![会学家小量多])")


@dataclass(frozen=True)
class Report:
    source: str
    title: str = ""
    town: str = ""
    county: str = ""
    city: str = ""
    province: str = ""
    doc_type: str = ""
    year: int | None = None
    date: str = ""

    @classmethod
    def from_meta(cls, source: str, meta: Mapping) -> "Report":
        """The title in simplified script, as the report's text is shown (廣州共產黨報告 → 广州共产党报告)."""
        text = {name: str(meta.get(name) or "") for name in (*PLACE_FIELDS, "doc_type", "date")}
        return cls(source, simplified(str(meta.get("title") or "")), **text, year=as_year(meta.get("year")))

    @property
    def issuer(self) -> str:
        """Who speaks in the report: its town, else the widest place it names, else its title."""
        return self.town or self.county or self.city or self.province or self.title or self.source

    @property
    def series(self) -> tuple[str, ...]:
        """The reports of one series share their places and kind of document (凤桥镇's yearly
        government reports, the party congress reports) and differ by year."""
        return (*(getattr(self, f) for f in PLACE_FIELDS), self.doc_type)

    @property
    def name(self) -> str:
        """The title as a label shows it: a long one by the short name it ends with (二十大)."""
        short = SHORT_NAME.search(self.title)
        return short.group(1) if short and len(self.title) > LONG_TITLE else self.title

    def order(self) -> tuple:
        """Reports listed together: by series, then year, so a series reads from its first report
        (the earliest congress to mention a term comes first)."""
        return self.series, self.year or 0, self.issuer

    def label(self) -> str:
        """「凤桥镇 · 2023年 · 政府工作报告」; a report without a town is named by its title, after the
        place that issues it where the title does not say (「杭州市 · 政府工作报告 · 2019年」)."""
        if self.town or not self.title:
            parts = [self.issuer]
        else:
            place = self.county or self.city or self.province
            parts = [place, self.name] if place and place not in self.title else [self.name]
        named = "".join(parts)
        if self.year and str(self.year) not in named:
            parts.append(f"{self.year}年")
        if self.doc_type and self.doc_type not in named:
            parts.append(self.doc_type)
        return " · ".join(parts)


def ordinals(text: str) -> set[tuple[int, str]]:
    """The congresses a text names, by number and body: 「第十五次全国代表大会」 and 「十五大」 both give
    (15, 党代会); 「第三届人民代表大会」 gives (3, 人代会), a town's people's congress, not 三大."""
    from reportqa.figures import chinese_number

    named = []
    for match in ORDINAL.finditer(text):
        value = chinese_number(match.group(1) or match.group(2))
        if value:
            named.append((match, (int(value), "人代会" if re.search("人民代表大会|人代会", match.group(0)) else "党代会")))
    found = {ordinal for _, ordinal in named}
    for (first, (low, body)), (second, (high, other)) in zip(named, named[1:]):  # 「十五大到十七大」: 十六大 too
        if body == other and ORDINAL_RANGE.fullmatch(text[first.end() : second.start()]):
            found.update((n, body) for n in range(low + 1, high))
    return found


def place_aliases(name: str) -> list[str]:
    """凤桥镇 is also asked about as 凤桥; a two-character remainder is still a name, one is not."""
    short = PLACE_SUFFIX.sub("", name)
    return [name, short] if short != name and len(short) >= 2 else [name]


@dataclass
class Catalog:
    reports: dict[str, Report]

    @classmethod
    def from_metas(cls, metas: Iterable[tuple[str, Mapping]]) -> "Catalog":
        return cls({source: Report.from_meta(source, meta) for source, meta in metas})

    @cached_property
    def places(self) -> dict[str, list[tuple[str, str]]]:
        """Alias → the (field, value) pairs it names, e.g. 凤桥 → [(town, 凤桥镇)]."""
        names: dict[str, list[tuple[str, str]]] = {}
        for report in self.reports.values():
            for field in PLACE_FIELDS:
                value = getattr(report, field)
                for alias in place_aliases(value) if value else []:
                    if (field, value) not in names.setdefault(alias, []):
                        names[alias].append((field, value))
        return names

    @cached_property
    def doc_types(self) -> list[str]:
        return sorted({r.doc_type for r in self.reports.values() if r.doc_type})

    @cached_property
    def by_ordinal(self) -> dict[tuple[int, str], list[str]]:
        found: dict[tuple[int, str], list[str]] = {}
        for report in self.reports.values():
            for n in ordinals(report.title):
                found.setdefault(n, []).append(report.source)
        return found

    def neighbour(self, source: str, step: int) -> str | None:
        """The report before (-1) or after (+1) this one in its series: the same places and kind of
        document, ordered by year (十九大 → 二十大; 凤桥镇 2022 report → its 2023 report)."""
        report = self.reports[source]
        series = sorted((r for r in self.reports.values() if r.series == report.series and r.year), key=lambda r: (r.year, r.source))
        at = next((i for i, r in enumerate(series) if r.source == source), None)
        return series[at + step].source if at is not None and 0 <= at + step < len(series) else None

    def in_scope(self, filters: Mapping[str, list[str]] | None) -> list[Report]:
        """The reports passing metadata filters (field → allowed values, or one value; "source"
        names reports). Both stores and the question's scope filter through here."""
        allowed = {field: {str(v) for v in ([values] if isinstance(values, str) else values)} for field, values in (filters or {}).items() if values}

        def passes(report: Report) -> bool:
            return all(str(getattr(report, field, "") or "") in values for field, values in allowed.items())

        return [r for r in self.reports.values() if passes(r)]

    def newest_year(self, reports: Iterable[Report]) -> int | None:
        return max((r.year for r in reports if r.year), default=None)
