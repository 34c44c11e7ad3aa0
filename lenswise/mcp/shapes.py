"""Structured results of the MCP tools: typed shapes (the published output schemas) and builders.

The shapes follow the ``--json`` contracts of the CLI (DESIGN.md) so a model sees the same
fields whichever way it reaches lenswise; the builders turn the Python API's objects into them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NotRequired

from typing_extensions import TypedDict

from lenswise.mcp.inputs import UNTRUSTED_NOTICE, mark_untrusted

if TYPE_CHECKING:
    from agent.results import Answer
    from corpus.models import Document
    from diagrams import Review
    from index.search import Hit, SearchJSON

RESOURCE_PREFIX = "lens://"
ReviewStatus = Literal["gap", "unknown", "addressed", "all"]
STATUS_ORDER = ("gap", "unknown", "addressed")
"""Order of the findings of a review listed with status "all": what to fix comes first."""


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


class FindingOut(TypedDict):
    """One best practice judged against the design; ``evidence`` only with ``detail``."""

    bp_id: str
    title: str
    pillar: str
    risk: str | None
    status: str
    explanation: str
    url: str
    resource: list[str]
    """For a gap: the declared resources to change."""
    evidence: NotRequired[list[Any]]
    fix: NotRequired[dict[str, Any]]
    """For a gap: its fix in short form (verified, closes, params); ``suggest_fix`` has the diff."""


class ReviewOut(TypedDict):
    """A lens review, compact: coverage, then the findings asked for, gaps first by risk.

    ``detail`` adds the parsed graph (components, edges, annotations), each diagram of a
    multi-diagram file, and every finding's evidence: the ``review --json`` document.
    """

    file: str
    format: str
    services: list[str]
    coverage: dict[str, Any]
    status: str
    """Which findings are listed: gap, unknown, addressed or all."""
    findings: list[FindingOut]
    warnings: list[str]
    untrusted: str
    components: NotRequired[list[dict[str, Any]]]
    edges: NotRequired[list[dict[str, Any]]]
    annotations: NotRequired[list[dict[str, Any]]]
    """Legends, titles, step badges and notes: shown, never counted as components."""
    diagrams: NotRequired[list[dict[str, Any]]]
    """Each diagram of a multi-diagram file reviewed on its own (empty for one diagram)."""


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


def search_result(query: str, hits: list[Hit]) -> SearchJSON:
    """Return the search result of ``hits``: the same shape as ``lenswise search --json``."""
    return {"query": query, "hits": [hit.to_dict() for hit in hits]}


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


def review_out(review: Review, status: ReviewStatus = "gap", detail: bool = False) -> ReviewOut:
    """Return the review, gaps first by risk, file text escaped and marked untrusted.

    Args:
        review: the review to shape.
        status: list only findings with this status ("all": gaps, then unknown, then addressed).
        detail: add the parsed graph, the diagrams and every finding's evidence.
    """
    whole = review.to_dict()
    statuses = STATUS_ORDER if status == "all" else (status,)
    findings = []
    for wanted in statuses:
        for finding in review.by_risk(wanted):
            shaped: dict[str, Any] = dict(finding.to_dict())
            if not detail:
                del shaped["evidence"]
            findings.append(shaped)
    out = {
        "file": whole["file"],
        "format": whole["format"],
        "services": whole["services"],
        "coverage": whole["coverage"],
        "status": status,
        "findings": findings,
        "warnings": whole["warnings"],
    }
    if detail:
        out |= {key: whole[key] for key in ("components", "edges", "annotations", "diagrams")}
    marked: dict[str, Any] = mark_untrusted(out)
    return ReviewOut(**marked, untrusted=UNTRUSTED_NOTICE)
