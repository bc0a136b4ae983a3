"""The index on disk: FAISS vectors, BM25, the chunk table and a manifest.

An index is a directory. It is written whole into a temporary directory and
then swapped in, so a crash never leaves half an index (and a crash between
the two renames is recovered from, keeping the complete one). The manifest
records what built it (embedding model, chunker, corpus fingerprints), a
checksum of every file and a generation number, so that an index that does
not match the configuration is refused, a damaged one is named before
anything is rebuilt, and a running app sees that a CLI build replaced it.
One process writes at a time: builds and imports take a lock file beside the
index, and a second writer waits, saying who holds it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import bm25s
import faiss
import numpy as np
from filelock import FileLock, Timeout

from reportqa.catalog import Catalog
from reportqa.config import Settings
from reportqa.ingest import Chunk, Document, LoadError, chunk_document, load_documents
from reportqa.ingest.chunk import CHUNKER_VERSION
from reportqa.ingest.load import RawDocument, read_dir
from reportqa.ingest.meta import DocMeta, SidecarProblem, load_sidecar
from reportqa.insearch import InMemorySearch
from reportqa.lexicon import Tokenizer, dictionary_terms
from reportqa.periods import as_year, section_years

FORMAT_VERSION = 3  # 2: BM25 by bm25s (a directory of arrays); 3: checksums and generation in the manifest
# Exact search is fast enough up to EXACT_UP_TO chunks; above it an inverted-file index with
# 4·√n lists and IVF_NPROBE lists probed kept recall@10 ≥ 0.97 at 100k and 1M chunks, where an
# HNSW graph fell to 0.72 at 1M (eval/reports/bench.md).
EXACT_UP_TO = 50_000
IVF_NPROBE = 32
IVF_TRAIN_PER_LIST = 64
FILES = ("manifest.json", "chunks.jsonl", "documents.jsonl", "vectors.npy", "dense.faiss", "bm25", "userdict.txt")
LOCK_WAIT_S = float(os.environ.get("REPORTQA_LOCK_WAIT", "600"))  # how long a second writer waits
REBUILD = "请运行 `reportqa build --rebuild` 重建索引"


class IndexUnusable(Exception):
    """The index is missing, damaged or built differently; the message says how to rebuild."""


class IndexMissing(IndexUnusable):
    """No index has been built yet."""


class IndexDamaged(IndexUnusable):
    """A file of the index is unreadable, altered or inconsistent with the others."""


class IndexMismatch(IndexUnusable):
    """Built with another embedding model, chunker or format: rebuilding is the user's call."""


class IndexOutdated(IndexMismatch):
    """Written by an older version of reportqa: rebuilt on the next build, no configuration choice involved."""


class IndexBusy(IndexUnusable):
    """Another process has been writing the index for longer than we wait."""


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
    generation: int = 1  # one more than the index it replaced: a running app reloads when it changes
    checksums: dict[str, str] = field(default_factory=dict)  # file (bm25/… for its parts) → sha256


@dataclass
class BuildReport:
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: list[str]
    skipped: list[LoadError]
    n_chunks: int
    seconds: float
    sidecar: list[SidecarProblem] = field(default_factory=list)  # what was wrong in metadata.csv, and what was done

    def summary(self) -> str:
        return (
            f"{self.n_chunks} 段；新增 {len(self.added)}，更新 {len(self.changed)}，"
            f"删除 {len(self.removed)}，未变 {len(self.unchanged)} 个文件；用时 {self.seconds:.1f} 秒"
        )


@dataclass
class ReportIndex(InMemorySearch):
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
        return {c.id: years_of(c) for c in self.chunks}

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

    def changed(self) -> bool:
        return index_changed(self)

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


def years_of(chunk: Chunk) -> frozenset[int]:
    """The years a chunk speaks of: its section's dated heading, else its report's year."""
    return section_years(chunk.section_path, as_year(chunk.meta.get("year")))


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


def chunk_record(chunk: Chunk) -> dict:
    record = asdict(chunk)
    record["section_path"] = list(chunk.section_path)
    return record


def chunk_from(record: dict) -> Chunk:
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
    if differs:
        detail = "；".join(f"{k}: 索引为 {old}，当前配置为 {new}" for k, (old, new) in differs.items())
        raise IndexMismatch(f"索引与当前配置不一致（{detail}）。原索引未改动；{REBUILD}（会按当前配置重新向量化全部报告），或改回原来的配置。")
    check_format(manifest)


def check_format(manifest: Manifest) -> None:
    if manifest.format != FORMAT_VERSION:
        raise IndexOutdated(f"索引由旧版本写成（格式 {manifest.format}，当前为 {FORMAT_VERSION}）。运行 `reportqa build` 会重建它。")


def _parts(path: Path) -> list[str]:
    """Every file of an index directory but the manifest, as paths relative to it."""
    return sorted(f.relative_to(path).as_posix() for f in path.rglob("*") if f.is_file() and f != path / "manifest.json")


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def checksums(path: Path) -> dict[str, str]:
    return {name: _sha256(path / name) for name in _parts(path)}


def verify_checksums(path: Path, expected: dict[str, str]) -> None:
    """Name the first file that is missing, added or altered since the index was written."""
    found = _parts(path)
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            raise IndexDamaged(f"索引 {path} 缺少文件 {name}，索引已损坏。{REBUILD}。")
        if name not in expected:
            raise IndexDamaged(f"索引 {path} 中多出文件 {name}（不是建索引时写入的），索引可能被改动。{REBUILD}。")
        if _sha256(path / name) != expected[name]:
            raise IndexDamaged(f"索引文件 {name} 的校验和与建索引时不符（文件被改动或已损坏），不能使用。{REBUILD}。")


def read_manifest(path: Path) -> Manifest:
    if not (path / "manifest.json").exists():
        present = path.exists() and any(path.iterdir())
        if present:
            raise IndexDamaged(f"索引 {path} 缺少 manifest.json，索引已损坏。{REBUILD}。")
        raise IndexMissing(f"在 {path} 没有索引。请先运行 `reportqa build`。")
    try:
        return Manifest(**json.loads((path / "manifest.json").read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise IndexDamaged(f"索引文件 manifest.json 无法读取（{type(exc).__name__}），索引已损坏。{REBUILD}。") from None


def load_index(settings: Settings, model_id: str | None = None) -> ReportIndex:
    """Load a built index: refused, by file and reason, when missing, damaged, altered or built with
    another model or chunker; never silently used."""
    path = settings.index_dir
    recover(path)
    manifest = read_manifest(path)
    if model_id is not None:
        check_compatible(manifest, settings, model_id)
    else:
        check_format(manifest)
    verify_checksums(path, manifest.checksums)
    part = "manifest.json"
    try:
        part = "chunks.jsonl"
        chunks = [chunk_from(r) for r in _read_jsonl(path / part)]
        part = "documents.jsonl"
        documents = {r["source"]: IndexedDocument(**r) for r in _read_jsonl(path / part)}
        part = "vectors.npy"
        vectors = np.load(path / part)
        part = "dense.faiss"
        dense = faiss.read_index(str(path / part))
        part = "bm25"
        bm25 = bm25s.BM25.load(path / part, show_progress=False)
        part = "userdict.txt"
        tokenizer = Tokenizer.load(path / part)
    except Exception as exc:
        raise IndexDamaged(f"索引文件 {part} 无法读取（{type(exc).__name__}: {exc}），索引已损坏。{REBUILD}。") from None
    counts = {"chunks.jsonl": len(chunks), "manifest.json": manifest.n_chunks, "dense.faiss": dense.ntotal,
              "vectors.npy": len(vectors), "bm25": bm25.scores["num_docs"]}
    if len(set(counts.values())) != 1 or vectors.ndim != 2 or vectors.shape[1] != manifest.dim:
        detail = "，".join(f"{name} {n} 段" for name, n in counts.items())
        raise IndexDamaged(f"索引 {path} 各部分段数不一致（{detail}），索引已损坏。{REBUILD}。")
    if {c.source for c in chunks} - set(documents):
        raise IndexDamaged(f"索引 {path} 的 chunks.jsonl 引用了 documents.jsonl 中没有的报告，索引已损坏。{REBUILD}。")
    return ReportIndex(path, manifest, chunks, documents, vectors, dense, bm25, tokenizer)


def index_changed(index: ReportIndex) -> bool:
    """Has another process written a new index since this one was loaded? Cheap: reads the manifest only;
    an index in the middle of being swapped in counts as unchanged until it is complete."""
    try:
        return read_manifest(index.path).generation != index.manifest.generation
    except IndexUnusable:
        return False


# ---------------------------------------------------------------- one writer at a time, crash-safe swap


def _siblings(path: Path) -> tuple[Path, Path, Path]:
    """The temporary directory a build writes, the old index kept during the swap, and the lock file."""
    return tuple(path.with_name(f"{path.name}.{suffix}") for suffix in ("tmp", "old", "lock"))


def _holder(info: Path) -> str:
    try:
        return info.read_text(encoding="utf-8").strip() or "未知进程"
    except OSError:
        return "未知进程"


_LOCKS: dict[Path, FileLock] = {}


@contextmanager
def writer_lock(index_dir: Path, wait_s: float | None = None, log: Callable[[str], None] = lambda message: None) -> Iterator[None]:
    """Hold the index's write lock (across processes; re-entrant in one thread). A second writer is
    told who holds it and waits up to wait_s seconds, then gives up with IndexBusy."""
    wait_s = LOCK_WAIT_S if wait_s is None else wait_s
    _, _, lock_path = _siblings(Path(index_dir).resolve())
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = _LOCKS.setdefault(lock_path, FileLock(lock_path))
    info = lock_path.with_name(lock_path.name + ".holder")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log(f"另一个进程正在写索引（{_holder(info)}），最多等待 {wait_s:.0f} 秒……")
        try:
            lock.acquire(timeout=wait_s)
        except Timeout:
            raise IndexBusy(
                f"索引 {index_dir} 正被另一个进程写入（{_holder(info)}），等待 {wait_s:.0f} 秒后仍未结束。"
                "请等它完成后再试；若该进程已不存在，锁会随之自动释放。"
            ) from None
    try:
        if lock.lock_counter == 1:
            command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:120]
            started = time.strftime("%Y-%m-%d %H:%M:%S")
            info.write_text(f"进程 {os.getpid()}@{socket.gethostname()}，{started} 开始：{command}", encoding="utf-8")
        yield
    finally:
        lock.release()


def _complete(path: Path) -> bool:
    """A written index: its manifest is there and every checksum matches."""
    try:
        verify_checksums(path, read_manifest(path).checksums)
        return True
    except IndexUnusable:
        return False


def recover(path: Path) -> None:
    """After a crash between the two renames of a swap the index directory is missing while the new
    one (.tmp) or the old one (.old) is complete: put the newest complete one back in place."""
    if path.exists():
        return
    tmp, old, _ = _siblings(path)
    if not (tmp.exists() or old.exists()):
        return
    with writer_lock(path):
        if path.exists():
            return
        complete = next((c for c in (tmp, old) if c.exists() and _complete(c)), None)
        if complete is not None:
            complete.rename(path)
            for leftover in (tmp, old):
                shutil.rmtree(leftover, ignore_errors=True)


def _fingerprint(sha256: str, row: DocMeta | None) -> str:
    if row is None:
        return sha256
    return hashlib.sha256((sha256 + json.dumps(asdict(row), sort_keys=True, ensure_ascii=False)).encode()).hexdigest()


def fingerprints(files: Iterable[RawDocument | Document], rows: dict[str, DocMeta]) -> dict[str, str]:
    """Source → what the index knows each file by: its bytes and its metadata row, so that editing
    either (a town corrected in the sidecar) re-indexes that file and nothing else."""
    return {f.source: _fingerprint(f.sha256, rows.get(f.source)) for f in files}


def metadata_rows(corpus_dir: Path, previous: ReportIndex | None) -> tuple[dict[str, DocMeta], list[SidecarProblem]]:
    """metadata.csv's rows, where a row (or the whole file) that cannot be used keeps the metadata
    the report was indexed with; and what was wrong in it."""
    sidecar = load_sidecar(corpus_dir)
    indexed = {s: DocMeta(**d.meta) for s, d in previous.documents.items() if not d.meta.get("extracted")} if previous else {}
    return sidecar.resolve(indexed), sidecar.problems


def write_index(target: Path, manifest: Manifest, chunks: list[Chunk], documents: list[IndexedDocument], vectors: np.ndarray, tokenizer: Tokenizer) -> None:
    """Write every part into a sibling temporary directory, the manifest (with the parts' checksums)
    last, then swap it in; the caller holds writer_lock."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp, old, _ = _siblings(target)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    dense, manifest.faiss_type = make_faiss(vectors)
    bm25 = bm25s.BM25()
    bm25.index([tokenizer.tokens(c.embedding_text()) for c in chunks], show_progress=False)
    faiss.write_index(dense, str(tmp / "dense.faiss"))
    np.save(tmp / "vectors.npy", vectors)
    bm25.save(tmp / "bm25", show_progress=False)
    tokenizer.save(tmp / "userdict.txt")
    _write_jsonl(tmp / "chunks.jsonl", (chunk_record(c) for c in chunks))
    _write_jsonl(tmp / "documents.jsonl", (asdict(d) for d in documents))
    manifest.checksums = checksums(tmp)
    (tmp / "manifest.json").write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=1), encoding="utf-8")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    tmp.rename(target)  # a crash before this line leaves old and tmp complete: recover() puts tmp in place
    shutil.rmtree(old, ignore_errors=True)


def _previous(settings: Settings, model_id: str, rebuild: bool, log: Callable[[str], None]) -> ReportIndex | None:
    """The existing index whose vectors can be reused. None for a first build, an index of an older
    format, or when asked to rebuild; a damaged index or one built with another model is refused,
    naming why, unless rebuild is asked."""
    try:
        return load_index(settings, model_id)
    except IndexMissing:
        return None
    except IndexOutdated as outdated:
        log(f"{outdated}正在重建（全部重新向量化）……")
        return None
    except IndexUnusable:
        if rebuild:
            return None
        raise


def build_index(settings: Settings, rebuild: bool = False, show_progress: bool = True, log: Callable[[str], None] = lambda message: None) -> BuildReport:
    """corpus/ → index/, embedding only files that are new or changed since the last build; one
    writer at a time."""
    with writer_lock(settings.index_dir, log=log):
        return _build(settings, rebuild, show_progress, log)


def _build(settings: Settings, rebuild: bool, show_progress: bool, log: Callable[[str], None]) -> BuildReport:
    from reportqa.embed import embed_passages, load_embedder, model_id

    started = time.perf_counter()
    model = load_embedder(settings.embed_model)
    mid = model_id(model)
    previous = _previous(settings, mid, rebuild, log)
    rows, problems = metadata_rows(settings.corpus_dir, previous)
    documents, skipped = load_documents(settings.corpus_dir, rows)
    old_files = previous.manifest.files if previous else {}
    current = fingerprints(documents, rows)

    previous_ids = previous.chunks_by_source if previous else {}
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
    generation = read_generation(settings.index_dir) + 1
    manifest = Manifest(mid, dim, CHUNKER_VERSION, settings.chunk_size, settings.chunk_overlap, current, len(chunks), "", generation=generation)
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
        sidecar=problems,
    )


def read_generation(path: Path) -> int:
    """The generation of the index at path, 0 when there is none (or it is unreadable)."""
    try:
        return read_manifest(path).generation
    except IndexUnusable:
        return 0


def is_current(index: ReportIndex, settings: Settings) -> bool:
    """Is every corpus file indexed as it is now? Only the files' bytes and metadata.csv are read
    (no cleaning), so a start-up on a current index is one load."""
    raws, _ = read_dir(settings.corpus_dir)
    rows, _ = metadata_rows(settings.corpus_dir, index)
    return fingerprints(raws, rows) == index.manifest.files


def current_index(settings: Settings, model_id: str) -> ReportIndex | None:
    """The index, loaded, when it matches the configuration and the corpus; None when the corpus
    changed since. A missing, damaged or mismatched index raises, saying why."""
    index = load_index(settings, model_id)
    return index if is_current(index, settings) else None


def ready_index(settings: Settings, model_id: str, build_if_stale: bool = True, repair: bool = False,
                show_progress: bool = True, log: Callable[[str], None] = lambda message: None) -> ReportIndex:
    """The index to search, brought up to date with the corpus when build_if_stale. A damaged index is
    rebuilt only when repair is set (serving), and said so; otherwise, like an index built with
    another model, it is refused by name and reason."""
    try:
        index = load_index(settings, model_id)
    except (IndexMissing, IndexOutdated):
        if not build_if_stale:
            raise
        log(f"{settings.index_dir} 还没有当前版本的索引，正在从 {settings.corpus_dir} 建立……")
        index = None
    except IndexDamaged as damaged:
        if not repair:
            raise
        log(f"{damaged}\n正在按当前配置重建索引（全部重新向量化）……")
        _log_build(build_index(settings, rebuild=True, show_progress=show_progress, log=log), log)
        return load_index(settings, model_id)
    if index is not None and (not build_if_stale or is_current(index, settings)):
        return index
    if index is not None:
        log(f"{settings.corpus_dir} 中的报告或 metadata.csv 有改动，正在更新索引（只处理新增或改动的文件）……")
    _log_build(build_index(settings, show_progress=show_progress, log=log), log)
    return load_index(settings, model_id)


def _log_build(report: BuildReport, log: Callable[[str], None]) -> None:
    for problem in report.sidecar:
        log(str(problem))
    for error in report.skipped:
        log(f"跳过 {error.source}：{error.reason}")
    log(f"索引就绪：{report.summary()}")


__all__ = [
    "BuildReport", "IndexBusy", "IndexDamaged", "IndexMismatch", "IndexMissing", "IndexOutdated", "IndexUnusable", "ReportIndex",
    "build_index", "current_index", "index_changed", "load_index", "ready_index", "writer_lock",
]
