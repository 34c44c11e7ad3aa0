"""Conversations: threads, their transcripts and the feedback on answers.

A thread lives in two places: its title and feedback in the state store (SQLite or
PostgreSQL), its turns in the graph's checkpoints (the same store). This facade keeps both
behind one small interface, so :class:`agent.api.LensAssistant` only answers, searches and
reviews. Every argument is checked (a wrong type raises :class:`InputError`), changes to a
thread wait for any turn running on it, even in another process, and each thread belongs to
one owner: another user's thread is "not found", whatever its id.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from agent.results import Answer
from agent.store import StateStore
from agent.threads import Feedback, ThreadInfo
from corpus.errors import InputError, check_int, check_text, require, shown

if TYPE_CHECKING:
    from agent.graph import LensGraph
    from agent.state import AnswerRecord

MAX_THREAD_ID_CHARS = 200
SHARED_THREAD_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
"""Thread ids every surface accepts: the CLI's ``--thread`` and the MCP tool's ``thread_id``."""


def thread_id(value: Any) -> str:
    """Return ``value`` checked as a thread id (InputError if it is not one)."""
    return check_text(value, "thread_id", max_chars=MAX_THREAD_ID_CHARS)


def shared_thread_id(text: str) -> str:
    """Return ``text`` if it is a thread id the CLI and MCP both accept, else InputError."""
    if not SHARED_THREAD_ID.fullmatch(text):
        raise InputError(f"a thread id is 1-64 letters, digits, '.', '_' or '-', not {text[:80]!r}")
    return text


class Conversations:
    """The assistant's threads and feedback (``lens.conversations``)."""

    def __init__(
        self,
        store: StateStore,
        graph: Callable[[], LensGraph],
        answer: Callable[[AnswerRecord | None, str, str], Answer],
        wait_s: float,
        owner: Callable[[], str] = lambda: "",
    ) -> None:
        """Wire the facade to its parts.

        Args:
            store: the thread and feedback store.
            graph: returns the compiled agent graph checkpointed to ``store``.
            answer: builds an :class:`Answer` from a turn's stored record, question, thread.
            wait_s: how long a change waits for a turn running on the same thread.
            owner: returns whose threads the current call may touch (``""``: a one-person
                install); raises ``IdentityRequired`` in team mode without a user.
        """
        self._store = store
        self._graph = graph
        self._answer = answer
        self._wait_s = wait_s
        self._owner = owner

    def _mine(self, value: Any) -> str:
        """Return ``value`` checked as a thread id of the caller's (InputError otherwise)."""
        thread = thread_id(value)
        if self._store.owner_of(thread) not in (None, self._owner()):
            raise InputError(f"no thread {thread}")
        return thread

    def threads(self) -> list[ThreadInfo]:
        """The caller's conversations, most recently used first."""
        return self._store.threads(self._owner())

    def new_thread(self, title: str | None = None) -> str:
        """Create an empty thread and return its id."""
        require(title is None or isinstance(title, str), "title", "text", title)
        ident = uuid.uuid4().hex[:12]
        self._store.touch(ident, title or "New conversation", self._owner())
        return ident

    def rename_thread(self, thread: str, title: str) -> None:
        """Rename a thread (InputError if it does not exist or the title is empty)."""
        thread = self._mine(thread)
        if isinstance(title, str) and not title.strip():
            raise InputError("a thread title cannot be empty")
        if not self._store.rename(thread, check_text(title, "title")):
            raise InputError(f"no thread {thread}")

    def attached_design(self, thread: str) -> str | None:
        """Return the file name of the design a thread's answers are about, or None.

        A design attached once stays with the thread (also across restarts) until detached.
        """
        thread = thread_id(thread)
        config: RunnableConfig = {"configurable": {"thread_id": thread}}
        with self._store.guarded():
            design = self._graph().get_state(config).values.get("diagram")
        return str(design.get("file") or "design") if design else None

    def detach_design(self, thread: str) -> None:
        """Forget the reviewed design of a thread: later questions are about the lens only."""
        thread = self._mine(thread)
        config: RunnableConfig = {"configurable": {"thread_id": thread}}
        graph = self._graph()
        with self._store.turn(thread, self._wait_s), self._store.guarded():
            if graph.get_state(config).values.get("diagram"):
                graph.update_state(config, {"diagram": None}, as_node="finalize")

    def delete_thread(self, thread: str) -> None:
        """Delete a thread with its history and feedback (after any turn running on it)."""
        thread = self._mine(thread)
        with self._store.turn(thread, self._wait_s):
            self._store.delete(thread)

    def transcript(self, thread: str) -> list[Answer]:
        """Every answered turn of a thread, in order."""
        thread = self._mine(thread)
        config: RunnableConfig = {"configurable": {"thread_id": thread}}
        with self._store.guarded():
            messages = self._graph().get_state(config).values.get("messages", [])
        answers: list[Answer] = []
        question = ""
        for message in messages:
            if isinstance(message, HumanMessage) and message.name is None:
                question = str(message.content)
            elif isinstance(message, AIMessage) and "lenswise" in message.additional_kwargs:
                answers.append(
                    self._answer(message.additional_kwargs["lenswise"], question, thread)
                )
        return answers

    def export_thread(self, thread: str) -> str:
        """A thread as one markdown document, citations and links kept."""
        thread = self._mine(thread)
        title = next((t.title for t in self.threads() if t.id == thread), thread)
        parts = [f"# {title}", ""]
        parts += [a.to_markdown() for a in self.transcript(thread)]
        return "\n".join(parts)

    def feedback(self, thread: str, turn: int, score: int, comment: str = "") -> None:
        """Record a thumbs up (+1) or down (-1) on answer number ``turn`` of a thread."""
        if isinstance(score, bool) or not isinstance(score, int) or score not in (1, -1):
            raise InputError(f"feedback score must be +1 or -1, not {shown(score)}")
        check_int(turn, "turn", minimum=0)
        require(isinstance(comment, str), "comment", "text", comment)
        answers = self.transcript(thread)
        if not 0 <= turn < len(answers):
            raise InputError(f"thread {thread} has no answer number {turn}")
        answer = answers[turn]
        self._store.add_feedback(
            Feedback(
                thread,
                turn,
                score,
                comment.strip(),
                answer.question,
                answer.text,
                [c.page_id for c in answer.citations],
                time.time(),
            ),
            self._owner(),
        )

    def feedback_given(self, thread: str) -> dict[int, Feedback]:
        """Return the stored feedback of a thread, by answer number."""
        thread = self._mine(thread)
        return {fb.turn: fb for fb in self._store.feedback(self._owner()) if fb.thread_id == thread}

    def all_feedback(self) -> list[Feedback]:
        """The caller's feedback records, oldest first (see :func:`evals.feedback.suite_yaml`)."""
        return self._store.feedback(self._owner())
