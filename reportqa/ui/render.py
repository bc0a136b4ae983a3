"""HTML the tabs share: passage cards, answers, search results, a report with a marked span.

Sources are named as users know them (issuer · year · kind), never by file
name; every [n] links to its card, and the sentence an answer quotes is marked
inside the passage it came from.
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict
from urllib.parse import quote as quote_url

from reportqa.relevance import query_terms

CONTEXT_CHARS = 300
CITE = re.compile(r"\[(\d+)\]")
SENTENCE = re.compile(r"[^。！？；\n]+(?:[。！？；]+[”’」）]?)?(?:\s*\[\d+\])*")
UNDERSTOOD = re.compile(r"^（(按 .+ 理解)）$")
CLAUSE = re.compile(r"[，,；：]")
MIN_QUOTE = 6  # shorter pieces of a sentence match passages by chance


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


def quote_span(text: str, sentence: str) -> tuple[int, int] | None:
    """Where in a passage an answer sentence (citations removed) was taken from: the whole sentence, else its longest clause found."""
    body = CITE.sub("", sentence).strip().rstrip("。！？；")
    if len(body) >= MIN_QUOTE and (at := text.find(body)) >= 0:
        return at, at + len(body)
    for clause in sorted(CLAUSE.split(body), key=len, reverse=True):
        clause = clause.strip()
        if len(clause) >= MIN_QUOTE and (at := text.find(clause)) >= 0:
            return at, at + len(clause)
    return None


def marked(text: str, terms: list[str], quote: tuple[int, int] | None) -> str:
    """Passage text with the query's terms marked and the quoted sentence marked as the answer's."""
    if quote is None:
        return highlight(text, terms)
    start, end = quote
    return (
        highlight(text[:start], terms)
        + f"<mark class='rq-quote'>{html.escape(text[start:end])}</mark>"
        + highlight(text[end:], terms)
    )


def section_label(chunk, limit: int = 36) -> str:
    """The section path as shown: without the document title (the label names the report), long headings cut."""
    path = list(chunk.section_path[1:] if len(chunk.section_path) > 1 else chunk.section_path)
    return " › ".join(p if len(p) <= limit else p[:limit] + "…" for p in path)


def open_link(source: str, start: int, end: int, quote: tuple[int, int] | None = None) -> str:
    """「在文档中打开」: the 文档 tab at this place, the passage (and the quote in it) marked."""
    qs, qe = quote or (0, 0)
    where = quote_url(f"{source}|{start}|{end}|{start + qs if quote else ''}|{start + qe if quote else ''}", safe="|")
    return f"<a class='rq-open' href='#open={where}'>在文档中打开</a>"  # Gradio's sanitizer keeps href, drops data-*


def passage_html(index, passage, terms: list[str], n: int | None = None, anchor: str = "", quote: tuple[int, int] | None = None, weak: bool = False) -> str:
    """One source card: report label, section, score, text with terms and quote marked, surrounding text on demand."""
    chunk = passage.chunk
    label = f"<span class='rq-n'>[{n}]</span>" if n is not None else ""
    document = index.documents.get(chunk.source)
    context = ""
    if document is not None:
        text = document.text
        start, end = max(0, chunk.start - CONTEXT_CHARS), min(len(text), chunk.end + CONTEXT_CHARS)
        before = ("…" if start > 0 else "") + text[start : chunk.start]
        after = text[chunk.end : end] + ("…" if end < len(text) else "")
        context = (
            "<details><summary>查看上下文（报告原文前后各约 300 字）</summary>"
            f"<div class='rq-context'>{html.escape(before)}<span class='rq-here'>{highlight(text[chunk.start:chunk.end], terms)}</span>"
            f"{html.escape(after)}</div></details>"
        )
    ident = f" id='{anchor}'" if anchor else ""
    return (
        f"<div class='rq-passage{' rq-weak' if weak else ''}'{ident}>"
        f"<div class='rq-passage-head'>{label}<span class='rq-town'>{html.escape(passage.source_label())}</span>"
        f" · <span title='{html.escape(chunk.section, quote=True)}'>{html.escape(section_label(chunk))}</span>"
        f"<span class='rq-score' title='检索相关度（0–1）'>相关度 {passage.score:.2f}</span></div>"
        f"<div class='rq-passage-text'>{marked(chunk.text, terms, quote)}</div>"
        f"{context}{open_link(chunk.source, chunk.start, chunk.end, quote) if document is not None else ''}</div>"
    )


def _cite_links(text: str, prefix: str) -> str:
    return CITE.sub(lambda m: f"<a class='rq-cite' href='#{prefix}-{m.group(1)}'>[{m.group(1)}]</a>", text)


def _top_section(passage) -> str:
    path = passage.chunk.section_path
    return path[1] if len(path) > 1 else ""


def answer_body(text: str, by_n: dict, prefix: str) -> str:
    """The answer one point per line; points from several reports grouped under 「issuer · year」 headings, each
    point tagged with its section so plans and achievements do not mix unseen."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    parts = []
    if lines and (understood := UNDERSTOOD.match(lines[0])):
        parts.append(f"<div class='rq-understood'>{html.escape(understood.group(1))}</div>")
        lines = lines[1:]
    points: list[tuple[str, str, str]] = []  # (report label, section, sentence)
    for line in lines:
        for sentence in SENTENCE.findall(line):
            sentence = sentence.strip()
            if not sentence:
                continue
            cited = [by_n[int(n)] for n in CITE.findall(sentence) if int(n) in by_n]
            sources = {p.source_label() for p in cited}
            label = sources.pop() if len(sources) == 1 else ""  # a summary over several reports leads, ungrouped
            if label and sentence.startswith(label + "："):
                sentence = sentence[len(label) + 1 :]
            points.append((label, _top_section(cited[0]) if label else "", sentence))
    labels = list(OrderedDict.fromkeys(label for label, _, _ in points if label))
    grouped = len(labels) > 1

    def item(section: str, sentence: str) -> str:
        tag = f" <span class='rq-sec'>（{html.escape(section)}）</span>" if section and grouped else ""
        return f"<li>{_cite_links(html.escape(sentence), prefix)}{tag}</li>"

    lead = [s for label, _, s in points if not label]
    parts.extend(f"<p>{_cite_links(html.escape(s), prefix)}</p>" for s in lead)
    if grouped:
        for label in labels:
            parts.append(f"<h4>{html.escape(label)}</h4><ul>" + "".join(item(sec, s) for lab, sec, s in points if lab == label) + "</ul>")
    elif points and len(points) > len(lead):
        parts.append("<ul>" + "".join(item(sec, s) for lab, sec, s in points if lab) + "</ul>")
    return "<div class='rq-answer'>" + "".join(parts) + "</div>"


def answer_html(index, searcher, answer, prefix: str, follow_note: str = "", exports: str = "") -> str:
    """An answer as shown in the chat: how it was understood, the points with linked [n], then the source cards."""
    terms = query_terms(searcher, answer.question)
    by_n = {c.n: c.passage for c in answer.citations}
    parts = [f"<div class='rq-understood'>{html.escape(follow_note)}</div>"] if follow_note else []
    parts.append(answer_body(answer.text, by_n, prefix))
    for note in answer.notes:
        parts.append(f"<div class='rq-note'>注意：{html.escape(note)}</div>")
    if answer.refused:
        if answer.related:
            parts.append("<div class='rq-sources-title'>可能相关（未能据此作答，仅供参考）：</div>")
            parts.extend(passage_html(index, p, terms) for p in answer.related)
    elif answer.citations:
        parts.append("<div class='rq-sources-title'>出处：</div>")
        sentences = SENTENCE.findall(answer.text)
        for c in answer.citations:
            spans = (quote_span(c.passage.chunk.text, s) for s in sentences if f"[{c.n}]" in s)
            quote = next((span for span in spans if span), None)  # a summary citing many ([1]、[2]) quotes nothing
            parts.append(passage_html(index, c.passage, terms, c.n, f"{prefix}-{c.n}", quote))
    backend_name = "摘录式" if answer.backend == "extractive" else "大模型"
    parts.append(f"<div class='rq-meta-line'>回答方式：{backend_name} · 用时 {answer.latency_ms / 1000:.1f} 秒{exports}</div>")
    return "".join(parts)


def draft_html(draft: str) -> str:
    """The LLM's reply while it streams: plain text, marked as not yet checked (the verified answer replaces it)."""
    doing = "大模型正在作答…" if draft else "大模型正在阅读检索到的资料，稍候开始作答…"
    return (
        f"<div class='rq-draft'>{html.escape(draft)}<span class='rq-cursor'>▍</span></div>"
        f"<div class='rq-meta-line'>{doing}写完后逐句核对出处，找不到依据的句子会删去</div>"
    )


def answer_record(answer, resolved: str) -> dict:
    """What history, export and feedback keep of an answer: its text and the passages shown with it."""
    shown = answer.related if answer.refused else [c.passage for c in answer.citations]
    return {
        "question": answer.question,
        "resolved": resolved,
        "answer": answer.text,
        "refused": answer.refused,
        "backend": answer.backend,
        "passages": [{"n": i, "label": p.source_label(), **p.as_json()} for i, p in enumerate(shown, 1)],
        "notes": list(answer.notes),
    }


def group_by_town(passages) -> "OrderedDict[str, list]":
    groups: OrderedDict[str, list] = OrderedDict()
    for passage in passages:
        groups.setdefault(passage.chunk.meta.get("town") or passage.source_label(), []).append(passage)
    return groups


def search_html(index, terms: list[str], query: str, strong: list, weak: list) -> str:
    """Precedents grouped by town; passages that do not truly match listed after a divider, not counted."""
    if not strong and not weak:
        return "<div class='rq-empty'>没有找到相关段落。可以换个说法，或减少筛选条件。</div>"
    groups = group_by_town(strong)
    reports = len({p.chunk.source for p in strong})
    if strong:
        parts = [f"<div class='rq-empty'>共 {len(strong)} 段确切相关，来自 {len(groups)} 个镇街的 {reports} 份材料（按相关度排序，同一镇街的段落放在一起）。</div>"]
    else:
        parts = [f"<div class='rq-empty'>没有段落含有「{html.escape(query)}」的字词，也没有意思足够接近的段落。</div>"]
    for town, items in groups.items():
        meta = items[0].chunk.meta
        place = "".join(x for x in (meta.get("province"), meta.get("city"), meta.get("county")) if x)
        parts.append(
            f"<div class='rq-town-group'><h3>{html.escape(town)} <small>{html.escape(place)} · {len(items)} 段</small></h3>"
            + "".join(passage_html(index, p, terms, p.rank) for p in items)
            + "</div>"
        )
    if weak:
        parts.append(
            f"<div class='rq-weak-divider' id='rq-weak'>以下 {len(weak)} 段关系较弱：不含检索词，意思也不比随机段落更接近（仅供参考，未计入上面的统计）。</div>"
            + "".join(passage_html(index, p, terms, p.rank, weak=True) for p in weak)
        )
    return "".join(parts)


def document_view(index, source: str | None, span: tuple[int, int] | None = None, quote: tuple[int, int] | None = None) -> tuple[str, str]:
    """(outline HTML, text HTML) of one report's cleaned text, headings anchored for the outline; a span
    (a cited passage) marked and anchored as rq-target, the quoted sentence in it marked too."""
    from reportqa.ingest.sections import parse_sections

    document = index.documents.get(source or "")
    if document is None:
        empty = "<div class='rq-empty'>请在上方表格中点一行，或在下拉框中选择一份报告。</div>"
        return empty, ("<div class='rq-error'>这份报告已不在库中（可能已被删除或替换）。</div>" if source else "")
    text = document.text
    root = parse_sections(text, document.meta.get("title", ""))
    marks: list[tuple[int, int, str, str]] = []  # (start, end, opening HTML, closing HTML)
    outline = []
    for i, (path, section) in enumerate(root.walk()):
        if not section.title or section is root:
            continue
        found = text.find(section.title, section.start, section.start + len(section.title) + 8)
        heading_end = found + len(section.title) if found >= 0 else section.start
        marks.append((section.start, heading_end, f"<span id='rq-sec-{i}'></span><span class='rq-heading'>", "</span>"))
        own = sum(end - start for start, end in section.body)
        outline.append(
            f"<div style='padding-left:{max(len(path) - 2, 0) * 14}px'><a href='#rq-sec-{i}'>{html.escape(section.title)}</a> <small>{own} 字</small></div>"
        )
    pieces, last = [], 0
    for start, end, opening, closing in sorted(marks):
        if start < last:
            continue
        if span and start < span[1] and end > span[0]:
            continue  # a heading inside the marked passage is shown as part of it
        if span and last <= span[0] < start:
            pieces.append(_span(text, last, span, quote))
            last = span[1]
            if start < last:
                continue
        pieces.append(html.escape(text[last:start]) + opening + html.escape(text[start:end]) + closing)
        last = end
    if span and last <= span[0]:
        pieces.append(_span(text, last, span, quote))
        last = span[1]
    pieces.append(html.escape(text[last:]))
    meta = document.meta
    facts = " · ".join(html.escape(str(meta.get(k))) for k in ("town", "county", "city", "province", "doc_type", "year", "date", "speaker") if meta.get(k))
    origin = "元数据从正文提取，请核对" if meta.get("extracted") else "元数据为人工登记"
    head = f"<h3>{html.escape(meta.get('title') or source)}</h3><div class='rq-empty'>{facts}　（{origin}；下方为清洗后的正文，原文件未改动）</div>"
    outline_html = "<div class='rq-outline'><b>章节目录</b>" + ("".join(outline) or "<div class='rq-empty'>未识别出章节</div>") + "</div>"
    return outline_html, head + f"<div class='rq-doc-text'>{''.join(pieces)}</div>"


def _span(text: str, last: int, span: tuple[int, int], quote: tuple[int, int] | None) -> str:
    """Text up to a marked passage, then the passage with its quoted sentence marked."""
    start, end = span
    inner = text[start:end]
    rel = (quote[0] - start, quote[1] - start) if quote and start <= quote[0] < quote[1] <= end else None
    return html.escape(text[last:start]) + f"<span class='rq-here' id='rq-target'>{marked(inner, [], rel)}</span>"
