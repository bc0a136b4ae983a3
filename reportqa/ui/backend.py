"""The library behind the app: one loaded searcher and answerer, swapped whole after a library change.

A `version` counts the swaps, so every open page can tell that its header,
table and filter lists are stale and fetch them again.
"""

from __future__ import annotations

import html
import re
import tempfile
import threading
from pathlib import Path

from reportqa.config import Settings
from reportqa.ingest.meta import DOC_TYPES
from reportqa.users import Access, Users


class Backend:
    def __init__(self, settings: Settings, searcher=None, access: Access | None = None):
        self.settings = settings
        self.access = access or Access(False, Users())
        self.lock = threading.RLock()  # one library change (write + rebuild + reload) at a time
        self.export_dir = Path(tempfile.mkdtemp(prefix="reportqa-export-"))
        self.llm_note = ""
        self.version = 0
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
        self.version += 1

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
            f"<b>{len(index.chunks)}</b> 段　·　回答方式：{self.backend_name}　·　只依据这些报告作答，"
            f"没有的内容会说明「资料中未提及」{extra}</div>"
        )

    def choices(self, field: str) -> list[str]:
        values = {str(d.meta.get(field, "") or "") for d in self.index.documents.values()} - {""}
        if field == "doc_type":
            return [t for t in DOC_TYPES if t in values] + sorted(values - set(DOC_TYPES))
        return sorted(values, reverse=field == "year")

    def condenser(self):
        """With an LLM, follow-ups are condensed by it; without, by the rules in reportqa.conversation."""
        from reportqa.conversation import llm_condenser

        return llm_condenser(self.answerer.llm) if self.answerer.llm is not None else None

    def ask(self, question: str, filters: dict | None, k: int = 10):
        self.follow_index()
        return self.answerer.ask(question, filters or None, k)

    def stream(self, question: str, filters: dict | None, k: int = 10):
        """The LLM's draft as it grows, then the final Answer (see Answerer.stream)."""
        self.follow_index()
        return self.answerer.stream(question, filters or None, k)

    def search(self, query: str, filters: dict | None, k: int, mode: str):
        """Raises limits.InputRejected for an empty query, an unknown mode or a k out of range."""
        from reportqa.evidence import search_passages
        from reportqa.limits import check_search

        self.follow_index()
        query, filters, k, mode = check_search(query, filters, k, mode, self.index)
        return search_passages(self.searcher, query, filters, k, mode)

    def follow_index(self) -> None:
        """Pick up, between requests, an index another process (the CLI) has rebuilt."""
        if self.index.changed():
            self.reload()


def form_filters(**values) -> dict:
    """Dropdown values (str, list or None) → the searcher's filter dict, empty ones dropped."""
    out = {}
    for key, value in values.items():
        if isinstance(value, str):
            value = [v.strip() for v in re.split(r"[,，、;；]", value) if v.strip()]
        value = [str(v) for v in (value or []) if str(v).strip()]
        if value:
            out[key] = value
    return out
