"""Where conversations live: one small interface, a SQLite file or a shared PostgreSQL server.

:func:`open_store` picks the implementation from the settings (``LENSWISE_STATE_URL``); the rest
of lenswise sees only :class:`StateStore`, so one code path serves a laptop and a team.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from agent.config import Settings
from agent.threads import Feedback, ThreadInfo

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver


@runtime_checkable
class StateStore(Protocol):
    """Threads, feedback and the LangGraph checkpointer, each thread owned by one user.

    ``owner`` is ``""`` in a one-person install and the user's identity in team mode.
    """

    notice: str | None
    """One line for the user about what opening the store did (a damaged file moved aside)."""

    @property
    def checkpointer(self) -> BaseCheckpointSaver:
        """The LangGraph checkpointer holding each thread's graph state (attached design too)."""
        ...

    def guarded(self) -> AbstractContextManager[None]:
        """Turn the store's errors inside the block into one clear ``LenswiseError``."""
        ...

    def turn(self, thread_id: str, wait_s: float) -> AbstractContextManager[None]:
        """Hold the thread, across processes and hosts, while one turn reads and extends it."""
        ...

    def touch(self, thread_id: str, title: str, owner: str = "") -> bool:
        """Create or mark a thread updated; False when another owner has it."""
        ...

    def owner_of(self, thread_id: str) -> str | None:
        """Return the owner of a thread, or None if it is unknown."""
        ...

    def threads(self, owner: str = "") -> list[ThreadInfo]:
        """Return the threads of ``owner``, most recently used first."""
        ...

    def rename(self, thread_id: str, title: str) -> bool:
        """Rename a thread; False when it does not exist."""
        ...

    def delete(self, thread_id: str) -> None:
        """Delete a thread with its feedback and checkpoints."""
        ...

    def add_feedback(self, fb: Feedback, owner: str = "") -> None:
        """Store (or replace) the feedback on one answer."""
        ...

    def feedback(self, owner: str = "") -> list[Feedback]:
        """Return ``owner``'s feedback, oldest first."""
        ...

    def ping(self) -> str:
        """Check the store answers; return where it is."""
        ...

    def close(self) -> None:
        """Release the store's connections."""
        ...


def open_store(settings: Settings, notify: Callable[[str], None] | None = None) -> StateStore:
    """Open the store the settings name: PostgreSQL for a ``state_url``, else SQLite.

    ``notify`` hears one line when SQLite sets a damaged thread aside later on.

    Raises:
        InputError: the PostgreSQL server cannot be reached (``StoreUnavailable``).
        LenswiseError: the SQLite file is locked or cannot be opened.
    """
    if settings.state_url:
        from agent.pg_store import PostgresStore

        return PostgresStore(settings.state_url)
    from agent.threads import ThreadStore

    return ThreadStore(settings.state_db, notify=notify)
