"""Fixes for drawings: the component to add and where; patched text for Mermaid flowcharts."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from diagrams.model import Architecture

_PLACES = Path(__file__).with_name("diagram.yaml")


@lru_cache(maxsize=1)
def placements() -> dict[str, dict[str, str]]:
    """Return what to add for each practice, and where, by bp id."""
    return yaml.safe_load(_PLACES.read_text(encoding="utf-8"))


def _name(arch: Architecture, comp_id: str) -> str:
    comp = arch.component(comp_id)
    return (comp.name if comp else comp_id).strip()[:60]


def arrows(arch: Architecture, bp_id: str, evidence: list[str]) -> list[tuple[str, str]]:
    """Return the (source, target) pairs the new component goes on or next to."""
    place = placements()[bp_id]["place"]
    if place == "beside":
        return [(i, "") for i in evidence]
    into = [(e.source, e.target) for e in arch.edges if e.target in evidence]
    return into or [("", i) for i in evidence]


def steps(arch: Architecture, bp_id: str, evidence: list[str]) -> str:
    """Say which component to add, between which components, and in which group."""
    spec = placements()[bp_id]
    where = []
    for source, target in arrows(arch, bp_id, evidence):
        comp = arch.component(source or target)
        group = next((g.label for g in arch.groups if comp and g.id == comp.group), "")
        in_group = f" in group '{group[:40]}'" if group else ""
        if source and target:
            where.append(f"between {_name(arch, source)} and {_name(arch, target)}{in_group}")
        else:
            where.append(f"next to {_name(arch, source or target)}{in_group}")
    return f"Add {spec['add']} " + "; ".join(dict.fromkeys(where)) + "."


def patch_mermaid(text: str, arch: Architecture, bp_id: str, evidence: list[str]) -> str | None:
    """Return the Mermaid flowchart with the component added, or None when it is no flowchart."""
    if not re.match(r"\s*(?:%%[^\n]*\n\s*)*(flowchart|graph)\b", text):
        return None
    spec = placements()[bp_id]
    node = "lens_" + re.sub(r"\W", "_", bp_id.lower())
    label = spec["add"].replace('"', "'")
    lines = text.rstrip("\n").split("\n")
    added = [f'  {node}["{label}"]']
    for source, target in arrows(arch, bp_id, evidence):
        direct = re.compile(
            rf"^(\s*){re.escape(source)}(\[[^\]\n]*\])?\s*-->\s*{re.escape(target)}(\[[^\]\n]*\])?\s*$"
        )
        hits = ((n, m) for n, line in enumerate(lines) if source and (m := direct.match(line)))
        hit, m = next(hits, (None, None))
        if hit is not None and m is not None:
            lines[hit] = (
                f"{m.group(1)}{source}{m.group(2) or ''} --> {node} --> {target}{m.group(3) or ''}"
            )
        elif source and target:
            added += [f"  {source} --> {node}", f"  {node} --> {target}"]
        else:
            added.append(f"  {source or target} --> {node}" if source else f"  {node} --> {target}")
    return "\n".join(lines + added) + "\n"
