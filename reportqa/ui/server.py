"""Serving: a page that says the index is being built while it is, then the app with its export links.

The first start on a new corpus embeds every report (minutes on a CPU); a clerk
opening the address meanwhile gets a page with the progress instead of a
refused connection, and it turns into the app by itself when the app is up.
"""

from __future__ import annotations

import html
import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# At module level: FastAPI resolves the routes' annotations in this module's globals.
from starlette.requests import Request

STATUS_PATH = "/__reportqa_starting"
STARTING_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>reportqa 正在启动</title>
<style>body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:640px;margin:80px auto;color:#1f2937}
.bar{height:14px;background:#e5e7eb;border-radius:7px;overflow:hidden}.bar div{height:100%;background:#3b82f6;width:0}</style></head>
<body><h2>reportqa 报告检索与问答正在启动</h2><p id="stage">__STAGE__</p><div class="bar"><div id="bar"></div></div>
<p id="detail" style="color:#6b7280"></p><p style="color:#6b7280">首次启动或报告有变动时需要先建立索引（向量化），完成后本页会自动打开应用，无需刷新。</p>
<script>
async function poll() {
  try {
    const response = await fetch("__STATUS__", {cache: "no-store"});
    if (!response.ok) { location.reload(); return; }
    const s = await response.json();
    document.getElementById("stage").textContent = s.stage;
    document.getElementById("bar").style.width = Math.round(100 * s.fraction) + "%";
    document.getElementById("detail").textContent = s.detail;
  } catch (e) { /* the app is taking over the port */ }
  setTimeout(poll, 1000);
}
poll();
</script></body></html>"""


class Progress:
    """What the starting page shows; written by the build, read by the page's requests."""

    def __init__(self) -> None:
        self.stage, self.done, self.total, self.started = "正在载入模型和索引……", 0, 0, time.monotonic()

    def as_json(self) -> dict:
        fraction = self.done / self.total if self.total else 0.0
        detail = f"{self.done} / {self.total} 批，" if self.total else ""
        return {"stage": self.stage, "fraction": fraction, "detail": f"{detail}已用时 {time.monotonic() - self.started:.0f} 秒"}


@contextmanager
def tqdm_into(progress: Progress):
    """Report the progress bars the embedder draws (tqdm) to the page, as Gradio's track_tqdm does, for the build only."""
    from tqdm import std

    original = std.tqdm.update

    def update(bar, n=1):
        result = original(bar, n)
        progress.stage, progress.done, progress.total = "正在建立索引（向量化报告段落）……", bar.n, bar.total or 0
        return result

    std.tqdm.update = update
    try:
        yield
    finally:
        std.tqdm.update = original


@contextmanager
def starting_page(host: str, port: int):
    """Serve the starting page on the app's address until the block ends; yields the Progress to fill in."""
    progress = Progress()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            if self.path.startswith(STATUS_PATH):
                body, kind = json.dumps(progress.as_json(), ensure_ascii=False).encode(), "application/json"
            else:
                page = STARTING_PAGE.replace("__STATUS__", STATUS_PATH).replace("__STAGE__", html.escape(progress.stage))
                body, kind = page.encode(), "text/html; charset=utf-8"
            self.send_response(503 if kind.startswith("text/html") else 200)
            self.send_header("Content-Type", kind)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Retry-After", "5")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet: the console shows the build's own progress
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with tqdm_into(progress):
            yield progress
    finally:
        server.shutdown()
        server.server_close()


def gradio_user(fastapi_app, request: Request) -> str | None:
    """Who is logged in to the Gradio app mounted on *fastapi_app*, by the session cookie its /login set.

    Gradio keeps no public hook for this: it is what gradio.routes.App's own login check reads
    (App.cookie_id, App.tokens) in the pinned Gradio 6.31.
    """
    from starlette.routing import Mount

    gradio_app = next(route.app for route in fastapi_app.routes if isinstance(route, Mount))
    cookie = gradio_app.cookie_id
    token = request.cookies.get(f"access-token-{cookie}") or request.cookies.get(f"access-token-unsecure-{cookie}")
    return gradio_app.tokens.get(token)


def export_routes(fastapi_app, history_db, needs_login: bool = False) -> None:
    """/export/turn/ID.docx|md and /export/conversation/ID.docx|md: one Q&A, or its whole conversation, with sources.

    A turn id is 128 random bits, so a link is as private as the conversation it came from; when
    reading needs a login, so do the exports (the same Gradio login, by its cookie).
    """
    from urllib.parse import quote

    from fastapi import HTTPException, Response

    from reportqa import export, history

    def send(request: Request, title: str, turns: list, fmt: str) -> Response:
        if needs_login and gradio_user(fastapi_app, request) is None:
            raise HTTPException(401, "导出需要先登录")
        if not turns:
            raise HTTPException(404, "没有这条问答（可能已不存在）")
        if fmt == "md":
            data, kind = export.to_markdown(title, turns).encode("utf-8"), "text/markdown; charset=utf-8"
        else:
            data, kind = export.to_docx(title, turns), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        name = export.file_name(title if len(turns) > 1 else turns[0].question, f".{fmt}")
        return Response(data, media_type=kind, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

    @fastapi_app.get("/export/turn/{turn_id}.{fmt}")
    def export_turn(request: Request, turn_id: str, fmt: str):
        title, turns = history.exportable(history_db, turn_id)
        return send(request, title, turns, fmt)

    @fastapi_app.get("/export/conversation/{turn_id}.{fmt}")
    def export_conversation(request: Request, turn_id: str, fmt: str):
        title, turns = history.conversation_of(history_db, turn_id)
        return send(request, title, turns, fmt)


def serve(settings, host: str = "127.0.0.1", port: int = 7860, searcher=None, access=None, block: bool = True):
    """Build the app and serve it (with the export routes); with block=False return the uvicorn server, running in a thread."""
    import fastapi
    import gradio as gr
    import uvicorn

    from reportqa.ingest.load import MAX_BYTES
    from reportqa.ui.app import build_app
    from reportqa.ui.style import CSS, HEAD, I18N, THEME
    from reportqa.users import Access

    access = access or Access.for_host(host, settings.users_file)
    blocks = build_app(settings, searcher, access)
    blocks.queue(default_concurrency_limit=4)
    app = fastapi.FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    export_routes(app, settings.history_db, access.reading_needs_login)
    auth = (lambda name, password: access.users.authenticate(name, password) is not None) if access.reading_needs_login else None
    app = gr.mount_gradio_app(
        app, blocks, path="", auth=auth, auth_message="reportqa：请登录后使用" if auth else None,
        theme=THEME, css=CSS, head=HEAD, ssr_mode=False, show_error=True, footer_links=["api"], max_file_size=MAX_BYTES,
        i18n=I18N,
    )
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    if block:
        server.run()
        return server
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server
