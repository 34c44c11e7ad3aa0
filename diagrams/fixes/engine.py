"""Plan, apply and verify the fixes for a review's gaps.

A fix is offered as a patch only when, applied alone to a copy of the file, its gap becomes
``addressed``, no other practice goes from ``addressed`` to ``gap``, cfn-lint reports no new
error and checkov no new failed check. Anything else is described as steps, with the reason.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import InputError
from corpus.models import Document as LensDocument
from diagrams.contracts import FixJSON
from diagrams.fixes import cfn_patch, checks, diagram, tf_patch
from diagrams.fixes.library import FORMATS, remedies
from diagrams.parse import parse_bytes
from diagrams.review import Review, review_architecture


def alternatives(entry: Any) -> list[dict]:
    """Return the remedies of a practice in the order to try them (one entry or a list)."""
    if entry is None:
        return []
    return list(entry) if isinstance(entry, list) else [entry]


def _apply(fmt: str, text: str, remedy: dict, callers: list[str]) -> cfn_patch.Patch:
    """Apply ``remedy`` to ``text`` in format ``fmt``; raise Unpatchable when it cannot."""
    if fmt == "terraform":
        return tf_patch.apply_terraform(text, remedy, callers)
    doc = cfn_patch.Document(text)
    return cfn_patch.apply_remedy(doc, remedy, cfn_patch.model_callers(doc, callers))


@dataclass
class Fix:
    """The fix for one gap: a verified patch, or steps with the reason there is no patch."""

    bp_id: str
    verified: bool
    steps: str
    diff: str = ""
    closes: list[str] = field(default_factory=list)
    """Bp ids this patch turns from ``gap`` to ``addressed``."""
    params: list[str] = field(default_factory=list)
    """Parameters the patch adds: facts the team must supply."""
    resources: list[str] = field(default_factory=list)
    """Logical ids the patch adds or edits."""
    notes: str = ""
    patched: str = ""

    def to_dict(self) -> FixJSON:
        """Return the ``fix`` object of a finding in ``review --json``."""
        return {
            "verified": self.verified,
            "diff": self.diff,
            "closes": list(self.closes),
            "params": list(self.params),
            "resources": list(self.resources),
            "notes": self.notes if self.verified else f"{self.notes} {self.steps}".strip(),
        }


@dataclass
class FixPlan:
    """Every gap's fix plus the file with all verified fixes applied."""

    filename: str
    original: str
    fixes: dict[str, Fix]
    patched: str
    closed: list[str] = field(default_factory=list)
    """Bp ids that are gaps in the original and addressed once every verified fix is applied."""

    def diff(self) -> str:
        """Return one unified diff of all verified fixes."""
        return unified_diff(self.original, self.patched, self.filename)


def unified_diff(before: str, after: str, filename: str) -> str:
    """Return the unified diff from ``before`` to ``after`` for ``filename``."""
    name = Path(filename).name
    lines = difflib.unified_diff(
        before.splitlines(True), after.splitlines(True), f"a/{name}", f"b/{name}"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _statuses(review: Review) -> dict[str, str]:
    return {f.bp_id: f.status for f in review.findings}


def _callers(review: Review, evidence: list[str]) -> list[str]:
    arch = review.architecture
    models = {c.id for c in arch.components if c.id in evidence}
    return [e.source for e in arch.edges if e.target in models] + list(evidence)


class _Verifier:
    """Re-reviews and lints patched copies of one file."""

    def __init__(self, text: str, filename: str, review: Review, practices: Mapping) -> None:
        self.text, self.filename, self.practices = text, filename, practices
        self.format = review.architecture.format
        self.before = _statuses(review)
        self.lint_before = checks.cfn_lint_errors(text) if self.format == "cloudformation" else None

    def review(self, text: str) -> dict[str, str]:
        arch = parse_bytes(text.encode("utf-8"), self.filename)
        return _statuses(review_architecture(arch, self.practices))

    def refusal(self, bp_id: str, text: str, lint: bool = True) -> tuple[str | None, list[str]]:
        """Return (why the patch is refused or None, the practices it closes).

        With ``lint=False`` only the re-review is checked (cfn-lint runs later, once on all
        fixes together, see :func:`_screen`).
        """
        try:
            after = self.review(text)
        except InputError as exc:
            return f"the patched file no longer parses ({exc})", []
        if after.get(bp_id) != "addressed":
            return f"re-reviewed, {bp_id} is still {after.get(bp_id)}", []
        broken = [b for b, s in self.before.items() if s == "addressed" and after.get(b) == "gap"]
        if broken:
            return f"the patch would turn {', '.join(broken)} into a gap", []
        why = self.lint_refusal(text) if lint else None
        if why:
            return why, []
        closes = [b for b, s in self.before.items() if s == "gap" and after.get(b) == "addressed"]
        return None, closes

    def lint_refusal(self, text: str) -> str | None:
        """Return why cfn-lint refuses ``text`` (a new error), or None."""
        if self.lint_before is None:
            return None
        new_errors = checks.cfn_lint_errors(text) - self.lint_before
        if not new_errors:
            return None
        return f"cfn-lint reports a new error: {next(iter(new_errors))[:160]}"


def plan_fixes(
    text: str, filename: str, review: Review, practices: Mapping[str, LensDocument]
) -> FixPlan:
    """Return a fix for every gap of ``review`` (the review of ``text``, read from ``filename``)."""
    gaps = review.by_risk("gap")
    plan = FixPlan(filename, text, {}, text)
    fmt = review.architecture.format
    if fmt in ("mermaid", "drawio"):
        _diagram_fixes(plan, review, practices)
        return plan
    if fmt not in FORMATS:
        reason = (
            "lenswise patches CloudFormation, SAM and Terraform files; for this format the "
            "change is described only"
        )
        for finding in gaps:
            plan.fixes[finding.bp_id] = _steps(finding.bp_id, reason)
        return plan
    try:
        if fmt == "cloudformation":
            cfn_patch.Document(text)
    except cfn_patch.Unpatchable as exc:
        for finding in gaps:
            remedy = next(iter(alternatives(remedies(fmt).get(finding.bp_id))), None)
            plan.fixes[finding.bp_id] = _steps(finding.bp_id, str(exc), remedy)
        return plan
    verifier = _Verifier(text, filename, review, practices)
    first = [(f, alternatives(remedies(fmt).get(f.bp_id))[:1]) for f in gaps]
    guess = _combined(text, [(f.bp_id, r[0]) for f, r in first if r], review, verifier)
    scan = checks.start_scan([text, guess], _suffix(text, filename)) if guess else None
    candidates: list[tuple[Fix, dict]] = []
    done: dict[int, Fix] = {}
    for finding in gaps:
        choices = alternatives(remedies(fmt).get(finding.bp_id))
        if not choices:
            plan.fixes[finding.bp_id] = _steps(finding.bp_id, "lenswise has no fix template for it")
            continue
        for remedy in choices:
            if id(remedy) not in done:
                callers = _callers(review, finding.evidence)
                done[id(remedy)] = _try(finding.bp_id, remedy, text, callers, verifier)
                if done[id(remedy)].verified:
                    candidates.append((done[id(remedy)], remedy))
            fix = done[id(remedy)]
            if fix.verified and finding.bp_id in fix.closes:
                break
        else:
            failed = [done[id(r)] for r in choices if not done[id(r)].verified]
            reason = f"re-reviewed, {finding.bp_id} stays open"
            fix = failed[0] if failed else _steps(finding.bp_id, reason, choices[-1])
        plan.fixes[finding.bp_id] = fix
    _screen(plan, candidates, review, verifier, (guess, scan) if scan else None)
    return plan


def _diagram_fixes(plan: FixPlan, review: Review, practices: Mapping) -> None:
    """Name the component to add and where; for Mermaid, patch and re-review the text."""
    verifier = None
    for finding in review.by_risk("gap"):
        if finding.bp_id not in diagram.placements():
            plan.fixes[finding.bp_id] = _steps(finding.bp_id, "lenswise has no fix template for it")
            continue
        arch = review.architecture
        said = diagram.steps(arch, finding.bp_id, finding.evidence)
        patched = None
        if arch.format == "mermaid":
            patched = diagram.patch_mermaid(plan.original, arch, finding.bp_id, finding.evidence)
        if patched is None:
            plan.fixes[finding.bp_id] = Fix(finding.bp_id, False, said)
            continue
        verifier = verifier or _Verifier(plan.original, plan.filename, review, practices)
        why, closes = verifier.refusal(finding.bp_id, patched)
        if why:
            plan.fixes[finding.bp_id] = Fix(
                finding.bp_id, False, f"{said} Not offered as a patch: {why}."
            )
            continue
        diff = unified_diff(plan.original, patched, plan.filename)
        plan.fixes[finding.bp_id] = Fix(
            finding.bp_id, True, said, diff, closes, [], [], said, patched
        )
        combined = diagram.patch_mermaid(plan.patched, arch, finding.bp_id, finding.evidence)
        plan.patched = combined or plan.patched
    if verifier and plan.patched != plan.original:
        after = verifier.review(plan.patched)
        before = verifier.before
        plan.closed = [b for b, s in before.items() if s == "gap" and after[b] == "addressed"]


def _steps(bp_id: str, reason: str, remedy: dict | None = None) -> Fix:
    described = str((remedy or {}).get("steps", "")).strip()
    return Fix(bp_id, False, f"{described} Not offered as a patch: {reason}.".strip())


def _try(bp_id: str, remedy: dict, text: str, callers: list[str], verifier: _Verifier) -> Fix:
    try:
        patch = _apply(verifier.format, text, remedy, callers)
    except cfn_patch.Unpatchable as exc:
        return _steps(bp_id, str(exc), remedy)
    why, closes = verifier.refusal(bp_id, patch.text, lint=False)
    if why:
        return _steps(bp_id, why, remedy)
    return Fix(
        bp_id,
        True,
        str(remedy.get("steps", "")).strip(),
        unified_diff(text, patch.text, verifier.filename),
        closes,
        patch.params,
        patch.added + patch.changed,
        str(remedy.get("notes", "")).strip(),
        patch.text,
    )


def _suffix(text: str, filename: str) -> str:
    if filename.endswith(".tf"):
        return ".tf"
    return ".json" if text.lstrip().startswith("{") else ".yaml"


def _scan(texts: list[str], suffix: str) -> list[Counter[str]]:
    found = checks.checkov_failures(texts, suffix)
    if found is None:
        raise InputError(
            "checkov is not installed: run `make tools` (or set LENSWISE_CHECKOV) to verify fixes"
        )
    return found


def _screen(
    plan: FixPlan,
    candidates: list[tuple[Fix, dict]],
    review: Review,
    verifier: _Verifier,
    early: tuple[str, checks.Scan] | None = None,
) -> None:
    """Run cfn-lint and checkov on every candidate fix; keep the clean ones, then combine them.

    Both checkers first see the file with all candidates applied at once: one checkov run,
    whose start-up dominates, usually started early on a guess of that file (``early``: the
    file with each gap's first remedy applied) while the fixes were re-reviewed. Only when
    that shows a new error or failed check is each candidate checked alone.
    """
    guess, scan = early or ("", None)
    if not candidates:
        if scan:
            scan.cancel()
        return
    suffix = _suffix(plan.original, plan.filename)
    combined = _combined(plan.original, [(f.bp_id, r) for f, r in candidates], review, verifier)
    if scan and combined != guess:
        scan.cancel()
    found = scan.result() if scan and combined == guess else None
    before, after = found or _scan([plan.original, combined], suffix)
    if not verifier.lint_refusal(combined) and not after - before:
        _combine(plan, combined, verifier)
        return
    kept = []
    for fix, remedy in candidates:
        why = verifier.lint_refusal(fix.patched)
        if why:
            _refuse(fix, why)
        else:
            kept.append((fix, remedy))
    scans = _scan([plan.original] + [fix.patched for fix, _ in kept], suffix) if kept else [before]
    candidates = []
    for (fix, remedy), failures in zip(kept, scans[1:], strict=True):
        new = failures - scans[0]
        if new:
            _refuse(fix, f"checkov reports {next(iter(new))}")
        else:
            candidates.append((fix, remedy))
    if candidates:
        pairs = [(f.bp_id, r) for f, r in candidates]
        _combine(plan, _combined(plan.original, pairs, review, verifier), verifier)


def _refuse(fix: Fix, why: str) -> None:
    fix.verified, fix.diff = False, ""
    fix.steps += f" Not offered as a patch: {why}."


def _combined(
    text: str, remedies_: list[tuple[str, dict]], review: Review, verifier: _Verifier
) -> str:
    """Return ``text`` with the remedies applied one after the other (each for its gap's bp id).

    Remedies shared by several gaps are applied once; one that cannot be applied is left out
    (only the early guess meets those: candidates applied alone before).
    """
    doc = cfn_patch.Document(text) if verifier.format == "cloudformation" else None
    seen: set[int] = set()
    for bp_id, remedy in remedies_:
        if id(remedy) in seen:
            continue
        seen.add(id(remedy))
        evidence = next(f.evidence for f in review.findings if f.bp_id == bp_id)
        callers = _callers(review, evidence)
        try:
            if doc is None:
                text = _apply(verifier.format, text, remedy, callers).text
            else:  # one document, written once
                callers = cfn_patch.model_callers(doc, callers)
                cfn_patch.apply_remedy(doc, remedy, callers, dump=False)
        except cfn_patch.Unpatchable:
            continue
    return text if doc is None else doc.dump()


def _combine(plan: FixPlan, combined: str, verifier: _Verifier) -> None:
    """Make ``combined`` (every verified fix applied at once) the patched file."""
    plan.patched = combined
    after = verifier.review(plan.patched)
    plan.closed = [b for b, s in verifier.before.items() if s == "gap" and after[b] == "addressed"]


def lint_counts(text: str) -> Counter[str]:
    """Return cfn-lint's errors for ``text`` (for figures)."""
    return checks.cfn_lint_errors(text)
