"""Typed results of the Python API: answers and citations (stream events: ``agent.events``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NotRequired

from typing_extensions import TypedDict

from agent.state import Routing
from corpus.schema import output_shape
from diagrams.contracts import Status
from index.search import Hit, HitJSON


@output_shape
class CitationJSON(TypedDict):
    """One cited lens page of an answer, checked against the passages it came from."""

    bp_id: str | None
    """Best-practice id; null when a general lens page (a scenario, a preamble) is cited."""
    title: str
    url: str
    """Official documentation page."""
    chunk_ids: list[str]
    """Retrieved passages of the page that the answer drew on."""
    quote: str
    """A sentence of those passages that supports the claim."""


@output_shape
class SuggestedFixJSON(TypedDict):
    """``ask --diagram FILE "how do we fix <id>?"``: that practice's fix (as MCP's suggest_fix)."""

    bp_id: str
    status: Status
    resource: list[str]
    """Ids of the declared resources to change."""
    verified: bool
    """True for a patch re-reviewed and linted on a copy."""
    steps: str
    """What to do by hand (the whole answer when there is no verified patch)."""
    diff: NotRequired[str]
    closes: NotRequired[list[str]]
    params: NotRequired[list[str]]
    resources: NotRequired[list[str]]
    notes: NotRequired[str]


@output_shape
class AnswerJSON(TypedDict):
    """``lenswise ask --json``: the verified answer with its citations and how it was made."""

    question: str
    answer: str
    """Markdown text with ``[ID]`` citation markers."""
    citations: list[CitationJSON]
    model: str
    """``extractive`` or the chat model spec that wrote the answer."""
    hits: list[HitJSON]
    """The passages retrieved for the answer, best first."""
    warnings: list[str]
    """Citations dropped, claims not supported, instructions ignored: one line each."""
    timings_ms: dict[str, float]
    usage: dict[str, int]
    """Model tokens (empty in extractive mode)."""
    edition: str | None
    """Lens edition of the corpus, e.g. ``2025-11``."""
    source: str
    """Corpus the answer came from: ``builtin``, ``fetched`` or a path."""
    declined: bool
    """True when the question is outside the lens and the answer says so."""
    thread_id: str | None
    prompt_version: str
    routing: Routing | None
    """How the turn was routed and why (null for an answer made outside the graph)."""
    fix: NotRequired[SuggestedFixJSON]
    """With ``--diagram``, when the question asks how to fix one practice."""


@dataclass(frozen=True)
class Citation:
    """One cited lens page, checked against the passages the answer was built from."""

    bp_id: str | None
    """Best-practice id; None when a general lens page (e.g. a scenario) is cited."""
    title: str
    url: str
    chunk_ids: tuple[str, ...]
    """Retrieved chunks of this page that the answer drew on."""
    quote: str
    """A short passage sentence that supports the answer's claim."""
    risk: str | None = None
    pillar: str | None = None
    page_id: str = ""
    """The cited page id (equals ``bp_id`` for best practices)."""

    def to_dict(self) -> CitationJSON:
        """Return the DESIGN.md citation JSON."""
        return {
            "bp_id": self.bp_id,
            "title": self.title,
            "url": self.url,
            "chunk_ids": list(self.chunk_ids),
            "quote": self.quote,
        }


@dataclass
class Answer:
    """A grounded answer, ready to show: text with ``[ID]`` markers plus verified citations."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    model: str = "extractive"
    edition: str | None = None
    source: str = "builtin"
    timings_ms: dict[str, float] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    declined: bool = False
    """True when the question is outside the lens and the assistant said so."""
    thread_id: str | None = None
    prompt_version: str = ""
    """Version of the prompt catalog that produced the answer (``agent.prompts``)."""
    routing: Routing | None = None
    """How the turn was routed and why: ``kind``, ``intent``, the ``pages`` the relevance
    model chose, and an ``explanation`` naming the example questions that decided scope."""

    def to_dict(self) -> AnswerJSON:
        """Return the DESIGN.md ``ask --json`` shape (plus usage, edition and declined)."""
        return {
            "question": self.question,
            "answer": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "model": self.model,
            "hits": [h.to_dict() for h in self.hits],
            "warnings": list(self.warnings),
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "usage": dict(self.usage),
            "edition": self.edition,
            "source": self.source,
            "declined": self.declined,
            "thread_id": self.thread_id,
            "prompt_version": self.prompt_version,
            "routing": self.routing,
        }

    def to_markdown(self) -> str:
        """Return the answer as a self-contained markdown section with linked citations."""
        lines = [f"### {self.question}", "", self.text, ""]
        if self.citations:
            lines.append("**Sources**")
            lines.append("")
            for c in self.citations:
                label = c.bp_id or c.title
                risk = f" ({c.risk} risk)" if c.risk else ""
                lines.append(f"- [{label}]({c.url}) {c.title if c.bp_id else ''}{risk}".rstrip())
                if c.quote:
                    lines.append(f"  > {c.quote}")
            lines.append("")
        for warning in self.warnings:
            lines.append(f"> Warning: {warning}")
        return "\n".join(lines).rstrip() + "\n"
