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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from reportqa.ingest.encoding import decode_text

SIDECAR_NAME = "metadata.csv"
DOC_TYPES = ("政府工作报告", "访谈", "工作计划", "工作总结", "其他")
SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")  # what load.py reads


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
META_LABELS = {  # as staff see the fields, in the documents tab and in answers
    "title": "标题", "town": "镇 / 街道", "county": "县 / 区", "city": "市", "province": "省",
    "doc_type": "文档类型", "year": "年份", "date": "日期", "speaker": "讲话人 / 受访人",
}


COLUMNS = ("file", *META_FIELDS)
CN_DIGITS = str.maketrans("〇○零一二三四五六七八九", "00012345678" "9")
YEAR_VALUE = re.compile(r"((?:19|20)\d{2})年?")
KEEP_PREVIOUS = "该文件沿用上次索引中的元数据（没有时从正文提取）"


class SidecarInvalid(ValueError):
    """metadata.csv has rows that cannot be used; rewriting it now would lose them."""


@dataclass(frozen=True)
class SidecarProblem:
    line: int  # line of metadata.csv, 0 for the file as a whole
    column: str  # "" when the problem is the row or the file
    problem: str
    action: str  # what was done about it

    def __str__(self) -> str:
        where = f"第 {self.line} 行" if self.line else ""
        column = f"「{self.column}」列" if self.column else ""
        return f"{SIDECAR_NAME} {where}{column}：{self.problem}；{self.action}"


@dataclass
class Sidecar:
    """What metadata.csv says, and every problem found reading it."""

    rows: dict[str, DocMeta] = field(default_factory=dict)
    problems: list[SidecarProblem] = field(default_factory=list)
    rejected: set[str] = field(default_factory=set)  # files whose row could not be used
    usable: bool = True  # False: the file as a whole could not be used
    encoding: str = ""

    def resolve(self, previous: dict[str, DocMeta]) -> dict[str, DocMeta]:
        """The rows to index with: a file whose row (or the whole sidecar) could not be used keeps
        the metadata it was indexed with, so one bad edit neither loses metadata nor re-embeds."""
        if not self.usable:
            return dict(previous)
        rows = dict(self.rows)
        rows.update({name: previous[name] for name in self.rejected if name in previous})
        return rows


def normalise_year(value: str) -> str | None:
    """「2022」「2022年」「二〇二二」「二〇二二年」 → "2022"; None when it is no year."""
    match = YEAR_VALUE.fullmatch(value.strip().translate(CN_DIGITS))
    return match.group(1) if match else None


def _header(first: list[str], problems: list[SidecarProblem]) -> list[str] | None:
    """The column names, or None when the header leaves out a column (the sidecar is then unused)."""
    names = [name.strip().lstrip("\ufeff").lower() for name in first]
    if "file" not in names:
        return None
    missing = [c for c in COLUMNS if c not in names]
    for column in missing:
        problems.append(SidecarProblem(1, column, "表头缺少该列", "整个 metadata.csv 未使用，所有报告沿用上次索引中的元数据，"
                                       "没有重新向量化；请补上该列后再运行 `reportqa build`"))
    for column in sorted(set(names) - set(COLUMNS) - {""}):
        problems.append(SidecarProblem(1, column, "不认识的列", "忽略该列"))
    return None if missing else names


def _meta(line: int, values: dict[str, str], problems: list[SidecarProblem]) -> DocMeta:
    """One row's metadata, with the year normalised and doubtful values reported."""
    year = values["year"]
    if year and (normal := normalise_year(year)) != year:
        if normal:
            problems.append(SidecarProblem(line, "year", f"年份写作「{year}」", f"按 {normal} 读取"))
        else:
            problems.append(SidecarProblem(line, "year", f"「{year}」不是四位年份", "年份留空；请写成如 2023"))
        values["year"] = normal or ""
    if values["doc_type"] and values["doc_type"] not in DOC_TYPES:
        problems.append(SidecarProblem(line, "doc_type", f"文档类型「{values['doc_type']}」不是 {'、'.join(DOC_TYPES)} 之一", "按原值保留"))
    return DocMeta(**values)


def parse_sidecar(text: str, known_files: set[str] | None = None) -> Sidecar:
    """Read metadata.csv line by line, so a broken row (an unbalanced quote, a missing or extra
    cell) is reported and set aside without swallowing or shifting the rows after it."""
    sidecar = Sidecar()
    problems = sidecar.problems
    records: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append((number, [cell.strip() for cell in next(csv.reader([line], strict=True))]))
        except csv.Error:
            name = line.split(",", 1)[0].strip().strip('"')
            sidecar.rejected.add(name)
            problems.append(SidecarProblem(number, "", "引号不成对（一个 \" 没有配对）", f"该行未使用，{KEEP_PREVIOUS}"))
    if not records:
        return sidecar
    names = _header(records[0][1], problems)
    if names is not None:
        records = records[1:]
    elif records[0][1][0].lower().endswith(SUPPORTED_SUFFIXES) and len(records[0][1]) == len(COLUMNS):
        names = list(COLUMNS)
        problems.append(SidecarProblem(records[0][0], "", "没有表头行", f"按标准列顺序 {','.join(COLUMNS)} 读取"))
    else:
        if not problems:
            problems.append(SidecarProblem(1, "", "第一行不是表头（应为 " + ",".join(COLUMNS) + "）", "整个 metadata.csv 未使用，所有报告沿用上次索引中的元数据"))
        sidecar.usable = False
        return sidecar
    seen: dict[str, tuple[int, DocMeta]] = {}
    for number, cells in records:
        name = cells[0] if names[0] == "file" else dict(zip(names, cells)).get("file", "")
        if len(cells) != len(names):
            sidecar.rejected.add(name)
            problems.append(SidecarProblem(number, "", f"有 {len(cells)} 格，表头有 {len(names)} 列（多半是少填了逗号或标题里有未加引号的逗号）", f"该行未使用，{KEEP_PREVIOUS}"))
            continue
        values = {k: v for k, v in zip(names, cells) if k in COLUMNS}
        name = values.pop("file")
        if not name:
            problems.append(SidecarProblem(number, "file", "没有填文件名", "忽略本行"))
            continue
        if known_files is not None and name not in known_files:
            problems.append(SidecarProblem(number, "file", f"corpus/ 中没有文件「{name}」", "忽略本行"))
            continue
        meta = _meta(number, values, problems)
        if name in seen:
            first, earlier = seen[name]
            same = "内容相同" if earlier == meta else "内容不同"
            problems.append(SidecarProblem(number, "file", f"「{name}」在第 {first} 行已登记（{same}）", f"以第 {first} 行为准，忽略本行"))
            continue
        seen[name] = (number, meta)
        sidecar.rows[name] = meta
    sidecar.rows = {name: meta for name, meta in sidecar.rows.items() if name not in sidecar.rejected}
    return sidecar


def load_sidecar(corpus_dir: Path) -> Sidecar:
    """metadata.csv in any encoding Excel or Notepad saves, checked against the files in corpus_dir."""
    path = corpus_dir / SIDECAR_NAME
    if not path.exists():
        return Sidecar()
    try:
        text, encoding = decode_text(path.read_bytes())
    except (UnicodeDecodeError, UnicodeError):
        problem = SidecarProblem(0, "", "无法识别文字编码（不是 UTF-8、UTF-16 或 GBK/GB18030）", "整个 metadata.csv 未使用，所有报告沿用上次索引中的元数据；请另存为 UTF-8 或 GBK")
        return Sidecar(problems=[problem], usable=False)
    except OSError as error:
        return Sidecar(problems=[SidecarProblem(0, "", f"无法读取（{error.strerror or error}）", "所有报告沿用上次索引中的元数据")], usable=False)
    known = {p.name for p in corpus_dir.iterdir() if p.is_file()}
    sidecar = parse_sidecar(text, known)
    sidecar.encoding = encoding
    return sidecar


def sidecar_messages(corpus_dir: Path) -> list[str]:
    """Every problem in corpus_dir's metadata.csv, one line each, for the app and the CLI."""
    return [str(problem) for problem in load_sidecar(corpus_dir).problems]


def read_sidecar(corpus_dir: Path) -> dict[str, DocMeta]:
    """The rows, for a caller about to rewrite the file: refuses when rewriting would lose a row."""
    sidecar = load_sidecar(corpus_dir)
    if not sidecar.usable or sidecar.rejected:
        lost = "；".join(str(p) for p in sidecar.problems)
        raise SidecarInvalid(f"{SIDECAR_NAME} 有无法使用的行，请先修正再导入：{lost}")
    return sidecar.rows


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


NOT_IN_NAME = "和与及的在是对向从为区县省委府全本各该个、"  # 市 may stand inside a town's name (新市镇), not open it (嘉兴市凤桥镇)
ISSUER_AFTER = r"委|政府|人民|第|(?:19|20)\d{2}年"  # 「凤桥镇党委」「在杭州市第十三届人民代表大会」「德清县2015年政府工作报告」
TOWN = re.compile(rf"([^\W\d_{NOT_IN_NAME}市][^\W\d_{NOT_IN_NAME}]{{1,2}}(?:镇|乡|街道))(?:{ISSUER_AFTER}|[：:]|的|是|在|，|。|\s|$)")
PLACE_AFTER = rf"(?={ISSUER_AFTER}|[^\W\d_]{{2,3}}(?:镇|乡|街道|[区县]))"
COUNTY = re.compile(rf"(?:市|^|[，。、\s在于])([^\W\d_{NOT_IN_NAME}市]{{2}}[区县])" + PLACE_AFTER, re.M)  # 「关于德清县…」
CITY = re.compile(rf"(?:省|^|[，。、\s年在于])([^\W\d_{NOT_IN_NAME}市]{{2}}市)" + PLACE_AFTER, re.M)
DATE = re.compile(r"(20\d{2}|19\d{2})\s*[-年./]\s*(\d{1,2})\s*[-月./]\s*(\d{1,2})")
YEAR = re.compile(r"((?:19|20)\d{2})年")
NAMED_YEAR = re.compile(r"(?<![0-9A-Za-z])((?:19|20)\d{2})(?![0-9A-Za-z])")  # 「2019年政府工作报告.txt」「report_2019.txt」, not a hash's digits
DATELINE = re.compile(r"^\s*(?:——|[（(])?\s*((?:19|20)\d{2})年", re.M)  # 「——二〇〇五年二月十六日在…」 on a line of its own
TOWN_NOT_NAMES = frozenset({"各乡镇", "全镇", "本镇", "乡镇", "城镇", "小城镇", "特色小镇", "街道"})
HEAD = 300  # the title and opening lines, where a document says who issues it


def _most_common(pattern: re.Pattern[str], text: str, among: set[str] | None = None) -> str:
    found = Counter(m.group(1) for m in pattern.finditer(text) if among is None or m.group(1) in among)
    return found.most_common(1)[0][0] if found else ""


def _issuing_town(text: str) -> str:
    """The town the document names in its title or opening (「在凤桥镇第十八届人民代表大会」「对话余新镇
    党委书记」), by how often the whole text names it. A place only the body names is a topic (「上山下乡」
    「还有萍乡」 in a national report), not who issues it."""
    named = {m.group(1) for m in TOWN.finditer(text[:HEAD])} - TOWN_NOT_NAMES
    return _most_common(TOWN, text, among=named)


def _doc_type(text: str) -> str:
    head = text[:HEAD]
    if "政府工作报告" in head:
        return "政府工作报告"
    if re.search(r"(主持人(提问)?|记者|问)[：:]", text):
        return "访谈"
    if re.search(r"工作(计划|要点|安排)", head):
        return "工作计划"
    if "工作总结" in head:
        return "工作总结"
    return "其他"


def extract_meta(text: str, page_fields: dict[str, str], file_name: str = "") -> DocMeta:
    """Best-effort metadata from cleaned text, the page's 索引号 table and the file's name."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    publisher = page_fields.get("发布单位", "")
    town = publisher if re.search(r"(镇|乡|街道)$", publisher) else _issuing_town(text)
    date_source = page_fields.get("发文日期") or page_fields.get("成文日期") or text[:500]
    date_match = DATE.search(date_source)
    date = f"{date_match.group(1)}-{int(date_match.group(2)):02d}-{int(date_match.group(3)):02d}" if date_match else ""
    # the title's year, else the dateline's, else the file name's (a series saved as 2019.txt, 2020.txt); a year
    # the opening speaks of may be the one reviewed (「一、2018年工作回顾」)
    year_match = (
        YEAR.search(first_line.translate(CN_DIGITS))
        or DATELINE.search(text[:HEAD].translate(CN_DIGITS))
        or NAMED_YEAR.search(file_name)
        or YEAR.search(text[:HEAD])
    )
    doc_type = _doc_type(text)
    return DocMeta(
        title=first_line if len(first_line) <= 40 else f"{town}{doc_type}" if town else f"{first_line[:40]}…",
        town=town,
        county=_most_common(COUNTY, text),
        city=_most_common(CITY, text),
        doc_type=doc_type,
        year=year_match.group(1) if year_match else date[:4],
        date=date,
        extracted=True,
    )
