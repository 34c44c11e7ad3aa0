"""Session state of the app: the chosen settings, the cached assistant, the open thread.

Streamlit reruns the script on every interaction; what must survive a rerun lives in
``st.session_state`` under the keys below, what must survive a restart lives in the API's
SQLite store (threads, feedback), and the open thread is also mirrored in the page URL
(``?thread=<id>``) so a reload reopens it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from agent import LenswiseError
from agent.build_progress import BuildMeter
from agent.config import Settings
from ui.render import escape_markdown, one_line

if TYPE_CHECKING:
    from agent import LensAssistant
    from diagrams import Review

log = logging.getLogger("lenswise.ui")

THREAD = "thread_id"
"""Id of the open conversation, or None for a new one not yet saved."""
VIEW = "view"
"""Which screen is shown: one of :data:`VIEWS`."""
REVIEW = "review"
"""The last diagram review: a :class:`ReviewState`."""
ATTACHED = "attached_design"
"""When True, chat questions are asked about the reviewed design."""
PENDING = "pending_question"
"""A question chosen from the examples, asked on the next run."""
HISTORY_NOTICE_SEEN = "history_notice_seen"
"""True once the user acknowledged that a damaged history file was moved aside."""
SHORTENED = "shortened_question"
"""``(thread id, notice)`` after an over-long question was cut to the API's limit."""

VIEWS = ("Chat", "Diagram review", "Lens browser")


@dataclass(frozen=True)
class UiSettings:
    """What the sidebar settings resolve to; the cache key of the assistant."""

    model: str = "extractive"
    """``extractive`` or ``bedrock_converse:<model-id>``."""
    region: str | None = None
    """AWS Region for Bedrock; None lets the AWS chain decide."""
    source: str = "builtin"
    """Corpus source: ``builtin``, ``fetched`` or a local path."""
    k: int = 8
    """Passages retrieved per question."""
    pillar: str | None = None
    """Restrict retrieval to one pillar; None means every pillar."""


@dataclass
class ReviewState:
    """A finished diagram review kept for the page and for follow-up questions."""

    filename: str
    data: bytes
    review: Review
    """The API's ``Review`` (``diagrams.Review``)."""
    fixes: Any = None
    """The verified fixes of an IaC file (``diagrams.fixes.FixPlan``), None for drawings."""

    @property
    def key(self) -> str:
        """Return a name of this review made from its file name and content.

        Widgets keyed by it (export target, findings filters) start afresh for every new file.
        """
        digest = hashlib.sha256(self.filename.encode("utf-8", "replace") + b"\0" + self.data)
        return digest.hexdigest()[:16]


def design_file(rs: ReviewState) -> Path:
    """Return a file holding the reviewed design, for questions asked about it.

    The API takes diagrams by path; the upload is written once under ``LENSWISE_HOME``,
    named by its content hash and a sanitised copy of its file name (whose extension
    tells the parser the format).
    """
    digest = hashlib.sha256(rs.data).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(rs.filename).name).lstrip(".") or "design"
    path = base_settings().home / "uploads" / digest / name[-100:]
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(rs.data)
        tmp.replace(path)
    return path


@dataclass
class Startup:
    """What the assistant load running in this server process is doing, for the page to show.

    The load runs once per process (at server start, or on the first visit). Opening an index
    takes seconds; building one (once per lenswise home and source) takes minutes, so while it
    runs the page shows the step, the chunks embedded and the time left instead of a spinner.
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float | None = None
    """``time.monotonic()`` when the running load began; None when none runs."""
    steps: list[str] = field(default_factory=list)
    meter: BuildMeter = field(default_factory=BuildMeter)
    """Chunks embedded by the running index build (empty when the index only opens)."""

    def begin(self) -> None:
        """Mark a load as started."""
        with self.lock:
            self.started, self.steps, self.meter = time.monotonic(), [], BuildMeter()

    def note(self, line: str) -> None:
        """Record a line the assistant reports ("building the index ... (411 chunks)...").

        The line still goes to the server log as a warning, as it does without a listener.
        """
        warnings.warn(line, RuntimeWarning, stacklevel=2)
        with self.lock:
            self.steps.append(line)

    def progress(self, done: int, total: int) -> None:
        """Record chunks embedded by the index build (the ``progress`` callback of a build)."""
        with self.lock:
            meter = self.meter
        meter.update(done, total)

    def end(self) -> None:
        """Mark the load as finished (or failed)."""
        with self.lock:
            self.started = None

    def describe(self) -> str | None:
        """Return one line on the running load (step, progress, time so far); None if idle."""
        with self.lock:
            if self.started is None:
                return None
            elapsed, steps, meter = time.monotonic() - self.started, self.steps, self.meter
        doing = steps[-1].rstrip(".") if steps else "opening the lens index and query encoder"
        built = f": {meter.summary()}" if meter.total else ""
        once = (
            " The index is built once per lenswise home and source; later starts open it in "
            "seconds."
            if steps
            else ""
        )
        return f"Getting the lens assistant ready: {doing}{built}. {elapsed:.0f} s so far.{once}"


STARTUP = Startup()
"""The one load status of this server process."""


def base_settings() -> Settings:
    """Return the settings read from the environment (``LENSWISE_*``)."""
    return Settings.from_env()


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_assistant(
    home: str, model: str, source: str, k: int, region: str | None
) -> LensAssistant:
    from agent import LensAssistant

    settings = Settings.from_env().with_(region=region)
    STARTUP.begin()
    try:
        lens = LensAssistant(settings, model=model, source=source, k=k, notify=STARTUP.note)
        lens.open_index(progress=STARTUP.progress)  # the build, if any, reports its chunks
        lens.warm_up()  # the index, the query encoder and the agent graph: not mid-answer
    finally:
        STARTUP.end()
    return lens


def assistant(ui: UiSettings) -> LensAssistant:
    """Return the assistant for ``ui``, built once per (home, model, source, k, region)."""
    home = str(base_settings().home)
    return _load_assistant(home, ui.model, ui.source, ui.k, ui.region)


def fresh(key: str, value: Any) -> None:
    """Give the widget ``key`` its start value through the session, once.

    A widget keyed anew (say, for a new reviewed file) may be drawn by the browser in the input
    box of the widget it replaces, which keeps showing the old text; a value set through the
    session is sent to the browser and shown.
    """
    if key not in st.session_state:
        st.session_state[key] = value


def current_review() -> ReviewState | None:
    """Return the finished review shown on the review screen, if any."""
    review: ReviewState | None = st.session_state.get(REVIEW)
    return review


def current_thread() -> str | None:
    """Return the open thread id (from the session, else from the page URL)."""
    if THREAD not in st.session_state:
        st.session_state[THREAD] = st.query_params.get("thread") or None
    return st.session_state[THREAD]


def open_thread(thread_id: str | None) -> None:
    """Make ``thread_id`` the open conversation (None starts a new one) and mirror it in the URL."""
    st.session_state[THREAD] = thread_id
    if thread_id:
        st.query_params["thread"] = thread_id
    elif "thread" in st.query_params:
        del st.query_params["thread"]


def _history_notice_seen() -> None:
    st.session_state[HISTORY_NOTICE_SEEN] = True


def history_notice(lens: LensAssistant) -> None:
    """Say (until acknowledged) that a damaged history file was moved aside on opening."""
    notice = lens.store.notice
    if notice and not st.session_state.get(HISTORY_NOTICE_SEEN):
        st.warning(escape_markdown(notice), icon=":material/history:")
        st.button("OK", key="history-notice-ok", on_click=_history_notice_seen)


def error_message(exc: BaseException) -> str:
    """Return the one-line message shown for ``exc``: the API's own words, never a traceback."""
    if isinstance(exc, LenswiseError):
        return one_line(str(exc), 400) or type(exc).__name__
    log.exception("unexpected error in the UI", exc_info=exc)
    return one_line(f"Unexpected error ({type(exc).__name__}): {exc}", 400)


def show_error(exc: BaseException, where: Any = None) -> None:
    """Show ``exc`` as a clear error box in the page (``where`` defaults to the main area)."""
    (where or st).error(escape_markdown(error_message(exc)), icon=":material/error:")
