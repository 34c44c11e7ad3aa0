"""Render a review as markdown an architect can paste into a design document.

Every label comes from a stranger's file, so every piece of diagram text is escaped: it can
neither inject HTML nor break the markdown structure.
"""

from __future__ import annotations

import html
import re

from diagrams.review import Finding, Review

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#!|~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_CELL = 120
_MAX_NOTES = 200


def escape(text: str, limit: int = _MAX_CELL) -> str:
    """Make untrusted text inert in markdown and HTML: one line, escaped, length-capped."""
    text = _CONTROL.sub(" ", str(text)).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def _evidence(finding: Finding, review: Review) -> str:
    parts = []
    for comp_id in finding.evidence[:6]:
        comp = review.architecture.component(comp_id)
        label = comp.name if comp else comp_id
        parts.append(escape(label, 60))
    parts = list(dict.fromkeys(parts))
    more = len(finding.evidence) - 6
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "") if parts else "-"


def _summary(review: Review) -> list[str]:
    arch, cov = review.architecture, review.coverage
    services = ", ".join(escape(s) for s in arch.services) or "none recognised"
    judged = cov["addressed"] + cov["gap"]
    return [
        f"# Generative AI Lens review: {escape(arch.file)}",
        "",
        f"> Automated review of a **{escape(arch.format)}** file against the AWS Well-Architected "
        f"Generative AI Lens. Only what the design shows can be judged: **{judged} of "
        f"{cov['total']}** best practices were, and **{cov['unknown']}** need answers from the "
        "team (listed below). This is a partial review, not a full lens assessment.",
        "",
        "## Summary",
        "",
        f"- Components: {len(arch.components)} ({sum(1 for c in arch.components if c.service)} "
        f"mapped to AWS services), connections: {len(arch.edges)}",
        f"- Services: {services}",
        f"- Addressed: **{cov['addressed']}**, gaps: **{cov['gap']}**, unknown: "
        f"**{cov['unknown']}** (of {cov['total']})",
        "",
    ]


def _coverage(review: Review) -> list[str]:
    cov = review.coverage
    lines = [
        "## Coverage by pillar",
        "",
        "| Pillar | Addressed | Gaps | Unknown | Total |",
        "|---|---:|---:|---:|---:|",
    ]
    for pillar, counts in cov["by_pillar"].items():
        lines.append(
            f"| {escape(pillar)} | {counts['addressed']} | {counts['gap']} | "
            f"{counts['unknown']} | {counts['total']} |"
        )
    lines += [
        f"| **Total** | **{cov['addressed']}** | **{cov['gap']}** | **{cov['unknown']}** | "
        f"**{cov['total']}** |",
        "",
    ]
    return lines


def _gaps(review: Review) -> list[str]:
    gaps = review.by_risk("gap")
    lines = ["## Gaps (highest risk first)", ""]
    if not gaps:
        return lines + ["No gaps were found in what the design shows.", ""]
    for f in gaps:
        lines += [
            f"### {f.bp_id} {escape(f.title)}",
            "",
            f"*{escape(f.risk or 'Unrated')} risk, {escape(f.pillar)}* · [lens page]({f.url})",
            "",
            escape(f.explanation, 600),
            "",
            f"Evidence: {_evidence(f, review)}",
            "",
        ]
    return lines


def _fence(text: str) -> str:
    """Return a code fence longer than any backtick run in ``text`` (it cannot close early)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _fixes(review: Review) -> list[str]:
    """List each gap's fix: the verified patch as a diff, or the steps and why no patch."""
    fixed = [f for f in review.by_risk("gap") if f.fix is not None]
    if not fixed:
        return []
    lines = ["## Fixes", ""]
    for f in fixed:
        fix = f.fix
        lines += [f"### {f.bp_id}: {'verified patch' if fix.verified else 'steps'}", ""]
        if fix.verified:
            closes = ", ".join(fix.closes)
            lines += [f"Closes {closes} (re-reviewed, cfn-lint and checkov clean).", ""]
            if fix.params:
                lines += [f"New parameters to fill in: {', '.join(fix.params)}.", ""]
            fence = _fence(fix.diff)
            lines += [f"{fence}diff", fix.diff.rstrip("\n"), fence, ""]
            lines += [escape(fix.notes, 600), ""] if fix.notes else []
        else:
            lines += [escape(fix.steps, 800), ""]
    return lines


def _addressed(review: Review) -> list[str]:
    found = review.by_status("addressed")
    lines = ["## Addressed", ""]
    if not found:
        return lines + ["Nothing in the design shows a best practice addressed.", ""]
    lines += ["| Best practice | Pillar | Why | Evidence |", "|---|---|---|---|"]
    for f in found:
        lines.append(
            f"| [{f.bp_id}]({f.url}) {escape(f.title, 80)} | {escape(f.pillar)} | "
            f"{escape(f.explanation, 160)} | {_evidence(f, review)} |"
        )
    return lines + [""]


def _unknown(review: Review) -> list[str]:
    found = review.by_risk("unknown")
    lines = ["## Not visible in the design: questions for the team", ""]
    if not found:
        return lines + ["None.", ""]
    lines += ["| Best practice | Risk | Question |", "|---|---|---|"]
    for f in found:
        question = f.question or f.explanation
        lines.append(
            f"| [{f.bp_id}]({f.url}) {escape(f.title, 80)} | {escape(f.risk)} | "
            f"{escape(question, 300)} |"
        )
    return lines + [""]


def _diagrams(review: Review) -> list[str]:
    if not review.diagrams:
        return []
    lines = [
        "## Diagrams in this file",
        "",
        "Each diagram reviewed on its own; the findings above judge all of them together, "
        "with a component drawn in several diagrams counted once.",
        "",
        "| Diagram | Components | Services | Addressed | Gaps | Unknown |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for part in review.diagrams:
        cov = part.coverage
        services = ", ".join(escape(s) for s in part.services) or "-"
        lines.append(
            f"| {escape(part.name, 60)} | {len(part.components)} | {services} | "
            f"{cov['addressed']} | {cov['gap']} | {cov['unknown']} |"
        )
    return lines + [""]


def _inventory(review: Review) -> list[str]:
    comps = review.architecture.components
    lines = [
        "## Component inventory",
        "",
        "| Id | Label | Service | Group | Diagrams |",
        "|---|---|---|---|---|",
    ]
    groups = {g.id: g.label for g in review.architecture.groups}
    for c in comps:
        group = groups.get(c.group or "", c.group or "")
        drawn = ", ".join(c.diagrams or ([c.page] if c.page else [])) or "-"
        lines.append(
            f"| {escape(c.id, 60)} | {escape(c.label, 80)} | {escape(c.service_name or '-')} "
            f"| {escape(group or '-', 60)} | {escape(drawn, 80)} |"
        )
    if not comps:
        lines.append("| - | - | - | - | - |")
    return lines + [""]


def _annotations(review: Review) -> list[str]:
    notes = review.architecture.annotations
    if not notes:
        return []
    lines = [
        "## Annotations",
        "",
        "Legends, titles, step badges and notes drawn on the diagram: shown for context, not "
        "counted as components or as evidence of a control.",
        "",
        "| Kind | Step | Text | Page |",
        "|---|---|---|---|",
    ]
    for note in notes[:_MAX_NOTES]:
        lines.append(
            f"| {note.kind} | {escape(note.step or '-', 8)} | {escape(note.text, 160)} | "
            f"{escape(note.page or '-', 40)} |"
        )
    if len(notes) > _MAX_NOTES:
        lines.append(f"| … | | {len(notes) - _MAX_NOTES} more | |")
    return lines + [""]


def render_markdown(review: Review) -> str:
    """Render ``review`` as a markdown report: summary, coverage, gaps, addressed, questions."""
    lines = (
        _summary(review)
        + _coverage(review)
        + _gaps(review)
        + _fixes(review)
        + _addressed(review)
        + _unknown(review)
        + _diagrams(review)
        + _inventory(review)
        + _annotations(review)
    )
    if review.warnings:
        lines += ["## Parser notes", ""] + [f"- {escape(w, 300)}" for w in review.warnings] + [""]
    return "\n".join(lines)
