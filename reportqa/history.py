"""Conversations kept across reloads, per browser, in SQLite.

A browser is known only by an anonymous random id it keeps in its own storage;
nothing identifies the person. Conversations are never deleted by 清空: a new
one starts and the old stays in the list, so a mis-click loses nothing.
Ids are random (not counters) because an export link names a turn by its id.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_client ON conversations (client, updated_at);
CREATE TABLE IF NOT EXISTS turns (
    id TEXT PRIMARY KEY,
    conversation TEXT NOT NULL REFERENCES conversations (id),
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    resolved TEXT NOT NULL,
    html TEXT NOT NULL,
    record TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns (conversation, position);
"""
TITLE_CHARS = 30


@dataclass
class Turn:
    question: str  # as typed
    resolved: str  # as answered (a follow-up completed)
    html: str  # the answer as shown
    record: dict  # answer text, sources and notes, for export and feedback
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: float = field(default_factory=time.time)


@dataclass
class Conversation:
    id: str
    title: str
    updated_at: float


def new_id() -> str:
    return uuid.uuid4().hex


def connect(db: Path) -> sqlite3.Connection:
    db.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(db, timeout=10)
    connection.executescript(SCHEMA)
    return connection


def add_turn(db: Path, client: str, conversation: str, turn: Turn) -> None:
    """Append a turn, creating the conversation (titled by its first question) if it is new."""
    with closing(connect(db)) as connection, connection:
        now = time.time()
        connection.execute(
            "INSERT OR IGNORE INTO conversations (id, client, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (conversation, client, turn.question[:TITLE_CHARS], now, now),
        )
        connection.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation))
        (position,) = connection.execute("SELECT COUNT(*) FROM turns WHERE conversation = ?", (conversation,)).fetchone()
        connection.execute(
            "INSERT INTO turns (id, conversation, position, question, resolved, html, record, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (turn.id, conversation, position, turn.question, turn.resolved, turn.html, json.dumps(turn.record, ensure_ascii=False), turn.created_at),
        )


def conversations(db: Path, client: str, limit: int = 50) -> list[Conversation]:
    """This browser's conversations, newest first."""
    with closing(connect(db)) as connection:
        rows = connection.execute(
            "SELECT id, title, updated_at FROM conversations WHERE client = ? ORDER BY updated_at DESC LIMIT ?", (client, limit)
        ).fetchall()
    return [Conversation(*row) for row in rows]


def _turn(row) -> Turn:
    id_, question, resolved, html, record, created_at = row
    return Turn(question, resolved, html, json.loads(record), id_, created_at)


def turns(db: Path, client: str, conversation: str) -> list[Turn]:
    """A conversation's turns in order; nothing when it belongs to another browser."""
    with closing(connect(db)) as connection:
        rows = connection.execute(
            "SELECT t.id, t.question, t.resolved, t.html, t.record, t.created_at FROM turns t"
            " JOIN conversations c ON c.id = t.conversation WHERE c.id = ? AND c.client = ? ORDER BY t.position",
            (conversation, client),
        ).fetchall()
    return [_turn(row) for row in rows]


def exportable(db: Path, turn_id: str) -> tuple[str, list[Turn]]:
    """(conversation title, [the turn]) for an export link naming one turn; ("", []) if there is none."""
    with closing(connect(db)) as connection:
        row = connection.execute(
            "SELECT t.id, t.question, t.resolved, t.html, t.record, t.created_at, c.title, c.id FROM turns t"
            " JOIN conversations c ON c.id = t.conversation WHERE t.id = ?",
            (turn_id,),
        ).fetchone()
    return (row[6], [_turn(row[:6])]) if row else ("", [])


def conversation_of(db: Path, turn_id: str) -> tuple[str, list[Turn]]:
    """(title, every turn) of the conversation a turn belongs to, for 「导出整段对话」."""
    with closing(connect(db)) as connection:
        row = connection.execute(
            "SELECT c.id, c.client, c.title FROM turns t JOIN conversations c ON c.id = t.conversation WHERE t.id = ?", (turn_id,)
        ).fetchone()
    return (row[2], turns(db, row[1], row[0])) if row else ("", [])
