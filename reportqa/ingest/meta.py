"""Who wrote a report, where, when, and what kind it is.

Staff filter precedents by town, county, year and document type, so every
document needs those fields. They come from corpus/metadata.csv when a person
filled them in; otherwise they are read off the text as well as can be and
marked `extracted`, so nobody mistakes a guess for a fact.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import asdict, dataclass, fields
from pathlib import Path

SIDECAR_NAME = "metadata.csv"
DOC_TYPES = ("政府工作报告", "访谈", "工作计划", "工作总结", "其他")


@dataclass(frozen=True)
class DocMeta:
    title: str = ""
    town: str = ""
    county: str = ""
    city: str = ""
    province: str = ""
    doc_type: str = ""
    year: str = ""
    date: str = ""
    speaker: str = ""
    extracted: bool = False  # True when read off the text rather than given by a person

    def as_dict(self) -> dict[str, str | bool]:
        return asdict(self)


META_FIELDS = [f.name for f in fields(DocMeta) if f.name != "extracted"]


def read_sidecar(corpus_dir: Path) -> dict[str, DocMeta]:
    path = corpus_dir / SIDECAR_NAME
    if not path.exists():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {
            row["file"]: DocMeta(**{k: (row.get(k) or "").strip() for k in META_FIELDS})
            for row in csv.DictReader(handle)
            if row.get("file")
        }


def write_sidecar(corpus_dir: Path, entries: dict[str, DocMeta]) -> None:
    """Rewrite the sidecar atomically so a crash never leaves half a file."""
    path = corpus_dir / SIDECAR_NAME
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", *META_FIELDS])
        for name in sorted(entries):
            meta = entries[name]
            writer.writerow([name, *(getattr(meta, k) for k in META_FIELDS)])
    tmp.replace(path)


TOWN = re.compile(r"([^\W\d_和与及的在是对向从为区县市省委府全本各该个、]{2,3}(?:镇|乡|街道))(?:党委|政府|人民|第|[：:]|的|是|在|，|。|\s|$)")
PLACE_AFTER = r"(?=委|政府|人民|[^\W\d_]{2,3}(?:镇|乡|街道|[区县]))"
COUNTY = re.compile(r"(?:市|^|[，。、\s])([^\W\d_]{2}[区县])" + PLACE_AFTER, re.M)
CITY = re.compile(r"(?:省|^|[，。、\s年])([^\W\d_]{2}市)" + PLACE_AFTER, re.M)
DATE = re.compile(r"(20\d{2}|19\d{2})\s*[-年./]\s*(\d{1,2})\s*[-月./]\s*(\d{1,2})")
YEAR = re.compile(r"(20\d{2})年")
TOWN_NOT_NAMES = frozenset({"各乡镇", "全镇", "本镇", "乡镇", "城镇", "小城镇", "特色小镇", "街道"})


def _most_common(pattern: re.Pattern[str], text: str, exclude: frozenset[str] = frozenset()) -> str:
    found = Counter(m.group(1) for m in pattern.finditer(text) if m.group(1) not in exclude)
    return found.most_common(1)[0][0] if found else ""


def _doc_type(text: str) -> str:
    head = text[:300]
    if "政府工作报告" in head:
        return "政府工作报告"
    if re.search(r"(主持人(提问)?|记者|问)[：:]", text):
        return "访谈"
    if re.search(r"工作(计划|要点|安排)", head):
        return "工作计划"
    if "工作总结" in head:
        return "工作总结"
    return "其他"


def extract_meta(text: str, page_fields: dict[str, str]) -> DocMeta:
    """Best-effort metadata from cleaned text and the page's 索引号 table."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    publisher = page_fields.get("发布单位", "")
    town = publisher if re.search(r"(镇|乡|街道)$", publisher) else _most_common(TOWN, text, TOWN_NOT_NAMES)
    date_source = page_fields.get("发文日期") or page_fields.get("成文日期") or text[:500]
    date_match = DATE.search(date_source)
    date = f"{date_match.group(1)}-{int(date_match.group(2)):02d}-{int(date_match.group(3)):02d}" if date_match else ""
    year_match = YEAR.search(text[:300])
    doc_type = _doc_type(text)
    return DocMeta(
        title=first_line if len(first_line) <= 40 else f"{town}{doc_type}",
        town=town,
        county=_most_common(COUNTY, text),
        city=_most_common(CITY, text),
        doc_type=doc_type,
        year=year_match.group(1) if year_match else date[:4],
        date=date,
        extracted=True,
    )
