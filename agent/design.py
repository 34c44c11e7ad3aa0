"""What the answer layer knows of a reviewed design: its services, gaps in fix order, strengths.

A design summary is plain data (it lives in the thread's checkpointed state, so follow-up
questions about the same design need no new upload). Gaps are ordered the way a reviewer would
fix them: higher lens risk first; within a risk level, the gap that touches more of the design
(its evidence components plus everything wired to them: the blast radius) first; then by id.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypedDict

from corpus.vocabulary import risk_rank

if TYPE_CHECKING:
    from diagrams import Architecture, Finding

MAX_GAPS = 8
MAX_LISTED = 40
_ARTIFACT = (
    r"(?:design|architecture|diagram|template|stack|setup|terraform|cloudformation|"
    r"draw\.?io|mermaid|iac|file)"
)
_FINDINGS = r"(?:review|findings|gaps|issues|problems)"
_SENT = r"(?:attached|uploaded|shared|sent|pasted|reviewed)"
OWN_DESIGN = re.compile(
    rf"\b(?:our|my|this|these)\s+(?:[\w.-]+\s+){{0,3}}?(?:{_ARTIFACT}|{_FINDINGS})\b"
    rf"|\bthe\s+(?:[\w.-]+\s+){{0,2}}?{_FINDINGS}\b"
    rf"|\b(?:i|we)\s+(?:just\s+)?{_SENT}\b"
    rf"|\b{_ARTIFACT}\s+{_SENT}\b|\b{_SENT}\s+(?:[\w.-]+\s+){{0,2}}?{_ARTIFACT}\b",
    re.I,
)
"""How a question points at the asker's own design or its review: "our architecture", "this
template", "the gaps", "the design I uploaded", "diagram attached". "The design principles of
the lens" or "the data architecture section" point at the lens instead."""


class GapSummary(TypedDict):
    """One gap of the design, with why it ranks where it does."""

    bp_id: str
    title: str
    risk: str
    explanation: str
    evidence: list[str]
    """Names of the components the gap was found on."""
    reach: int
    """Components affected: the evidence plus the components wired to it."""


class StrengthSummary(TypedDict):
    """A practice the design already shows."""

    bp_id: str
    title: str
    explanation: str
    evidence: list[str]


class DesignSummary(TypedDict):
    """The facts of one reviewed design that answers use."""

    file: str
    format: str
    component_count: int
    services: list[str]
    components: list[str]
    """``name (service)`` of the first components (labels are untrusted text)."""
    coverage: dict[str, int]
    gaps: list[GapSummary]
    """In fix order (see :func:`fix_order`)."""
    strengths: list[StrengthSummary]


def refers_to_own_design(question: str) -> bool:
    """Tell whether ``question`` is about the asker's own design, template or its review.

    The calibrated router's design intent ("what should we fix first?") comes from the
    question's embedding, which also leans that way on questions about the lens's own
    structure that merely use the word "design" or "architecture" ("list the design
    principles"). Without an attached design, the intent only holds when the question points
    at a design of the asker's.
    """
    return bool(OWN_DESIGN.search(question))


def fix_order(findings: list[Finding], architecture: Architecture) -> list[tuple[Finding, int]]:
    """Return ``(finding, reach)`` for every gap, in the order to fix them.

    Highest risk first (as everywhere, see :meth:`diagrams.review.Review.by_risk`); among gaps
    of one risk, those touching more of the design first; then lens order.
    """
    neighbours: dict[str, set[str]] = {}
    for edge in architecture.edges:
        neighbours.setdefault(edge.source, set()).add(edge.target)
        neighbours.setdefault(edge.target, set()).add(edge.source)

    def reach(finding: Finding) -> int:
        touched = set(finding.evidence)
        for component in finding.evidence:
            touched |= neighbours.get(component, set())
        return len(touched)

    gaps = [(f, reach(f)) for f in findings if f.status == "gap"]
    return sorted(gaps, key=lambda pair: (risk_rank(pair[0].risk), -pair[1]))


def summarise(review) -> DesignSummary:
    """Return the design summary of a :class:`diagrams.review.Review`."""
    arch = review.architecture
    names = {c.id: c.name for c in arch.components}
    gaps: list[GapSummary] = [
        {
            "bp_id": f.bp_id,
            "title": f.title,
            "risk": f.risk,
            "explanation": f.explanation,
            "evidence": [names.get(e, e) for e in f.evidence][:5],
            "reach": reach,
        }
        for f, reach in fix_order(review.findings, arch)[:MAX_GAPS]
    ]
    strengths: list[StrengthSummary] = [
        {
            "bp_id": f.bp_id,
            "title": f.title,
            "explanation": f.explanation,
            "evidence": [names.get(e, e) for e in f.evidence][:5],
        }
        for f in review.by_risk("addressed")
    ]
    return {
        "file": arch.file,
        "format": arch.format,
        "component_count": len(arch.components),
        "services": sorted({c.service for c in arch.components if c.service}),
        "components": [
            f"{c.name} ({c.service or 'not an AWS service'})" for c in arch.components[:MAX_LISTED]
        ],
        "coverage": {k: review.coverage[k] for k in ("addressed", "gap", "unknown", "total")},
        "gaps": gaps,
        "strengths": strengths,
    }


def prompt_text(summary: DesignSummary | None) -> str | None:
    """Render a design summary for a prompt (the labels in it stay untrusted data)."""
    if not summary:
        return None
    lines = [
        f"format: {summary['format']}; components: {summary['component_count']}",
        f"component labels: {'; '.join(summary['components'])}",
        f"services: {', '.join(summary['services'])}",
        f"coverage: {summary['coverage']}",
    ]
    for number, gap in enumerate(summary["gaps"], 1):
        lines.append(
            f"gap {number} (fix order) {gap['bp_id']} ({gap['risk']} risk, reaches "
            f"{gap['reach']} components): {gap['explanation']} "
            f"evidence: {', '.join(gap['evidence'])}"
        )
    for strength in summary["strengths"]:
        lines.append(f"addressed {strength['bp_id']}: {strength['explanation']}")
    return "\n".join(lines)
