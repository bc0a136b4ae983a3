"""Normalise a report's text while remembering where every character came from.

Scraped reports carry web-page furniture, inline pinyin (鎮(zhèn)), traditional
characters and mixed-width punctuation. Search and answers need clean,
simplified text; citations need the original. So each cleaning step edits a
`TrackedText`, which keeps for every cleaned character its offset in the
original.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

PINYIN_LETTERS = "a-zA-Zàáǎèéěìíǐòóǒùúǔüǖǘǚǜāēīōūńňǹḿ"
# 鎮(zhèn) → 鎮; the damaged form 鎮?zhèn) (a lost character before it) too.
PINYIN_ANNOTATION = re.compile(rf"[(（][{PINYIN_LETTERS}]+[)）]|\?[{PINYIN_LETTERS}]+\)|\?{{2,}}")

# Lines that belong to the web page, not the report.
BREADCRUMB = re.compile(r"^(您当前的位置|您现在的位置|当前位置|首页\s*[>＞])")
FOOTER_MARKERS = re.compile(
    r"^(来源[:：]\s*$|分享到|分享[:：]|用手机扫描二维码|扫一扫|转载请注明|相关阅读|"
    r"[•·\s]*上一篇|[•·\s]*下一篇|热点文章|推荐文章|没有热点文章|没有推荐文章|责任编辑|打印本页|关闭窗口)"
    r"|收录于话题|上一篇.*下一篇"
)
# A licence notice ends the report: everything after it is the site's (Wikisource's 「本作品来自…」).
LICENCE = re.compile(r"^((本|這部|这部)作品(來自|来自|在|屬於|属于|采用|採用)|Public domain$)")
SOURCE_LINE = re.compile(r"^来源[:：]\s*(\S.*)$")
# Wikisource's notes: a reference mark in the text (「邓同志[4]」, often split over lines by the
# markup) and, after the body, the notes themselves, each led by its back-link 「↑」. They are the
# editors', not the report's, and a mark would read as a citation of the answer.
NOTE_MARK = re.compile(r"\n?\[\s*\d{1,3}\s*\]\n?")
NOTES = re.compile(r"^↑")
FOOTER_TAIL_MAX_CHARS = 30  # after a footer marker, short lines are page furniture

# 索引号 | 002508879/2022-81382 | 公开方式 | 主动公开 |
TABLE_ROW = re.compile(r"^\s*[^|\n]+\|[^|\n]*\|.*\|\s*$")
TABLE_KEYS = ("索引号", "发布单位", "发文日期", "成文日期", "发布日期", "主题分类", "文号", "公开方式", "公开范围", "公开时限")

HALF_TO_FULL = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}
FULL_SPACE = {"\u3000", "\xa0", "\u2002", "\u2003", "\u200b", "\t"}


@dataclass
class TrackedText:
    """Text whose characters each remember an offset into the original."""

    text: str
    offsets: list[int]

    @classmethod
    def of(cls, original: str) -> "TrackedText":
        return cls(original, list(range(len(original))))

    def delete(self, spans: list[tuple[int, int]]) -> None:
        if not spans:
            return
        keep = [True] * len(self.text)
        for start, end in spans:
            for i in range(start, end):
                keep[i] = False
        self.text = "".join(c for c, k in zip(self.text, keep) if k)
        self.offsets = [o for o, k in zip(self.offsets, keep) if k]

    def delete_matches(self, pattern: re.Pattern[str]) -> None:
        self.delete([m.span() for m in pattern.finditer(self.text)])

    def map_chars(self, mapping) -> None:
        """Replace characters one for one, so offsets stay aligned."""
        self.text = "".join(mapping(i, c) for i, c in enumerate(self.text))

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) covering cleaned [start, end)."""
        if start >= end:
            at = self.offsets[start] if start < len(self.offsets) else (self.offsets[-1] + 1 if self.offsets else 0)
            return at, at
        return self.offsets[start], self.offsets[end - 1] + 1


@dataclass
class CleanedText:
    text: str
    offsets: list[int]  # offsets[i] = index in the original of cleaned char i
    fields: dict[str, str]  # metadata found in the page (索引号 table, 来源 line)
    traditional: bool  # the original was in traditional script


def _line_spans(text: str) -> list[tuple[int, int, str]]:
    spans, start = [], 0
    for line in text.splitlines(keepends=True):
        spans.append((start, start + len(line), line))
        start += len(line)
    return spans


def _strip_page_furniture(tracked: TrackedText, fields: dict[str, str]) -> None:
    drop: list[tuple[int, int]] = []
    in_footer = False
    for start, end, line in _line_spans(tracked.text):
        body = line.strip().replace("\u3000", "").replace("\xa0", "")
        source = SOURCE_LINE.match(body)
        if LICENCE.match(body) or NOTES.match(body):
            drop.append((start, len(tracked.text)))
            break
        if TABLE_ROW.match(body) and any(key in body for key in TABLE_KEYS):
            cells = [c.strip() for c in body.strip("|").split("|")]
            fields.update({k: v for k, v in zip(cells[::2], cells[1::2]) if k and v})
            drop.append((start, end))
        elif BREADCRUMB.match(body):
            drop.append((start, end))
        elif source:
            fields.setdefault("来源", source.group(1).strip())
            drop.append((start, end))
            in_footer = True
        elif FOOTER_MARKERS.search(body):
            drop.append((start, end))
            in_footer = True
        elif in_footer and len(body) <= FOOTER_TAIL_MAX_CHARS:
            drop.append((start, end))
    tracked.delete(drop)


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """A question in traditional script asks the simplified index (「三大報告說黨」 → 「三大报告说党」)."""
    return _t2s().convert(text)


def is_traditional(text: str) -> bool:
    """A report is traditional when simplifying changes a noticeable share of its characters."""
    cjk = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if not cjk:
        return False
    sample = "".join(cjk[:5000])
    changed = sum(a != b for a, b in zip(sample, _t2s().convert(sample)))
    return changed / len(sample) > 0.03


def _to_simplified(tracked: TrackedText) -> None:
    converter = _t2s()
    pieces, offsets = [], []
    for start, end, line in _line_spans(tracked.text):
        converted = converter.convert(line)
        line_offsets = tracked.offsets[start:end]
        if len(converted) != len(line):  # phrase conversion changed length: map to the line's span
            line_offsets = [line_offsets[min(i * len(line) // max(len(converted), 1), len(line) - 1)] for i in range(len(converted))]
        pieces.append(converted)
        offsets.extend(line_offsets)
    tracked.text, tracked.offsets = "".join(pieces), offsets


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef" or ch in "“”‘’"


def _normalise_char(text: str):
    def mapping(i: int, ch: str) -> str:
        if ch in FULL_SPACE:
            return " "
        if ch == "\u2015":  # 「――增强发展协调性」: the horizontal bar typed for the dash that leads a point
            return "—"
        if "\uff01" <= ch <= "\uff5e" and ch not in "，：；？！（）":
            folded = unicodedata.normalize("NFKC", ch)  # ０-９ Ａ-Ｚ ％ → half width
            return folded if len(folded) == 1 else ch
        if ch in HALF_TO_FULL:
            before = text[i - 1] if i > 0 else ""
            after = text[i + 1] if i + 1 < len(text) else ""
            if ch in ",:" and before.isdigit() and after.isdigit():
                return ch  # 1,000 and 17:08 stay as they are
            if ch in "()" and not (_is_cjk(before) or _is_cjk(after)):
                return ch
            return HALF_TO_FULL[ch]
        return ch

    return mapping


SPACE_RUNS = re.compile(r"(?<=\n)[ ]+|[ ]+(?=\n)|^[ ]+|(?<=[^\x00-\x7f]) +(?=[^\x00-\x7f])|(?<= ) +")
BLANK_LINES = re.compile(r"(?<=\n)\n+|^\n+|\n+$")
CONTINUES = "，。、；：）”！？》"  # no line starts with these: the break before them is wiki markup
SENTENCE_END = "。！？；：…"
BODY_LINE_CHARS = 30  # a shorter line may be a heading, and a heading's break is real


def _blank_line_paragraphs(text: str) -> bool:
    """Does the document end its paragraphs with a blank line (wiki pages do; most reports do not)?
    Then a single line break is never a paragraph's end."""
    ends = re.findall(rf"[。！？]\n(\n?)(?![{CONTINUES}])", text)  # a sentence's end, not a quotation's
    return sum(bool(blank) for blank in ends) > len(ends) / 2


def _broken_lines(text: str) -> list[tuple[int, int]]:
    """Line breaks inside a sentence, as wiki links leave them: 「…要特别注意揭发\n“现正睡在…人物”\n。这是…」.

    A line that starts with closing punctuation continues the one before it, and that one, if it
    is a link's text, continues the body line before it. Where paragraphs end with a blank line,
    a single break in the body after a line that stops mid-sentence is markup too (a heading
    stands alone, and so do the title and date lines above the first blank line):
    「…一定要执行\n惩前毖后，治病救人\n的方针。」."""
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    body = text.find("\n\n") if _blank_line_paragraphs(text) else -1
    body = body if body >= 0 else len(text)
    joins = []
    for (a_start, a_end), (b_start, b_end), (c_start, _) in zip([(0, -1)] + lines, lines, lines[1:]):
        if c_start != b_end + 1:
            continue
        if b_start >= body and text[b_end - 1] not in SENTENCE_END + "）”》":
            joins.append((b_end, c_start))
        elif text[c_start] in CONTINUES:
            joins.append((b_end, c_start))
            ends = text[a_end - 1]
            if a_end == b_start - 1 and ends not in SENTENCE_END and (a_end - a_start >= BODY_LINE_CHARS or ends in "，、"):
                joins.append((a_end, b_start))
    return sorted(set(joins))


def clean_text(original: str) -> CleanedText:
    """The cleaned, simplified text of a report with its offset map and page metadata."""
    tracked = TrackedText.of(original)
    tracked.delete([(i, i + 1) for i, c in enumerate(original) if c == "\r" and original[i + 1 : i + 2] == "\n"])
    tracked.map_chars(lambda i, c: "\n" if c == "\r" else c)
    fields: dict[str, str] = {}
    _strip_page_furniture(tracked, fields)
    tracked.delete_matches(NOTE_MARK)
    tracked.delete_matches(PINYIN_ANNOTATION)
    traditional = is_traditional(tracked.text)
    if traditional:
        _to_simplified(tracked)
    tracked.map_chars(_normalise_char(tracked.text))
    tracked.delete_matches(SPACE_RUNS)
    tracked.delete(_broken_lines(tracked.text))
    tracked.delete_matches(BLANK_LINES)
    return CleanedText(tracked.text, tracked.offsets, fields, traditional)
