"""Verified fixes for a review's gaps, for the CLI, the MCP server, the UI and ``ask``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from corpus.errors import InputError

if TYPE_CHECKING:
    from agent.results import SuggestedFixJSON
    from diagrams.contracts import FixJSON

_FIX_QUESTION = re.compile(
    r"\b(?:fix|remediat|patch|close)\w*\b.*?\b(gen[a-z]{3,4}\d{2}-bp\d{2})\b", re.IGNORECASE
)


def file_text(diagram: str | Path | bytes) -> str:
    """Return the text of a file to patch (a path or its bytes)."""
    try:
        data = diagram if isinstance(diagram, bytes) else Path(diagram).read_bytes()
        return data.decode("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {diagram} for fixing: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError("the file is not UTF-8 text, so it cannot be patched") from None


def attach_fixes(lens: Any, review: Any, text: str, filename: str):
    """Plan and verify the fixes of ``review`` and set each finding's ``fix``; return the plan."""
    from diagrams.fixes import plan_fixes

    plan = plan_fixes(text, filename, review, lens.catalog().best_practices())
    for finding in review.findings:
        finding.fix = plan.fixes.get(finding.bp_id)
    return plan


def review_with_fixes(lens: Any, diagram: str | Path | bytes, filename: str | None = None):
    """Review a file and plan its fixes: return (review, plan)."""
    text = file_text(diagram)
    name = filename or str(diagram)
    review = lens.review(diagram, filename=filename)
    return review, attach_fixes(lens, review, text, name)


def suggest_fix(
    lens: Any, diagram: str | Path | bytes, bp_id: str, filename: str | None = None
) -> SuggestedFixJSON:
    """Return the fix of one practice: its status, and the verified patch or the steps."""
    review, _ = review_with_fixes(lens, diagram, filename)
    finding = next((f for f in review.findings if f.bp_id == bp_id.strip().upper()), None)
    if finding is None:
        raise InputError(f"unknown best practice id: {bp_id[:40]}")
    bp, status, resource = finding.bp_id, finding.status, finding.resource
    if finding.fix is None:
        steps = f"{bp} is {status}: no fix."
        return {
            "bp_id": bp,
            "status": status,
            "resource": resource,
            "verified": False,
            "steps": steps,
        }
    fix: FixJSON = finding.fix.to_dict()
    return {"bp_id": bp, "status": status, "resource": resource, **fix, "steps": finding.fix.steps}


class _WithFix(TypedDict, total=False):
    fix: dict[str, Any]


_Finding = TypeVar("_Finding", bound=_WithFix)


def compact(findings: list[_Finding]) -> list[_Finding]:
    """Shorten each finding's ``fix`` to what a client lists (suggest_fix gives the diff)."""
    for finding in findings:
        fix = finding.get("fix")
        if isinstance(fix, dict):
            finding["fix"] = {k: fix[k] for k in ("verified", "closes", "params") if k in fix}
    return findings


def asked_fix(question: str) -> str | None:
    """Return the bp id when ``question`` asks how to fix one practice, else None."""
    match = _FIX_QUESTION.search(question)
    return match.group(1).upper() if match else None


def fix_for_question(lens: Any, diagram: Any, question: str) -> SuggestedFixJSON | None:
    """Return the fix asked for by ``question`` about ``diagram`` ("how do we fix <bp id>?")."""
    bp_id = asked_fix(question)
    if diagram is None or bp_id is None:
        return None
    return suggest_fix(lens, diagram, bp_id)


def render_fix(fix: Mapping[str, Any]) -> str:
    """Render one practice's fix as plain text: the verified diff, or the steps and why."""
    head = f"Fix for {fix['bp_id']} ({fix['status']}"
    head += f"; change {', '.join(fix['resource'])})" if fix.get("resource") else ")"
    if not fix.get("verified"):
        return f"{head}:\n{fix['steps']}\n"
    params = f"New parameters to fill in: {', '.join(fix['params'])}.\n" if fix["params"] else ""
    closes = ", ".join(fix["closes"])
    return f"{head}, verified patch closing {closes}:\n{params}{fix['diff']}{fix['notes']}\n"
