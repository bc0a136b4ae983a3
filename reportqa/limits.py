"""Input limits and checks shared by every entry point: CLI, HTTP API, app and library.

A 200,000-character question cost minutes of server CPU, an empty query
returned arbitrary passages and an unknown mode silently meant hybrid; each
of these is now refused with a message that names what is allowed, the same
message wherever the input came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reportqa.retrieve import FILTER_FIELDS, MODES

MAX_TEXT_CHARS = 500  # a question or search query; the longest gold question is under 60
K_RANGE = (1, 50)
SHOWN_VALUES = 30  # allowed values listed in a message, at most
WORD = re.compile(r"[^\W_]")  # a letter, a Chinese character or a digit
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class InputRejected(ValueError):
    """An input out of bounds; the message says what is allowed and is shown to the user as is."""


def check_text(text: str | None, what: str = "问题") -> str:
    """The question or query, stripped; refused when empty, punctuation only, or too long."""
    text = (text or "").strip()
    if not text:
        raise InputRejected(f"请输入{what}。")
    if len(text) > MAX_TEXT_CHARS:
        raise InputRejected(f"{what}太长（{len(text)} 字，上限 {MAX_TEXT_CHARS} 字），请只写要问的事项。")
    if not WORD.search(text):
        raise InputRejected(f"{what}只有标点或符号，没有可以查找的文字，请用文字写出要查的事项。")
    return text


def check_k(k: object) -> int:
    low, high = K_RANGE
    try:
        value = int(str(k).strip())
    except (TypeError, ValueError):
        raise InputRejected(f"k（返回段数）应为 {low}–{high} 的整数，收到「{k}」。") from None
    if not low <= value <= high:
        raise InputRejected(f"k（返回段数）应在 {low}–{high} 之间，收到 {value}。")
    return value


def check_mode(mode: str | None) -> str:
    mode = (mode or "hybrid").strip()
    if mode not in MODES:
        raise InputRejected(f"未知的检索方式「{mode}」；可选：{'、'.join(MODES)}。")
    return mode


def _listed(values: Iterable[str]) -> str:
    values = sorted(values)
    more = f" 等 {len(values)} 个" if len(values) > SHOWN_VALUES else ""
    return "、".join(values[:SHOWN_VALUES]) + more


def check_filters(filters: dict | None, index) -> dict:
    """Filters whose fields exist and whose values occur in the index; empty ones dropped."""
    checked: dict = {}
    for key, wanted in (filters or {}).items():
        values = [wanted] if isinstance(wanted, (str, int)) else list(wanted or [])
        values = [str(v).strip() for v in values if str(v).strip()]
        if not values:
            continue
        if key not in FILTER_FIELDS:
            raise InputRejected(f"未知的筛选条件「{key}」；可用：{'、'.join(FILTER_FIELDS)}。")
        known = set(index.documents) if key == "source" else {str(d.meta.get(key) or "") for d in index.documents.values()} - {""}
        unknown = [v for v in values if v not in known]
        if unknown:
            raise InputRejected(f"筛选条件 {key} 的值「{'、'.join(unknown)}」在资料库中没有；可选：{_listed(known) or '（无）'}。")
        checked[key] = values[0] if isinstance(wanted, (str, int)) else values
    return checked


def check_ask(question: str | None, filters: dict | None, k: object, index) -> tuple[str, dict | None, int]:
    return check_text(question), check_filters(filters, index) or None, check_k(k)


def check_search(query: str | None, filters: dict | None, k: object, mode: str | None, index) -> tuple[str, dict | None, int, str]:
    return check_text(query, "检索内容"), check_filters(filters, index) or None, check_k(k), check_mode(mode)


def csv_cell(value: object) -> object:
    """A cell Excel will show as text: one starting with = + - @ would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_row(values: Iterable[object]) -> list[object]:
    return [csv_cell(v) for v in values]
