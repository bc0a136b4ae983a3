"""文档: the reports loaded, each readable with its outline; the library staff manage (import, delete, replace, metadata).

Writing is checked on the server for every call, not only hidden in the page:
when the app is shared on a network, a change needs a login with the editor role.
"""

from __future__ import annotations

import html
from pathlib import Path

import gradio as gr

from reportqa import library
from reportqa.ingest.load import SUPPORTED_SUFFIXES
from reportqa.ingest.meta import DOC_TYPES, META_FIELDS, META_LABELS
from reportqa.ui.backend import Backend
from reportqa.ui.render import document_view
from reportqa.ui.style import CONFIRM_DELETE_JS

DOC_HEADERS = ["标题", "镇 / 街道", "年份", "类型", "县 / 区", "市", "省", "日期", "讲话人", "元数据", "段数", "字数"]
PRIVATE = {"api_visibility": "private"}


def documents_rows(backend: Backend) -> tuple[list[list], list[str]]:
    """The table (title, town, year and kind first) and the report each row shows."""
    counts = {source: len(ids) for source, ids in backend.index.chunks_by_source.items()}
    rows, sources = [], []
    for source, document in sorted(backend.index.documents.items(), key=lambda item: (item[1].meta.get("town", ""), str(item[1].meta.get("year", "")), item[0])):
        meta = document.meta
        rows.append([
            meta.get("title", "") or source, meta.get("town", ""), str(meta.get("year", "")), meta.get("doc_type", ""),
            meta.get("county", ""), meta.get("city", ""), meta.get("province", ""), meta.get("date", ""), meta.get("speaker", ""),
            "从正文提取" if meta.get("extracted") else "人工登记", counts.get(source, 0), len(document.text),
        ])
        sources.append(source)
    return rows, sources


def document_choices(backend: Backend) -> list[tuple[str, str]]:
    from reportqa.catalog import Report

    return [(f"{Report.from_meta(s, d.meta).label()} · {d.meta.get('title') or ''}", s) for s, d in sorted(backend.index.documents.items())]


def role_of(backend: Backend, session_role: str | None, request: gr.Request | None) -> str | None:
    """The session's role: from the in-page login, or from the app's own login page when reading is closed."""
    if session_role:
        return session_role
    name = getattr(request, "username", None) if request is not None else None
    user = backend.access.users.users.get(name or "")
    return user["role"] if user else None


def refused(backend: Backend) -> str:
    if not backend.access.users.users:
        return "<span class='rq-error'>本应用在局域网共享，修改报告库需要登录，但还没有任何账号</span>：请管理员在服务器上运行 `reportqa user add 用户名` 创建账号。报告库没有任何改动。"
    return "<span class='rq-error'>本应用在局域网共享，修改报告库需要登录（编辑权限）</span>：请先在上方登录。报告库没有任何改动。"


def build(backend: Backend, filters: dict, role: gr.State) -> dict:
    rows, _ = documents_rows(backend)
    table = gr.Dataframe(rows, headers=DOC_HEADERS, interactive=False, wrap=True, label="已载入的报告（点一行阅读全文）", max_height=260, elem_id="rq-doc-table")
    first = next(iter(sorted(backend.index.documents)), None)
    with gr.Row():
        pick = gr.Dropdown(document_choices(backend), value=first, label="选择报告阅读", elem_id="rq-doc-pick", scale=4)
    with gr.Accordion("管理报告库：导入、替换、删除、修改元数据", open=False, elem_id="rq-library"):
        with gr.Row(visible=backend.access.shared, elem_id="rq-login-row"):
            user = gr.Textbox(label="用户名", scale=2, elem_id="rq-login-user")
            password = gr.Textbox(label="密码", type="password", scale=2, elem_id="rq-login-password")
            login_button = gr.Button("登录", scale=1, elem_id="rq-login")
            login_status = gr.HTML("<div class='rq-empty'>本应用在局域网共享：阅读和提问不需登录，修改报告库需要登录。</div>", elem_id="rq-login-status")
        status = gr.HTML("", elem_id="rq-upload-status")
        with gr.Tab("导入新报告"):
            gr.Markdown(
                f"支持 {' '.join(SUPPORTED_SUFFIXES)}（文字版 PDF；扫描件需先做文字识别），可一次选多个文件。"
                "只选一个文件时会先检查并自动识别标题、镇街、年份等，请核对后再导入；多个文件时各自从正文识别，导入后可在「修改元数据」中更正。"
                "同名或内容相同的文件会被拒绝。"
            )
            with gr.Row():
                upload = gr.File(label="报告文件", file_types=list(SUPPORTED_SUFFIXES), file_count="multiple", type="filepath", scale=2, elem_id="rq-upload-file")
                with gr.Column(scale=3):
                    new_meta = meta_form("rq-new")
            import_button = gr.Button("导入并更新索引", variant="primary", elem_id="rq-upload")
        with gr.Tab("管理当前报告", elem_id="rq-current-tab"):
            gr.Markdown("作用于上面「选择报告阅读」中选中的报告。修改元数据只重建这份报告的索引；替换会重新切分并向量化；删除的原文件移入回收站。")
            edit_meta = meta_form("rq-edit")
            with gr.Row():
                save_meta = gr.Button("保存元数据", variant="primary", elem_id="rq-save-meta")
                replacement = gr.File(label="更正后的文件", file_types=list(SUPPORTED_SUFFIXES), type="filepath", height=80, elem_id="rq-replace-file")
                replace_button = gr.Button("用此文件替换", elem_id="rq-replace")
                delete_button = gr.Button("删除这份报告", variant="stop", elem_id="rq-delete")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=220):
            outline = gr.HTML(document_view(backend.index, first)[0])
        with gr.Column(scale=3):
            text = gr.HTML(document_view(backend.index, first)[1], elem_id="rq-doc-view")

    def meta_values(source):
        document = backend.index.documents.get(source or "")
        meta = document.meta if document else {}
        return [gr.update(value=str(meta.get(k, "") or "") or (None if k == "doc_type" else "")) for k in META_FIELDS]

    def show(source):
        return [*document_view(backend.index, source), *meta_values(source)]

    def pick_row(event: gr.SelectData):
        row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        _, sources = documents_rows(backend)
        source = sources[row] if 0 <= row < len(sources) else None
        return [source, *show(source)]

    def on_files(paths):
        if not paths:  # cleared, e.g. after an import: keep its message
            return [gr.update()] * (1 + len(META_FIELDS))
        if len(paths) > 1:
            return [f"已选 {len(paths)} 个文件：各自从正文识别元数据。", *[gr.update()] * len(META_FIELDS)]
        message, meta = library.preview_upload(paths[0])
        return [message, *(gr.update(value=meta[k]) if k in meta else gr.update() for k in META_FIELDS)]

    def login(name, secret):
        if not backend.access.shared:
            return None, "<div class='rq-empty'>本机使用，无需登录。</div>", ""
        found = backend.access.users.authenticate(name, secret)
        if found is None:
            return None, "<span class='rq-error'>用户名或密码不对。</span>", ""
        return found, f"<span class='rq-ok'>已登录：{html.escape(name.strip())}</span>（{'可管理报告库' if found == 'editor' else '只读，不能修改报告库'}）", ""

    def guarded(change):
        """Run a library change only for a session allowed to write; always answer with the refreshed page parts."""
        def run(request: gr.Request, progress=gr.Progress(track_tqdm=True), session_role=None, *args):  # noqa: B008
            if not backend.access.can_write(role_of(backend, session_role, request)):
                return refused(backend), False
            result = change(*args, progress=progress)
            return result.message, result.ok
        return run

    def do_import(paths, *values, progress=None):
        files = [(Path(p).name, Path(p).read_bytes()) for p in paths or []]
        if not files:
            return library.Result(False, "<span class='rq-error'>请先选择要导入的报告文件</span>。")
        return library.import_reports(backend, files, dict(zip(META_FIELDS, values)), progress)

    def do_replace(source, path, progress=None):
        if not path:
            return library.Result(False, "<span class='rq-error'>请先选择更正后的文件</span>。")
        return library.replace_report(backend, source or "", Path(path).name, Path(path).read_bytes(), progress)

    def do_edit(source, *values, progress=None):
        return library.edit_meta(backend, source or "", dict(zip(META_FIELDS, values)), progress)

    def do_delete(source, progress=None):
        if not source:
            return library.Result(False, "已取消删除。")
        return library.delete_report(backend, source, progress)

    table.select(pick_row, None, [pick, outline, text, *edit_meta], **PRIVATE)
    pick.input(show, pick, [outline, text, *edit_meta], **PRIVATE)
    upload.change(on_files, upload, [status, *new_meta], **PRIVATE)
    login_button.click(login, [user, password], [role, login_status, password], **PRIVATE)
    ok = gr.State(False)
    changes = {
        "import": (import_button, guarded(do_import), [upload, *new_meta], None),
        "replace": (replace_button, guarded(do_replace), [pick, replacement], None),
        "edit": (save_meta, guarded(do_edit), [pick, *edit_meta], None),
        "delete": (delete_button, guarded(do_delete), [pick], CONFIRM_DELETE_JS),
    }
    return {
        "table": table, "pick": pick, "outline": outline, "text": text, "status": status, "ok": ok, "changes": changes,
        "upload": upload, "replacement": replacement, "new_meta": new_meta, "edit_meta": edit_meta, "show": show,
    }


def meta_form(prefix: str) -> list:
    """The nine metadata fields, in META_FIELDS order."""
    boxes = {}
    with gr.Row():
        boxes["title"] = gr.Textbox(label=META_LABELS["title"], scale=3, elem_id=f"{prefix}-title")
        boxes["doc_type"] = gr.Dropdown(list(DOC_TYPES), value=None, label=META_LABELS["doc_type"], scale=1, elem_id=f"{prefix}-doc_type")
    with gr.Row():
        for key in ("town", "county", "city", "province"):
            boxes[key] = gr.Textbox(label=META_LABELS[key], min_width=100, elem_id=f"{prefix}-{key}")
    with gr.Row():
        for key in ("year", "date", "speaker"):
            boxes[key] = gr.Textbox(label=META_LABELS[key], min_width=100, elem_id=f"{prefix}-{key}",
                                    placeholder={"year": "如 2023", "date": "如 2023-02-28"}.get(key, ""))
    return [boxes[k] for k in META_FIELDS]
