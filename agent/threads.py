"""Conversation threads and user feedback, persisted in one SQLite file under LENSWISE_HOME.

The LangGraph checkpointer (``SqliteSaver``) keeps each thread's graph state, so a follow-up
question sees the conversation and a restart loses nothing: SQLite commits every checkpoint
(WAL journal). Beside it, two small tables hold what the checkpointer does not: thread titles
(for the thread list) and feedback on answers (exportable as an eval suite, GENOPS01-BP02).

Nothing is lost to concurrency or damage: one turn at a time holds a thread's lock (across
processes), so concurrent questions on one thread each land as a turn instead of forking its
checkpoints; a damaged database file (or one whose tables have another shape) is moved aside
(kept, never deleted) and a new one started; a thread whose saved state cannot be read is set
aside the same way while every other thread keeps working; one locked by another program
fails within seconds, with a line saying so.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple
from langgraph.checkpoint.sqlite import SqliteSaver

from corpus.errors import LenswiseError
from index.locks import file_lock

BUSY_TIMEOUT_S = 5.0
"""How long one statement waits for another process's write before giving up (writes are short:
one checkpoint each); a program holding the file locked longer gets a clear error instead."""

MIGRATIONS = (
    """
CREATE TABLE IF NOT EXISTS lenswise_threads (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS lenswise_feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id TEXT NOT NULL, turn INTEGER NOT NULL,
    score INTEGER NOT NULL, comment TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL,
    cited TEXT NOT NULL, created_at REAL NOT NULL, UNIQUE(thread_id, turn)
);
""",
    """
ALTER TABLE lenswise_threads ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE lenswise_feedback ADD COLUMN owner TEXT NOT NULL DEFAULT '';
CREATE INDEX lenswise_threads_owner ON lenswise_threads(owner, updated_at);
""",
)
"""Schema versions in order (``PRAGMA user_version`` counts those applied): 1 threads and
feedback, 2 their owners (team mode). Each runs once, in one transaction, on opening."""


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

    def row(self) -> tuple:
        """Return the stored columns in table order (``cited`` as JSON text)."""
        return (
            self.thread_id,
            self.turn,
            self.score,
            self.comment,
            self.question,
            self.answer,
            json.dumps(self.cited),
            self.created_at,
        )


class _SafeSaver(SqliteSaver):
    """The SQLite checkpointer, setting aside a thread whose stored state cannot be read.

    A checkpoint blob or its metadata may be damaged (random bytes, an empty blob, a type the
    serializer refuses, broken JSON). Reading it would fail on every later turn of that
    thread; instead its rows are moved to a new thread id (kept) and the thread starts afresh.
    """

    def __init__(self, conn: sqlite3.Connection, set_aside: Callable[[str, Exception], None]):
        super().__init__(conn)
        self._set_aside = set_aside

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Return the thread's checkpoint, or None after setting a damaged thread aside."""
        try:
            return _checked(super().get_tuple(config))
        except sqlite3.DatabaseError:
            raise  # the file itself: ThreadStore.guarded says what to do
        except Exception as exc:  # noqa: BLE001 - any failure to decode stored bytes
            self._set_aside(str(config.get("configurable", {}).get("thread_id")), exc)
            return super().get_tuple(config)


_CHECKPOINT_MAPS = ("channel_values", "channel_versions", "versions_seen")
"""Parts of a checkpoint the graph reads as mappings before anything else."""


def _checked(found: CheckpointTuple | None) -> CheckpointTuple | None:
    """Return ``found`` when it has a checkpoint's shape; raise ValueError when it has not.

    A blob typed ``bytes``, ``null`` or JSON that is no checkpoint decodes without error, and
    would fail later inside the graph instead.
    """
    if found is None:
        return None
    checkpoint, metadata = found.checkpoint, found.metadata
    if not isinstance(checkpoint, dict) or not isinstance(metadata, dict):
        raise ValueError("the checkpoint or its metadata is not a mapping")
    if not isinstance(checkpoint.get("id"), str) or not all(
        isinstance(checkpoint.get(key), dict) for key in _CHECKPOINT_MAPS
    ):
        raise ValueError("the checkpoint lacks its id or channels")
    return found


class ThreadStore:
    """SQLite-backed thread metadata, feedback and the LangGraph checkpointer."""

    def __init__(self, path: Path, notify: Callable[[str], None] | None = None) -> None:
        """Open (or create) the database at ``path``, moving a damaged one aside first.

        Args:
            path: the SQLite file.
            notify: called with one line when a damaged thread is set aside later on
                (default: a ``RuntimeWarning``).

        Raises:
            LenswiseError: the file is locked by another program, or cannot be opened.
        """
        self.path = path
        self._locks = path.parent / "locks"
        self._notify = notify
        self.notice: str | None = None
        """One line for the user when a damaged file was moved aside on opening, else None."""
        try:
            with file_lock(self._locks / "state.lock", wait_s=BUSY_TIMEOUT_S), self.guarded():
                problem = _damage(path)
                if problem:
                    aside = _move_aside(path)
                    self.notice = (
                        f"conversation history {path} was damaged ({problem}): moved it to "
                        f"{aside} (kept, nothing deleted) and started a new one"
                    )
                self._conn = _connect(path)
                self._lock = threading.Lock()
                with self._lock:
                    _migrate(self._conn)
                self.checkpointer = _SafeSaver(self._conn, self._set_aside)
                self.checkpointer.setup()
        except TimeoutError as exc:
            raise LenswiseError(f"conversation history {path} is busy: {_RETRY}") from exc

    def _set_aside(self, thread_id: str, exc: Exception) -> None:
        """Move a thread's unreadable checkpoints to a new thread id and say so."""
        aside = f"{thread_id}.damaged-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}"
        with self._lock, self._conn:
            for table in ("checkpoints", "writes"):
                self._conn.execute(
                    f"UPDATE {table} SET thread_id=? WHERE thread_id=?",  # noqa: S608 - fixed names
                    (aside, thread_id),
                )
        line = (
            f"thread {thread_id}: its saved state could not be read ({type(exc).__name__}); "
            f"set it aside as thread {aside} (kept) and started the thread afresh"
        )
        if self._notify is not None:
            self._notify(line)
        else:
            warnings.warn(line, RuntimeWarning, stacklevel=2)

    @contextmanager
    def guarded(self) -> Iterator[None]:
        """Turn SQLite errors inside the block into one clear :class:`LenswiseError` line."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if _is_busy(exc):
                raise LenswiseError(
                    f"conversation history {self.path} is locked by another program: {_RETRY}"
                ) from exc
            raise LenswiseError(
                f"conversation history {self.path} cannot be used ({exc}); run the command "
                "again to have it checked (a damaged file is moved aside, never deleted)"
            ) from exc

    @contextmanager
    def turn(self, thread_id: str, wait_s: float) -> Iterator[None]:
        """Hold ``thread_id``'s lock (across processes) while one turn reads and extends it.

        Args:
            thread_id: the conversation.
            wait_s: how long to wait for a turn already running on it.

        Raises:
            LenswiseError: another turn still holds the thread after ``wait_s`` seconds.
        """
        name = hashlib.sha256(thread_id.encode("utf-8")).hexdigest()[:32]
        acquired = False
        try:
            with file_lock(self._locks / f"thread-{name}.lock", wait_s=wait_s):
                acquired = True
                yield
        except TimeoutError as exc:
            if acquired:
                raise
            raise LenswiseError(
                f"thread {thread_id} is still busy with another question after {wait_s:.0f} s; "
                "try again when it has been answered"
            ) from exc

    def touch(self, thread_id: str, title: str, owner: str = "") -> bool:
        """Create the thread if new (titled after its first question) and mark it updated.

        Return False (and change nothing) when the thread belongs to another owner.
        """
        now = time.time()
        with self.guarded(), self._lock, self._conn:
            cur = self._conn.execute(
                "INSERT INTO lenswise_threads(id, title, created_at, updated_at, owner) "
                "VALUES (?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET updated_at=excluded.updated_at "
                "WHERE lenswise_threads.owner = excluded.owner",
                (thread_id, title.strip()[:80] or "New conversation", now, now, owner),
            )
        return cur.rowcount > 0

    def owner_of(self, thread_id: str) -> str | None:
        """Return the owner of a thread (``""`` in a one-person install); None if unknown."""
        with self.guarded(), self._lock:
            row = self._conn.execute(
                "SELECT owner FROM lenswise_threads WHERE id=?", (thread_id,)
            ).fetchone()
        return None if row is None else row[0]

    def threads(self, owner: str = "") -> list[ThreadInfo]:
        """Return the threads of ``owner``, most recently used first."""
        with self.guarded(), self._lock:
            rows = self._conn.execute(
                "SELECT id, title, created_at, updated_at FROM lenswise_threads WHERE owner=? "
                "ORDER BY updated_at DESC",
                (owner,),
            ).fetchall()
        return [ThreadInfo(*row) for row in rows]

    def rename(self, thread_id: str, title: str) -> bool:
        """Rename a thread; return False when it does not exist."""
        with self.guarded(), self._lock, self._conn:
            cur = self._conn.execute(
                "UPDATE lenswise_threads SET title=? WHERE id=?", (title.strip()[:80], thread_id)
            )
        return cur.rowcount > 0

    def delete(self, thread_id: str) -> None:
        """Delete a thread: its title, its feedback and its checkpoints."""
        with self.guarded():
            with self._lock, self._conn:
                self._conn.execute("DELETE FROM lenswise_threads WHERE id=?", (thread_id,))
                self._conn.execute("DELETE FROM lenswise_feedback WHERE thread_id=?", (thread_id,))
            self.checkpointer.delete_thread(thread_id)

    def add_feedback(self, fb: Feedback, owner: str = "") -> None:
        """Store (or replace) the feedback on one answer, as ``owner``'s."""
        with self.guarded(), self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO lenswise_feedback(thread_id, turn, score, comment, "
                "question, answer, cited, created_at, owner) VALUES (?,?,?,?,?,?,?,?,?)",
                (*fb.row(), owner),
            )

    def feedback(self, owner: str = "") -> list[Feedback]:
        """Return ``owner``'s stored feedback, oldest first."""
        with self.guarded(), self._lock:
            rows = self._conn.execute(
                "SELECT thread_id, turn, score, comment, question, answer, cited, created_at "
                "FROM lenswise_feedback WHERE owner=? ORDER BY created_at",
                (owner,),
            ).fetchall()
        return [Feedback(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7]) for r in rows]

    def ping(self) -> str:
        """Check the database answers; return where it is (LenswiseError if it does not)."""
        with self.guarded(), self._lock:
            self._conn.execute("SELECT 1").fetchone()
        return str(self.path)

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()


_RETRY = "close that program (or wait for it to finish) and try again"


def _is_busy(exc: sqlite3.DatabaseError) -> bool:
    """True when SQLite gave up waiting for another connection's lock (extended codes too)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply the schema versions this database has not seen yet, each in one transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(MIGRATIONS[version:], version + 1):
        try:
            conn.executescript(f"BEGIN;{script}PRAGMA user_version={number};COMMIT;")
        except sqlite3.Error:
            conn.rollback()
            raise


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_S)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


def _damage(path: Path) -> str | None:
    """Say what is wrong with the database file at ``path``; None if it is sound or absent.

    Raises:
        sqlite3.OperationalError: the file is locked (that is not damage).
    """
    if path.is_dir():
        return "it is a folder"
    if not path.exists():
        return None
    if path.stat().st_size == 0:  # a new file is never empty: it is created with its tables
        return "it is empty"
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
    try:
        verdict = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        changed = _changed_table(conn) if verdict == "ok" else None
    except sqlite3.DatabaseError as exc:
        if _is_busy(exc):
            raise
        return str(exc)
    finally:
        conn.close()
    return str(verdict) if verdict != "ok" else changed


def _columns(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Return the column names of every table in ``conn``."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {t: [r[1] for r in conn.execute(f"PRAGMA table_info('{t}')")] for t in tables}


def _expected_columns() -> dict[str, list[str]]:
    """Return the tables (and their columns) a new state file is created with."""
    fresh = sqlite3.connect(":memory:", check_same_thread=False)
    try:
        _migrate(fresh)
        SqliteSaver(fresh).setup()
        return _columns(fresh)
    finally:
        fresh.close()


def _changed_table(conn: sqlite3.Connection) -> str | None:
    """Say which table has other columns than lenswise creates (the file is then unusable).

    Inserts and queries name their columns, so a table of another shape (an older or foreign
    program's) fails on every turn; a restart alone could never repair it.
    """
    found = _columns(conn)
    for table, columns in _expected_columns().items():
        have = [c for c in found.get(table, columns) if c not in _OPTIONAL_COLUMNS]
        if have != [c for c in columns if c not in _OPTIONAL_COLUMNS]:
            return f"table {table} has columns {', '.join(found[table])}, not {', '.join(columns)}"
    return None


_OPTIONAL_COLUMNS = {"task_path", "owner"}
"""Columns an older file may lack: an older LangGraph's (its saver copes) and lenswise's own
``owner`` (added by a migration, so the file is upgraded, not set aside)."""


def _move_aside(path: Path) -> Path:
    """Rename the database (and its WAL files) to a timestamped name next to it."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.rename(aside.with_name(aside.name + suffix))
    return aside
