"""From files in corpus/ to clean, labelled documents and their chunks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reportqa.ingest.chunk import Chunk, chunk_sections
from reportqa.ingest.clean import clean_text
from reportqa.ingest.load import LoadError, RawDocument, read_dir
from reportqa.ingest.meta import DocMeta, extract_meta, load_sidecar
from reportqa.ingest.sections import Section, parse_sections

__all__ = ["Chunk", "DocMeta", "Document", "LoadError", "Section", "load_documents", "prepare_document", "chunk_document"]


@dataclass
class Document:
    source: str
    original: str  # the file's text as read; chunk orig offsets index into it
    text: str  # cleaned, simplified text
    offsets: list[int]  # offsets[i]: position in `original` of text[i]
    meta: DocMeta
    sha256: str
    sections: Section


def prepare_document(raw: RawDocument, sidecar: DocMeta | None) -> Document:
    cleaned = clean_text(raw.text)
    meta = sidecar or extract_meta(cleaned.text, cleaned.fields, raw.source)
    return Document(
        source=raw.source,
        original=raw.text,
        text=cleaned.text,
        offsets=cleaned.offsets,
        meta=meta,
        sha256=raw.sha256,
        sections=parse_sections(cleaned.text, meta.title),
    )


def load_documents(corpus_dir: Path, rows: dict[str, DocMeta] | None = None) -> tuple[list[Document], list[LoadError]]:
    """Every readable report in corpus_dir, cleaned, labelled by rows (default: metadata.csv as it
    reads); unreadable ones come back as errors."""
    raws, errors = read_dir(corpus_dir)
    rows = load_sidecar(corpus_dir).rows if rows is None else rows
    return [prepare_document(raw, rows.get(raw.source)) for raw in raws], errors


def chunk_document(document: Document, size: int = 400, overlap: int = 60) -> list[Chunk]:
    meta = {"source": document.source, **document.meta.as_dict()}
    return chunk_sections(document.source, document.text, document.offsets, document.sections, meta, size, overlap)
