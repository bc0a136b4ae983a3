"""Decode a Chinese text file the way clerks' tools save it.

Notepad and Excel on Chinese Windows save GBK (or UTF-16 with a BOM for
"Unicode"); web tools save UTF-8, sometimes with a BOM. Reports and
metadata.csv go through the same function, so a sidecar saved by Excel is
read like a report saved by Notepad.
"""

from __future__ import annotations

import codecs
import unicodedata

# UTF-32 LE's BOM starts with UTF-16 LE's, so the longer ones are tried first.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte-order mark announces, if the data starts with one."""
    return next((encoding for bom, encoding in BOMS if data.startswith(bom)), None)


def decode_text(data: bytes) -> tuple[str, str]:
    """Text and encoding name; raises UnicodeDecodeError when no encoding reports use fits."""
    announced = bom_encoding(data)
    if announced:
        text = data.decode(announced)
        if _garbled(text):  # bytes that only happen to start like a BOM
            raise UnicodeDecodeError(announced, data, 0, len(data), "not text in the encoding its BOM announces")
        return text, announced
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("gb18030", data, 0, len(data), "neither UTF-8 nor GB18030/GBK")


def _garbled(text: str, share: float = 0.1) -> bool:
    """Mostly unassigned, private-use or control characters: not what a report is written in."""
    odd = sum(unicodedata.category(c) in ("Cn", "Co", "Cs") or (unicodedata.category(c) == "Cc" and c not in "\r\n\t") for c in text)
    return odd > share * max(len(text), 1)
