"""The index on disk: FAISS vectors, BM25, the chunk table and a manifest.

An index is a directory. It is written whole into a temporary directory and
then swapped in, so a crash never leaves half an index, and the manifest
records what built it (embedding model, chunker, file hashes) so that an index
that does not match the configuration is refused instead of silently used.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import bm25s
import faiss
import numpy as np

from reportqa.catalog import Catalog
from reportqa.config import Settings
from reportqa.ingest import Chunk, Document, LoadError, chunk_document, load_documents
from reportqa.ingest.chunk import CHUNKER_VERSION
from reportqa.ingest.load import RawDocument, read_dir
from reportqa.ingest.meta import DocMeta, read_sidecar
from reportqa.lexicon import Tokenizer, dictionary_terms
from reportqa.periods import as_year, section_years

FORMAT_VERSION = 2  # 2: BM25 by bm25s (a directory of arrays) instead of a rank_bm25 pickle
# Exact search is fast enough up to EXACT_UP_TO chunks; above it an inverted-file index with
# 4·√n lists and IVF_NPROBE lists probed kept recall@10 ≥ 0.97 at 100k and 1M chunks, where an
# HNSW graph fell to 0.72 at 1M (eval/reports/bench.md).
EXACT_UP_TO = 50_000
IVF_NPROBE = 32
IVF_TRAIN_PER_LIST = 64
FILES = ("manifest.json", "chunks.jsonl", "documents.jsonl", "vectors.npy", "dense.faiss", "bm25", "userdict.txt")


class IndexUnusable(Exception):
    """The index is missing, damaged or built differently; the message says how to rebuild."""


@dataclass
class IndexedDocument:
    source: str
    text: str  # cleaned text, for "which towns" phrase search and for reading in the app
    meta: dict
    sha256: str


@dataclass
class Manifest:
    embed_model: str
    dim: int
    chunker: str
    chunk_size: int
    chunk_overlap: int
    files: dict[str, str]  # source → fingerprints(): its bytes and its metadata.csv row
    n_chunks: int
    faiss_type: str
    built_at: float = field(default_factory=time.time)
    format: int = FORMAT_VERSION


@dataclass
class BuildReport:
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: list[str]
    skipped: list[LoadError]
    n_chunks: int
    seconds: float

    def summary(self) -> str:
        return (
            f"{self.n_chunks} 段；新增 {len(self.added)}，更新 {len(self.changed)}，"
            f"删除 {len(self.removed)}，未变 {len(self.unchanged)} 个文件；用时 {self.seconds:.1f} 秒"
        )


@dataclass
class ReportIndex:
    """Everything a query needs, loaded once."""

    path: Path
    manifest: Manifest
    chunks: list[Chunk]
    documents: dict[str, IndexedDocument]
    vectors: np.ndarray
    dense: faiss.Index
    bm25: bm25s.BM25
    tokenizer: Tokenizer

    @cached_property
    def towns(self) -> set[str]:
        return {d.meta.get("town", "") for d in self.documents.values()} - {""}

    @cached_property
    def report_of_chunk(self) -> np.ndarray:
        """Position in `documents` of each chunk's report, so filters test reports, not chunks."""
        position = {source: k for k, source in enumerate(self.documents)}
        return np.array([position[c.source] for c in self.chunks], dtype=np.int32)

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog.from_metas((source, d.meta) for source, d in self.documents.items())

    @cached_property
    def chunk_years(self) -> dict[str, frozenset[int]]:
        """Chunk id → the years it speaks of: its section's dated heading, else its report's year."""
        return {c.id: section_years(c.section_path, as_year(c.meta.get("year"))) for c in self.chunks}

    @cached_property
    def chunks_by_source(self) -> dict[str, list[int]]:
        grouped: dict[str, list[int]] = {}
        for i, chunk in enumerate(self.chunks):
            grouped.setdefault(chunk.source, []).append(i)
        return grouped

    def knows(self, word: str) -> bool:
        """Does the corpus use this word (every token of it is indexed)?"""
        tokens = self.tokenizer.tokens(word)
        return bool(tokens) and all(t in self.idf for t in tokens)

    def holds(self, text: str) -> bool:
        """Does any document contain this text verbatim?"""
        return bool(text) and any(text in d.text for d in self.documents.values())

    @cached_property
    def idf(self) -> dict[str, float]:
        """BM25's (Lucene) idf of every indexed token: how much a question term says about a passage."""
        document_frequency = np.diff(self.bm25.scores["indptr"])
        n = self.bm25.scores["num_docs"]
        return {
            token: math.log(1 + (n - document_frequency[i] + 0.5) / (document_frequency[i] + 0.5))
            for token, i in self.bm25.vocab_dict.items()
            if i < len(document_frequency)
        }


def make_faiss(vectors: np.ndarray, exact_up_to: int = EXACT_UP_TO) -> tuple[faiss.Index, str]:
    """Inner product on normalised vectors: exact for small corpora, IVF lists for large ones."""
    n, dim = vectors.shape
    if n <= exact_up_to:
        index = faiss.IndexFlatIP(dim)
        kind = "FlatIP"
    else:
        nlist = max(1, int(4 * np.sqrt(n)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(n, min(n, IVF_TRAIN_PER_LIST * nlist), replace=False)
        index.train(vectors[np.sort(sample)])
        index.nprobe = min(IVF_NPROBE, nlist)
        kind = f"IVFFlat{nlist}"
    index.add(vectors)
    return index, kind


def _chunk_record(chunk: Chunk) -> dict:
    record = asdict(chunk)
    record["section_path"] = list(chunk.section_path)
    return record


def _chunk_from(record: dict) -> Chunk:
    return Chunk(**{**record, "section_path": tuple(record["section_path"])})


def _write_jsonl(path: Path, records) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def check_compatible(manifest: Manifest, settings: Settings, model_id: str) -> None:
    wanted = {"embed_model": model_id, "chunker": CHUNKER_VERSION, "chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap}
    differs = {k: (getattr(manifest, k), v) for k, v in wanted.items() if getattr(manifest, k) != v}
    if manifest.format != FORMAT_VERSION or differs:
        detail = "；".join(f"{k}: 索引为 {old}，当前配置为 {new}" for k, (old, new) in differs.items()) or "索引格式已更新"
        raise IndexUnusable(f"索引与当前配置不一致（{detail}）。请运行 `reportqa build --rebuild` 重建索引。")


def load_index(settings: Settings, model_id: str | None = None) -> ReportIndex:
    """Load a built index, refusing a damaged one or one built with another model or chunker."""
    path = settings.index_dir
    missing = [name for name in FILES if not (path / name).exists()]
    if missing:
        raise IndexUnusable(f"在 {path} 没有可用的索引（缺少 {', '.join(missing)}）。请先运行 `reportqa build`。")
    try:
        manifest = Manifest(**json.loads((path / "manifest.json").read_text(encoding="utf-8")))
        if model_id is not None:
            check_compatible(manifest, settings, model_id)
        chunks = [_chunk_from(r) for r in _read_jsonl(path / "chunks.jsonl")]
        documents = {r["source"]: IndexedDocument(**r) for r in _read_jsonl(path / "documents.jsonl")}
        vectors = np.load(path / "vectors.npy")
        dense = faiss.read_index(str(path / "dense.faiss"))
        bm25 = bm25s.BM25.load(path / "bm25", show_progress=False)
        tokenizer = Tokenizer.load(path / "userdict.txt")
    except IndexUnusable:
        raise
    except Exception as exc:
        raise IndexUnusable(f"索引 {path} 已损坏（{type(exc).__name__}: {exc}）。请运行 `reportqa build --rebuild`。") from None
    sizes = {len(chunks), manifest.n_chunks, dense.ntotal, len(vectors), bm25.scores["num_docs"]}
    if len(sizes) != 1 or vectors.shape[1] != manifest.dim:
        raise IndexUnusable(f"索引 {path} 各部分不一致（段数 {sorted(sizes)}），可能已损坏。请运行 `reportqa build --rebuild`。")
    return ReportIndex(path, manifest, chunks, documents, vectors, dense, bm25, tokenizer)


def _fingerprint(sha256: str, row: DocMeta | None) -> str:
    if row is None:
        return sha256
    return hashlib.sha256((sha256 + json.dumps(asdict(row), sort_keys=True, ensure_ascii=False)).encode()).hexdigest()


def fingerprints(files: Iterable[RawDocument | Document], corpus_dir: Path) -> dict[str, str]:
    """Source → what the index knows each file by: its bytes and its metadata.csv row, so that
    editing either (a town corrected in the sidecar) re-indexes that file and nothing else."""
    sidecar = read_sidecar(corpus_dir)
    return {f.source: _fingerprint(f.sha256, sidecar.get(f.source)) for f in files}


def _previous(settings: Settings, model_id: str) -> ReportIndex | None:
    """The existing index if its vectors can be reused; None means embed everything."""
    try:
        return load_index(settings, model_id)
    except IndexUnusable:
        return None


def write_index(target: Path, manifest: Manifest, chunks: list[Chunk], documents: list[IndexedDocument], vectors: np.ndarray, tokenizer: Tokenizer) -> None:
    """Write every part into a sibling temporary directory, then swap it in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    dense, manifest.faiss_type = make_faiss(vectors)
    bm25 = bm25s.BM25()
    bm25.index([tokenizer.tokens(c.embedding_text()) for c in chunks], show_progress=False)
    faiss.write_index(dense, str(tmp / "dense.faiss"))
    np.save(tmp / "vectors.npy", vectors)
    bm25.save(tmp / "bm25", show_progress=False)
    tokenizer.save(tmp / "userdict.txt")
    _write_jsonl(tmp / "chunks.jsonl", (_chunk_record(c) for c in chunks))
    _write_jsonl(tmp / "documents.jsonl", (asdict(d) for d in documents))
    (tmp / "manifest.json").write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=1), encoding="utf-8")
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def build_index(settings: Settings, rebuild: bool = False, show_progress: bool = True) -> BuildReport:
    """corpus/ → index/, embedding only files that are new or changed since the last build."""
    from reportqa.embed import embed_passages, load_embedder, model_id

    started = time.perf_counter()
    documents, skipped = load_documents(settings.corpus_dir)
    model = load_embedder(settings.embed_model)
    mid = model_id(model)
    previous = None if rebuild else _previous(settings, mid)
    old_files = previous.manifest.files if previous else {}
    current = fingerprints(documents, settings.corpus_dir)

    previous_ids: dict[str, list[int]] = {}
    for i, chunk in enumerate(previous.chunks if previous else []):
        previous_ids.setdefault(chunk.source, []).append(i)

    chunks: list[Chunk] = []
    parts: list[np.ndarray] = []
    fresh: list[Chunk] = []
    for document in documents:
        if previous and old_files.get(document.source) == current[document.source]:
            kept = previous_ids[document.source]
            chunks.extend(previous.chunks[i] for i in kept)
            parts.append(previous.vectors[kept])
        else:
            fresh.extend(chunk_document(document, settings.chunk_size, settings.chunk_overlap))
    if not chunks and not fresh:
        reasons = "；".join(str(e) for e in skipped) or "目录为空"
        raise IndexUnusable(f"{settings.corpus_dir} 中没有可读的报告（{reasons}）。原有索引未改动；放入 .txt/.md/.docx/.pdf/.html 报告后再运行 `reportqa build`。")
    if fresh:
        parts.append(embed_passages(model, [c.embedding_text() for c in fresh], show_progress=show_progress))
        chunks.extend(fresh)
    dim = model.get_embedding_dimension()
    vectors = np.vstack(parts).astype(np.float32)

    names = [d.meta.town for d in documents] + [d.meta.county for d in documents] + [d.meta.city for d in documents]
    tokenizer = Tokenizer(dictionary_terms((d.text for d in documents), names))
    manifest = Manifest(mid, dim, CHUNKER_VERSION, settings.chunk_size, settings.chunk_overlap, current, len(chunks), "")
    indexed = [IndexedDocument(d.source, d.text, d.meta.as_dict(), d.sha256) for d in documents]
    write_index(settings.index_dir, manifest, chunks, indexed, vectors, tokenizer)
    return BuildReport(
        added=sorted(set(current) - set(old_files)),
        changed=sorted(s for s in current if s in old_files and old_files[s] != current[s]),
        removed=sorted(set(old_files) - set(current)),
        unchanged=sorted(s for s in current if old_files.get(s) == current[s]),
        skipped=skipped,
        n_chunks=len(chunks),
        seconds=time.perf_counter() - started,
    )


def current_index(settings: Settings, model_id: str) -> ReportIndex | None:
    """The index, loaded, when it matches the configuration and every corpus file is indexed as is.

    Only the files' bytes and metadata.csv are read (no cleaning), so a start-up on a current index is one load.
    """
    try:
        index = load_index(settings, model_id)
    except IndexUnusable:
        return None
    raws, _ = read_dir(settings.corpus_dir)
    return index if fingerprints(raws, settings.corpus_dir) == index.manifest.files else None


__all__ = ["BuildReport", "IndexUnusable", "ReportIndex", "build_index", "current_index", "load_index"]
