"""Recover the section tree of a government report or an interview.

Reports are strongly structured (一、 / （一） / 1. / （1） / ① / 第X章, unnumbered
part titles such as 「2022年重点工作安排」, paragraphs led by 一是… or ——五年来，),
and interviews are question-and-answer turns. A passage is only meaningful
with its place in that tree, so chunks never cross a section and carry the
path to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CN_NUM = "一二三四五六七八九十百零〇"

# (rank, pattern) — a lower rank is a higher level of the tree.
HEADING_KINDS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(rf"^第[{CN_NUM}\d]+[章部篇]")),
    (2, re.compile(rf"^第[{CN_NUM}\d]+节")),
    (3, re.compile(rf"^[{CN_NUM}]+、")),
    (4, re.compile(rf"^（[{CN_NUM}]+）")),
    (5, re.compile(r"^\d{1,2}[.．、](?!\d)")),
    (6, re.compile(r"^（\d{1,2}）")),
    (7, re.compile(r"^[\u2460-\u2473\u2474-\u2487]")),  # ①…⑳ and ⑴…⒇, the finest numbering
]
PART_RANK = 0  # unnumbered part titles sit above numbered headings
LEAD_RANK = 8  # paragraphs led by 一是… / ——五年来，
MAX_HEADING_CHARS = 60
MAX_PART_CHARS = 24
LEAD = re.compile(rf"^(——|[{CN_NUM}]是)")
QUESTION = re.compile(r"(?:^|(?<=[。！？”\n]))(主持人提问|主持人|记者|问)：", re.M)
SENTENCE_END = "。！？；…"


@dataclass
class Section:
    title: str
    rank: int
    start: int  # cleaned-text span of the whole section, heading included
    end: int
    body: list[tuple[int, int]] = field(default_factory=list)  # spans of its own text, headings excluded
    children: list["Section"] = field(default_factory=list)

    def walk(self, path: tuple[str, ...] = ()):
        """Yield (section_path, section) for this section and all below it."""
        here = path + (self.title,) if self.title else path
        yield here, self
        for child in self.children:
            yield from child.walk(here)


def _short_title(text: str, limit: int = 40, stops: str = "。？！") -> str:
    """A heading made from a lead sentence or a question: up to its first stop, or cut."""
    text = text.strip().rstrip("：:")
    stops = [text.index(stop) for stop in stops if stop in text[:limit]]
    if stops:
        return text[: min(stops) + 1]
    return text if len(text) <= limit else text[:limit] + "…"


def _runs_in(heading: str) -> bool:
    """Does a numbered heading line go on past its first sentence, its paragraph run in after it?"""
    return any(ch in SENTENCE_END for ch in heading[:-1])


def _heading_rank(line: str, after_preamble: bool) -> int | None:
    if len(line) <= MAX_HEADING_CHARS:
        for rank, pattern in HEADING_KINDS:
            if pattern.match(line):
                return rank
    if (
        after_preamble
        and len(line) <= MAX_PART_CHARS
        and line[-1] not in SENTENCE_END + "，、：:"
        and not line.startswith("——")
        and re.search(r"[\u4e00-\u9fff]{4}", line)
    ):
        return PART_RANK
    return None


def _lines(text: str) -> list[tuple[int, int, str]]:
    out, start = [], 0
    for line in text.split("\n"):
        out.append((start, start + len(line), line))
        start += len(line) + 1
    return out


def _turns(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """Split an interview span into (start, end, question) turns; text before the first question is a turn titled ''."""
    marks = [m for m in QUESTION.finditer(text, start, end)]
    if not marks:
        return []
    turns = [(start, marks[0].start(), "")] if text[start : marks[0].start()].strip() else []
    for i, mark in enumerate(marks):
        turn_end = marks[i + 1].start() if i + 1 < len(marks) else end
        question = text[mark.end() : turn_end].lstrip("\n")
        turns.append((mark.start(), turn_end, _short_title(question, limit=80, stops="？")))
    return turns


def parse_sections(text: str, title: str = "") -> Section:
    """The section tree of a cleaned report; the root is titled with the document title."""
    root = Section(title=title, rank=-1, start=0, end=len(text))
    if len(QUESTION.findall(text)) >= 2:
        for start, end, question in _turns(text, 0, len(text)):
            if question:
                root.children.append(Section(question, LEAD_RANK, start, end, body=[(start, end)]))
            else:
                root.body.append((start, end))
        return root

    stack = [root]
    seen_paragraph = False
    for start, end, line in _lines(text):
        stripped = line.strip()
        if not stripped:
            continue
        rank = _heading_rank(stripped, seen_paragraph)
        if rank is None and seen_paragraph and LEAD.match(stripped):
            # a lead paragraph is a leaf: its own heading and body
            stack[-1].children.append(Section(_short_title(stripped.lstrip("—")), LEAD_RANK, start, end, [(start, end)]))
            continue
        if rank is None:
            stack[-1].body.append((start, end))
            seen_paragraph = seen_paragraph or (len(stripped) >= 20 and stripped[-1] in SENTENCE_END)
            continue
        while stack[-1].rank >= rank:
            stack.pop()
        if _runs_in(stripped):  # 「（一）推进乡村振兴。建设高标准农田1200亩…」: the heading is its first sentence, the line its text
            section = Section(_short_title(stripped), rank, start, end, [(start, end)])
        else:
            section = Section(stripped, rank, start, end)
        stack[-1].children.append(section)
        stack.append(section)
    _close_spans(root)
    return root


def _close_spans(section: Section) -> int:
    """Extend each section's end to cover its last body span or child."""
    ends = [section.end] + [end for _, end in section.body]
    ends += [_close_spans(child) for child in section.children]
    section.end = max(ends)
    return section.end
