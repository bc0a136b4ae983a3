"""Cut sections into passages small enough to embed and quote.

A chunk never crosses a section. Long sections are split on sentence ends
with a little overlap so a fact on a boundary is whole in at least one chunk.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from reportqa.ingest.sections import Section

CHUNKER_VERSION = "sections-v7"  # v7: Wikisource's note marks (「[4]」) and notes (「↑ …」) dropped; v6: 「――」 (horizontal bars) read as the dash 「——」 that leads a point; v5: years typed 二0一一年, 二００一年, ２０２２年 read and indexed as years; v4: ① and ⑴ number headings (they were read as part titles, above 一、); v3: every break inside a sentence joined where paragraphs end in a blank line; years in Chinese numerals (二〇三五年) indexed as Arabic
SENTENCE = re.compile(r"[^。！？；\n]*(?:[。！？；]+[”’」）]?|\n|$)")
PATH_SEPARATOR = " › "


@dataclass(frozen=True)
class Chunk:
    id: str  # stable: derived from the source file and original offsets
    source: str  # file name under corpus/
    section_path: tuple[str, ...]  # title › heading › subheading
    text: str  # cleaned text, as indexed and quoted
    start: int  # span in the cleaned text
    end: int
    orig_start: int  # span in the original file's text
    orig_end: int
    meta: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def section(self) -> str:
        return PATH_SEPARATOR.join(self.section_path)

    def embedding_text(self) -> str:
        """What is embedded and BM25-indexed: the section path gives a passage its context."""
        return f"{self.section}\n{self.text}"


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    for match in SENTENCE.finditer(text, start, end):
        s, e = match.span()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def _split_long(spans: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """A sentence longer than a chunk (004 has run-on paragraphs) is cut at the size."""
    out = []
    for s, e in spans:
        out.extend((i, min(i + size, e)) for i in range(s, e, size))
    return out


def _runs(text: str, body: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join body spans that only whitespace separates; a gap means another section lies between."""
    runs: list[tuple[int, int]] = []
    for start, end in sorted(body):
        if runs and not text[runs[-1][1] : start].strip():
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs


def pack_spans(text: str, body: list[tuple[int, int]], size: int, overlap: int) -> list[tuple[int, int]]:
    """Windows of whole sentences of about `size` characters, overlapping by up to `overlap`, never crossing a gap."""
    return [w for run in _runs(text, body) for w in _pack_run(text, run, size, overlap)]


def _pack_run(text: str, run: tuple[int, int], size: int, overlap: int) -> list[tuple[int, int]]:
    sentences = _split_long(_sentences(text, *run), size)
    windows: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        j = i
        while j + 1 < len(sentences) and sentences[j + 1][1] - sentences[i][0] <= size:
            j += 1
        windows.append((sentences[i][0], sentences[j][1]))
        if j + 1 >= len(sentences):
            break
        next_i = j + 1  # step back over trailing sentences that fit in the overlap
        while next_i - 1 > i and sentences[j][1] - sentences[next_i - 1][0] <= overlap:
            next_i -= 1
        i = next_i
    return windows


def chunk_id(source: str, orig_start: int, orig_end: int) -> str:
    return hashlib.sha1(f"{source}:{orig_start}:{orig_end}".encode()).hexdigest()[:16]


def chunk_sections(
    source: str, text: str, offsets: list[int], root: Section, meta: dict, size: int, overlap: int
) -> list[Chunk]:
    """Every section's own text, packed into chunks that carry their section path."""
    chunks = []
    for path, section in root.walk():
        for start, end in pack_spans(text, section.body, size, overlap):
            orig_start, orig_end = offsets[start], offsets[end - 1] + 1
            chunks.append(
                Chunk(chunk_id(source, orig_start, orig_end), source, path, text[start:end], start, end, orig_start, orig_end, meta)
            )
    return sorted(chunks, key=lambda c: c.start)
