"""What an export to the Well-Architected Tool will write, worked out before anything is sent.

The plan groups the review's findings by lens question, says which practices would be
selected (the addressed ones), which questions stay unanswered (nothing the design shows)
and the notes each answered question would carry. ``--dry-run`` prints it; the export
carries it out once the lens's real questions and choices have been read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus.errors import InputError, check_text
from watool.notes import flat, question_notes

if TYPE_CHECKING:
    from corpus.models import Document
    from diagrams import Finding, Review

GENAI_LENS = "arn:aws:wellarchitected::aws:lens/genai"
"""The Generative AI Lens in the Well-Architected Tool."""
FRAMEWORK_LENS = "wellarchitected"
"""The Well-Architected Framework lens, which every workload carries."""
WORKLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
NAME_LIMITS = (3, 100)
"""Length bounds of ``WorkloadName`` and ``MilestoneName`` in the API."""
OWNER_LIMITS = (3, 255)
"""Length bounds of ``ReviewOwner`` in the API."""
WRITTEN = ("addressed", "gap")
"""Statuses that make lenswise answer a question; unknown practices stay unanswered."""


@dataclass
class QuestionPlan:
    """The findings of one lens question and the notes lenswise would write on it."""

    question_id: str
    title: str
    findings: list[Finding]
    notes: str = ""

    @property
    def selected(self) -> list[Finding]:
        """Return the findings whose choices would be selected (the addressed ones)."""
        return [f for f in self.findings if f.status == "addressed"]

    @property
    def answered(self) -> bool:
        """Return True when the design shows something about this question."""
        return any(f.status in WRITTEN for f in self.findings)


@dataclass
class ExportPlan:
    """Everything an export would do, in the order it would do it."""

    review: Review
    workload: str
    """A workload name (looked up, created if absent) or a 32-hex workload id."""
    date: str
    overwrite: bool = False
    questions: list[QuestionPlan] = field(default_factory=list)
    lenses: tuple[str, ...] = (FRAMEWORK_LENS, GENAI_LENS)

    @property
    def by_id(self) -> bool:
        """Return True when :attr:`workload` is a workload id rather than a name."""
        return bool(WORKLOAD_ID.match(self.workload))

    @property
    def milestone(self) -> str:
        """Return the name of the milestone recorded after the answers."""
        return flat(f"lenswise {self.date} {Path(self.review.architecture.file).name}", 100)

    def notes_for(self, findings: list[Finding]) -> str:
        """Return the notes lenswise writes for ``findings`` of one question."""
        return question_notes(findings, self.review, self.date)

    def render(self) -> str:
        """Return the dry-run text: workload, lenses, each answered question and its notes."""
        answered = [q for q in self.questions if q.answered]
        target = (
            f"workload id {self.workload}"
            if self.by_id
            else f'workload "{self.workload}" (used if it exists, else created)'
        )
        lines = [
            "Dry run: nothing is sent to AWS.",
            f"review of {flat(self.review.architecture.file, 200)}",
            target,
            f"lenses: {', '.join(self.lenses)} (associated if missing)",
            f"would answer {len(answered)} of {len(self.questions)} questions; each practice is "
            "matched to its choice at run time by page URL, then title:",
        ]
        for q in answered:
            chosen = ", ".join(f.bp_id for f in q.selected) or "no choice (gaps only)"
            lines.append(f"  {q.question_id} {flat(q.title, 80)}: select {chosen}")
            lines += [f"    | {line}" for line in q.notes.splitlines()]
        lines.append(
            f"left unanswered: {len(self.questions) - len(answered)} questions whose practices "
            "the design does not show"
        )
        lines.append(
            "questions a person already answered: "
            + (
                "lenswise's choices are added (never unselecting one) and its own block of notes "
                "is replaced or added, the person's text kept as written (--overwrite)"
                if self.overwrite
                else "kept as they are (add --overwrite to add lenswise's answer)"
            )
        )
        lines.append(f'then a milestone: "{self.milestone}"')
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Return the plan as JSON-ready data."""
        return {
            "dry_run": True,
            "file": self.review.architecture.file,
            "workload": self.workload,
            "lenses": list(self.lenses),
            "overwrite": self.overwrite,
            "milestone": self.milestone,
            "questions": [
                {
                    "question_id": q.question_id,
                    "title": q.title,
                    "answered": q.answered,
                    "select": [f.bp_id for f in q.selected],
                    "findings": {f.bp_id: f.status for f in q.findings},
                    "notes": q.notes,
                }
                for q in self.questions
            ],
        }


def default_workload(review: Review) -> str:
    """Name a new workload after the reviewed file."""
    return flat(f"lenswise {Path(review.architecture.file).name}", NAME_LIMITS[1])


def check_workload(workload: str) -> str:
    """Return a usable workload name or id (InputError otherwise)."""
    value = " ".join(check_text(workload, "the workload").split())
    low, high = NAME_LIMITS
    if not WORKLOAD_ID.match(value) and not low <= len(value) <= high:
        raise InputError(
            f"the workload must be a workload id (32 hex characters) or a name of {low}-{high} "
            f"characters, not {workload!r}"
        )
    return value


def check_review_owner(owner: str) -> str:
    """Return a usable review owner of a new workload (InputError otherwise)."""
    value = check_text(owner, "the review owner")
    low, high = OWNER_LIMITS
    if not low <= len(value) <= high:
        raise InputError(
            f"the review owner must be {low}-{high} characters (a name or an email address), "
            f"not {owner!r}"
        )
    return value


def plan_export(
    review: Review,
    practices: Mapping[str, Document],
    workload: str | None = None,
    *,
    overwrite: bool = False,
    now: datetime | None = None,
) -> ExportPlan:
    """Plan the export of ``review``: findings grouped by their lens question, with notes.

    Args:
        review: the lens review to export.
        practices: best-practice documents by id (question ids and titles).
        workload: workload name or id; defaults to a name made from the file name.
        overwrite: also update questions a person already answered.
        now: the time stamped on notes and the milestone (default: now, UTC).

    Raises:
        InputError: the workload name or id is unusable.
    """
    date = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    plan = ExportPlan(
        review,
        check_workload(workload) if workload else default_workload(review),
        date,
        overwrite,
    )
    groups: dict[str, QuestionPlan] = {}
    for finding in review.findings:
        doc = practices.get(finding.bp_id)
        qid = (doc.question_id if doc else None) or finding.bp_id.split("-")[0]
        title = (doc.question_title if doc else None) or qid
        groups.setdefault(qid, QuestionPlan(qid, title, [])).findings.append(finding)
    for question in groups.values():
        if question.answered:
            question.notes = plan.notes_for(question.findings)
    plan.questions = list(groups.values())
    return plan
