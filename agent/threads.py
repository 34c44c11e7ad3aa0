"""Conversation threads and user feedback, persisted in one SQLite file under LENSWISE_HOME.

The LangGraph checkpointer (``SqliteSaver``) keeps each thread's graph state, so a follow-up
question sees the conversation and a restart loses nothing: SQLite commits every checkpoint
(WAL journal). Beside it, two small tables hold what the checkpointer does not: thread titles
(for the thread list) and feedback on answers (exportable as an eval suite, GENOPS01-BP02).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

SCHEMA = """
CREATE TABLE IF NOT EXISTS lenswise_threads (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS lenswise_feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id TEXT NOT NULL, turn INTEGER NOT NULL,
    score INTEGER NOT NULL, comment TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL,
    cited TEXT NOT NULL, created_at REAL NOT NULL, UNIQUE(thread_id, turn)
);
"""


@dataclass(frozen=True)
class ThreadInfo:
    """One conversation in the thread list."""

    id: str
    title: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Feedback:
    """A thumbs up (+1) or down (-1) on one answer, with an optional comment."""

    thread_id: str
    turn: int
    score: int
    comment: str
    question: str
    answer: str
    cited: list[str]
    created_at: float


class ThreadStore:
    """SQLite-backed thread metadata, feedback and the LangGraph checkpointer."""

    def __init__(self, path: Path) -> None:
        """Open (or create) the database at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        with self._lock, self._conn:
            self._conn.executescript(SCHEMA)
        self.checkpointer = SqliteSaver(self._conn)
        self.checkpointer.setup()

    def touch(self, thread_id: str, title: str) -> None:
        """Create the thread if new (titled after its first question) and mark it updated."""
        now = time.time()
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO lenswise_threads(id, title, created_at, updated_at) VALUES (?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET updated_at=excluded.updated_at",
                (thread_id, title.strip()[:80] or "New conversation", now, now),
            )

    def threads(self) -> list[ThreadInfo]:
        """Return every thread, most recently used first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, title, created_at, updated_at FROM lenswise_threads "
                "ORDER BY updated_at DESC"
            ).fetchall()
        return [ThreadInfo(*row) for row in rows]

    def rename(self, thread_id: str, title: str) -> bool:
        """Rename a thread; return False when it does not exist."""
        with self._lock, self._conn:
            cur = self._conn.execute(
                "UPDATE lenswise_threads SET title=? WHERE id=?", (title.strip()[:80], thread_id)
            )
        return cur.rowcount > 0

    def delete(self, thread_id: str) -> None:
        """Delete a thread: its title, its feedback and its checkpoints."""
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM lenswise_threads WHERE id=?", (thread_id,))
            self._conn.execute("DELETE FROM lenswise_feedback WHERE thread_id=?", (thread_id,))
        self.checkpointer.delete_thread(thread_id)

    def add_feedback(self, fb: Feedback) -> None:
        """Store (or replace) the feedback on one answer."""
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO lenswise_feedback(thread_id, turn, score, comment, "
                "question, answer, cited, created_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    fb.thread_id,
                    fb.turn,
                    fb.score,
                    fb.comment,
                    fb.question,
                    fb.answer,
                    json.dumps(fb.cited),
                    fb.created_at,
                ),
            )

    def feedback(self) -> list[Feedback]:
        """Return all stored feedback, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT thread_id, turn, score, comment, question, answer, cited, created_at "
                "FROM lenswise_feedback ORDER BY created_at"
            ).fetchall()
        return [Feedback(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7]) for r in rows]

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()
