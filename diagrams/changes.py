"""Compare two ``review --json`` documents: what regressed, improved, and which gaps are new."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corpus.errors import InputError
from corpus.vocabulary import RISKS, risk_rank


def designs_of(doc: Any) -> dict[str, dict]:
    """Return the reviews of a ``review --json`` document by design path.

    Accepts both shapes: one file's review and a folder's ``{"designs", ...}``.

    Raises:
        InputError: ``doc`` is neither shape.
    """
    if isinstance(doc, dict) and isinstance(doc.get("designs"), list):
        reviews = [d for d in doc["designs"] if isinstance(d, dict)]
        return {str(d.get("path") or d.get("file")): d for d in reviews}
    if isinstance(doc, dict) and isinstance(doc.get("findings"), list):
        return {str(doc.get("file")): doc}
    raise InputError("the baseline is not the --json output of lenswise review")


def _findings(review: dict) -> dict[str, dict]:
    return {
        f["bp_id"]: f for f in review.get("findings", []) if isinstance(f, dict) and "bp_id" in f
    }


def _where(design: dict, finding: dict | None, path: str) -> dict[str, Any]:
    """Return the first located evidence of ``finding``, else the design's first file."""
    for loc in (finding or {}).get("locations") or []:
        if isinstance(loc, dict) and loc.get("file"):
            return {"file": loc["file"], "line": loc.get("line")}
    comps = [c for c in design.get("components", []) if isinstance(c, dict)]
    files = [c["location"]["file"] for c in comps if isinstance(c.get("location"), dict)]
    return {"file": files[0] if files else path, "line": None}


def _entry(path: str, finding: dict, where: dict, before: str | None) -> dict[str, Any]:
    return {
        "design": path,
        "bp_id": finding["bp_id"],
        "title": finding.get("title", ""),
        "risk": finding.get("risk", ""),
        "url": finding.get("url", ""),
        "pillar": finding.get("pillar", ""),
        "from": before,
        "to": finding.get("status"),
        "explanation": finding.get("explanation", ""),
        "evidence": list(finding.get("evidence") or []),
        **where,
    }


def _component(path: str, comp: dict) -> dict[str, Any]:
    loc = comp.get("location")
    loc = loc if isinstance(loc, dict) else {}
    return {
        "design": path,
        "id": comp.get("id"),
        "label": comp.get("label", ""),
        "service": comp.get("service"),
        "file": loc.get("file", path),
        "line": loc.get("line"),
    }


@dataclass
class Changes:
    """What changed between a baseline review and the current one."""

    regressed: list[dict] = field(default_factory=list)
    """Practices that were addressed and now are a gap or unknown."""
    improved: list[dict] = field(default_factory=list)
    """Practices that were a gap or unknown and now are addressed."""
    new_gaps: list[dict] = field(default_factory=list)
    """Gaps not in the baseline (every gap when there is no baseline)."""
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)
    """``before`` and ``after`` counts of addressed, gap and unknown over all designs."""

    def gate(self, risk: str) -> list[dict]:
        """Return the new gaps at or above ``risk`` (``high``, ``medium`` or ``low``)."""
        limit = risk_rank(risk.capitalize())
        return [g for g in self.new_gaps if risk_rank(g["risk"]) <= limit]

    def to_dict(self) -> dict[str, Any]:
        """Return the ``changes`` part of ``review --json`` with a baseline."""
        return {
            "regressed": self.regressed,
            "improved": self.improved,
            "new_gaps": self.new_gaps,
            "components_added": self.added,
            "components_removed": self.removed,
            "coverage": self.coverage,
        }


def _coverage(designs: dict[str, dict]) -> dict[str, int]:
    totals = {"addressed": 0, "gap": 0, "unknown": 0}
    for review in designs.values():
        for finding in _findings(review).values():
            if finding.get("status") in totals:
                totals[finding["status"]] += 1
    return totals


def compare(before: dict[str, dict] | None, after: dict[str, dict]) -> Changes:
    """Compare reviews by design path and practice id (``before`` None: everything is new)."""
    changes = Changes()
    old_all = before or {}
    for path, review in after.items():
        old = old_all.get(path, {})
        old_findings, new_findings = _findings(old), _findings(review)
        for bp, finding in new_findings.items():
            was = old_findings.get(bp, {}).get("status")
            now = finding.get("status")
            if was == "addressed" and now in ("gap", "unknown"):
                # the evidence that went away is what caused it: point at it in the old design
                where = _where(old, old_findings[bp], path)
                changes.regressed.append(_entry(path, finding, where, was))
            elif was in ("gap", "unknown") and now == "addressed":
                changes.improved.append(_entry(path, finding, _where(review, finding, path), was))
            if now == "gap" and was != "gap":
                changes.new_gaps.append(_entry(path, finding, _where(review, finding, path), was))
        if before is not None:
            old_ids = {c.get("id") for c in old.get("components", []) if isinstance(c, dict)}
            new_ids = {c.get("id") for c in review.get("components", []) if isinstance(c, dict)}
            changes.added += [
                _component(path, c) for c in review.get("components", []) if c["id"] not in old_ids
            ]
            changes.removed += [
                _component(path, c) for c in old.get("components", []) if c["id"] not in new_ids
            ]
    if before is not None:
        for path, old in before.items():
            if path not in after:
                changes.removed += [_component(path, c) for c in old.get("components", [])]
    changes.new_gaps.sort(key=lambda g: (risk_rank(g["risk"]), g["design"], g["bp_id"]))
    changes.coverage = {"before": _coverage(old_all), "after": _coverage(after)}
    return changes


GATE_RISKS = tuple(r.lower() for r in RISKS)
"""Values of ``--fail-on``."""
