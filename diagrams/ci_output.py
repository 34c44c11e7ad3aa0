"""CI outputs of a review: SARIF 2.1.0 for code hosts and a short pull-request comment."""

from __future__ import annotations

import hashlib
from typing import Any

from diagrams.changes import Changes
from diagrams.contracts import ChangeJSON

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"High": "error", "Medium": "warning", "Low": "note"}
"""SARIF level of each lens risk."""


def _fingerprint(item: ChangeJSON) -> str:
    """Return an id that survives line moves: design, practice, and the evidence's names."""
    key = "\0".join([item["design"], item["bp_id"], *sorted(item.get("evidence") or [])])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _rule(item: ChangeJSON) -> dict[str, Any]:
    risk = item.get("risk") or "Low"
    return {
        "id": item["bp_id"],
        "name": item["bp_id"].replace("-", ""),
        "shortDescription": {"text": item.get("title") or item["bp_id"]},
        "fullDescription": {
            "text": f"The design does not show the lens practice '{item.get('title')}' "
            f"({item.get('pillar') or 'lens'} pillar, {risk.lower()} risk)."
        },
        **({"helpUri": item["url"]} if item.get("url") else {}),
        "help": {"text": "See the lens page for what the practice asks and how to meet it."},
        "defaultConfiguration": {"level": LEVELS.get(risk, "note")},
        "properties": {"tags": ["well-architected", "generative-ai"], "risk": risk},
    }


def _result(item: ChangeJSON, regressed: bool, prefix: str) -> dict[str, Any]:
    region = {"startLine": item["line"]} if item.get("line") else {}
    physical: dict[str, Any] = {"artifactLocation": {"uri": prefix + item["file"]}}
    if region:
        physical["region"] = region
    what = "regressed from addressed to " + str(item["to"]) if regressed else "gap"
    return {
        "ruleId": item["bp_id"],
        "level": LEVELS.get(item.get("risk") or "", "note"),
        "message": {"text": f"{item['bp_id']} {what} in {item['design']}: {item['explanation']}"},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {"lenswiseFinding/v1": _fingerprint(item)},
        "properties": {"design": item["design"], "status": item["to"]},
    }


def _other_gaps(changes: Changes) -> list[ChangeJSON]:
    """Return the new gaps that are not already listed as regressions."""
    seen = {(r["design"], r["bp_id"]) for r in changes.regressed}
    return [g for g in changes.new_gaps if (g["design"], g["bp_id"]) not in seen]


def to_sarif(changes: Changes, version: str, prefix: str = "") -> dict[str, Any]:
    """Return the SARIF 2.1.0 log of the regressions and new gaps in ``changes``.

    Args:
        changes: the comparison (without a baseline every gap is new).
        version: lenswise's version, for the tool's driver.
        prefix: the reviewed folder relative to the repository root (``infra/``), put before
            each file so that code hosts find it.
    """
    items = [(i, True) for i in changes.regressed] + [(g, False) for g in _other_gaps(changes)]
    rules: dict[str, dict[str, Any]] = {}
    for item, _ in items:
        rules.setdefault(item["bp_id"], _rule(item))
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "lenswise",
                        "version": version,
                        "rules": [rules[k] for k in sorted(rules)],
                    }
                },
                "results": [_result(item, regressed, prefix) for item, regressed in items],
            }
        ],
    }


def _line(item: ChangeJSON) -> str:
    where = f"{item['file']}:{item['line']}" if item.get("line") else item["file"]
    return f"- **{item['bp_id']}** {item['title']} ({item['risk']}) at `{where}`"


def pr_comment(changes: Changes, limit: int = 10) -> str:
    """Return a short Markdown comment: regressions, new gaps, then the coverage change."""
    out = ["### lenswise design review"]
    for heading, items in (
        ("Regressed", changes.regressed),
        ("New gaps", _other_gaps(changes)),
        ("Improved", changes.improved),
    ):
        if items:
            out += ["", f"**{heading}** ({len(items)})", *map(_line, items[:limit])]
            if len(items) > limit:
                out.append(f"- ... and {len(items) - limit} more")
    if not (changes.regressed or changes.new_gaps or changes.improved):
        out += ["", "No practice changed status."]
    before, after = changes.coverage.get("before", {}), changes.coverage.get("after", {})
    parts = [f"{k} {before.get(k, 0)} → {after.get(k, 0)}" for k in ("addressed", "gap", "unknown")]
    out += ["", "Coverage: " + ", ".join(parts)]
    if changes.added or changes.removed:
        out.append(f"Components: {len(changes.added)} added, {len(changes.removed)} removed")
    return "\n".join(out) + "\n"
