"""Plan, apply and verify the fixes for a review's gaps.

A fix is offered as a patch only when, applied alone to a copy of the file, its gap becomes
``addressed``, no other practice goes from ``addressed`` to ``gap``, cfn-lint reports no new
error and checkov no new failed check, and the same holds for the file with every offered fix
applied. Anything else is described as steps, with the reason. The checks run on all fixes
together first (one cfn-lint and one checkov run); single fixes are checked only when that
combination fails.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Mapping
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
    callers: list[str] = field(default_factory=list)
    """Component ids the patch was made for: combined with the other fixes, it is made again."""

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


@dataclass
class Rereview:
    """A patched copy reviewed again, judged separately for each gap it is offered for.

    A remedy shared by several practices is applied and re-reviewed once, but a patch that
    leaves one of them open may close the next, so each gap asks :meth:`refusal` with its own
    bp id instead of reusing the first gap's verdict.
    """

    after: dict[str, str]
    """The practices' statuses in the patched copy (empty when it no longer parses)."""
    spoiled: str | None
    """Why the copy is refused whatever gap it is for (unparsable, a practice lost), or None."""
    closes: list[str]
    """Bp ids that are gaps in the original and addressed in the copy."""

    def refusal(self, bp_id: str) -> str | None:
        """Return why the copy is refused as the fix of ``bp_id``, or None."""
        if self.spoiled and not self.after:
            return self.spoiled
        if self.after.get(bp_id) != "addressed":
            return f"re-reviewed, {bp_id} is still {self.after.get(bp_id)}"
        return self.spoiled


class _Verifier:
    """Re-reviews, lints and scans patched copies of one file."""

    def __init__(self, text: str, filename: str, review: Review, practices: Mapping) -> None:
        self.text, self.filename, self.practices = text, filename, practices
        self.format = review.architecture.format
        self.before = _statuses(review)
        self._lint_before: Counter[str] | None = None
        self._reviews: dict[str, dict[str, str]] = {}
        self._rereviews: dict[str, Rereview] = {}

    def review(self, text: str) -> dict[str, str]:
        """Return the statuses of the practices in ``text`` (the combined file: once)."""
        if text not in self._reviews:
            arch = parse_bytes(text.encode("utf-8"), self.filename)
            self._reviews = {text: _statuses(review_architecture(arch, self.practices))}
        return self._reviews[text]

    def rereview(self, text: str) -> Rereview:
        """Return the re-review of the patched ``text``, to judge for each gap it may close.

        Two remedies (or one for two gaps' callers) that make the same copy share its
        re-review. cfn-lint and checkov run later, on all fixes together (see :func:`_screen`).
        """
        if text in self._rereviews:
            return self._rereviews[text]
        try:
            after = self.review(text)
        except InputError as exc:
            checked = Rereview({}, f"the patched file no longer parses ({exc})", [])
        else:
            closes = [
                b for b, s in self.before.items() if s == "gap" and after.get(b) == "addressed"
            ]
            checked = Rereview(after, self.broken(after), closes)
        self._rereviews[text] = checked
        return checked

    def broken(self, after: Mapping[str, str]) -> str | None:
        """Return why the statuses ``after`` are refused (a practice lost), or None."""
        broken = [b for b, s in self.before.items() if s == "addressed" and after.get(b) == "gap"]
        return f"the patch would turn {', '.join(broken)} into a gap" if broken else None

    def lint_refusal(self, text: str) -> str | None:
        """Return why cfn-lint refuses ``text`` (a new error), or None.

        The original file is linted only when ``text`` has errors at all: a patched file
        without any has no new one, and most templates lint clean.
        """
        if self.format != "cloudformation":
            return None
        errors = checks.cfn_lint_errors(text)
        if not errors:
            return None
        if self._lint_before is None:
            self._lint_before = checks.cfn_lint_errors(self.text)
        new_errors = errors - self._lint_before
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
    checks.warm()  # checkov imports itself beside the re-reviews
    verifier = _Verifier(text, filename, review, practices)
    candidates = _candidates(plan, gaps, review, verifier)
    _screen(plan, candidates, verifier)
    return plan


def _candidates(plan: FixPlan, gaps: list, review: Review, verifier: _Verifier) -> list:
    """Apply each gap's remedies alone and re-review; return the (fix, remedy) that pass.

    Every gap gets its entry in ``plan.fixes``: the first remedy that closes it, or steps. A
    remedy offered for several gaps is judged for each: a patch made for an earlier gap is
    reused when it closes this one too, else the remedy is applied with this gap's own
    callers (tracing of the model's callers leaves an untraced workflow untraced). The
    verified fix is made once per patch, for the first gap it closes.
    """
    fmt = verifier.format
    candidates: list[tuple[Fix, dict]] = []
    trials: dict[int, list[_Trial]] = {}
    for finding in gaps:
        bp_id = finding.bp_id
        choices = alternatives(remedies(fmt).get(bp_id))
        if not choices:
            plan.fixes[bp_id] = _steps(bp_id, "lenswise has no fix template for it")
            continue
        callers = _callers(review, finding.evidence)
        refused: list[Fix] = []
        for remedy in choices:
            tried = trials.setdefault(id(remedy), [])
            if not any(t.callers == callers or t.refusal(bp_id) is None for t in tried):
                tried.append(_Trial.run(remedy, plan.original, callers, verifier))
            trial = next((t for t in tried if t.refusal(bp_id) is None), None)
            if trial is None:
                why = next(t for t in tried if t.callers == callers).refusal(bp_id)
                refused.append(_steps(bp_id, str(why), remedy))
                continue
            if trial.fix is None:
                trial.fix = trial.verified(bp_id, plan.original, verifier.filename)
                candidates.append((trial.fix, remedy))
            plan.fixes[bp_id] = trial.fix
            break
        else:
            plan.fixes[bp_id] = refused[0]
    return candidates


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
        checked = verifier.rereview(patched)
        why, closes = checked.refusal(finding.bp_id), checked.closes
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


@dataclass
class _Trial:
    """One remedy applied alone to the original file and re-reviewed, shared by its gaps."""

    remedy: dict
    callers: list[str]
    """The component ids the remedy was applied for (a gap's evidence and what calls it)."""
    patch: cfn_patch.Patch | None
    """None when the remedy cannot be applied to this file."""
    checked: Rereview
    fix: Fix | None = None
    """The verified fix, made for the first gap the patch closes."""

    @classmethod
    def run(cls, remedy: dict, text: str, callers: list[str], verifier: _Verifier) -> _Trial:
        """Apply ``remedy`` to ``text`` for ``callers`` and re-review the copy."""
        try:
            patch = _apply(verifier.format, text, remedy, callers)
        except cfn_patch.Unpatchable as exc:
            return cls(remedy, callers, None, Rereview({}, str(exc), []))
        return cls(remedy, callers, patch, verifier.rereview(patch.text))

    def refusal(self, bp_id: str) -> str | None:
        """Return why the patch is refused as the fix of ``bp_id``, or None."""
        return self.checked.refusal(bp_id)

    def verified(self, bp_id: str, text: str, filename: str) -> Fix:
        """Return the fix offered for ``bp_id`` (until cfn-lint or checkov refuse it)."""
        assert self.patch is not None  # refusal() refuses a remedy that did not apply
        return Fix(
            bp_id,
            True,
            str(self.remedy.get("steps", "")).strip(),
            unified_diff(text, self.patch.text, filename),
            self.checked.closes,
            self.patch.params,
            self.patch.added + self.patch.changed,
            str(self.remedy.get("notes", "")).strip(),
            self.patch.text,
            self.callers,
        )


def _suffix(text: str, filename: str) -> str:
    if filename.endswith(".tf"):
        return ".tf"
    return ".json" if text.lstrip().startswith("{") else ".yaml"


def _start(texts: list[str], suffix: str) -> checks.Scan:
    """Start checkov on ``texts``; read the result with :func:`_results`."""
    scan = checks.scan(texts, suffix)
    if scan is None:
        raise InputError(_NO_CHECKOV)
    return scan


def _results(scan: checks.Scan) -> list[Counter[str]]:
    found = scan.result()
    if found is None:
        raise InputError(_NO_CHECKOV)
    return found


def _scan(texts: list[str], suffix: str) -> list[Counter[str]]:
    return _results(_start(texts, suffix))


_NO_CHECKOV = (
    "checkov is not installed or did not run: run `make tools` (or set LENSWISE_CHECKOV) to "
    "verify fixes"
)


Candidate = tuple[Fix, dict]
"""A fix that passed its re-review alone, and the remedy it applies."""


def _screen(
    plan: FixPlan,
    candidates: list[Candidate],
    verifier: _Verifier,
) -> None:
    """Check the re-reviewed candidates together; keep the clean ones, combined, as the patch.

    The file with every candidate applied is re-reviewed, linted and scanned first: one
    cfn-lint run and one checkov scan (its worker started early) instead of one per fix. Only when
    that combination fails is each candidate linted and scanned alone, and the ones clean
    alone are combined one at a time, each addition re-reviewed and linted again; checkov
    then scans that combination. A fix that fails only beside the others is refused with
    that reason, so the combined patch never carries a new error.
    """
    if not candidates:
        return
    suffix = _suffix(plan.original, plan.filename)
    try:
        combined: str | None = _combined(plan.original, candidates, verifier)
    except cfn_patch.Unpatchable:
        combined = None
    started = _start([plan.original, *([combined] if combined else [])], suffix)

    def new_failures() -> Counter[str]:
        scans = _results(started)
        return scans[1] - scans[0] if combined is not None else Counter()

    # re-review and cfn-lint run while checkov scans; its result is awaited last
    if combined is not None and not _together(combined, verifier, new_failures):
        _combine(plan, combined, verifier)
        return
    before, new = _results(started)[0], new_failures()
    clean = _screen_alone(plan, candidates, verifier, before, new, suffix)
    accepted, combined, refused = _greedy(plan, clean, verifier, lambda _: Counter())
    if _scan([combined], suffix)[0] - before:  # checkov fails it only in combination

        def scan_each(text: str) -> Counter[str]:
            return _scan([text], suffix)[0] - before

        accepted, combined, refused = _greedy(plan, clean, verifier, scan_each)
    for fix, why in refused:
        _refuse(fix, f"with the other fixes applied, {why}")
    if accepted:
        _combine(plan, combined, verifier)


def _screen_alone(
    plan: FixPlan,
    candidates: list[Candidate],
    verifier: _Verifier,
    before: Counter[str],
    failed: Counter[str],
    suffix: str,
) -> list[Candidate]:
    """Lint and scan each candidate's own patched file; refuse those with a new finding.

    The same checkov run also scans a guess of the clean combination: every candidate but
    those cfn-lint refused and those whose resources the combination's new failed checks
    (``failed``) name. When the guess is right, :func:`_screen` finds its result cached.
    """
    kept = []
    for fix, remedy in candidates:
        why = verifier.lint_refusal(fix.patched)
        if why:
            _refuse(fix, why)
        else:
            kept.append((fix, remedy))
    if not kept:
        return []
    named = {key.partition(" ")[2] for key in failed}
    unsuspected = [c for c in kept if not any(_suspect(plan, c[0], r) for r in named)]
    try:
        guess = [_combined(plan.original, unsuspected, verifier)] if unsuspected else []
    except cfn_patch.Unpatchable:
        guess = []
    scans = _scan([fix.patched for fix, _ in kept] + guess, suffix)
    clean = []
    for (fix, remedy), failures in zip(kept, scans, strict=False):  # the guess comes last
        new = failures - before
        if new:
            _refuse(fix, f"checkov reports {next(iter(new))}")
        else:
            clean.append((fix, remedy))
    return clean


def _suspect(plan: FixPlan, fix: Fix, resource: str) -> bool:
    """Return True when ``fix`` edits or adds checkov's ``resource`` (``Type.Id``, ``type.name``).

    Only a guess (a resource the fix adds can be missing from ``fix.resources``, a Terraform
    method settings block for one); a wrong one costs a checkov run, not a wrong verdict.
    """
    name = resource.rpartition(".")[2]
    if any(resource == i or resource.endswith(f".{i}") for i in fix.resources):
        return True
    return bool(name) and name in fix.patched and name not in plan.original


def _greedy(
    plan: FixPlan,
    clean: list[Candidate],
    verifier: _Verifier,
    new_failures: Callable[[str], Counter[str]],
) -> tuple[list[Candidate], str, list[tuple[Fix, str]]]:
    """Add the candidates clean alone one at a time, each addition checked with the others.

    Returns the accepted candidates, the file with them applied and the refused fixes with
    the reason. The first one needs no check: it was checked alone.
    """
    accepted: list[Candidate] = []
    combined, refused = plan.original, []
    for fix, remedy in clean:
        try:
            trial = _combined(plan.original, [*accepted, (fix, remedy)], verifier)
        except cfn_patch.Unpatchable as exc:
            refused.append((fix, str(exc)))
            continue
        why = _together(trial, verifier, lambda t=trial: new_failures(t)) if accepted else None
        if why:
            refused.append((fix, why))
        else:
            accepted.append((fix, remedy))
            combined = trial
    return accepted, combined, refused


def _together(
    text: str, verifier: _Verifier, new_failures: Callable[[], Counter[str]]
) -> str | None:
    """Return why the file with several fixes applied is refused, or None.

    The re-review and cfn-lint come first; checkov's new failed checks (``new_failures``, a
    run of seconds) are asked for only when both pass.
    """
    try:
        why = verifier.broken(verifier.review(text))
    except InputError as exc:
        return f"the patched file no longer parses ({exc})"
    why = why or verifier.lint_refusal(text)
    if why:
        return why
    new = new_failures()
    return f"checkov reports {next(iter(new))}" if new else None


def _refuse(fix: Fix, why: str) -> None:
    fix.verified, fix.diff = False, ""
    fix.steps += f" Not offered as a patch: {why}."


def _combined(text: str, candidates: list[tuple[Fix, dict]], verifier: _Verifier) -> str:
    """Return ``text`` with the candidates' remedies applied one after the other.

    A remedy shared by several candidates (gaps whose callers differ) is applied once, for
    all their callers. Raises Unpatchable when one cannot be applied after the others.
    """
    callers: dict[int, tuple[dict, list[str]]] = {}
    for fix, remedy in candidates:
        callers.setdefault(id(remedy), (remedy, []))[1].extend(fix.callers)
    doc = cfn_patch.Document(text) if verifier.format == "cloudformation" else None
    for remedy, wanted in callers.values():
        wanted = list(dict.fromkeys(wanted))
        if doc is None:
            text = _apply(verifier.format, text, remedy, wanted).text
        else:  # one document, written once
            cfn_patch.apply_remedy(doc, remedy, cfn_patch.model_callers(doc, wanted), dump=False)
    return text if doc is None else doc.dump()


def _combine(plan: FixPlan, combined: str, verifier: _Verifier) -> None:
    """Make ``combined`` (every verified fix applied at once) the patched file."""
    plan.patched = combined
    after = verifier.review(plan.patched)
    plan.closed = [b for b, s in verifier.before.items() if s == "gap" and after[b] == "addressed"]


def lint_counts(text: str) -> Counter[str]:
    """Return cfn-lint's errors for ``text`` (for figures)."""
    return checks.cfn_lint_errors(text)
