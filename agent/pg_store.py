"""Conversation threads, feedback and LangGraph checkpoints on a shared PostgreSQL server.

The team counterpart of :class:`agent.threads.ThreadStore`, with the same methods: several
lenswise processes on several hosts share one server (Aurora PostgreSQL on AWS) through a
psycopg 3 connection pool, and the checkpoints go through ``langgraph-checkpoint-postgres``.

- One turn at a time per thread, across every replica: a turn holds a session-level advisory
  lock keyed by the thread id on its own pooled connection; a killed process drops its lock
  with its connection.
- A server that is down or refuses connections fails within seconds with one line.
- A server restart loses no completed turn (every write commits at once); the pool checks each
  connection before lending it, so the next request reconnects instead of failing.
- Schema versions are applied once on start, under an advisory lock so replicas starting
  together do not race.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import LiteralString

import psycopg
from langgraph.checkpoint.postgres import PostgresSaver
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from agent.threads import Feedback, ThreadInfo
from corpus.errors import InputError, LenswiseError

CONNECT_TIMEOUT_S = 5
"""How long connecting may take before the server counts as unreachable."""
POOL_WAIT_S = 15.0
"""How long a request waits for a pooled connection (covers a server restart)."""
POOL_MAX = 10

MIGRATIONS: tuple[tuple[LiteralString, ...], ...] = (
    (
        "CREATE TABLE lenswise_threads (id TEXT PRIMARY KEY, owner TEXT NOT NULL, "
        "title TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, "
        "updated_at DOUBLE PRECISION NOT NULL)",
        "CREATE INDEX lenswise_threads_owner ON lenswise_threads(owner, updated_at DESC)",
        "CREATE TABLE lenswise_feedback (thread_id TEXT NOT NULL, turn INTEGER NOT NULL, "
        "owner TEXT NOT NULL, score INTEGER NOT NULL, comment TEXT NOT NULL, "
        "question TEXT NOT NULL, answer TEXT NOT NULL, cited JSONB NOT NULL, "
        "created_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (thread_id, turn))",
        "CREATE INDEX lenswise_feedback_owner ON lenswise_feedback(owner, created_at)",
    ),
)
"""Schema versions in order; ``lenswise_schema`` records those applied."""

MIGRATION_LOCK = 0x6C656E73  # "lens": one advisory lock id for applying migrations
MIGRATION_POLL_S = 0.1


_Pool = ConnectionPool[psycopg.Connection[DictRow]]
"""A pool of connections that return rows as dicts (``row_factory=dict_row``)."""


class StoreUnavailable(InputError):
    """The PostgreSQL server named by ``LENSWISE_STATE_URL`` cannot be used (exit code 2)."""


class PostgresStore:
    """PostgreSQL-backed thread metadata, feedback and the LangGraph checkpointer."""

    def __init__(self, url: str, *, pool_max: int = POOL_MAX) -> None:
        """Connect to ``url``, apply pending schema versions and set up the checkpointer.

        Raises:
            StoreUnavailable: the server is down, refuses the connection or the login.
        """
        self.where = describe_url(url)
        self.notice: str | None = None
        """Always None here (a server is not moved aside); kept for the common interface."""
        with self._reachable():
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
        self._pool = _Pool(
            url,
            connection_class=psycopg.Connection[DictRow],
            kwargs={
                "autocommit": True,
                "prepare_threshold": 0,
                "row_factory": dict_row,
                "connect_timeout": CONNECT_TIMEOUT_S,
            },
            min_size=1,
            max_size=pool_max,
            timeout=POOL_WAIT_S,
            check=_Pool.check_connection,
            open=False,
            name="lenswise",
        )
        with self._reachable():
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
        self.checkpointer = PostgresSaver(self._pool)
        with self.guarded():
            self._migrate()

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except (psycopg.OperationalError, PoolTimeout) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise StoreUnavailable(
                f"the state store {self.where} cannot be reached ({reason[:200]}): check "
                "LENSWISE_STATE_URL and that the PostgreSQL server is running"
            ) from exc

    @contextmanager
    def guarded(self) -> Iterator[None]:
        """Turn database errors inside the block into one clear :class:`LenswiseError` line."""
        try:
            yield
        except PoolTimeout as exc:
            raise LenswiseError(
                f"the state store {self.where} did not answer within {POOL_WAIT_S:.0f} s; "
                "completed turns are kept: try again when it is back"
            ) from exc
        except psycopg.OperationalError as exc:
            raise LenswiseError(
                f"the connection to the state store {self.where} was lost "
                f"({' '.join(str(exc).split())[:200]}); completed turns are kept: try again"
            ) from exc
        except psycopg.Error as exc:
            raise LenswiseError(f"the state store {self.where} failed: {exc}") from exc

    def _migrate(self) -> None:
        """Apply pending lenswise and checkpointer schema versions, one replica at a time."""
        with self._pool.connection() as conn:
            # Poll instead of waiting inside pg_advisory_lock: a statement left waiting would
            # hold a snapshot, and the checkpointer's CREATE INDEX CONCURRENTLY waits for those.
            while not _one(
                conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (MIGRATION_LOCK,))
            )["ok"]:
                time.sleep(MIGRATION_POLL_S)
            try:
                with conn.transaction():
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS lenswise_schema (version INTEGER PRIMARY KEY, "
                        "applied_at DOUBLE PRECISION NOT NULL)"
                    )
                    row = conn.execute("SELECT coalesce(max(version), 0) AS v FROM lenswise_schema")
                    done = _one(row)["v"]
                    for number, statements in enumerate(MIGRATIONS[done:], done + 1):
                        for statement in statements:
                            conn.execute(statement)
                        conn.execute(
                            "INSERT INTO lenswise_schema(version, applied_at) VALUES (%s, %s)",
                            (number, time.time()),
                        )
                self.checkpointer.setup()  # its own versions, also not safe to run concurrently
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))

    def _rows(self, sql: LiteralString, params: tuple[object, ...] = ()) -> list[DictRow]:
        with self.guarded(), self._pool.connection() as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def _count(self, sql: LiteralString, params: tuple[object, ...]) -> int:
        with self.guarded(), self._pool.connection() as conn:
            return conn.execute(sql, params).rowcount

    @contextmanager
    def turn(self, thread_id: str, wait_s: float) -> Iterator[None]:
        """Hold ``thread_id``'s advisory lock (across every replica) while one turn runs.

        Raises:
            LenswiseError: another turn still holds the thread after ``wait_s`` seconds.
        """
        key = lock_key(thread_id)
        with self.guarded(), self._pool.connection() as conn:
            conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{wait_s * 1000:.0f}",))
            try:
                conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            except psycopg.errors.LockNotAvailable as exc:
                raise LenswiseError(
                    f"thread {thread_id} is still busy with another question after "
                    f"{wait_s:.0f} s; try again when it has been answered"
                ) from exc
            try:
                yield
            finally:
                _release(conn, key)

    def touch(self, thread_id: str, title: str, owner: str = "") -> bool:
        """Create the thread if new and mark it updated; False if another owner has it."""
        now = time.time()
        return (
            self._count(
                "INSERT INTO lenswise_threads(id, owner, title, created_at, updated_at) "
                "VALUES (%s,%s,%s,%s,%s) ON CONFLICT(id) DO UPDATE SET "
                "updated_at=excluded.updated_at WHERE lenswise_threads.owner = excluded.owner",
                (thread_id, owner, title.strip()[:80] or "New conversation", now, now),
            )
            > 0
        )

    def owner_of(self, thread_id: str) -> str | None:
        """Return the owner of a thread; None if unknown."""
        rows = self._rows("SELECT owner FROM lenswise_threads WHERE id=%s", (thread_id,))
        return rows[0]["owner"] if rows else None

    def threads(self, owner: str = "") -> list[ThreadInfo]:
        """Return the threads of ``owner``, most recently used first."""
        rows = self._rows(
            "SELECT id, title, created_at, updated_at FROM lenswise_threads WHERE owner=%s "
            "ORDER BY updated_at DESC",
            (owner,),
        )
        return [ThreadInfo(**row) for row in rows]

    def rename(self, thread_id: str, title: str) -> bool:
        """Rename a thread; return False when it does not exist."""
        return (
            self._count(
                "UPDATE lenswise_threads SET title=%s WHERE id=%s", (title.strip()[:80], thread_id)
            )
            > 0
        )

    def delete(self, thread_id: str) -> None:
        """Delete a thread: its title, its feedback and its checkpoints."""
        with self.guarded(), self._pool.connection() as conn, conn.transaction():
            conn.execute("DELETE FROM lenswise_threads WHERE id=%s", (thread_id,))
            conn.execute("DELETE FROM lenswise_feedback WHERE thread_id=%s", (thread_id,))
        with self.guarded():
            self.checkpointer.delete_thread(thread_id)

    def add_feedback(self, fb: Feedback, owner: str = "") -> None:
        """Store (or replace) the feedback on one answer, as ``owner``'s."""
        self._count(
            "INSERT INTO lenswise_feedback(thread_id, turn, score, comment, question, answer, "
            "cited, created_at, owner) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s) "
            "ON CONFLICT(thread_id, turn) DO UPDATE SET owner=excluded.owner, "
            "score=excluded.score, comment=excluded.comment, question=excluded.question, "
            "answer=excluded.answer, cited=excluded.cited, created_at=excluded.created_at",
            (*fb.row(), owner),
        )

    def feedback(self, owner: str = "") -> list[Feedback]:
        """Return ``owner``'s stored feedback, oldest first."""
        rows = self._rows(
            "SELECT thread_id, turn, score, comment, question, answer, cited, created_at "
            "FROM lenswise_feedback WHERE owner=%s ORDER BY created_at",
            (owner,),
        )
        return [Feedback(**row) for row in rows]

    def ping(self) -> str:
        """Check the server answers; return where it is (LenswiseError if it does not)."""
        self._rows("SELECT 1")
        return self.where

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()


def _one(cursor: psycopg.Cursor[DictRow]) -> DictRow:
    """Return the row of a query that always yields one (an aggregate, a lock function)."""
    row = cursor.fetchone()
    if row is None:
        raise LenswiseError("the state store answered a one-row query with no row")
    return row


def lock_key(thread_id: str) -> int:
    """Return the advisory lock id of a thread: 64 bits of its hash, as PostgreSQL's bigint."""
    digest = hashlib.sha256(b"lenswise-thread:" + thread_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _release(conn: psycopg.Connection[DictRow], key: int) -> None:
    """Give the lock back; a lost connection has already dropped it with its session."""
    try:
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
        conn.execute("RESET lock_timeout")
    except psycopg.Error:
        pass


def describe_url(url: str) -> str:
    """Return ``url`` without its password, for messages (InputError if it does not parse)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise InputError(f"LENSWISE_STATE_URL is not a usable PostgreSQL URL ({exc})") from exc
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"
