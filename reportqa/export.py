"""A Q&A, or a whole conversation, with its sources, as Markdown or Word.

Clerks paste answers into their own documents; the sources travel with the
answer (report, section and the passage itself), so the claim stays checkable
after it has left the app.
"""

from __future__ import annotations

import io
import re
import time

from reportqa.history import Turn


def _stamp(turn: Turn) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(turn.created_at))


def _sources_title(record: dict) -> str:
    return "可能相关（未能据此作答）" if record.get("refused") else "出处"


def to_markdown(title: str, turns: list[Turn]) -> str:
    lines = [f"# {title}", ""]
    for turn in turns:
        record = turn.record
        lines += [f"## 问：{turn.question}", ""]
        if turn.resolved != turn.question:
            lines += [f"（追问，按「{turn.resolved}」回答）", ""]
        lines += [record.get("answer", ""), ""]
        lines += [f"*{note}*" for note in record.get("notes", [])]
        if record.get("passages"):
            lines += [f"**{_sources_title(record)}**", ""]
            for p in record["passages"]:
                lines += [f"[{p['n']}] {p['label']}｜{p['section']}", "", *(f"> {line}" for line in p["text"].splitlines() if line.strip()), ""]
        lines += [f"<small>{_stamp(turn)} · reportqa</small>", ""]
    return "\n".join(lines)


def to_docx(title: str, turns: list[Turn]) -> bytes:
    """A Word document: each question a heading, the answer one point per paragraph, then its sources."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    document = Document()
    document.add_heading(title, level=1)
    for turn in turns:
        record = turn.record
        document.add_heading(f"问：{turn.question}", level=2)
        if turn.resolved != turn.question:
            document.add_paragraph(f"（追问，按「{turn.resolved}」回答）").italic = True
        for line in record.get("answer", "").splitlines():
            if line.strip():
                document.add_paragraph(line.strip())
        for note in record.get("notes", []):
            document.add_paragraph(note).runs[0].italic = True
        if record.get("passages"):
            document.add_heading(_sources_title(record), level=3)
            for p in record["passages"]:
                head = document.add_paragraph()
                head.add_run(f"[{p['n']}] {p['label']}").bold = True
                head.add_run(f"｜{p['section']}")
                quote = document.add_paragraph(p["text"], style="Quote" if "Quote" in document.styles else None)
                for run in quote.runs:
                    run.font.size = Pt(10)
        stamp = document.add_paragraph(f"{_stamp(turn)} · reportqa")
        stamp.runs[0].font.size = Pt(8)
        stamp.runs[0].font.color.rgb = RGBColor(0x88, 0x88, 0x88)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def file_name(title: str, suffix: str) -> str:
    """A download name from the title, safe on Windows (the clerks' machines)."""
    safe = re.sub(r"[\\/:*?\"<>|\s]+", "_", title).strip("_")[:40] or "问答"
    return f"{safe}{suffix}"
