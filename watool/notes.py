"""The notes lenswise writes on a Well-Architected Tool question: evidence, gaps, team questions.

The API caps a question's notes at 2,084 characters. Lines go in order of use to the team
(gaps by risk, then what the design shows, then what to ask) and whatever does not fit is
counted in a closing line rather than cut mid-sentence. Text from the reviewed file (labels,
evidence names) is flattened to one line and quoted: the notes are read by people, and the
file's author is not the reader.

lenswise's lines sit between a ``[[lenswise:begin]]`` and a ``[[lenswise:end]]`` tag that no
person writes by chance, so a later export (``--overwrite``) replaces exactly what lies between
the tags and keeps every other character of a person's notes where it was.
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
"""How the first line inside a lenswise block starts."""
BEGIN = "[[lenswise:begin]] (the next lenswise export replaces this block)"
"""First line of lenswise's block of notes."""
END = "[[lenswise:end]]"
"""Last line of lenswise's block of notes."""
_TAG = "[[lenswise:"
_BEGIN_TAG = re.escape(BEGIN.split()[0])
_BLOCK = re.compile(f"{_BEGIN_TAG}(?:(?!{_BEGIN_TAG}).)*?{re.escape(END)}", re.S)
"""lenswise's block: its begin tag (the last one before) its end tag, wherever they stand."""
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


def wrap(body: str) -> str:
    """Return ``body`` between lenswise's BEGIN and END lines.

    A tag inside ``body`` (a label of the reviewed file can hold anything) is broken up, so
    the block always ends at its own END line.
    """
    return f"{BEGIN}\n{body.replace(_TAG, '[' + _TAG[2:])}\n{END}"


def question_notes(
    findings: Iterable[Finding], review: Review, date: str, limit: int = NOTES_MAX
) -> str:
    """Return lenswise's block of notes for one question's findings, within ``limit`` characters."""
    body = [finding_line(f, review) for f in sorted(findings, key=_order)]
    room = limit - len(wrap(""))
    return wrap(compose([header(review.architecture.file, date), *body], room))


def find_block(notes: str) -> tuple[int, int] | None:
    """Return where lenswise's block sits in ``notes`` (start, end), or None when it has none."""
    found = _BLOCK.search(notes)
    return found.span() if found else None


def persons_text(notes: str) -> str:
    """Return ``notes`` without lenswise's block: what a person wrote."""
    span = find_block(notes)
    return notes if span is None else notes[: span[0]] + notes[span[1] :]


def merge(existing: str, block: str, limit: int = NOTES_MAX) -> str | None:
    """Put lenswise's ``block`` into a person's notes, keeping every character they wrote.

    An earlier lenswise block is replaced where it stands; otherwise the block goes after
    the person's text. Lines of the block that do not fit are counted, never the person's.

    Returns None when the person's text leaves no room for even the block's header line.
    """
    span = find_block(existing)
    if span is None:
        before, after = (existing + "\n\n" if existing else ""), ""
    else:
        before, after = existing[: span[0]], existing[span[1] :]
    lines = block.splitlines()[1:-1]
    room = limit - len(before) - len(after) - len(wrap(""))
    if not lines or room < len(lines[0]) + len(f"\n(+{len(lines)} more in the lenswise report)"):
        return None
    return before + wrap(compose(lines, room)) + after
