"""The Blocks: header, four tabs, the named API, and what keeps every open page current.

After a library change every page fetches the header, the documents table and
the filter lists again: at once on the page that made the change, within a few
seconds (a timer comparing the backend's version) on every other open page,
and on load for a new one.
"""

from __future__ import annotations

import gradio as gr

from reportqa.config import Settings
from reportqa.limits import InputRejected
from reportqa.ui import ask_tab, docs_tab, eval_tab, search_tab
from reportqa.ui.backend import Backend, form_filters
from reportqa.ui.render import document_view, group_by_town
from reportqa.ui.style import OPEN_TARGET_JS, SCROLL_TO_TARGET_JS
from reportqa.users import Access

PRIVATE = {"api_visibility": "private"}
STALE_CHECK_S = 5


def ask_json(answer) -> dict:
    data = answer.as_json("")
    data.pop("id", None)
    data.update(
        backend=answer.backend, notes=list(answer.notes), related=[p.as_json() for p in answer.related],
        understood=answer.understanding.label() if answer.understanding else "",
    )
    return data


def parse_where(where: str) -> tuple[str, tuple[int, int] | None, tuple[int, int] | None]:
    """「source|start|end|quote start|quote end」 from an 「在文档中打开」 link."""
    parts = (where or "").split("|")
    numbers = [int(p) if p.lstrip("-").isdigit() else None for p in parts[1:5]] + [None] * 4
    span = (numbers[0], numbers[1]) if None not in numbers[:2] else None
    quote = (numbers[2], numbers[3]) if None not in numbers[2:4] else None
    return parts[0], span, quote


def build_app(settings: Settings, searcher=None, access: Access | None = None) -> gr.Blocks:
    backend = Backend(settings, searcher, access)
    filters: dict = {}
    with gr.Blocks(title="reportqa 报告检索与问答", analytics_enabled=False) as app:
        header = gr.HTML(backend.header(), elem_id="rq-header-box")
        role = gr.State(None)
        version = gr.State(backend.version)
        with gr.Tabs() as tabs:
            with gr.Tab("问答", id="ask"):
                ask = ask_tab.build(backend, filters)
            with gr.Tab("检索 / 先例", id="search"):
                search_tab.build(backend, filters)
            with gr.Tab("文档", id="docs"):
                docs = docs_tab.build(backend, filters, role)
            with gr.Tab("评测", id="eval"):
                eval_tab.build(backend, app, role, lambda session_role, request: backend.access.can_write(docs_tab.role_of(backend, session_role, request)))
        open_where = gr.Textbox(elem_classes="rq-hidden", elem_id="rq-open-where", container=False, show_label=False)
        open_button = gr.Button("open", elem_classes="rq-hidden", elem_id="rq-open-button")
        timer = gr.Timer(STALE_CHECK_S)

        boxes = list(filters.values())
        fresh_outputs = [header, docs["table"], docs["pick"], *boxes, version]

        def fresh(_seen=None):
            rows, _ = docs_tab.documents_rows(backend)
            choices = [gr.update(choices=backend.choices(key.removeprefix("search_"))) for key in filters]
            return [backend.header(), rows, gr.update(choices=docs_tab.document_choices(backend)), *choices, backend.version]

        def if_stale(seen):
            return fresh() if seen != backend.version else [gr.update()] * len(fresh_outputs)

        def after_change(source, ok):
            """The page after a library change: current header, table and lists; a report that is gone gives way to the first."""
            if source not in backend.index.documents:
                source = min(backend.index.documents, default=None)
            header_html, rows, _, *rest = fresh()
            clear = gr.update(value=None) if ok else gr.update()
            pick = gr.update(choices=docs_tab.document_choices(backend), value=source)
            return [header_html, rows, pick, *rest, *docs["show"](source), clear, clear]

        def open_at(where):
            source, span, quote = parse_where(where)
            if not source:
                return [gr.update()] * 4
            return [gr.Tabs(selected="docs"), source, *document_view(backend.index, source, span, quote)]

        open_button.click(open_at, [open_where], [tabs, docs["pick"], docs["outline"], docs["text"]], js=OPEN_TARGET_JS, **PRIVATE).then(
            None, None, None, js=SCROLL_TO_TARGET_JS
        )
        change_outputs = [*fresh_outputs, docs["outline"], docs["text"], *docs["edit_meta"], docs["upload"], docs["replacement"]]
        for button, run, inputs, js in docs["changes"].values():
            button.click(run, [role, *inputs], [docs["status"], docs["ok"]], js=js, **PRIVATE).then(
                after_change, [docs["pick"], docs["ok"]], change_outputs, **PRIVATE
            )
        restore, restore_in, restore_out = ask["restore"]
        app.load(restore, restore_in, restore_out, **PRIVATE)
        app.load(fresh, None, fresh_outputs, **PRIVATE)
        timer.tick(if_stale, [version], fresh_outputs, show_progress="hidden", **PRIVATE)

        def ask_api(question: str, town: str = "", county: str = "", province: str = "", year: str = "", doc_type: str = "", k: int = 10) -> dict:
            """Ask a question; returns the answer with its citations (the `ask --jsonl` object plus backend, notes, related, understood).

            Filters are optional; several values may be given comma-separated, e.g. town="余新镇,凤桥镇".
            """
            chosen = form_filters(town=town, county=county, province=province, year=year, doc_type=doc_type)
            try:
                return ask_json(backend.ask(question, chosen, k))
            except InputRejected as rejected:
                raise gr.Error(str(rejected)) from None

        def search_api(query: str, town: str = "", county: str = "", province: str = "", year: str = "", doc_type: str = "", k: int = 10, mode: str = "hybrid") -> dict:
            """Search passages; returns them ranked (the `search --json` objects, with `weak` for those that do not truly match)
            and the matching ones grouped by town.

            mode is hybrid (default), dense or bm25. Filters as for /ask.
            """
            chosen = form_filters(town=town, county=county, province=province, year=year, doc_type=doc_type)
            try:
                strong, weak = search_tab.run(backend, query, chosen, k, mode)
            except InputRejected as rejected:
                raise gr.Error(str(rejected)) from None
            ranked = sorted([(p, False) for p in strong] + [(p, True) for p in weak], key=lambda pair: pair[0].rank)
            return {
                "query": query,
                "filters": chosen,
                "passages": [{"rank": p.rank, "weak": is_weak, **p.as_json()} for p, is_weak in ranked],
                "by_town": {town: [p.rank for p in items] for town, items in group_by_town(strong).items()},
            }

        gr.api(ask_api, api_name="ask")
        gr.api(search_api, api_name="search")
    app.reportqa_backend = backend  # for tests and embedding
    return app
