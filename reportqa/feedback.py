"""Evaluators' ratings and users' thumbs, kept in one SQLite file.

Evaluators score an answer 1–5 on correctness, faithfulness (every claim is in
the cited passages) and citation quality; staff give a thumbs up or down in
the chat. Every row keeps the question, the answer, the passages it was drawn
from and the backend that wrote it, so a score can always be traced back to
what the rater saw. Rows are only ever added: nothing here updates or deletes.

Two raters scoring the same answer (same question and same answer text) give
the agreement figures in `summary`: per criterion, the mean absolute
difference and the share of pairs that agree exactly.

The database is a file staff can break (a folder of that name, a read-only
or damaged file, another program holding its lock): every such fault is
raised as :class:`FeedbackUnavailable` with the path and the fix in Chinese,
`check_database` finds them at start-up, and `summary_or_problem` never lets
one stop a page from loading.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sqlite3
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import combinations
from pathlib import Path

from reportqa.limits import csv_row

CRITERIA = ("correctness", "faithfulness", "citation")
CRITERIA_ZH = {"correctness": "正确性", "faithfulness": "忠实度", "citation": "引用质量"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at    TEXT NOT NULL,
    rater         TEXT NOT NULL,
    question_id   TEXT NOT NULL DEFAULT '',
    question_type TEXT NOT NULL DEFAULT '',
    question      TEXT NOT NULL,
    answer        TEXT NOT NULL,
    answer_key    TEXT NOT NULL,
    passages      TEXT NOT NULL DEFAULT '[]',
    backend       TEXT NOT NULL DEFAULT '',
    refused       INTEGER NOT NULL DEFAULT 0,
    correctness   INTEGER NOT NULL CHECK (correctness BETWEEN 1 AND 5),
    faithfulness  INTEGER NOT NULL CHECK (faithfulness BETWEEN 1 AND 5),
    citation      INTEGER NOT NULL CHECK (citation BETWEEN 1 AND 5),
    comment       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS ratings_answer ON ratings (answer_key);
CREATE TABLE IF NOT EXISTS thumbs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  TEXT NOT NULL,
    liked       INTEGER NOT NULL CHECK (liked IN (-1, 1)),
    question    TEXT NOT NULL,
    answer      TEXT NOT NULL,
    answer_key  TEXT NOT NULL,
    passages    TEXT NOT NULL DEFAULT '[]',
    backend     TEXT NOT NULL DEFAULT '',
    refused     INTEGER NOT NULL DEFAULT 0,
    filters     TEXT NOT NULL DEFAULT '{}',
    session     TEXT NOT NULL DEFAULT ''
);
"""

RATING_COLUMNS = (
    "id", "created_at", "rater", "question_id", "question_type", "question", "answer", "answer_key",
    "passages", "backend", "refused", *CRITERIA, "comment",
)
THUMB_COLUMNS = ("id", "created_at", "liked", "question", "answer", "answer_key", "passages", "backend", "refused", "filters", "session")


BUSY_WAIT_S = 3.0  # how long a write waits for another program's lock before saying so
READ_WAIT_S = 0.5  # a summary on page load waits less: it is shown later, never blocks the page


class FeedbackError(ValueError):
    """A rating that cannot be stored; the message is shown to the rater as is."""


class FeedbackUnavailable(FeedbackError):
    """The database itself cannot be used; the message names the path and the fix."""


def answer_key(question: str, answer: str) -> str:
    """Identifies 'the same answer': two raters who saw the same question and answer text."""
    return hashlib.sha256(f"{question.strip()}\n\x1f{answer.strip()}".encode("utf-8")).hexdigest()[:16]


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _unavailable(db_path: Path, error: BaseException) -> FeedbackUnavailable:
    """The Chinese message for what went wrong with the database file, with what to do."""
    text = str(error).lower()
    where = f"反馈数据库 {db_path}"
    if db_path.is_dir():
        why = "这个路径是一个文件夹，不是数据库文件；请把 REPORTQA_FEEDBACK_DB 指向一个文件（如 feedback.sqlite3），或移走该文件夹"
    elif "locked" in text or "busy" in text:
        why = "正被其他程序锁定（可能正在写入或被 SQLite 工具打开），稍等片刻再试；若一直如此，请关闭打开它的程序"
    elif "readonly" in text or "read-only" in text or isinstance(error, PermissionError) or not os.access(db_path.parent, os.W_OK):
        why = "没有写入权限（文件或所在文件夹是只读的）；请修改权限，或把 REPORTQA_FEEDBACK_DB 指向可写的位置"
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        why = "已损坏或不是 SQLite 数据库；请把它改名备份（不要删除，以便恢复），程序会新建一个空库"
    else:
        why = f"无法打开（{error}）；请检查 REPORTQA_FEEDBACK_DB"
    return FeedbackUnavailable(f"{where}{why}。")


def connect(db_path: Path, wait_s: float = BUSY_WAIT_S) -> sqlite3.Connection:
    """Open (creating if needed) the feedback database; tables are created only when missing.
    A lock held elsewhere is waited for wait_s seconds; every fault raises FeedbackUnavailable."""
    db_path = Path(db_path)
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(db_path, timeout=wait_s)
        connection.row_factory = sqlite3.Row
        connection.executescript(SCHEMA)
    except (sqlite3.Error, OSError) as error:
        raise _unavailable(db_path, error) from None
    return connection


def check_database(db_path: Path) -> None:
    """At start-up: the database can be opened, is intact and can be written; raises FeedbackUnavailable."""
    db_path = Path(db_path)
    connection = connect(db_path)
    try:
        (result,) = connection.execute("PRAGMA quick_check").fetchone()
        if result != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed: {result}")
        connection.execute("BEGIN IMMEDIATE")  # takes the write lock: read-only or locked files fail here
        connection.rollback()
    except sqlite3.Error as error:
        raise _unavailable(db_path, error) from None
    finally:
        connection.close()


def _write(db_path: Path, sql: str, values: tuple) -> int:
    """Insert one row and return its id; faults of the file raise FeedbackUnavailable."""
    connection = connect(db_path)
    try:
        with connection:
            return connection.execute(sql, values).lastrowid
    except sqlite3.Error as error:
        raise _unavailable(Path(db_path), error) from None
    finally:
        connection.close()


@dataclass
class Rating:
    rater: str
    question: str
    answer: str
    correctness: int
    faithfulness: int
    citation: int
    comment: str = ""
    question_id: str = ""
    question_type: str = ""
    passages: list[dict] = field(default_factory=list)  # Passage.as_json() objects the rater saw
    backend: str = ""
    refused: bool = False

    def check(self) -> None:
        if not self.rater.strip():
            raise FeedbackError("请填写评分人姓名")
        if not self.question.strip() or not self.answer.strip():
            raise FeedbackError("没有可评分的回答：请先提问并得到回答")
        for name in CRITERIA:
            value = getattr(self, name)
            if value in (None, ""):
                raise FeedbackError(f"请给「{CRITERIA_ZH[name]}」打分（1–5）")
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise FeedbackError(f"「{CRITERIA_ZH[name]}」的分数应为 1–5 的整数") from None
            if not 1 <= value <= 5:
                raise FeedbackError(f"「{CRITERIA_ZH[name]}」的分数应在 1–5 之间")
            setattr(self, name, value)


@dataclass
class Thumb:
    liked: bool
    question: str
    answer: str
    passages: list[dict] = field(default_factory=list)
    backend: str = ""
    refused: bool = False
    filters: dict = field(default_factory=dict)
    session: str = ""


def save_rating(db_path: Path, rating: Rating) -> int:
    """Store one rating (validated) and return its row id."""
    rating.check()
    return _write(
        db_path,
        "INSERT INTO ratings (created_at, rater, question_id, question_type, question, answer, answer_key, passages,"
        " backend, refused, correctness, faithfulness, citation, comment) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            _now(), rating.rater.strip(), str(rating.question_id or ""), rating.question_type or "", rating.question,
            rating.answer, answer_key(rating.question, rating.answer), json.dumps(rating.passages, ensure_ascii=False),
            rating.backend, int(bool(rating.refused)), rating.correctness, rating.faithfulness, rating.citation,
            rating.comment.strip(),
        ),
    )


def save_thumb(db_path: Path, thumb: Thumb) -> int:
    """Store one thumbs up/down on a chat answer and return its row id."""
    return _write(
        db_path,
        "INSERT INTO thumbs (created_at, liked, question, answer, answer_key, passages, backend, refused, filters, session)"
        " VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            _now(), 1 if thumb.liked else -1, thumb.question, thumb.answer, answer_key(thumb.question, thumb.answer),
            json.dumps(thumb.passages, ensure_ascii=False), thumb.backend, int(bool(thumb.refused)),
            json.dumps(thumb.filters, ensure_ascii=False), thumb.session,
        ),
    )


def _rows(db_path: Path, table: str, json_fields: dict[str, str], wait_s: float = BUSY_WAIT_S) -> list[dict]:
    """A table's rows, oldest first, as plain dicts with their JSON columns decoded."""
    if not Path(db_path).exists():
        return []
    connection = connect(db_path, wait_s)
    try:
        rows = [dict(r) for r in connection.execute(f"SELECT * FROM {table} ORDER BY id")]
    except sqlite3.Error as error:
        raise _unavailable(Path(db_path), error) from None
    finally:
        connection.close()
    for row in rows:
        for name, empty in json_fields.items():
            row[name] = json.loads(row[name] or empty)
    return rows


def ratings(db_path: Path, wait_s: float = BUSY_WAIT_S) -> list[dict]:
    return _rows(db_path, "ratings", {"passages": "[]"}, wait_s)


def thumbs(db_path: Path, wait_s: float = BUSY_WAIT_S) -> list[dict]:
    return _rows(db_path, "thumbs", {"passages": "[]", "filters": "{}"}, wait_s)


def export_csv(db_path: Path, out_path: Path, table: str = "ratings") -> Path:
    """Write a table to CSV (UTF-8 with BOM so Excel shows the Chinese); passages stay as JSON text."""
    if table not in ("ratings", "thumbs"):
        raise ValueError(f"unknown table {table!r}")
    rows = ratings(db_path) if table == "ratings" else thumbs(db_path)
    columns = RATING_COLUMNS if table == "ratings" else THUMB_COLUMNS
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                csv_row(json.dumps(row[c], ensure_ascii=False) if isinstance(row[c], (list, dict)) else row[c] for c in columns)
            )
    return out_path


# ---------------------------------------------------------------- summary


@dataclass
class GroupStats:
    group: str  # rater name or question type
    n: int
    means: dict[str, float]  # criterion → mean score


@dataclass
class Agreement:
    criterion: str
    pairs: int  # rater pairs who scored the same answer
    mean_abs_diff: float | None
    exact: float | None  # share of pairs with identical scores
    within_one: float | None  # share of pairs at most one point apart


@dataclass
class Summary:
    n_ratings: int
    n_raters: int
    n_answers: int
    per_rater: list[GroupStats]
    per_type: list[GroupStats]
    agreement: list[Agreement]
    thumbs_up: int = 0
    thumbs_down: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _group(rows: list[dict], key: str, empty: str) -> list[GroupStats]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row[key] or empty].append(row)
    return [
        GroupStats(name, len(items), {c: round(statistics.fmean(r[c] for r in items), 2) for c in CRITERIA})
        for name, items in sorted(groups.items())
    ]


def agreement(rows: list[dict]) -> list[Agreement]:
    """Inter-rater agreement over answers scored by two or more raters (each rater's latest score counts)."""
    latest: dict[str, dict[str, dict]] = defaultdict(dict)  # answer_key → rater → row
    for row in sorted(rows, key=lambda r: r["id"]):
        latest[row["answer_key"]][row["rater"]] = row
    pairs = [(a, b) for by_rater in latest.values() for a, b in combinations(by_rater.values(), 2)]
    result = []
    for criterion in CRITERIA:
        diffs = [abs(a[criterion] - b[criterion]) for a, b in pairs]
        result.append(
            Agreement(
                criterion,
                len(diffs),
                round(statistics.fmean(diffs), 3) if diffs else None,
                round(sum(d == 0 for d in diffs) / len(diffs), 3) if diffs else None,
                round(sum(d <= 1 for d in diffs) / len(diffs), 3) if diffs else None,
            )
        )
    return result


def summary(db_path: Path, wait_s: float = BUSY_WAIT_S) -> Summary:
    return summary_of(ratings(db_path, wait_s), thumbs(db_path, wait_s))


def summary_of(rows: list[dict], thumb_rows: list[dict]) -> Summary:
    return Summary(
        n_ratings=len(rows),
        n_raters=len({r["rater"] for r in rows}),
        n_answers=len({r["answer_key"] for r in rows}),
        per_rater=_group(rows, "rater", "（未署名）"),
        per_type=_group(rows, "question_type", "（自由提问）"),
        agreement=agreement(rows),
        thumbs_up=sum(t["liked"] > 0 for t in thumb_rows),
        thumbs_down=sum(t["liked"] < 0 for t in thumb_rows),
    )


def summary_or_problem(db_path: Path) -> tuple[Summary, str]:
    """For a page load: the summary, or an empty one and the reason the database cannot be read,
    after waiting READ_WAIT_S at most for a lock."""
    try:
        return summary(db_path, READ_WAIT_S), ""
    except FeedbackUnavailable as error:
        return summary_of([], []), str(error)


__all__ = [
    "CRITERIA", "CRITERIA_ZH", "Agreement", "FeedbackError", "FeedbackUnavailable", "GroupStats", "Rating", "Summary", "Thumb",
    "agreement", "answer_key", "check_database", "connect", "export_csv", "ratings", "save_rating", "save_thumb", "summary",
    "summary_or_problem", "thumbs",
]
