"""Structured results of the MCP tools: typed shapes (the published output schemas) and builders.

The shapes follow the ``--json`` contracts of the CLI (DESIGN.md) so a model sees the same
fields whichever way it reaches lenswise; the builders turn the Python API's objects into them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typing_extensions import TypedDict

from agent.mcp_inputs import UNTRUSTED_NOTICE, mark_untrusted

if TYPE_CHECKING:
    from agent.results import Answer
    from corpus.models import Document
    from diagrams import Review
    from index.search import Hit

RESOURCE_PREFIX = "lens://"


class SearchHit(TypedDict):
    """One retrieved lens passage."""

    rank: int
    chunk_id: str
    bp_id: str | None
    title: str
    pillar: str | None
    section: str
    score: float
    url: str
    text: str


class SearchResult(TypedDict):
    """Passages for one query, best first."""

    query: str
    hits: list[SearchHit]


class PracticeSummary(TypedDict):
    """A best practice as listed in the lens: id, title, pillar, risk, its question and page."""

    bp_id: str
    title: str
    pillar: str
    risk: str | None
    question_id: str | None
    question_title: str | None
    url: str
    resource: str


class PracticeList(TypedDict):
    """Best practices matching the filters, in lens order."""

    count: int
    practices: list[PracticeSummary]


class LensPage(TypedDict):
    """The full text of one lens page (a best practice, or a question with its practices)."""

    id: str
    kind: str
    title: str
    pillar: str | None
    risk: str | None
    question_id: str | None
    question_title: str | None
    url: str
    resource: str
    text: str
    practices: list[PracticeSummary]
    related: list[str]


class CitationOut(TypedDict):
    """A verified citation: the practice, its official page and a supporting quote."""

    bp_id: str | None
    title: str
    url: str
    quote: str


class AnswerOut(TypedDict):
    """A verified answer; every ``[ID]`` marker in ``answer`` has a citation."""

    question: str
    answer: str
    citations: list[CitationOut]
    warnings: list[str]
    declined: bool
    thread_id: str | None
    model: str
    edition: str | None


class ReviewOut(TypedDict):
    """A lens review: the parsed graph, one finding per practice, coverage by pillar."""

    file: str
    format: str
    components: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    services: list[str]
    findings: list[dict[str, Any]]
    coverage: dict[str, Any]
    annotations: list[dict[str, Any]]
    """Legends, titles, step badges and notes: shown, never counted as components."""
    diagrams: list[dict[str, Any]]
    """Each diagram of a multi-diagram file reviewed on its own (empty for one diagram)."""
    warnings: list[str]
    untrusted: str


def resource_uri(doc: Document) -> str:
    """Return the ``lens://<lens>/<page id>`` address of a lens page."""
    return f"{RESOURCE_PREFIX}{doc.lens}/{doc.bp_id or doc.doc_id}"


def page_markdown(doc: Document) -> str:
    """Render a lens page as markdown: heading, facts line, then its sections."""
    ident = doc.bp_id or doc.question_id or doc.doc_id
    facts = [x for x in (doc.pillar, f"{doc.risk} risk" if doc.risk else None) if x]
    if doc.bp_id and doc.question_id:
        facts.append(f"question {doc.question_id} {doc.question_title or ''}".strip())
    lines = [f"# {ident} {doc.title}", ""]
    if facts:
        lines += [" · ".join(facts), ""]
    if doc.url:
        lines += [f"Official page: {doc.url}", ""]
    for section in doc.sections:
        if section.heading:
            lines += [f"## {section.heading}", ""]
        lines += [section.text, ""]
    return "\n".join(lines).rstrip() + "\n"


def practice_summary(doc: Document) -> PracticeSummary:
    """Return the listing entry of a best-practice document."""
    return {
        "bp_id": doc.bp_id or doc.doc_id,
        "title": doc.title,
        "pillar": doc.pillar or "",
        "risk": doc.risk,
        "question_id": doc.question_id,
        "question_title": doc.question_title,
        "url": doc.url,
        "resource": resource_uri(doc),
    }


def lens_page(doc: Document, practices: list[Document]) -> LensPage:
    """Return the full page of ``doc``; ``practices`` are a question's own best practices."""
    kind = "best_practice" if doc.bp_id else "question" if doc.question_id else "page"
    return {
        "id": doc.bp_id or doc.doc_id,
        "kind": kind,
        "title": doc.title,
        "pillar": doc.pillar,
        "risk": doc.risk,
        "question_id": doc.question_id,
        "question_title": doc.question_title,
        "url": doc.url,
        "resource": resource_uri(doc),
        "text": page_markdown(doc),
        "practices": [practice_summary(p) for p in practices],
        "related": list(doc.related),
    }


def search_result(query: str, hits: list[Hit]) -> SearchResult:
    """Return the search result of ``hits``."""
    return {"query": query, "hits": [hit.to_dict() for hit in hits]}  # type: ignore[misc]


def answer_out(answer: Answer) -> AnswerOut:
    """Return the answer without its retrieval hits (the citations carry the evidence)."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "citations": [
            {"bp_id": c.bp_id, "title": c.title, "url": c.url, "quote": c.quote}
            for c in answer.citations
        ],
        "warnings": list(answer.warnings),
        "declined": answer.declined,
        "thread_id": answer.thread_id,
        "model": answer.model,
        "edition": answer.edition,
    }


def review_out(review: Review) -> ReviewOut:
    """Return the ``review --json`` document with file text escaped and marked untrusted."""
    return {**mark_untrusted(review.to_dict()), "untrusted": UNTRUSTED_NOTICE}
