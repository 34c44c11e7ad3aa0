"""The Python API: ``LensAssistant`` answers, streams, searches and reviews (sync and async).

    from agent import LensAssistant
    lens = LensAssistant()                                 # builtin corpus, extractive mode
    answer = lens.ask("How do I stop prompt injection?", thread_id="t1")
    for event in lens.stream("..."): ...
    review = lens.review("architecture.drawio")
    hits = lens.search("vector store latency", k=5)

The index, chat model and graph are created on first use; dependencies can be injected
(``index=``, ``chat_model=``) for tests and embedding in other applications. Every argument
is checked: a wrong type or an out-of-range number raises :class:`InputError`, and turns on
one thread are taken one at a time, even from several processes.
"""

from __future__ import annotations

import asyncio
import copy
import os
import threading
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphRecursionError

from agent.config import Settings
from agent.context import LensContext
from agent.conversations import Conversations
from agent.conversations import thread_id as thread_id_of
from agent.events import (
    CitationEvent,
    Event,
    FinalEvent,
    RetrievalEvent,
    StatusEvent,
    TokenEvent,
    final_answer,
)
from agent.graph import LensGraph, build_graph
from agent.identity import current as current_user
from agent.identity import owner as owner_of_request
from agent.prompts import PROMPT_VERSION
from agent.results import Answer, Citation
from agent.state import AnswerRecord, CitationRecord, InputState
from agent.store import StateStore, open_store
from corpus.errors import InputError, LenswiseError, check_text, check_utf8, require
from corpus.models import Corpus
from index.search import Hit, normalise_pillar

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from diagrams import Architecture, Review
    from index.store import LensIndex

MAX_QUESTION_CHARS = 4000


class LensAssistant:
    """Grounded answers and architecture reviews over the Well-Architected Generative AI Lens."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        model: str | None = None,
        source: str | None = None,
        k: int | None = None,
        index: LensIndex | None = None,
        chat_model: BaseChatModel | None = None,
        notify: Callable[[str], None] | None = None,
        store: StateStore | None = None,
    ) -> None:
        """Configure the assistant; nothing heavy is loaded until first use.

        Args:
            settings: base settings (default: read from the environment).
            model: ``extractive`` or a chat model spec such as ``bedrock_converse:<model-id>``.
            source: corpus source (``builtin``, ``fetched`` or a path).
            k: passages retrieved per search.
            index: an already opened ``index.store.LensIndex`` (skips opening one).
            chat_model: a LangChain chat model to use instead of building one from ``model``.
            notify: called with one line the user should see: an index has to be built first
                (takes seconds), or a damaged history file was moved aside. Without it, such
                lines are issued as ``RuntimeWarning``.
            store: where threads and feedback live (default: the SQLite file in
                ``settings.home``); evals pass a throw-away one.

        Raises:
            InputError: an argument has the wrong type or is out of range.
        """
        require(
            settings is None or isinstance(settings, Settings),
            "settings",
            "an agent.config.Settings",
            settings,
        )
        require(index is None or hasattr(index, "search"), "index", "an opened LensIndex", index)
        require(
            chat_model is None or hasattr(chat_model, "invoke"),
            "chat_model",
            "a LangChain chat model",
            chat_model,
        )
        require(notify is None or callable(notify), "notify", "a function", notify)
        require(store is None or isinstance(store, StateStore), "store", "a StateStore", store)
        self.settings = (settings or Settings.from_env()).with_(model=model, source=source, k=k)
        self._index = index
        self._chat_model = chat_model
        self._notify = notify
        self._user: str | None = None
        self._store: StateStore | None = store
        self._store_lock = threading.Lock()  # a server's requests and health checks open it
        self._conversations: Conversations | None = None
        self._corpus: Corpus | None = None
        self._graph: LensGraph | None = None

    # --- lazily built dependencies --------------------------------------------------------

    @property
    def index(self) -> LensIndex:
        """The opened lens index (built on first use if needed)."""
        return self.open_index()

    def open_index(self, progress: Callable[[int, int], None] | None = None) -> LensIndex:
        """Open the lens index, building it first if needed; ``progress(done, total)`` hears it."""
        require(progress is None or callable(progress), "progress", "a function", progress)
        if self._index is None:
            from index.build import open_index

            self._index, _ = open_index(self.settings, notify=self._notify, progress=progress)
        return self._index

    @property
    def chat_model(self) -> BaseChatModel | None:
        """The chat model, or None in extractive mode."""
        if self._chat_model is None and self.settings.model != "extractive":
            from agent.models import load_chat_model

            self._chat_model = load_chat_model(self.settings.model, self.settings)
        return self._chat_model

    @property
    def conversations(self) -> Conversations:
        """Threads, transcripts and feedback (see :class:`agent.conversations.Conversations`)."""
        if self._conversations is None:
            self._conversations = Conversations(
                self.store, lambda: self.graph, self._answer, self._turn_wait_s, self.owner
            )
        return self._conversations

    @property
    def store(self) -> StateStore:
        """Thread and feedback storage (SQLite under LENSWISE_HOME, or LENSWISE_STATE_URL)."""
        with self._store_lock:
            if self._store is None:
                self._store = open_store(self.settings, notify=self._tell)
                if self._store.notice:
                    self._tell(self._store.notice)
        return self._store

    def for_user(self, user: str) -> LensAssistant:
        """Return a view of this assistant acting for ``user``: their threads only.

        The view shares the index, model, store and graph (opened now if they were not), so a
        server keeps one assistant and hands each request the view of its user.
        """
        from agent.identity import check_user

        view = copy.copy(self)
        view._store, view._graph = self.store, self.graph
        view._index, view._chat_model = self.index, self.chat_model
        view._user, view._conversations = check_user(user), None
        return view

    def owner(self) -> str:
        """Return whose threads this call may touch (``""`` in a one-person install).

        The first identity set wins: this view's user, the request's (``acting_as``), then
        ``LENSWISE_USER``.

        Raises:
            IdentityRequired: team mode and no identity at all.
        """
        return owner_of_request(
            self.settings.team_mode, self._user, current_user(), self.settings.user
        )

    def _tell(self, line: str) -> None:
        if self._notify is not None:
            self._notify(line)
        else:
            warnings.warn(line, RuntimeWarning, stacklevel=3)

    def warm_up(self) -> None:
        """Open the index, load the query encoder and compile the agent graph now.

        A server calls this at start so its first question costs what later ones do.
        """
        self.catalog()
        self.search("generative AI lens", k=1)
        _ = self.graph

    @property
    def graph(self) -> LensGraph:
        """The compiled LangGraph agent, checkpointed to the thread store."""
        if self._graph is None:
            self._graph = build_graph(checkpointer=self.store.checkpointer)
        return self._graph

    def _context(self) -> LensContext:
        return LensContext(self.settings, self.index, self.chat_model, reviewer=self._review_path)

    # --- answering ------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        thread_id: str | None = None,
        diagram: str | Path | None = None,
        pillar: str | None = None,
    ) -> Answer:
        """Answer ``question`` (optionally about an attached diagram) in a thread."""
        return final_answer(
            self.stream(question, thread_id=thread_id, diagram=diagram, pillar=pillar)
        )

    def stream(
        self,
        question: str,
        thread_id: str | None = None,
        diagram: str | Path | None = None,
        pillar: str | None = None,
    ) -> Iterator[Event]:
        """Answer like :meth:`ask`, yielding status, retrieval, token, citation, final events.

        The arguments are checked at once (InputError); the answer runs as the events are read.
        """
        return self._stream(*self._turn(question, thread_id, diagram, pillar))

    def _turn(
        self, question: Any, thread_id: Any, diagram: Any, pillar: Any
    ) -> tuple[str, str, str | None, str | None, str]:
        """Check the arguments of one turn; return them normalised, with the turn's owner.

        The store is opened here too, so an unreachable one fails before the index is loaded.
        """
        _ = self.store
        return (
            self._check_question(question),
            uuid.uuid4().hex[:12] if thread_id is None else thread_id_of(thread_id),
            self._check_diagram(diagram),
            normalise_pillar(pillar),
            self.owner(),
        )

    def _stream(
        self,
        question: str,
        thread_id: str,
        diagram_path: str | None,
        pillar: str | None,
        owner: str,
    ) -> Iterator[Event]:
        started = time.perf_counter()
        _ = (self.index, self.chat_model)  # open both now, so "load" and "graph" time apart
        loaded = time.perf_counter()
        config: RunnableConfig = {
            "configurable": {"thread_id": thread_id},
            "recursion_limit": self.settings.recursion_limit,
        }
        inputs = InputState(question=question, diagram_path=diagram_path, pillar=pillar)
        streamed = False
        store = self.store
        # One turn at a time per thread: a turn reads the thread's last checkpoint and writes
        # the next ones, so two at once would fork the history and one would be lost.
        with store.turn(thread_id, self._turn_wait_s), store.guarded():
            if not store.touch(thread_id, question, owner):
                raise InputError(
                    f"no thread {thread_id} of yours: leave the thread id out to start a new one"
                )
            try:
                for mode, chunk in self.graph.stream(
                    inputs,
                    config,
                    context=self._context(),
                    stream_mode=["updates", "messages", "custom"],
                ):
                    match mode, chunk:
                        case "custom", {"type": "token", "text": str(text)}:
                            streamed = True
                            yield TokenEvent(text)
                        case "messages", (message, {"langgraph_node": "plan"}):
                            if text := _chunk_text(message):
                                streamed = True
                                yield TokenEvent(text)
                        case "updates", dict(update):
                            yield from _status_events(update)
            except GraphRecursionError as exc:
                raise LenswiseError(
                    f"stopped: the agent reached its step limit ({self.settings.recursion_limit}) "
                    "without an answer; try a narrower question"
                ) from exc
            values = self.graph.get_state(config).values
        total = (time.perf_counter() - started) * 1000
        answer = self._answer(values.get("answer"), question, thread_id)
        answer.timings_ms = {
            "load": (loaded - started) * 1000,
            "graph": (time.perf_counter() - loaded) * 1000,
            "total": total,
        }
        yield RetrievalEvent(tuple(answer.hits))
        if not streamed:
            yield TokenEvent(answer.text)
        for citation in answer.citations:
            yield CitationEvent(citation)
        yield FinalEvent(answer)

    @property
    def _turn_wait_s(self) -> float:
        """How long a turn waits for another one on the same thread (that one's time limit)."""
        return 2 * self.settings.timeout_s

    async def aask(
        self,
        question: str,
        thread_id: str | None = None,
        diagram: str | Path | None = None,
        pillar: str | None = None,
    ) -> Answer:
        """Async :meth:`ask` (runs the graph in a worker thread)."""
        return await asyncio.to_thread(self.ask, question, thread_id, diagram, pillar)

    def astream(
        self,
        question: str,
        thread_id: str | None = None,
        diagram: str | Path | None = None,
        pillar: str | None = None,
    ) -> AsyncIterator[Event]:
        """Async :meth:`stream`: events arrive as the worker thread produces them."""
        return self._astream(self._turn(question, thread_id, diagram, pillar))

    async def _astream(
        self, turn: tuple[str, str, str | None, str | None, str]
    ) -> AsyncIterator[Event]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event | BaseException | None] = asyncio.Queue()  # None: done

        def work() -> None:
            try:
                for event in self._stream(*turn):
                    loop.call_soon_threadsafe(queue.put_nowait, event)
            except BaseException as exc:  # re-raised in the consumer
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        worker = loop.run_in_executor(None, work)
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
        await worker

    def _check_question(self, question: Any) -> str:
        require(isinstance(question, str), "question", "text", question)
        check_utf8(question, "question")
        if not question.strip():
            raise InputError("empty question: ask something about the lens")
        if len(question) > MAX_QUESTION_CHARS:
            raise InputError(
                f"question too long ({len(question)} characters; the limit is {MAX_QUESTION_CHARS})"
            )
        return question.strip()

    def _check_diagram(self, diagram: Any) -> str | None:
        if diagram is None:
            return None
        require(isinstance(diagram, str | os.PathLike), "diagram", "a file path", diagram)
        path = Path(diagram)
        if not path.is_file():
            raise InputError(f"diagram not found: {diagram}")
        return str(path)

    def _answer(self, data: AnswerRecord | None, question: str, thread_id: str) -> Answer:
        """Build an :class:`Answer` from the answer record the graph stored for a turn.

        A turn stopped before it answered has no record (None): its answer is empty.
        """
        corpus = self.index.corpus
        answer = Answer(
            question=question,
            text="",
            model=self.settings.model,
            edition=corpus.edition if corpus else None,
            source=corpus.source if corpus else self.settings.source,
            thread_id=thread_id,
            prompt_version=PROMPT_VERSION,
        )
        if data is None:
            return answer
        for chunk_id, score in data.get("hits", []):
            chunk = self.index.chunk(chunk_id)
            if chunk is not None:
                answer.hits.append(Hit(rank=len(answer.hits) + 1, score=score, chunk=chunk))
        answer.text = data.get("text", "")
        answer.citations = [_citation(c) for c in data.get("citations", [])]
        answer.warnings = list(data.get("warnings", []))
        answer.model = data.get("model", self.settings.model)
        answer.usage = dict(data.get("usage", {}))
        answer.declined = bool(data.get("declined"))
        answer.routing = data.get("routing")
        return answer

    # --- retrieval and review -------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        pillar: str | None = None,
        per_doc: int = 1,
    ) -> list[Hit]:
        """Search the lens without composing an answer."""
        return self.index.search(query, k=k, mode=mode, pillar=pillar, per_doc=per_doc)

    def review(self, diagram: str | Path | bytes, filename: str | None = None) -> Review:
        """Parse a diagram or IaC file (path or bytes) and review it against every practice."""
        from diagrams import parse_bytes, parse_file

        require(
            isinstance(diagram, str | os.PathLike | bytes | bytearray),
            "diagram",
            "a file path or the file's bytes",
            diagram,
        )
        if filename is not None:
            check_text(filename, "filename")

        limit = self.settings.max_upload_bytes
        vision = self.chat_model
        if isinstance(diagram, bytes | bytearray):
            arch = parse_bytes(
                bytes(diagram), filename or "upload", max_bytes=limit, vision_model=vision
            )
        else:
            arch = parse_file(diagram, max_bytes=limit, vision_model=vision)
        return self._review_arch(arch, explain=True)

    def _review_path(self, path: str) -> Review:
        """Review a diagram attached to a question (the answer itself explains the gaps)."""
        from diagrams import parse_file

        arch = parse_file(path, max_bytes=self.settings.max_upload_bytes)
        return self._review_arch(arch, explain=False)

    def _review_arch(self, arch: Architecture, explain: bool) -> Review:
        from diagrams import review_architecture

        review = review_architecture(arch, self.catalog().best_practices())
        if explain and self.chat_model is not None:
            from agent.explain import explain_gaps

            explain_gaps(review, self.index, self.chat_model, self.settings)
        return review

    def catalog(self) -> Corpus:
        """The corpus: pillars, questions, practices and general pages (no index needed)."""
        if self._index is not None and self._index.corpus is not None:
            return self._index.corpus
        if self._corpus is None:
            from corpus.sources import load_source

            self._corpus = load_source(
                self.settings.source, home=self.settings.home, lens=self.settings.lens
            )
        return self._corpus


def _citation(data: CitationRecord) -> Citation:
    fields = {k: data.get(k) for k in Citation.__dataclass_fields__ if k in data}
    fields["chunk_ids"] = tuple(fields.get("chunk_ids") or ())
    return replace(Citation(None, "", "", (), ""), **fields)


def _chunk_text(message: Any) -> str:
    if getattr(message, "tool_call_chunks", None) or getattr(message, "tool_calls", None):
        return ""
    content = getattr(message, "content", "")
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content if isinstance(block, dict))


def _status_events(update: dict[str, object]) -> Iterator[StatusEvent]:
    for node, values in update.items():
        if node == "route" and isinstance(values, dict):
            yield StatusEvent(f"routing: {values.get('route')}")
        elif node == "tools":
            yield StatusEvent("searching the lens")
        elif node == "diagram":
            yield StatusEvent("reviewing the attached diagram")
        elif node == "verify":
            yield StatusEvent("checking citations")
