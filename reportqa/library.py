"""The report library staff manage from the app: import, delete, replace, edit metadata.

Every change is checked before anything is written, done under the app's one
write lock, followed by an incremental index build and a reload, and undone
whole if the build fails. Nothing is lost: a deleted or replaced file is moved
to a trash folder beside corpus/, never erased, and originals are never edited.
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reportqa.ingest.load import LoadError, RawDocument, duplicate_in, read_bytes
from reportqa.ingest.meta import DOC_TYPES, META_FIELDS, META_LABELS, SIDECAR_NAME, DocMeta, read_sidecar, write_sidecar

BAD_NAME = re.compile(r"[\\/:*?\"<>|\x00-\x1f]")
TRASH_NAME = "corpus_trash"
UNCHANGED = "报告库没有任何改动。"


@dataclass
class Result:
    ok: bool
    message: str  # HTML, shown as is


IMPORT_LOCK_WAIT_S = 30  # a change waits this long for a CLI build, then says who holds the index


def _error(text: str) -> Result:
    return Result(False, f"<span class='rq-error'>{text}</span>。{UNCHANGED}")


class Rejected(Exception):
    """A change refused before anything was written; the message is HTML for the page."""


def safe_name(name: str) -> str:
    base = name.strip()
    if not base or base.startswith(".") or BAD_NAME.search(base) or base == SIDECAR_NAME:
        raise LoadError(name, "文件名不可用（不能以点开头，不能含 \\ / : * ? \" < > | 等字符）")
    return base


def trash_dir(corpus: Path) -> Path:
    return corpus.parent / TRASH_NAME


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _duplicate_of(corpus: Path, sha256: str, besides: str = "") -> str:
    for existing in sorted(corpus.iterdir()) if corpus.exists() else []:
        if existing.is_file() and existing.name not in (SIDECAR_NAME, besides) and _sha256(existing) == sha256:
            return existing.name
    return ""


def checked_meta(values: dict) -> dict[str, str]:
    """The metadata fields given, trimmed; a wrong year or document kind is refused."""
    values = {k: str(v or "").strip() for k, v in values.items() if k in META_FIELDS}
    if values.get("doc_type") and values["doc_type"] not in DOC_TYPES:
        raise Rejected(f"文档类型应为 {'、'.join(DOC_TYPES)} 之一")
    if values.get("year") and not re.fullmatch(r"(19|20)\d{2}", values["year"]):
        raise Rejected("年份应为四位数字，例如 2023")
    return values


def read_upload(name: str, data: bytes) -> RawDocument:
    try:
        return read_bytes(safe_name(name), data)
    except LoadError as error:
        raise Rejected(f"无法导入「{html.escape(error.source)}」：{html.escape(error.reason)}") from None


@dataclass
class Change:
    """Files written or moved so far, with how to take each back, and the sidecar as it was."""

    corpus: Path
    sidecar_before: bytes | None = None
    undo: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        sidecar = self.corpus / SIDECAR_NAME
        self.sidecar_before = sidecar.read_bytes() if sidecar.exists() else None

    def write_new(self, name: str, data: bytes) -> None:
        target = self.corpus / name
        with open(target, "xb") as handle:  # "x": never overwrite an existing file
            handle.write(data)
        self.undo.append(lambda: target.unlink(missing_ok=True))

    def to_trash(self, name: str) -> Path:
        trash = trash_dir(self.corpus)
        trash.mkdir(parents=True, exist_ok=True)
        source, kept = self.corpus / name, trash / f"{time.strftime('%Y%m%d-%H%M%S')}_{name}"
        shutil.move(source, kept)
        self.undo.append(lambda: shutil.move(kept, source))
        return kept

    def set_meta(self, updates: dict[str, DocMeta | None]) -> None:
        entries = read_sidecar(self.corpus)
        for name, meta in updates.items():
            if meta is None:
                entries.pop(name, None)
            else:
                entries[name] = meta
        write_sidecar(self.corpus, entries)

    def roll_back(self) -> None:
        for step in reversed(self.undo):
            step()
        sidecar = self.corpus / SIDECAR_NAME
        if self.sidecar_before is None:
            sidecar.unlink(missing_ok=True)
        else:
            sidecar.write_bytes(self.sidecar_before)


def _commit(backend, change: Change, progress) -> tuple[Result | None, object]:
    """Index what changed and reload; on any failure take the change back. Returns (failure, build report)."""
    from reportqa.store import writer_lock
    from reportqa.stores import build_index

    try:
        _step(progress, 0.3, "更新索引（只处理改动的报告）")
        with writer_lock(backend.settings.index_dir, wait_s=IMPORT_LOCK_WAIT_S):  # a CLI build may hold the index
            report = build_index(backend.settings, show_progress=progress is not None)
        _step(progress, 0.9, "重新载入检索器")
        backend.reload()
    except Exception as exc:
        change.roll_back()
        detail = f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}"
        return Result(False, f"<span class='rq-error'>操作失败，已撤回</span>（{detail}）。{UNCHANGED}"), None
    return None, report


def _step(progress, fraction: float, text: str) -> None:
    if progress is not None:
        progress(fraction, desc=text)


def _new_meta(raw: RawDocument, given: dict[str, str]) -> tuple[DocMeta, list[str]]:
    """Given fields win; the rest are read off the text (and named, so staff check them)."""
    from reportqa.ingest import prepare_document

    extracted = prepare_document(raw, None).meta
    filled = [k for k in META_FIELDS if not given.get(k) and getattr(extracted, k)]
    return DocMeta(**{k: given.get(k) or getattr(extracted, k) for k in META_FIELDS}), filled


def import_reports(backend, files: list[tuple[str, bytes]], meta_values: dict | None = None, progress=None) -> Result:
    """Add reports: each checked first (name, readable, not a duplicate), the good ones written and indexed in one build.

    `meta_values` apply when one file is imported; several files take what their text says.
    """
    meta_values = meta_values or {}
    corpus = backend.settings.corpus_dir
    _step(progress, 0.05, "检查文件")
    try:
        given = checked_meta(meta_values) if len(files) == 1 else {}
    except Rejected as error:
        return _error(str(error))
    refused, accepted = [], []
    with backend.lock:
        seen: dict[str, str] = {}
        for name, data in files:
            try:
                raw = read_upload(name, data)
                if (corpus / raw.source).exists():
                    raise Rejected(f"报告库中已有同名文件「{html.escape(raw.source)}」：为保护原文件不被覆盖，请改名后再导入，或用「替换」")
                duplicate = duplicate_in(corpus, raw)  # the same text re-encoded or re-saved counts too
                if duplicate:
                    raise Rejected(f"这份报告已经在库中（{html.escape(duplicate)}），不重复导入")
                if raw.sha256 in seen:
                    raise Rejected(f"这份报告与同批的「{html.escape(seen[raw.sha256])}」内容完全相同，不重复导入")
            except Rejected as error:
                refused.append(str(error))
                continue
            seen[raw.sha256] = raw.source
            accepted.append((raw, data))
        if not accepted:
            return Result(False, "<br>".join(f"<span class='rq-error'>{r}</span>" for r in refused) + f"。{UNCHANGED}")
        _step(progress, 0.15, "写入报告库")
        corpus.mkdir(parents=True, exist_ok=True)
        change = Change(corpus)
        notes, metas = [], {}
        for raw, data in accepted:
            change.write_new(raw.source, data)
            metas[raw.source], filled = _new_meta(raw, given)
            if filled:
                notes.append(f"「{html.escape(raw.source)}」的{'、'.join(META_LABELS[k] for k in filled)}是从正文自动识别的，请在「文档」中核对")
        change.set_meta(metas)
        failure, report = _commit(backend, change, progress)
    if failure:
        return failure
    names = "、".join(f"「{html.escape(raw.source)}」" for raw, _ in accepted)
    chunks = sum(len(backend.index.chunks_by_source.get(source, [])) for source in metas)
    lines = [
        f"<span class='rq-ok'>已导入{names}</span>：切分为 {chunks} 段，索引现有 {report.n_chunks} 段"
        f"（只向量化了新文件，用时 {report.seconds:.1f} 秒）。现在可以在「问答」和「检索」中查到。",
        *notes,
        *(f"<span class='rq-error'>未导入：{r}</span>" for r in refused),
        *(f"另有文件被跳过：{html.escape(e.source)}（{html.escape(e.reason)}）" for e in report.skipped),
    ]
    return Result(True, "<br>".join(lines))


def import_report(backend, filename: str, data: bytes, meta_values: dict, progress=None) -> Result:
    return import_reports(backend, [(filename, data)], meta_values, progress)


def _known(backend, source: str) -> None:
    if not source or not (backend.settings.corpus_dir / source).is_file():
        raise Rejected(f"报告库中没有「{html.escape(source or '')}」")


def delete_report(backend, source: str, progress=None) -> Result:
    """Take a report out of answers, search and filters; the file goes to the trash folder, not away."""
    with backend.lock:
        try:
            _known(backend, source)
        except Rejected as error:
            return _error(str(error))
        change = Change(backend.settings.corpus_dir)
        kept = change.to_trash(source)
        change.set_meta({source: None})
        failure, _ = _commit(backend, change, progress)
    return failure or Result(True, f"<span class='rq-ok'>已删除「{html.escape(source)}」</span>：它不再出现在回答、检索和筛选中。原文件保存在 {html.escape(str(kept))}。")


def replace_report(backend, source: str, filename: str, data: bytes, progress=None) -> Result:
    """Put a corrected file in a report's place: same metadata, new text, re-embedded; the old file goes to the trash."""
    with backend.lock:
        try:
            _known(backend, source)
            raw = read_upload(filename, data)
            duplicate = _duplicate_of(backend.settings.corpus_dir, raw.sha256)
            if duplicate:
                raise Rejected(f"新文件与「{html.escape(duplicate)}」内容完全相同" + ("，无需替换" if duplicate == source else ""))
        except Rejected as error:
            return _error(str(error))
        corpus = backend.settings.corpus_dir
        name = Path(source).stem + Path(raw.source).suffix.lower()
        if name != source and (corpus / name).exists():
            return _error(f"报告库中已有「{html.escape(name)}」")
        meta = read_sidecar(corpus).get(source)
        change = Change(corpus)
        change.to_trash(source)
        change.write_new(name, data)
        change.set_meta({source: None, name: meta or _new_meta(raw, {})[0]})
        failure, report = _commit(backend, change, progress)
    if failure:
        return failure
    chunks = len(backend.index.chunks_by_source.get(name, []))
    return Result(True, f"<span class='rq-ok'>已用「{html.escape(filename)}」替换「{html.escape(source)}」</span>：重新切分为 {chunks} 段并向量化（用时 {report.seconds:.1f} 秒），旧文件已移入回收站。")


def edit_meta(backend, source: str, values: dict, progress=None) -> Result:
    """Correct a report's metadata; only that report is re-indexed (its fingerprint includes its row)."""
    with backend.lock:
        try:
            _known(backend, source)
            given = checked_meta(values)
        except Rejected as error:
            return _error(str(error))
        corpus = backend.settings.corpus_dir
        old = read_sidecar(corpus).get(source) or DocMeta()
        meta = DocMeta(**{k: given.get(k, getattr(old, k)) for k in META_FIELDS})
        if meta == old and source in read_sidecar(corpus):
            return Result(True, "元数据没有变化。")
        change = Change(corpus)
        change.set_meta({source: meta})
        failure, report = _commit(backend, change, progress)
    return failure or Result(True, f"<span class='rq-ok'>已更新「{html.escape(meta.title or source)}」的元数据</span>，只重建了这份报告的索引（用时 {report.seconds:.1f} 秒）。")


def preview_upload(path: str | None) -> tuple[str, dict]:
    """What a chosen file would be imported as: its validation result and metadata read off its text."""
    if not path:
        return "", {}
    try:
        raw = read_upload(Path(path).name, Path(path).read_bytes())
    except Rejected as error:
        return f"<span class='rq-error'>{error}</span>".replace("无法导入", "不能导入"), {}
    meta, _ = _new_meta(raw, {})
    return (
        f"<span class='rq-ok'>文件可以读取</span>（{html.escape(raw.encoding)}，{len(raw.text)} 字）。"
        "下面的信息是从正文自动识别的，请核对、补全后点「导入并更新索引」。",
        {k: getattr(meta, k) for k in META_FIELDS},
    )
