"""Read report files of any supported format into text, or say why not.

Reports arrive as whatever a clerk has: UTF-8 or GBK text, a saved web page,
a Word file, a PDF. A file that cannot be read is reported by name with a
reason and skipped; it never stops the others from loading.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from reportqa.ingest.encoding import bom_encoding, decode_text
from reportqa.ingest.meta import SIDECAR_NAME, SUPPORTED_SUFFIXES

MAX_BYTES = 20 * 1024 * 1024
TEXT_SUFFIXES = (".txt", ".md")


@dataclass(frozen=True)
class RawDocument:
    source: str  # file name under corpus/, what citations point at
    text: str  # the file's text as read, before any cleaning
    sha256: str
    encoding: str  # "utf-8", "gb18030", "docx", ...

    @property
    def content_key(self) -> str:
        """The same report saved in another encoding (or with other line ends) has the same key."""
        return hashlib.sha256("".join(self.text.split()).encode("utf-8")).hexdigest()


class LoadError(Exception):
    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


WORD = re.compile(r"[^\W_]")  # a letter, a Chinese character or a digit


def _looks_binary(data: bytes) -> bool:
    """NUL bytes mean binary, except in UTF-16/32 text, which announces itself with a BOM."""
    return bom_encoding(data) not in ("utf-16", "utf-32") and b"\x00" in data[:8192]


def _html_text(data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "form", "noscript"]):
        tag.decompose()
    main = soup.find("article") or soup.find("main") or soup.body or soup
    return main.get_text("\n")


def _docx_text(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    return "\n".join(p.text for p in document.paragraphs)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def read_bytes(source: str, data: bytes) -> RawDocument:
    """Turn one file's bytes into a RawDocument or raise LoadError with a reason a user can act on."""
    suffix = Path(source).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(source, f"不支持的文件类型 {suffix or '(无扩展名)'}；支持 {' '.join(SUPPORTED_SUFFIXES)}")
    if not data.strip():
        raise LoadError(source, "文件为空")
    if len(data) > MAX_BYTES:
        raise LoadError(source, f"文件过大（{len(data) / 1e6:.1f} MB，上限 {MAX_BYTES // 2**20} MB），请拆分后再导入")
    sha = hashlib.sha256(data).hexdigest()
    try:
        if suffix in TEXT_SUFFIXES:
            if _looks_binary(data):
                raise LoadError(source, "不是文本文件（含二进制内容）")
            text, encoding = decode_text(data)
        elif suffix in (".html", ".htm"):
            text, encoding = _html_text(data), "html"
        elif suffix == ".docx":
            text, encoding = _docx_text(data), "docx"
        else:
            text, encoding = _pdf_text(data), "pdf"
    except LoadError:
        raise
    except UnicodeDecodeError:
        raise LoadError(source, "无法识别文字编码（不是 UTF-8、带 BOM 的 UTF-16/32，也不是 GBK/GB18030）") from None
    except Exception as exc:  # a damaged docx/pdf raises many different types
        raise LoadError(source, f"文件已损坏或无法解析（{type(exc).__name__}）") from None
    if not text.strip():
        reason = "PDF 没有文字层（可能是扫描件，请先做文字识别）" if suffix == ".pdf" else "没有可读的文字"
        raise LoadError(source, reason)
    if not WORD.search(text):
        raise LoadError(source, "没有可读的文字（只有标点或符号）")
    return RawDocument(source=source, text=text, sha256=sha, encoding=encoding)


def read_file(path: Path) -> RawDocument:
    return read_bytes(path.name, path.read_bytes())


def duplicate_message(raw: RawDocument, earlier: RawDocument) -> str:
    if raw.sha256 == earlier.sha256:
        return f"与 {earlier.source} 内容完全相同"
    return f"与 {earlier.source} 内容相同，只是编码或换行不同（{raw.encoding} / {earlier.encoding}）"


def read_dir(corpus_dir: Path) -> tuple[list[RawDocument], list[LoadError]]:
    """Read every report in a folder; a copy of an earlier file, byte for byte or only re-encoded,
    is reported, not loaded twice."""
    documents: list[RawDocument] = []
    errors: list[LoadError] = []
    seen: dict[str, RawDocument] = {}
    for path in sorted(p for p in corpus_dir.iterdir() if p.is_file() and not p.name.startswith(".")):
        if path.name == SIDECAR_NAME:
            continue
        try:
            raw = read_file(path)
        except LoadError as error:
            errors.append(error)
            continue
        if raw.content_key in seen:
            errors.append(LoadError(raw.source, duplicate_message(raw, seen[raw.content_key]) + "，已跳过"))
            continue
        seen[raw.content_key] = raw
        documents.append(raw)
    return documents, errors


def duplicate_in(corpus_dir: Path, raw: RawDocument) -> str:
    """Why raw duplicates a report already in corpus_dir, or "" (checked on import, before writing).
    Only plain-text files are decoded for the comparison: a Word or PDF file has no encoding to differ in."""
    for path in sorted(corpus_dir.iterdir()) if corpus_dir.is_dir() else []:
        if not path.is_file() or path.name == SIDECAR_NAME:
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != raw.sha256 and path.suffix.lower() not in TEXT_SUFFIXES:
            continue
        try:
            existing = read_bytes(path.name, data)
        except LoadError:
            continue
        if existing.content_key == raw.content_key:
            return duplicate_message(raw, existing)
    return ""
