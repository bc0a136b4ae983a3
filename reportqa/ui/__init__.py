"""The Gradio app: 问答, 检索 / 先例, 文档, 评测 — the only package that imports gradio.

One module per tab (ask_tab, search_tab, docs_tab, eval_tab), shared HTML in
render, the loaded library in backend, look and page script in style, the
Blocks in app, and serving (starting page, export links, logins) in server.

Named API endpoints (for `gradio_client`): ``/ask`` and ``/search``, both
returning JSON-able dicts (see README).
"""

from reportqa.ui.app import build_app
from reportqa.ui.server import serve, starting_page

__all__ = ["build_app", "serve", "starting_page"]
