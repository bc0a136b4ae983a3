"""The Gradio app: 问答, 检索 / 先例, 文档, 评测 — the only module that imports gradio.

Everything it shows comes from the library (retrieve, answer, store, ingest,
feedback); the app only lays it out for a township clerk: Chinese labels,
sensible defaults, and every answer traceable to the passage it came from.

Named API endpoints (for `gradio_client`): ``/ask`` and ``/search``, both
returning JSON-able dicts (see README).
"""

from __future__ import annotations

import csv
import html
import json
import re
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from reportqa import feedback
from reportqa.config import Settings
from reportqa.ingest.load import MAX_BYTES, SUPPORTED_SUFFIXES, LoadError, read_bytes
from reportqa.ingest.meta import DOC_TYPES, META_FIELDS, SIDECAR_NAME, DocMeta, read_sidecar, sidecar_messages, write_sidecar
from reportqa.limits import InputRejected, csv_row

CONTEXT_CHARS = 300
EXAMPLES = [
    "哪个镇提到未来社区",
    "余新镇2021年规上工业总产值是多少？",
    "陶堰街道要打造哪三张金名片？",
    "天目山镇五年来农民人均收入从多少增加到多少？",
    "唐坊镇规模以上工业总产值完成了多少？",
]
FILTER_LABELS = OrderedDict(
    [("town", "镇 / 街道"), ("county", "县 / 区"), ("province", "省"), ("year", "年份"), ("doc_type", "文档类型")]
)
META_LABELS = {
    "title": "标题", "town": "镇 / 街道", "county": "县 / 区", "city": "市", "province": "省",
    "doc_type": "文档类型", "year": "年份", "date": "日期", "speaker": "讲话人 / 受访人",
}
MODES = {"混合（推荐）": "hybrid", "按意思（语义）": "dense", "按字词（关键词）": "bm25"}
SCORE_CHOICES = [1, 2, 3, 4, 5]
HIGHLIGHT_STOP = {"哪个", "哪些", "提到", "什么", "多少", "如何", "怎么", "是否", "有没有", "情况", "主要", "具体"}
BAD_NAME = re.compile(r"[\\/:*?\"<>|\x00-\x1f]")
IMPORT_LOCK_WAIT_S = 30  # issue 13: an import waits this long for a CLI build, then says who holds the index

CSS = """
.rq-header {font-size: 0.95rem; color: var(--body-text-color-subdued); margin: 0 0 4px 0;}
.rq-header b {color: var(--body-text-color);}
.rq-answer {line-height: 1.8; font-size: 1rem;}
.rq-cite {color: var(--color-accent); font-weight: 600; white-space: nowrap;}
.rq-note {margin-top: 8px; padding: 6px 10px; border-left: 3px solid #d97706; background: rgba(217,119,6,0.08); font-size: 0.9rem;}
.rq-meta-line {margin-top: 6px; font-size: 0.8rem; color: var(--body-text-color-subdued);}
.rq-sources-title {margin: 12px 0 4px 0; font-weight: 600; font-size: 0.92rem;}
.rq-passage {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin: 6px 0; background: var(--background-fill-secondary);}
.rq-passage-head {font-size: 0.86rem; color: var(--body-text-color-subdued); margin-bottom: 4px;}
.rq-passage-head .rq-n {color: var(--color-accent); font-weight: 700; margin-right: 4px;}
.rq-passage-head .rq-town {color: var(--body-text-color); font-weight: 600;}
.rq-passage-text {font-size: 0.93rem; line-height: 1.7; white-space: pre-wrap;}
.rq-passage details {margin-top: 4px; font-size: 0.88rem;}
.rq-passage summary {cursor: pointer; color: var(--color-accent);}
.rq-context {white-space: pre-wrap; line-height: 1.7; padding: 6px 8px; margin-top: 4px; background: var(--background-fill-primary); border-radius: 6px; max-height: 360px; overflow-y: auto;}
.rq-context .rq-here {background: rgba(59,130,246,0.12); border-bottom: 2px solid rgba(59,130,246,0.5);}
.rq-src {font-size: 0.78rem; color: var(--body-text-color-subdued); margin-top: 4px;}
mark {background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px;}
.rq-town-group {margin: 10px 0 16px 0;}
.rq-town-group h3 {margin: 0 0 4px 0; font-size: 1.05rem;}
.rq-town-group h3 small {font-weight: normal; color: var(--body-text-color-subdued);}
.rq-doc-text {white-space: pre-wrap; line-height: 1.8; max-height: 640px; overflow-y: auto; padding: 8px 12px; border: 1px solid var(--border-color-primary); border-radius: 8px;}
.rq-doc-text .rq-heading {font-weight: 700; color: var(--color-accent);}
.rq-outline {max-height: 640px; overflow-y: auto; font-size: 0.9rem; line-height: 1.6;}
.rq-outline a {text-decoration: none;}
.rq-outline small {color: var(--body-text-color-subdued);}
.rq-ok {color: #15803d; font-weight: 600;}
.rq-error {color: #b91c1c; font-weight: 600;}
.rq-gold {font-size: 0.9rem;}
.rq-empty {color: var(--body-text-color-subdued); padding: 8px 0;}
"""

THEME = gr.themes.Soft(
    primary_hue="blue",
    font=["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "system-ui", "sans-serif"],
    font_mono=["Noto Sans Mono CJK SC", "ui-monospace", "monospace"],
)


# ---------------------------------------------------------------- the library behind the app


class Backend:
    """The loaded searcher and answerer; swapped whole after a new report is indexed."""

    def __init__(self, settings: Settings, searcher=None):
        self.settings = settings
        self.lock = threading.RLock()  # one import (write + rebuild + reload) at a time
        self.export_dir = Path(tempfile.mkdtemp(prefix="reportqa-export-"))
        self.llm_note = ""
        self._load(searcher)

    def _load(self, searcher=None, build_if_stale: bool = True) -> None:
        from reportqa.answer import Answerer
        from reportqa.llm import LLMConfig, LLMUnavailable
        from reportqa.retrieve import open_searcher

        searcher = searcher or open_searcher(self.settings, build_if_stale=build_if_stale, show_progress=False)
        try:
            answerer = Answerer(searcher, LLMConfig.from_env())
            self.llm_note = ""
        except LLMUnavailable as error:  # a wrong REPORTQA_LLM* setting must not keep the app from starting
            answerer = Answerer(searcher, None)
            self.llm_note = f"大模型配置有误，已改用摘录式回答：{error}"
        self.searcher, self.answerer = searcher, answerer

    def reload(self) -> None:
        """Load the index afresh (after build_index has brought it up to date)."""
        with self.lock:
            self._load(build_if_stale=False)

    @property
    def index(self):
        return self.searcher.index

    @property
    def backend_name(self) -> str:
        return "摘录式（原文句子）" if self.answerer.llm is None else f"大模型（{self.answerer.config.model}）"

    def header(self) -> str:
        index = self.index
        extra = f"　<span class='rq-error'>{html.escape(self.llm_note)}</span>" if self.llm_note else ""
        return (
            f"<div class='rq-header'><b>reportqa 报告检索与问答</b>　已载入 <b>{len(index.documents)}</b> 份报告，"
            f"<b>{len(index.chunks)}</b> 段　·　回答方式：{self.backend_name}　·　回答只依据这些报告，"
            f"没有的内容会说明「资料中未提及」{extra}</div>"
        )

    def choices(self, field: str) -> list[str]:
        values = {str(d.meta.get(field, "") or "") for d in self.index.documents.values()} - {""}
        if field == "doc_type":
            return [t for t in DOC_TYPES if t in values] + sorted(values - set(DOC_TYPES))
        return sorted(values, reverse=field == "year")

    def ask(self, question: str, filters: dict | None, k: int = 10):
        self.follow_index()
        return self.answerer.ask(question, filters or None, k)

    def search(self, query: str, filters: dict | None, k: int, mode: str):
        from reportqa.evidence import search_passages
        from reportqa.limits import check_search

        self.follow_index()
        query, filters, k, mode = check_search(query, filters, k, mode, self.index)
        return search_passages(self.searcher, query, filters, k, mode)

    def follow_index(self) -> None:
        """Issue 13: pick up, between requests, an index another process (the CLI) has rebuilt."""
        from reportqa.store import index_changed

        if index_changed(self.index):
            self.reload()


def _filters(**values) -> dict:
    """Dropdown values (str, list or None) → the searcher's filter dict, empty ones dropped."""
    out = {}
    for key, value in values.items():
        if isinstance(value, str):
            value = [v.strip() for v in re.split(r"[,，、;；]", value) if v.strip()]
        value = [str(v) for v in (value or []) if str(v).strip()]
        if value:
            out[key] = value
    return out


# ---------------------------------------------------------------- rendering


def query_terms(backend: Backend, query: str) -> list[str]:
    """The words of a query worth highlighting in a passage, longest first."""
    from reportqa.which import which_term

    understanding = backend.searcher.understand(query)
    if understanding.kind == "which" and which_term(understanding):
        return [which_term(understanding)]  # 「哪个镇提到未来社区」: mark 未来社区, not 未来 in 未来筒仓
    terms = {t for t in backend.index.tokenizer.tokens(query) if (len(t) >= 2 or t.isdigit()) and t not in HIGHLIGHT_STOP}
    return sorted(terms, key=lambda t: (-len(t), t))


def section_label(chunk, limit: int = 36) -> str:
    """The section path as shown: without the document title (shown on expanding), long headings cut."""
    path = list(chunk.section_path[1:] if len(chunk.section_path) > 1 else chunk.section_path)
    return " › ".join(p if len(p) <= limit else p[:limit] + "…" for p in path)


def highlight(text: str, terms: list[str]) -> str:
    """HTML-escaped text with every occurrence of the terms wrapped in <mark>."""
    if not terms:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        out.append(f"<mark>{html.escape(match.group(0))}</mark>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _where(meta: dict) -> str:
    parts = [meta.get("town") or "", str(meta.get("year") or ""), meta.get("doc_type") or ""]
    return " · ".join(html.escape(p) for p in parts if p)


def passage_html(backend: Backend, passage, terms: list[str], n: int | None = None) -> str:
    """One passage: where it is from, its text with query terms marked, and its surrounding text on demand."""
    chunk = passage.chunk
    meta = chunk.meta
    town = html.escape(meta.get("town") or chunk.source)
    rest = " · ".join(html.escape(str(p)) for p in (meta.get("year"), meta.get("doc_type")) if p)
    label = f"<span class='rq-n'>[{n}]</span>" if n is not None else ""
    document = backend.index.documents.get(chunk.source)
    context = ""
    if document is not None:
        text = document.text
        start, end = max(0, chunk.start - CONTEXT_CHARS), min(len(text), chunk.end + CONTEXT_CHARS)
        before = ("…" if start > 0 else "") + text[start : chunk.start]
        after = text[chunk.end : end] + ("…" if end < len(text) else "")
        context = (
            "<details><summary>查看上下文（报告原文前后各约 300 字）</summary>"
            f"<div class='rq-context'>{html.escape(before)}<span class='rq-here'>{highlight(text[chunk.start:chunk.end], terms)}</span>"
            f"{html.escape(after)}</div>"
            f"<div class='rq-src'>出处文件：{html.escape(chunk.source)}　标题：{html.escape(meta.get('title') or '')}</div></details>"
        )
    return (
        "<div class='rq-passage'>"
        f"<div class='rq-passage-head'>{label}<span class='rq-town'>{town}</span>"
        f"{' · ' + rest if rest else ''} · <span title='{html.escape(chunk.section, quote=True)}'>{html.escape(section_label(chunk))}</span></div>"
        f"<div class='rq-passage-text'>{highlight(chunk.text, terms)}</div>{context}</div>"
    )


def answer_text_html(text: str) -> str:
    body = html.escape(text)
    body = re.sub(r"\[(\d+)\]", r"<span class='rq-cite'>[\1]</span>", body)
    return body.replace("\n", "<br>")


def answer_html(backend: Backend, answer) -> str:
    """The answer with its [n] markers, then the cited passages (or 「可能相关」 ones for a refusal)."""
    terms = query_terms(backend, answer.question)
    parts = [f"<div class='rq-answer'>{answer_text_html(answer.text)}</div>"]
    for note in answer.notes:
        parts.append(f"<div class='rq-note'>注意：{html.escape(note)}</div>")
    if answer.refused:
        if answer.related:
            parts.append("<div class='rq-sources-title'>可能相关（未能据此作答，仅供参考）：</div>")
            parts.extend(passage_html(backend, p, terms) for p in answer.related)
    elif answer.citations:
        parts.append("<div class='rq-sources-title'>出处：</div>")
        parts.extend(passage_html(backend, c.passage, terms, c.n) for c in answer.citations)
    backend_name = "摘录式" if answer.backend == "extractive" else "大模型"
    parts.append(f"<div class='rq-meta-line'>回答方式：{backend_name} · 用时 {answer.latency_ms / 1000:.1f} 秒</div>")
    return "".join(parts)


def _answer_record(answer) -> dict:
    shown = answer.related if answer.refused else [c.passage for c in answer.citations]
    return {
        "question": answer.question,
        "answer": answer.text,
        "refused": answer.refused,
        "backend": answer.backend,
        "passages": [{"n": i, **p.as_json()} for i, p in enumerate(shown, 1)],
        "notes": list(answer.notes),
    }


def ask_json(answer) -> dict:
    data = answer.as_json("")
    data.pop("id", None)
    data.update(
        backend=answer.backend,
        notes=list(answer.notes),
        related=[p.as_json() for p in answer.related],
    )
    return data


def group_by_town(passages) -> "OrderedDict[str, list]":
    groups: OrderedDict[str, list] = OrderedDict()
    for passage in passages:
        groups.setdefault(passage.chunk.meta.get("town") or "（未标注镇街）", []).append(passage)
    return groups


def search_html(backend: Backend, query: str, passages) -> str:
    if not passages:
        return "<div class='rq-empty'>没有找到相关段落。可以换个说法，或减少筛选条件。</div>"
    terms = query_terms(backend, query)
    groups = group_by_town(passages)
    parts = [f"<div class='rq-empty'>共 {len(passages)} 段，来自 {len(groups)} 个镇街（按相关度排序，同一镇街的段落放在一起）。</div>"]
    for town, items in groups.items():
        meta = items[0].chunk.meta
        place = "".join(x for x in (meta.get("province"), meta.get("city"), meta.get("county")) if x)
        parts.append(
            f"<div class='rq-town-group'><h3>{html.escape(town)} <small>{html.escape(place)} · {len(items)} 段</small></h3>"
            + "".join(passage_html(backend, p, terms, p.rank) for p in items)
            + "</div>"
        )
    return "".join(parts)


# ---------------------------------------------------------------- documents


def documents_table(backend: Backend) -> list[list]:
    counts: dict[str, int] = {}
    for chunk in backend.index.chunks:
        counts[chunk.source] = counts.get(chunk.source, 0) + 1
    rows = []
    for source, document in sorted(backend.index.documents.items()):
        meta = document.meta
        rows.append(
            [source, meta.get("title", ""), meta.get("town", ""), meta.get("county", ""), meta.get("city", ""),
             meta.get("province", ""), meta.get("doc_type", ""), str(meta.get("year", "")), meta.get("date", ""),
             meta.get("speaker", ""), "从正文提取" if meta.get("extracted") else "人工登记", counts.get(source, 0), len(document.text)]
        )
    return rows


DOC_HEADERS = ["文件", "标题", "镇 / 街道", "县 / 区", "市", "省", "类型", "年份", "日期", "讲话人", "元数据", "段数", "字数"]


def document_choices(backend: Backend) -> list[tuple[str, str]]:
    return [
        (f"{d.meta.get('town') or '?'} · {d.meta.get('year') or ''} · {d.meta.get('title') or s}", s)
        for s, d in sorted(backend.index.documents.items())
    ]


def document_view(backend: Backend, source: str | None) -> tuple[str, str]:
    """(outline HTML, text HTML) of one report's cleaned text, headings anchored for the outline."""
    from reportqa.ingest.sections import parse_sections

    document = backend.index.documents.get(source or "")
    if document is None:
        empty = "<div class='rq-empty'>请在上方表格中点一行，或在下拉框中选择一份报告。</div>"
        return empty, ""
    text = document.text
    root = parse_sections(text, document.meta.get("title", ""))
    anchors: list[tuple[int, int, str, int]] = []  # (start, heading end, id, depth)
    outline = []
    for i, (path, section) in enumerate(root.walk()):
        if not section.title or section is root:
            continue
        anchor = f"rq-sec-{i}"
        found = text.find(section.title, section.start, section.start + len(section.title) + 8)
        heading_end = found + len(section.title) if found >= 0 else section.start
        anchors.append((section.start, heading_end, anchor, len(path)))
        own = sum(end - start for start, end in section.body)
        outline.append(
            f"<div style='padding-left:{max(len(path) - 2, 0) * 14}px'><a href='#{anchor}'>{html.escape(section.title)}</a> <small>{own} 字</small></div>"
        )
    pieces, last = [], 0
    for start, heading_end, anchor, _ in sorted(anchors):
        if start < last:
            continue
        pieces.append(html.escape(text[last:start]))
        pieces.append(f"<span id='{anchor}'></span><span class='rq-heading'>{html.escape(text[start:heading_end])}</span>")
        last = heading_end
    pieces.append(html.escape(text[last:]))
    meta = document.meta
    facts = " · ".join(html.escape(str(meta.get(k))) for k in ("town", "county", "city", "province", "doc_type", "year", "date", "speaker") if meta.get(k))
    origin = "元数据从正文提取，请核对" if meta.get("extracted") else "元数据为人工登记"
    head = f"<h3>{html.escape(meta.get('title') or source)}</h3><div class='rq-empty'>{facts}　（{origin}；下方为清洗后的正文，原文件 {html.escape(source)} 未改动）</div>"
    outline_html = "<div class='rq-outline'><b>章节目录</b>" + ("".join(outline) or "<div class='rq-empty'>未识别出章节</div>") + "</div>"
    return outline_html, head + f"<div class='rq-doc-text'>{''.join(pieces)}</div>"


def sidecar_note(corpus_dir: Path) -> str:
    """Issue 13: what is wrong in metadata.csv and what was done about it, for the 文档 tab."""
    messages = sidecar_messages(corpus_dir)
    if not messages:
        return ""
    return "<div class='rq-note'>metadata.csv 有以下问题（修正后重新导入或运行 reportqa build）：<br>" + "<br>".join(html.escape(m) for m in messages) + "</div>"


def _safe_name(name: str) -> str:
    base = name.strip()
    if not base or base.startswith(".") or BAD_NAME.search(base) or base == SIDECAR_NAME:
        raise LoadError(name, "文件名不可用（不能以点开头，不能含 \\ / : * ? \" < > | 等字符）")
    return base


@dataclass
class ImportResult:
    ok: bool
    message: str  # HTML, shown as is


def import_report(backend: Backend, filename: str, data: bytes, meta_values: dict, progress=None) -> ImportResult:
    """Validate, then (only if valid) write to corpus/, add the metadata row, index incrementally, reload.

    A rejected file changes nothing: validation happens before anything is written, and a
    failed index build takes the new file and its metadata row back out.
    """
    from reportqa.ingest import prepare_document
    from reportqa.ingest.load import duplicate_in
    from reportqa.store import build_index, writer_lock

    def step(fraction: float, text: str) -> None:
        if progress is not None:
            progress(fraction, desc=text)

    settings = backend.settings
    corpus = settings.corpus_dir
    step(0.05, "检查文件")
    try:
        name = _safe_name(filename)
        raw = read_bytes(name, data)
    except LoadError as error:
        return ImportResult(False, f"<span class='rq-error'>无法导入「{html.escape(error.source)}」：{html.escape(error.reason)}</span>。报告库没有任何改动。")
    with backend.lock, writer_lock(settings.index_dir, wait_s=IMPORT_LOCK_WAIT_S):
        target = corpus / name
        if target.exists():
            return ImportResult(False, f"<span class='rq-error'>报告库中已有同名文件「{html.escape(name)}」</span>：为保护原文件不被覆盖，请改名后再导入。报告库没有任何改动。")
        if duplicate := duplicate_in(corpus, raw):
            return ImportResult(False, f"<span class='rq-error'>这份报告已经在库中</span>（{html.escape(duplicate)}），不重复导入。报告库没有任何改动。")
        meta_values = {k: str(v or "").strip() for k, v in meta_values.items() if k in META_FIELDS}
        if meta_values.get("doc_type") and meta_values["doc_type"] not in DOC_TYPES:
            return ImportResult(False, f"<span class='rq-error'>文档类型应为 {'、'.join(DOC_TYPES)} 之一</span>。报告库没有任何改动。")
        if meta_values.get("year") and not re.fullmatch(r"(19|20)\d{2}", meta_values["year"]):
            return ImportResult(False, "<span class='rq-error'>年份应为四位数字，例如 2023</span>。报告库没有任何改动。")
        extracted = prepare_document(raw, None).meta
        filled = [k for k in META_FIELDS if not meta_values.get(k) and getattr(extracted, k)]
        meta = DocMeta(**{k: meta_values.get(k) or getattr(extracted, k) for k in META_FIELDS})

        step(0.15, "写入报告库")
        corpus.mkdir(parents=True, exist_ok=True)
        sidecar_path = corpus / SIDECAR_NAME
        old_sidecar = sidecar_path.read_bytes() if sidecar_path.exists() else None
        with open(target, "xb") as handle:  # "x": never overwrite an existing file
            handle.write(data)
        try:
            entries = read_sidecar(corpus)
            entries[name] = meta
            write_sidecar(corpus, entries)
            step(0.25, "更新索引（只处理新文件）")
            report = build_index(settings, show_progress=progress is not None)
            step(0.9, "重新载入检索器")
            backend.reload()
        except Exception as exc:
            target.unlink(missing_ok=True)
            if old_sidecar is None:
                sidecar_path.unlink(missing_ok=True)
            else:
                sidecar_path.write_bytes(old_sidecar)
            return ImportResult(False, f"<span class='rq-error'>导入失败，已撤回</span>（{html.escape(type(exc).__name__)}: {html.escape(str(exc))}）。报告库没有任何改动。")
    chunks = sum(1 for c in backend.index.chunks if c.source == name)
    skipped = "".join(f"<br>另有文件被跳过：{html.escape(e.source)}（{html.escape(e.reason)}）" for e in report.skipped)
    note = f"<br>以下字段是从正文自动识别的，请在「文档」表中核对：{'、'.join(META_LABELS[k] for k in filled)}" if filled else ""
    return ImportResult(
        True,
        f"<span class='rq-ok'>已导入「{html.escape(name)}」</span>：切分为 {chunks} 段，索引现有 {report.n_chunks} 段"
        f"（只向量化了新文件，用时 {report.seconds:.1f} 秒）。现在可以在「问答」和「检索」中查到它。{note}{skipped}",
    )


def preview_upload(path: str | None) -> tuple[str, dict]:
    """What a chosen file would be imported as: its validation result and metadata read off its text."""
    from reportqa.ingest import prepare_document

    if not path:
        return "", {}
    name = Path(path).name
    try:
        raw = read_bytes(_safe_name(name), Path(path).read_bytes())
    except LoadError as error:
        return f"<span class='rq-error'>不能导入「{html.escape(error.source)}」：{html.escape(error.reason)}</span>", {}
    meta = prepare_document(raw, None).meta
    return (
        f"<span class='rq-ok'>文件可以读取</span>（{html.escape(raw.encoding)}，{len(raw.text)} 字）。"
        "下面的信息是从正文自动识别的，请核对、补全后点「导入并更新索引」。",
        {k: getattr(meta, k) for k in META_FIELDS},
    )


# ---------------------------------------------------------------- evaluation


def gold_path(settings: Settings) -> Path | None:
    for candidate in (settings.home / "eval" / "gold.jsonl", Path(__file__).resolve().parents[1] / "eval" / "gold.jsonl"):
        if candidate.exists():
            return candidate
    return None


def load_gold(settings: Settings) -> list[dict]:
    path = gold_path(settings)
    if path is None:
        return []
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            continue
        if item and item.get("question"):
            items.append(item)
    return items


TYPE_ZH = {
    "fact": "事实", "number": "数字", "unanswerable": "无答案", "which_towns": "哪个镇", "paraphrase": "换说法",
    "traditional": "繁体", "comparison": "比较", "summary": "概括",
}


def gold_info_html(item: dict | None) -> str:
    if not item:
        return "<div class='rq-gold rq-empty'>自由提问（不在金标准问题集中），请按回答本身评分。</div>"
    facts = "、".join(item.get("key_facts") or []) or "—"
    answerable = "应能回答" if item.get("answerable", True) else "资料中没有答案（正确做法是说明「资料中未提及」）"
    return (
        f"<div class='rq-gold'><b>金标准 {html.escape(str(item.get('id', '')))}</b> · 类型：{html.escape(TYPE_ZH.get(item.get('type', ''), item.get('type', '')))}"
        f" · {answerable}<br>参考要点：{html.escape(facts)}<br>出处文件：{html.escape('、'.join(item.get('sources') or []) or '—')}</div>"
    )


def summary_tables(db: Path) -> tuple[list[list], list[list], list[list], str]:
    s, problem = feedback.summary_or_problem(db)  # issue 13: a broken database never blocks the page

    def groups(items):
        return [[g.group, g.n, *(g.means[c] for c in feedback.CRITERIA)] for g in items]

    agreement = [
        [feedback.CRITERIA_ZH[a.criterion], a.pairs,
         "—" if a.mean_abs_diff is None else f"{a.mean_abs_diff:.2f}",
         "—" if a.exact is None else f"{a.exact:.0%}",
         "—" if a.within_one is None else f"{a.within_one:.0%}"]
        for a in s.agreement
    ]
    line = (
        f"共 {s.n_ratings} 条评分，{s.n_raters} 位评分人，{s.n_answers} 个不同回答；"
        f"问答页 赞 {s.thumbs_up} / 踩 {s.thumbs_down}。一致性只统计两人及以上评过的同一回答（每人取最后一次评分）。"
    )
    if problem:
        line = f"**评分库不可用：{problem}**"
    return groups(s.per_rater), groups(s.per_type), agreement, line


# ---------------------------------------------------------------- the app


def build_app(settings: Settings, searcher=None) -> gr.Blocks:
    backend = Backend(settings, searcher)
    gold = load_gold(settings)
    gold_by_id = {str(item.get("id")): item for item in gold}
    private = {"api_visibility": "private"}

    with gr.Blocks(title="reportqa 报告检索与问答", analytics_enabled=False) as app:
        header = gr.HTML(backend.header())

        # ------------------------------------------------------------ 问答
        with gr.Tab("问答", id="ask"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=4):
                    chatbot = gr.Chatbot(
                        label="问答",
                        show_label=False,
                        height=600,
                        elem_id="rq-chat",
                        placeholder="在下面输入问题，例如「哪个镇提到未来社区」。每句回答后的 [1] [2] 是出处编号，可在回答下方展开看原文。",
                        feedback_options=("Like", "Dislike"),
                        buttons=["copy"],
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            placeholder="输入问题，按回车或点「提问」",
                            show_label=False, scale=6, container=False, elem_id="rq-question", autofocus=True,
                        )
                        ask_button = gr.Button("提问", variant="primary", scale=1, min_width=80, elem_id="rq-ask")
                        clear_button = gr.Button("清空对话", scale=1, min_width=80)
                    gr.Examples(EXAMPLES, inputs=question, label="示例问题（点一下填入）")
                with gr.Column(scale=1, min_width=220):
                    gr.Markdown("#### 只在这些报告中找（可不选）")
                    ask_town = gr.Dropdown(backend.choices("town"), value=[], multiselect=True, label="镇 / 街道", info="不选 = 全部")
                    ask_year = gr.Dropdown(backend.choices("year"), value=[], multiselect=True, label="年份", info="不选 = 全部")
                    ask_type = gr.Dropdown(backend.choices("doc_type"), value=[], multiselect=True, label="文档类型", info="不选 = 全部")
                    gr.Markdown(
                        "**怎么看回答**\n\n"
                        "- 每句话后的 **[1] [2]** 对应下方「出处」；点「查看上下文」可看报告原文前后文。\n"
                        "- 黄色标记是问题里的关键词。\n"
                        "- 报告里没有的内容，会回答「资料中未提及」，并列出可能相关的段落。\n"
                        "- 回答下方有「赞 / 踩」按钮，您的评价会帮我们改进。"
                    )
            records = gr.State({})

            def add_question(message, history):
                message = (message or "").strip()
                if not message:
                    return gr.update(), history
                return "", history + [{"role": "user", "content": message}]

            def answer_last(history, records, town, year, doc_type):
                if not history or history[-1]["role"] != "user":
                    return history, records
                content = history[-1]["content"]
                message = content if isinstance(content, str) else "".join(c.get("text", "") for c in content if isinstance(c, dict))
                try:
                    answer = backend.ask(message, _filters(town=town, year=year, doc_type=doc_type), settings.top_k)
                except InputRejected as rejected:  # issue 13: say what to change, not "error"
                    return history + [{"role": "assistant", "content": f"<div class='rq-note'>{html.escape(str(rejected))}</div>"}], records
                except Exception as exc:  # never leave the clerk with a spinning box
                    reply = f"<div class='rq-note'>出错了：{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</div>"
                    return history + [{"role": "assistant", "content": reply}], records
                history = history + [{"role": "assistant", "content": answer_html(backend, answer)}]
                records = dict(records)
                record = _answer_record(answer)
                record["filters"] = _filters(town=town, year=year, doc_type=doc_type)
                records[str(len(history) - 1)] = record
                return history, records

            def on_like(records, data: gr.LikeData):
                index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
                record = records.get(str(index))
                if record is None:
                    return
                liked = data.liked is True or data.liked == "Like"
                try:
                    feedback.save_thumb(
                        settings.feedback_db,
                        feedback.Thumb(liked, record["question"], record["answer"], record["passages"], record["backend"],
                                       record["refused"], record.get("filters", {})),
                    )
                except feedback.FeedbackError as error:  # issue 13
                    gr.Warning(str(error))
                    return
                gr.Info("谢谢，已记录您的好评" if liked else "谢谢，已记录，我们会改进这类回答")

            ask_inputs = [chatbot, records, ask_town, ask_year, ask_type]
            for trigger in (question.submit, ask_button.click):
                trigger(add_question, [question, chatbot], [question, chatbot], queue=False, **private).then(
                    answer_last, ask_inputs, [chatbot, records], **private
                )
            clear_button.click(lambda: ([], {}), None, [chatbot, records], queue=False, **private)
            chatbot.like(on_like, [records], None, **private)

        # ------------------------------------------------------------ 检索 / 先例
        with gr.Tab("检索 / 先例", id="search"):
            gr.Markdown("查别的镇街怎么做：输入事项（如「未来社区」「污水零直排」「养老服务」），结果按镇街分组，保留原话、年份和章节。")
            with gr.Row():
                search_query = gr.Textbox(label="要查的事项", placeholder="例如：未来社区", scale=5, elem_id="rq-search-query")
                search_button = gr.Button("检索", variant="primary", scale=1, min_width=80, elem_id="rq-search")
            with gr.Row():
                search_filters = {
                    key: gr.Dropdown(backend.choices(key), value=[], multiselect=True, label=label, info="不选 = 全部", min_width=140)
                    for key, label in FILTER_LABELS.items()
                }
            with gr.Row():
                search_mode = gr.Radio(list(MODES), value="混合（推荐）", label="匹配方式", scale=3)
                search_k = gr.Slider(5, 50, value=20, step=5, label="最多显示段数", scale=2)
                search_csv = gr.File(label="下载结果（CSV，可用 Excel 打开）", interactive=False, scale=2, height=80, elem_id="rq-search-csv")
            search_results = gr.HTML("<div class='rq-empty'>输入事项后点「检索」。</div>", elem_id="rq-search-results")

            def run_search(query, mode, k, *filter_values):
                query = (query or "").strip()
                if not query:
                    return "<div class='rq-empty'>请先输入要查的事项。</div>", None
                filters = _filters(**dict(zip(FILTER_LABELS, filter_values)))
                passages = backend.search(query, filters, int(k), MODES.get(mode, "hybrid"))
                path = backend.export_dir / f"检索结果_{time.strftime('%Y%m%d_%H%M%S')}_{abs(hash(query)) % 10000}.csv"
                with path.open("w", encoding="utf-8-sig", newline="") as handle:
                    writer = csv.writer(handle)
                    writer.writerow(["序号", "镇 / 街道", "县 / 区", "市", "省", "年份", "文档类型", "标题", "章节", "段落", "相关度", "文件"])
                    for p in passages:
                        m = p.chunk.meta
                        writer.writerow(csv_row([p.rank, m.get("town", ""), m.get("county", ""), m.get("city", ""), m.get("province", ""), m.get("year", ""),
                                         m.get("doc_type", ""), m.get("title", ""), p.chunk.section, p.chunk.text, f"{p.score:.3f}", p.chunk.source]))
                return search_html(backend, query, passages), str(path) if passages else None

            search_inputs = [search_query, search_mode, search_k, *search_filters.values()]
            for trigger in (search_query.submit, search_button.click):
                trigger(run_search, search_inputs, [search_results, search_csv], **private)

        # ------------------------------------------------------------ 文档
        with gr.Tab("文档", id="docs"):
            gr.HTML(lambda: sidecar_note(settings.corpus_dir), elem_id="rq-sidecar-note")  # issue 13, read on each page load
            doc_table = gr.Dataframe(
                documents_table(backend), headers=DOC_HEADERS, interactive=False, wrap=True, label="已载入的报告（点一行阅读全文）",
                max_height=380, elem_id="rq-doc-table",
                column_widths=["215px", "240px", "90px", "80px", "80px", "70px", "100px", "60px", "100px", "80px", "90px", "60px", "70px"],
            )
            first_doc = min(backend.index.documents, default=None)
            doc_pick = gr.Dropdown(document_choices(backend), value=first_doc, label="选择报告阅读", elem_id="rq-doc-pick")
            first_outline, first_text = document_view(backend, first_doc)
            with gr.Row(equal_height=False):
                with gr.Column(scale=1, min_width=220):
                    doc_outline = gr.HTML(first_outline)
                with gr.Column(scale=3):
                    doc_text = gr.HTML(first_text)

            with gr.Accordion("＋ 导入新报告（txt / md / docx / pdf / html）", open=False, elem_id="rq-upload-box"):
                gr.Markdown(
                    f"支持 {' '.join(SUPPORTED_SUFFIXES)}（文字版 PDF；扫描件需先做文字识别）。"
                    "选好文件后会先检查能否读取并自动识别标题、镇街、年份等，请核对后再导入。"
                    "导入只会新增文件，不会覆盖或修改已有报告；同名或内容相同的文件会被拒绝。"
                )
                with gr.Row():
                    upload_file = gr.File(label="报告文件", file_types=list(SUPPORTED_SUFFIXES), type="filepath", scale=2, elem_id="rq-upload-file")
                    with gr.Column(scale=3):
                        with gr.Row():
                            meta_inputs = {
                                "title": gr.Textbox(label=META_LABELS["title"], scale=3),
                                "doc_type": gr.Dropdown(list(DOC_TYPES), value=None, label=META_LABELS["doc_type"], scale=1),
                            }
                        with gr.Row():
                            for key in ("town", "county", "city", "province"):
                                meta_inputs[key] = gr.Textbox(label=META_LABELS[key], min_width=100)
                        with gr.Row():
                            for key in ("year", "date", "speaker"):
                                meta_inputs[key] = gr.Textbox(label=META_LABELS[key], min_width=100,
                                                              placeholder={"year": "如 2023", "date": "如 2023-02-28"}.get(key, ""))
                upload_button = gr.Button("导入并更新索引", variant="primary", elem_id="rq-upload")
                upload_status = gr.HTML("", elem_id="rq-upload-status")

            def show_document(source):
                return document_view(backend, source)

            def pick_row(event: gr.SelectData):
                row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
                rows = documents_table(backend)
                return rows[row][0] if 0 <= row < len(rows) else None

            doc_table.select(pick_row, None, doc_pick, **private)
            doc_pick.change(show_document, doc_pick, [doc_outline, doc_text], **private)

            meta_order = list(meta_inputs)

            def on_file(path):
                if not path:  # cleared, e.g. after a successful import: keep its message
                    return [gr.update()] * (1 + len(meta_order))
                message, meta = preview_upload(path)
                return [message] + [gr.update(value=meta[k]) if k in meta else gr.update() for k in meta_order]

            upload_file.change(on_file, upload_file, [upload_status, *meta_inputs.values()], **private)

            refresh_outputs = [upload_status, header, doc_table, doc_pick, ask_town, ask_year, ask_type, *search_filters.values(),
                               upload_file, *meta_inputs.values()]

            def do_import(path, *values, progress=gr.Progress(track_tqdm=True)):
                if not path:
                    result = ImportResult(False, "<span class='rq-error'>请先选择要导入的报告文件。</span>")
                else:
                    result = import_report(backend, Path(path).name, Path(path).read_bytes(), dict(zip(meta_order, values)), progress)
                filters = [gr.update(choices=backend.choices(k)) for k in ("town", "year", "doc_type")]
                filters += [gr.update(choices=backend.choices(k)) for k in FILTER_LABELS]
                # after a successful import, clear the form for the next report; after a failure, keep it for correcting
                form = [None] + [None if k == "doc_type" else "" for k in meta_order] if result.ok else [gr.update()] * (1 + len(meta_order))
                return [result.message, backend.header(), documents_table(backend), gr.update(choices=document_choices(backend)), *filters, *form]

            upload_button.click(do_import, [upload_file, *meta_inputs.values()], refresh_outputs, **private)

        # ------------------------------------------------------------ 评测
        with gr.Tab("评测", id="eval"):
            gr.Markdown("给回答打分：选一道金标准问题（或自己输入问题），生成回答后按三项标准各打 1–5 分，填上姓名保存。分数和回答、出处一起存档，可导出。")
            with gr.Row():
                gold_pick = gr.Dropdown(
                    [(f"{item.get('id')} · {TYPE_ZH.get(item.get('type', ''), item.get('type', ''))} · {item['question']}", str(item.get("id"))) for item in gold],
                    value=None, label=f"金标准问题（{len(gold)} 道）" if gold else "金标准问题（未找到 eval/gold.jsonl）", scale=3, elem_id="rq-gold-pick",
                )
                eval_question = gr.Textbox(label="问题", placeholder="或直接输入问题", scale=3, elem_id="rq-eval-question")
                eval_button = gr.Button("生成回答", variant="primary", scale=1, min_width=100, elem_id="rq-eval-ask")
            gold_info = gr.HTML(gold_info_html(None))
            eval_answer = gr.HTML("<div class='rq-empty'>回答会显示在这里。</div>", elem_id="rq-eval-answer")
            eval_record = gr.State(None)
            with gr.Group():
                with gr.Row():
                    score_inputs = {
                        "correctness": gr.Radio(SCORE_CHOICES, label="正确性", info="回答对不对、全不全（5 = 完全正确）", elem_id="rq-score-correctness"),
                        "faithfulness": gr.Radio(SCORE_CHOICES, label="忠实度", info="每句话都能在所引原文中找到（5 = 无编造）", elem_id="rq-score-faithfulness"),
                        "citation": gr.Radio(SCORE_CHOICES, label="引用质量", info="[n] 是否指向真正支撑该句的段落", elem_id="rq-score-citation"),
                    }
                with gr.Row():
                    comment = gr.Textbox(label="备注（可选）", placeholder="例如：第二句没有出处", scale=4, elem_id="rq-comment")
                    rater = gr.Textbox(label="评分人", placeholder="姓名（必填）", scale=1, min_width=140, elem_id="rq-rater")
            save_button = gr.Button("保存评分", variant="primary", elem_id="rq-save")
            save_status = gr.HTML("", elem_id="rq-save-status")

            with gr.Accordion("评分汇总与导出", open=True):
                summary_line = gr.Markdown("")
                with gr.Row():
                    per_rater = gr.Dataframe(headers=["评分人", "条数", "正确性", "忠实度", "引用质量"], interactive=False, label="按评分人（平均分）")
                    per_type = gr.Dataframe(headers=["问题类型", "条数", "正确性", "忠实度", "引用质量"], interactive=False, label="按问题类型（平均分）")
                agreement_table = gr.Dataframe(
                    headers=["标准", "配对数", "平均绝对差", "完全一致", "相差≤1 分"], interactive=False, label="评分人之间的一致性（同一回答）",
                )
                with gr.Row():
                    export_button = gr.Button("导出全部评分（CSV，可用 Excel 打开）", scale=1)
                    export_file = gr.File(label="评分表", interactive=False, scale=2, height=80, visible=False, elem_id="rq-ratings-csv")

            def refresh_summary():
                raters, types, agree, line = summary_tables(settings.feedback_db)
                for row in types:
                    row[0] = TYPE_ZH.get(row[0], row[0])
                return raters, types, agree, line

            def pick_gold(qid):
                item = gold_by_id.get(str(qid)) if qid else None
                return (item["question"] if item else gr.update()), gold_info_html(item)

            def eval_ask(qid, text):
                text = (text or "").strip()
                item = gold_by_id.get(str(qid)) if qid else None
                if item and text != item["question"]:
                    item = None  # the rater edited the question: a free question now
                if not text:
                    return "<div class='rq-empty'>请先选择或输入问题。</div>", None, gold_info_html(None)
                answer = backend.ask(text, None, settings.top_k)
                record = _answer_record(answer)
                record.update(question_id=str(item.get("id")) if item else "", question_type=item.get("type", "") if item else "")
                return answer_html(backend, answer), record, gold_info_html(item)

            def save_rating(record, correctness, faithfulness, citation, comment_text, rater_name):
                keep = [gr.update()] * 4
                if not record:
                    return ["<span class='rq-error'>请先点「生成回答」，再打分。</span>", *keep, gr.update(), *refresh_summary()]
                rating = feedback.Rating(
                    rater=rater_name or "", question=record["question"], answer=record["answer"],
                    correctness=correctness, faithfulness=faithfulness, citation=citation, comment=comment_text or "",
                    question_id=record.get("question_id", ""), question_type=record.get("question_type", ""),
                    passages=record["passages"], backend=record["backend"], refused=record["refused"],
                )
                try:
                    row_id = feedback.save_rating(settings.feedback_db, rating)
                except feedback.FeedbackError as error:
                    return [f"<span class='rq-error'>{html.escape(str(error))}</span>", *keep, gr.update(), *refresh_summary()]
                message = f"<span class='rq-ok'>已保存（第 {row_id} 条）</span>：{html.escape(rating.rater)} 给「{html.escape(rating.question[:40])}」的评分。"
                return [message, None, None, None, "", gr.update(), *refresh_summary()]

            def export_ratings():
                path = backend.export_dir / f"评分_{time.strftime('%Y%m%d_%H%M%S')}.csv"
                return gr.update(value=str(feedback.export_csv(settings.feedback_db, path)), visible=True)

            summary_outputs = [per_rater, per_type, agreement_table, summary_line]
            gold_pick.change(pick_gold, gold_pick, [eval_question, gold_info], **private)
            for trigger in (eval_button.click, eval_question.submit):
                trigger(eval_ask, [gold_pick, eval_question], [eval_answer, eval_record, gold_info], **private)
            save_button.click(
                save_rating, [eval_record, *score_inputs.values(), comment, rater],
                [save_status, *score_inputs.values(), comment, rater, *summary_outputs], **private,
            )
            export_button.click(export_ratings, None, export_file, **private)
            app.load(refresh_summary, None, summary_outputs, **private)

        # ------------------------------------------------------------ API (gradio_client)
        def ask(question: str, town: str = "", county: str = "", province: str = "", year: str = "", doc_type: str = "", k: int = 10) -> dict:
            """Ask a question; returns the answer with its citations (the `ask --jsonl` object plus backend, notes, related).

            Filters are optional; several values may be given comma-separated, e.g. town="余新镇,凤桥镇".
            """
            filters = _filters(town=town, county=county, province=province, year=year, doc_type=doc_type)
            try:
                return ask_json(backend.ask(question, filters, k))
            except InputRejected as rejected:  # issue 13
                raise gr.Error(str(rejected)) from None

        def search(query: str, town: str = "", county: str = "", province: str = "", year: str = "", doc_type: str = "", k: int = 10, mode: str = "hybrid") -> dict:
            """Search passages; returns them ranked (the `search --json` objects) and grouped by town.

            mode is hybrid (default), dense or bm25. Filters as for /ask.
            """
            filters = _filters(town=town, county=county, province=province, year=year, doc_type=doc_type)
            try:
                passages = backend.search(query, filters, k, mode)
            except InputRejected as rejected:  # issue 13
                raise gr.Error(str(rejected)) from None
            return {
                "query": query,
                "filters": filters,
                "passages": [{"rank": p.rank, **p.as_json()} for p in passages],
                "by_town": {town: [p.rank for p in items] for town, items in group_by_town(passages).items()},
            }

        gr.api(ask, api_name="ask")
        gr.api(search, api_name="search")

    app.reportqa_backend = backend  # for tests and embedding
    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, searcher=None, block: bool = True) -> gr.Blocks:
    """Build the app and serve it; with block=False return at once (the server runs in a thread)."""
    app = build_app(settings, searcher)
    app.queue(default_concurrency_limit=4)
    app.launch(
        server_name=host, server_port=port, theme=THEME, css=CSS, ssr_mode=False, show_error=True, max_file_size=MAX_BYTES,
        prevent_thread_lock=not block, quiet=False, footer_links=["api"],
    )
    return app
