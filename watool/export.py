"""Carry out an export plan against the Well-Architected Tool and report exactly what changed.

Steps: find or create the workload, associate the Generative AI Lens next to the Framework
lens, read the lens's questions and choices (``ListAnswers``), match every practice to its
choice, then for each question the design says something about: read the current answer
(``GetAnswer``), keep it if a person already answered (unless overwriting), else
``UpdateAnswer`` with the addressed choices selected and lenswise's notes; finally a
milestone. A failure stops the export and the result still lists what was written.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from typing import Any

from agent.config import Settings
from corpus.errors import InputError, LenswiseError
from watool.client import WaTool, WaToolError
from watool.match import Choice, Match, choices_of, match_practice
from watool.notes import find_block, merge, persons_text
from watool.plan import GENAI_LENS, ExportPlan, check_review_owner

DESCRIPTION = "Generative AI workload reviewed by lenswise against the Generative AI Lens"


@dataclass
class Written:
    """One question lenswise answered."""

    question_id: str
    title: str
    selected: list[str]
    """Best practices whose choices are now selected because the design shows them."""
    notes_chars: int
    merged: bool = False
    """True when a person's earlier answer was kept and lenswise's added to it."""


@dataclass
class HeldChoice:
    """Choices lenswise did not add because a person chose "None of these" on the question."""

    question_id: str
    bp_ids: list[str]


@dataclass
class Kept:
    """A question left as it was, and why."""

    question_id: str
    title: str
    reason: str


@dataclass
class ExportResult:
    """What an export did: the workload, each question written or kept, what did not match."""

    plan: ExportPlan
    region: str = ""
    workload_id: str = ""
    workload_name: str = ""
    created: bool = False
    associated: list[str] = field(default_factory=list)
    """Lenses associated by this export (empty when they already were)."""
    lens_version: str = ""
    written: list[Written] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    held: list[HeldChoice] = field(default_factory=list)
    """Questions where a person's "None of these" stayed selected over lenswise's choices."""
    unanswered: list[str] = field(default_factory=list)
    """Questions left untouched because the design shows nothing about their practices."""
    unmatched: list[Match] = field(default_factory=list)
    milestone: int | None = None
    milestone_name: str = ""
    error: str | None = None
    maybe_written: bool = False
    """The call that failed was a write whose outcome is unknown (it may have been applied)."""

    def render(self) -> str:
        """Return the report printed after an export (partial or not)."""
        made = "created" if self.created else "existing"
        head = f'workload "{self.workload_name}" ({made}, id {self.workload_id or "none"})'
        lines = [f"Well-Architected Tool export ({self.region or 'no Region'}): {head}"]
        if self.associated:
            lines.append(f"associated lenses: {', '.join(self.associated)}")
        if self.lens_version:
            lines.append(f"Generative AI Lens version {self.lens_version}")
        lines.append(f"answered {len(self.written)} questions:")
        for w in self.written:
            chosen = ", ".join(w.selected) or "no choice (gaps only)"
            extra = " (added to a person's answer)" if w.merged else ""
            lines.append(
                f"  {w.question_id} {w.title[:70]}: selected {chosen}; notes {w.notes_chars} "
                f"characters{extra}"
            )
        for k in self.kept:
            lines.append(f"  kept {k.question_id} {k.title[:70]}: {k.reason}")
        for h in self.held:
            lines.append(
                f'  {h.question_id}: a person chose "None of these", which stays; lenswise '
                f"did not select {', '.join(h.bp_ids)} (the design shows them; see the notes)"
            )
        if self.unanswered:
            lines.append(
                f"left unanswered: {len(self.unanswered)} questions whose practices the design "
                "does not show"
            )
        version = f" (lens version {self.lens_version})" if self.lens_version else ""
        for m in self.unmatched:
            lines.append(f"not exported {m.bp_id}: {m.how}{version}")
        if self.milestone is not None:
            lines.append(f'milestone {self.milestone}: "{self.milestone_name}"')
        if self.error:
            lines.append(
                f"partial export: stopped by an error after writing {len(self.written)} "
                "questions (listed above); no milestone recorded"
                if self.written
                else "nothing else was written: the export stopped at its first error"
                if self.maybe_written
                else "nothing was written: the export stopped at its first error"
            )
            if self.maybe_written:
                lines.append(
                    "the call that failed may have been written all the same: check the "
                    "workload before running the export again"
                )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready data."""
        return {
            "dry_run": False,
            "region": self.region,
            "workload_id": self.workload_id,
            "workload_name": self.workload_name,
            "created": self.created,
            "associated": self.associated,
            "lens_version": self.lens_version,
            "written": [vars(w) for w in self.written],
            "kept": [vars(k) for k in self.kept],
            "held": [vars(h) for h in self.held],
            "unanswered": self.unanswered,
            "unmatched": [{"bp_id": m.bp_id, "reason": m.how} for m in self.unmatched],
            "milestone": self.milestone,
            "milestone_name": self.milestone_name,
            "error": self.error,
            "maybe_written": self.maybe_written,
        }


class WaExportError(LenswiseError):
    """The export stopped; ``result`` says what was written before it did."""

    def __init__(self, message: str, result: ExportResult) -> None:
        super().__init__(message)
        self.result = result


def _find_by_name(tool: WaTool, name: str) -> dict[str, Any] | None:
    for summary in tool.pages(
        "ListWorkloads", "WorkloadSummaries", WorkloadNamePrefix=name, MaxResults=50
    ):
        if summary.get("WorkloadName", "").casefold() == name.casefold():
            return summary
    return None


def _workload(tool: WaTool, plan: ExportPlan, result: ExportResult, owner: str) -> None:
    """Find the plan's workload (or create it) and associate the lenses it lacks."""
    if plan.by_id:
        try:
            found = tool.call("GetWorkload", WorkloadId=plan.workload)["Workload"]
        except WaToolError as exc:
            if getattr(exc, "code", "") == "ResourceNotFoundException":
                raise InputError(f"no workload with id {plan.workload} in {tool.region}") from exc
            raise
    else:
        found = _find_by_name(tool, plan.workload)
    if not found:
        created = tool.call(
            "CreateWorkload",
            WorkloadName=plan.workload,
            Description=f"{DESCRIPTION}: {plan.review.architecture.file}"[:250],
            Environment="PREPRODUCTION",
            AwsRegions=[tool.region],
            ReviewOwner=owner,
            Lenses=list(plan.lenses),
        )
        result.workload_id, result.workload_name, result.created = (
            created["WorkloadId"],
            plan.workload,
            True,
        )
        return
    result.workload_id, result.workload_name = found["WorkloadId"], found["WorkloadName"]
    have = {_alias(lens) for lens in found.get("Lenses", [])}
    missing = [lens for lens in plan.lenses if _alias(lens) not in have]
    if missing:
        tool.call("AssociateLenses", WorkloadId=result.workload_id, LensAliases=missing)
        result.associated = missing


def _alias(lens: str) -> str:
    """Reduce a lens ARN (``arn:aws:wellarchitected::aws:lens/genai``) to its alias."""
    return lens.rsplit("lens/", 1)[-1].lower()


def _answered_by(answer: dict[str, Any]) -> str | None:
    """Say who already answered a question, or None when it is unanswered."""
    notes = answer.get("Notes") or ""
    if not (answer.get("SelectedChoices") or notes or answer.get("IsApplicable") is False):
        return None
    only_ours = find_block(notes) is not None and not persons_text(notes).strip()
    return "answered by an earlier lenswise export" if only_ours else "answered"


def _write(tool: WaTool, result: ExportResult, question: list[Choice], findings: list) -> None:
    plan, first = result.plan, question[0]
    keys = {"WorkloadId": result.workload_id, "LensAlias": GENAI_LENS}
    current = tool.call("GetAnswer", **keys, QuestionId=first.question_id)["Answer"]
    by = _answered_by(current)
    notes = plan.notes_for(findings)
    addressed = [(c, f) for c, f in zip(question, findings, strict=True) if f.status == "addressed"]
    selected = list(dict.fromkeys(c.choice_id for c, _ in addressed))
    if by and not plan.overwrite:
        result.kept.append(
            Kept(first.question_id, first.question_title, f"{by}; --overwrite adds lenswise's")
        )
        return
    if by:
        notes = merge(current.get("Notes") or "", notes)
        if notes is None:
            result.kept.append(
                Kept(first.question_id, first.question_title, "its notes leave no room")
            )
            return
        none_ids = {c["ChoiceId"] for c in current.get("Choices", []) if _is_none(c)}
        earlier = list(current.get("SelectedChoices", []))
        if none_ids & set(earlier):  # a person's "None of these" excludes every other choice
            held = [f.bp_id for _, f in addressed]
            selected, addressed = earlier, []
            if held:
                result.held.append(HeldChoice(first.question_id, held))
        else:
            selected = list(dict.fromkeys([*earlier, *selected]))
    tool.call(
        "UpdateAnswer", **keys, QuestionId=first.question_id, SelectedChoices=selected, Notes=notes
    )
    chosen = [f.bp_id for _, f in addressed]
    result.written.append(
        Written(first.question_id, first.question_title, chosen, len(notes), merged=bool(by))
    )


def _is_none(raw: dict[str, Any]) -> bool:
    return Choice("", "", "", raw.get("ChoiceId", ""), raw.get("Title", ""), frozenset()).is_none


def _answer(tool: WaTool, result: ExportResult) -> None:
    """Match every finding to its choice, then write each question the design informs."""
    keys = {"WorkloadId": result.workload_id, "LensAlias": GENAI_LENS}
    review = tool.call("GetLensReview", **keys).get("LensReview", {})
    result.lens_version = review.get("LensVersion", "")
    answers = list(tool.pages("ListAnswers", "AnswerSummaries", **keys, MaxResults=50))
    choices = choices_of(answers)
    per_question: dict[str, list[tuple[Choice, Any]]] = {a["QuestionId"]: [] for a in answers}
    for question in result.plan.questions:
        for finding in question.findings:
            match = match_practice(finding.bp_id, finding.title, finding.url, choices)
            if match.choice is None:
                result.unmatched.append(match)
                continue
            per_question[match.choice.question_id].append((match.choice, finding))
    for question_id, pairs in per_question.items():
        if not any(f.status in ("addressed", "gap") for _, f in pairs):
            result.unanswered.append(question_id)
            continue
        _write(tool, result, [c for c, _ in pairs], [f for _, f in pairs])


def _milestone(tool: WaTool, result: ExportResult, tries: int = 5) -> None:
    """Record a milestone; a name already taken (two exports in a minute) gets a number."""
    for attempt in range(1, tries + 1):
        name = result.plan.milestone if attempt == 1 else f"{result.plan.milestone[:95]} #{attempt}"
        try:
            made = tool.call("CreateMilestone", WorkloadId=result.workload_id, MilestoneName=name)
        except WaToolError as exc:
            if getattr(exc, "code", "") != "ConflictException" or attempt == tries:
                raise
            continue
        result.milestone, result.milestone_name = made.get("MilestoneNumber"), name
        return


def export_review(
    plan: ExportPlan,
    settings: Settings,
    *,
    tool: WaTool | None = None,
    review_owner: str | None = None,
) -> ExportResult:
    """Write ``plan`` to the Well-Architected Tool and return what was done.

    Args:
        plan: from :func:`watool.plan.plan_export`.
        settings: Region (``LENSWISE_REGION``) and the rest of the configuration.
        tool: an already configured :class:`WaTool` (default: one from the AWS chain).
        review_owner: ``ReviewOwner`` of a created workload (default: the local user name).

    Raises:
        InputError: the review owner is unusable, or the workload id does not exist.
        WaExportError: a call failed; its ``result`` lists what was written before.
    """
    owner = getpass.getuser() if review_owner is None else check_review_owner(review_owner)
    result = ExportResult(plan, workload_name=plan.workload)
    try:
        tool = tool or WaTool(settings)
        result.region = tool.region
        _workload(tool, plan, result, owner if len(owner) >= 3 else "lenswise")
        _answer(tool, result)
        if result.written:
            _milestone(tool, result)
    except WaToolError as exc:
        result.error = str(exc)
        result.maybe_written = bool(getattr(exc, "maybe_written", False))
        raise WaExportError(str(exc), result) from exc
    return result
