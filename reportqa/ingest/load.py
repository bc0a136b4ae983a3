"""Read report files of any supported format into text, or say why not.

Reports arrive as whatever a clerk has: UTF-8 or GBK text, a saved web page,
a Word file, a PDF. A file that cannot be read is reported by name with a
reason and skipped; it never stops the others from loading.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from reportqa.ingest.meta import SIDECAR_NAME

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class RawDocument:
    source: str  # file name under corpus/, what citations point at
    text: str  # the file's text as read, before any cleaning
    sha256: str
    encoding: str  # "utf-8", "gb18030", "docx", ...


class LoadError(Exception):
    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes of a Chinese text file, trying the encodings reports really use."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("gb18030", data, 0, len(data), "neither UTF-8 nor GB18030/GBK")


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    return b"\x00" in head


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
        if suffix in (".txt", ".md"):
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
        raise LoadError(source, "无法识别文字编码（既不是 UTF-8 也不是 GBK/GB18030）") from None
    except Exception as exc:  # a damaged docx/pdf raises many different types
        raise LoadError(source, f"文件已损坏或无法解析（{type(exc).__name__}）") from None
    if not text.strip():
        reason = "PDF 没有文字层（可能是扫描件，请先做文字识别）" if suffix == ".pdf" else "没有可读的文字"
        raise LoadError(source, reason)
    return RawDocument(source=source, text=text, sha256=sha, encoding=encoding)


def read_file(path: Path) -> RawDocument:
    return read_bytes(path.name, path.read_bytes())


def read_dir(corpus_dir: Path) -> tuple[list[RawDocument], list[LoadError]]:
    """Read every report in a folder; duplicates of an earlier file are reported, not loaded twice."""
    documents: list[RawDocument] = []
    errors: list[LoadError] = []
    seen: dict[str, str] = {}
    for path in sorted(p for p in corpus_dir.iterdir() if p.is_file() and not p.name.startswith(".")):
        if path.name == SIDECAR_NAME:
            continue
        try:
            raw = read_file(path)
        except LoadError as error:
            errors.append(error)
            continue
        if raw.sha256 in seen:
            errors.append(LoadError(raw.source, f"与 {seen[raw.sha256]} 内容完全相同，已跳过"))
            continue
        seen[raw.sha256] = raw.source
        documents.append(raw)
    return documents, errors
