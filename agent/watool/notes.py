"""The notes lenswise writes on a Well-Architected Tool question: evidence, gaps, team questions.

The API caps a question's notes at 2,084 characters. Lines go in order of use to the team
(gaps by risk, then what the design shows, then what to ask) and whatever does not fit is
counted in a closing line rather than cut mid-sentence. Text from the reviewed file (labels,
evidence names) is flattened to one line and quoted: the notes are read by people, and the
file's author is not the reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from corpus.vocabulary import risk_rank

if TYPE_CHECKING:
    from diagrams import Finding, Review

NOTES_MAX = 2084
"""Longest ``Notes`` the Well-Architected Tool accepts on a question (API shape ``Notes``)."""
MARKER = "lenswise review of "
"""How every lenswise block of notes starts, so a later export can find its own block."""
LINE_MAX = 420
EVIDENCE_SHOWN = 4
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def flat(text: str, limit: int = LINE_MAX) -> str:
    """Return ``text`` on one line, control characters removed, at most ``limit`` characters."""
    text = " ".join(_CONTROL.sub(" ", str(text)).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def evidence_names(finding: Finding, review: Review) -> str:
    """Name the components behind a finding that its explanation does not already name, quoted.

    The names are the file author's labels: flattened and quoted, never taken as text of ours.
    """
    names = []
    for comp_id in finding.evidence:
        comp = review.architecture.component(comp_id)
        name = flat(comp.name if comp else comp_id, 60)
        if name not in finding.explanation:
            names.append(f'"{name}"')
    names = list(dict.fromkeys(names))
    more = len(names) - EVIDENCE_SHOWN
    return ", ".join(names[:EVIDENCE_SHOWN]) + (f" and {more} more" if more > 0 else "")


def _order(finding: Finding) -> tuple[int, int]:
    status_rank = {"gap": 0, "addressed": 1, "unknown": 2}.get(finding.status, 3)
    return status_rank, risk_rank(finding.risk)


def finding_line(finding: Finding, review: Review) -> str:
    """Return the one-line note of a finding."""
    if finding.status == "gap":
        head = f"Gap ({finding.risk or 'unrated'} risk) {finding.bp_id}: "
        body = finding.explanation
    elif finding.status == "addressed":
        head = f"Addressed {finding.bp_id}: "
        body = finding.explanation
    else:
        head = f"Ask the team {finding.bp_id}: "
        body = finding.question or finding.explanation
    evidence = evidence_names(finding, review) if finding.status != "unknown" else ""
    tail = f" Also: {evidence}." if evidence else ""
    return flat(head + flat(body, LINE_MAX - len(head) - len(tail)) + tail)


def header(file: str, date: str) -> str:
    """Return the first line of a lenswise block of notes."""
    return flat(
        f"{MARKER}{file} ({date}): automated, from the design only; verify before relying on it."
    )


def compose(lines: Iterable[str], limit: int) -> str:
    """Join ``lines`` within ``limit`` characters, counting the lines that did not fit."""
    lines = list(lines)
    kept: list[str] = []
    for index, line in enumerate(lines):
        left = len(lines) - index - 1
        closing = f"\n(+{left} more in the lenswise report)" if left else ""
        candidate = "\n".join([*kept, line])
        if len(candidate) + len(closing) > limit:
            dropped = len(lines) - len(kept)
            return "\n".join([*kept, f"(+{dropped} more in the lenswise report)"])[:limit]
        kept.append(line)
    return "\n".join(kept)


def question_notes(
    findings: Iterable[Finding], review: Review, date: str, limit: int = NOTES_MAX
) -> str:
    """Return the lenswise notes for one question's findings, within ``limit`` characters."""
    body = [finding_line(f, review) for f in sorted(findings, key=_order)]
    return compose([header(review.architecture.file, date), *body], limit)


def merge(existing: str, block: str, limit: int = NOTES_MAX) -> str | None:
    """Keep a person's notes and replace an earlier lenswise block with ``block``.

    Returns None when the person's own notes leave no room for even the header line.
    """
    own = existing.split(MARKER, 1)[0].rstrip()
    if not own:
        return block[:limit]
    room = limit - len(own) - 2
    if room < len(block.splitlines()[0]):
        return None
    return own + "\n\n" + compose(block.splitlines(), room)
