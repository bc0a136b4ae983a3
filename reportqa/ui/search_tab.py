"""检索 / 先例: what other towns did about X, in their words, grouped by town; weak matches set apart."""

from __future__ import annotations

import csv
import time
from collections import OrderedDict

import gradio as gr

from reportqa.limits import csv_row
from reportqa.relevance import query_terms, split_weak
from reportqa.ui.backend import Backend, form_filters
from reportqa.ui.render import search_html

FILTER_LABELS = OrderedDict([("town", "镇 / 街道"), ("county", "县 / 区"), ("province", "省"), ("year", "年份"), ("doc_type", "文档类型")])
MODES = {"混合（推荐）": "hybrid", "按意思（语义）": "dense", "按字词（关键词）": "bm25"}
CSV_HEADER = ["序号", "匹配", "相关度", "镇 / 街道", "县 / 区", "市", "省", "年份", "文档类型", "标题", "章节", "段落"]
PRIVATE = {"api_visibility": "private"}


def write_csv(path, strong: list, weak: list) -> None:
    """The results as the page shows them: matching passages first, weak ones marked (UTF-8 with BOM for Excel)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for match, passages in (("相关", strong), ("较弱", weak)):
            for p in passages:
                m = p.chunk.meta
                writer.writerow(csv_row([p.rank, match, f"{p.score:.3f}", m.get("town", ""), m.get("county", ""), m.get("city", ""), m.get("province", ""),
                                 m.get("year", ""), m.get("doc_type", ""), m.get("title", ""), p.chunk.section, p.chunk.text]))


def run(backend: Backend, query: str, filters: dict, k: int, mode: str) -> tuple[list, list]:
    passages = backend.search(query, filters, k, mode)
    return split_weak(backend.searcher, query, passages)


def build(backend: Backend, filters: dict) -> None:
    gr.Markdown("查别的镇街怎么做：输入事项（如「未来社区」「污水零直排」「养老服务」），结果按镇街分组，保留原话、年份和章节；"
                "不含检索词、意思也不够接近的段落放在最后，不计入统计。")
    with gr.Row():
        query = gr.Textbox(label="要查的事项", placeholder="例如：未来社区", scale=5, elem_id="rq-search-query")
        button = gr.Button("检索", variant="primary", scale=1, min_width=80, elem_id="rq-search")
    with gr.Row():
        chosen = {key: gr.Dropdown(backend.choices(key), value=[], multiselect=True, label=label, info="不选 = 全部", min_width=140, elem_id=f"rq-search-{key}")
                  for key, label in FILTER_LABELS.items()}
    with gr.Row():
        mode = gr.Radio(list(MODES), value="混合（推荐）", label="匹配方式", scale=3)
        k = gr.Slider(5, 50, value=20, step=5, label="最多显示段数", scale=2)
        csv_file = gr.File(label="下载结果（CSV，可用 Excel 打开）", interactive=False, scale=2, height=80, elem_id="rq-search-csv")
    results = gr.HTML("<div class='rq-empty'>输入事项后点「检索」。</div>", elem_id="rq-search-results")

    def on_search(text, mode_label, k_value, *values):
        text = (text or "").strip()
        if not text:
            return "<div class='rq-empty'>请先输入要查的事项。</div>", None
        strong, weak = run(backend, text, form_filters(**dict(zip(FILTER_LABELS, values))), int(k_value), MODES.get(mode_label, "hybrid"))
        path = backend.export_dir / f"检索结果_{time.strftime('%Y%m%d_%H%M%S')}_{abs(hash(text)) % 10000}.csv"
        write_csv(path, strong, weak)
        html_out = search_html(backend.index, query_terms(backend.searcher, text), text, strong, weak)
        return html_out, str(path) if strong or weak else None

    for trigger in (query.submit, button.click):
        trigger(on_search, [query, mode, k, *chosen.values()], [results, csv_file], **PRIVATE)
    filters.update({f"search_{key}": box for key, box in chosen.items()})
