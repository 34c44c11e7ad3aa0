"""Graph state: a narrow input state and the fuller per-turn state the nodes share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph import add_messages
from typing_extensions import TypedDict

from agent.design import DesignSummary
from agent.routing import AnswerKind, RouteKind
from corpus.schema import output_shape

Verdict = Literal["", "ok", "weak", "failed", "retry", "declined"]
"""How a draft fared: ``ok``; ``weak`` (no citation held: thin retrieval); ``failed`` (citations
did not hold); ``retry`` (one more plan round follows); ``declined`` (out of scope)."""


class Query(TypedDict):
    """One planned retrieval: what to search for, and the pillar to keep to (None: all)."""

    text: str
    pillar: str | None


class Passage(TypedDict):
    """One retrieved chunk in the state: the chunk's fields plus how it was found."""

    chunk_id: str
    lens: str
    pillar: str | None
    question_id: str | None
    question_title: str | None
    bp_id: str | None
    title: str
    section: str
    risk: str | None
    url: str
    source: str
    text: str
    context: str
    score: float
    """Retrieval score (hybrid, or 1.0 for a page fetched by id)."""
    query: str
    """The query (or practice id) that found it."""


class CitationRecord(TypedDict):
    """A citation that held, as data in the thread (the fields of ``agent.results.Citation``)."""

    bp_id: str | None
    title: str
    url: str
    chunk_ids: Sequence[str]
    """A tuple when written; a list once read back from a checkpoint."""
    quote: str
    risk: str | None
    pillar: str | None
    page_id: str


class Checked(TypedDict):
    """What the citation check made of a draft."""

    citations: list[CitationRecord]
    """The citations that held."""
    verification_warnings: list[str]
    """Citations dropped and claims not supported, one line each."""


class Part(TypedDict):
    """One part of a question with several parts, and the page that answers it."""

    question: str
    """The part's own words (its steps are scored against them)."""
    pages: list[str]
    """The page chosen for the part (empty when the part alone is too vague to route)."""


@output_shape
class Routing(TypedDict):
    """How a turn was routed, decided once by ``route`` and kept with the answer.

    The later nodes read it; ``ask --json`` shows it as ``routing``.
    """

    kind: RouteKind | Literal[""]
    """``lens``, ``followup``, ``lookup`` or ``out_of_scope`` (empty before routing)."""
    answer: AnswerKind
    """The answer's plan (see :data:`agent.routing.AnswerKind`), decided once."""
    intent: str | None
    """A design intent of the question (``prioritize``, ``strengths``, ``review``), if any."""
    pages: list[str]
    """Pages the relevance model chose for the answer, most relevant first (every part's)."""
    support: list[str]
    """Further likely pages whose best steps may join the answer when they fit the question."""
    parts: list[Part]
    """For a question with several parts: each part and its page, in order."""
    explanation: str
    """Why the turn was routed so (nearest example questions, scope probability)."""
    query: str
    """What retrieval and relevance saw (a follow-up joined to the previous question)."""
    pillar: str | None
    """The pillar retrieval keeps to, if any."""
    ids: list[str]
    """Practice / question ids named in the question (and, with a design, its gaps)."""
    unknown_ids: list[str]
    """Ids in the lens's form that name no page (the answer corrects them first)."""


class AnswerRecord(TypedDict):
    """The verified answer of a turn as stored in the thread (``Answer`` fields as data)."""

    text: str
    hits: list[tuple[str, float]]
    """``(chunk id, score)`` of every retrieved passage, best first."""
    citations: list[CitationRecord]
    warnings: list[str]
    declined: bool
    usage: dict[str, int]
    model: str
    routing: Routing


def merge_passages(
    existing: dict[str, Passage] | None, new: dict[str, Passage] | None
) -> dict[str, Passage]:
    """Merge retrieved passages by chunk id; ``None`` clears them (a new turn starts)."""
    if new is None:
        return {}
    merged = dict(existing or {})
    for chunk_id, passage in new.items():
        if chunk_id not in merged or passage["score"] > merged[chunk_id]["score"]:
            merged[chunk_id] = passage
    return merged


@dataclass(kw_only=True)
class InputState:
    """What a caller gives the graph for one turn."""

    question: str = ""
    """The user's question for this turn (untrusted text)."""
    diagram_path: str | None = None
    """A diagram or IaC file attached to this turn, if any."""
    pillar: str | None = None
    """Restrict retrieval to one pillar, if set."""


class Update(TypedDict, total=False):
    """What a node returns: the :class:`State` fields it changes (LangGraph applies them)."""

    messages: list[AnyMessage]
    turn_start: int
    routing: Routing | None
    queries: list[Query]
    passages: dict[str, Passage] | None
    """New passages to merge in; None clears the turn's passages (see :func:`merge_passages`)."""
    diagram: DesignSummary | None
    draft: str
    drafted_by: Literal["", "model", "extractive"]
    checked: Checked | None
    answer: AnswerRecord | None
    attempts: int
    verdict: Verdict
    warnings: list[str]
    usage: dict[str, int]
    deadline: float


@dataclass(kw_only=True)
class State(InputState):
    """Everything the nodes read and write. Per-turn fields are reset by ``route``."""

    messages: Annotated[list[AnyMessage], add_messages] = field(default_factory=list)
    """The thread's conversation: questions, tool calls and results, verified answers."""
    turn_start: int = 0
    """Index in ``messages`` where the current turn begins."""
    routing: Routing | None = None
    """How this turn was routed and what its answer plans to say (set by ``route``)."""
    queries: list[Query] = field(default_factory=list)
    """Retrieval queries planned for this turn (a retry's reformulations too)."""
    passages: Annotated[dict[str, Passage], merge_passages] = field(default_factory=dict)
    """Retrieved chunks of this turn by chunk id."""
    diagram: DesignSummary | None = None
    """The thread's reviewed design: set when a diagram is attached, kept for the following
    turns of the thread."""
    draft: str = ""
    """The answer text before verification."""
    drafted_by: Literal["", "model", "extractive"] = ""
    """Who wrote the draft: the chat model, or the extractive composer (also the fallback
    when a model gives no final answer)."""
    checked: Checked | None = None
    """The citation check of the latest draft."""
    answer: AnswerRecord | None = None
    """The verified answer of this turn."""
    attempts: int = 0
    """Verification retries used this turn."""
    verdict: Verdict = ""
    """How this turn's draft fared (see :data:`Verdict`)."""
    warnings: list[str] = field(default_factory=list)
    """Problems found this turn, shown to the user (nodes write the whole list)."""
    usage: dict[str, int] = field(default_factory=dict)
    """Token usage of model calls this turn."""
    deadline: float = 0.0
    """Wall-clock (epoch seconds) after which the turn must stop and answer."""
