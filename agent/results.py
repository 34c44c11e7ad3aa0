"""Typed results of the Python API: answers and citations (stream events: ``agent.events``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from index.search import Hit


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

    def to_dict(self) -> dict[str, Any]:
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
    routing: dict[str, Any] = field(default_factory=dict)
    """How the turn was routed and why: ``kind``, ``intent``, the ``pages`` the relevance
    model chose, and an ``explanation`` naming the example questions that decided scope."""

    def to_dict(self) -> dict[str, Any]:
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
            "routing": dict(self.routing),
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
