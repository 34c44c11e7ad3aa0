"""Combine the diagrams of one file (draw.io pages, Mermaid blocks) into one view of the system.

Several diagrams of one file usually draw the same system from different angles, so a
component drawn in two of them with the same name is one component of the combined view:
it keeps the first drawing's id and lists every diagram it appears in. A name that repeats
inside a single diagram ("AWS Lambda" drawn four times) names several things, so it is
never merged.
"""

from __future__ import annotations

from collections import Counter

from diagrams.catalog import normalize
from diagrams.model import Architecture, Component, Edge


def unique_names(names: list[str]) -> list[str]:
    """Return ``names`` with repeats numbered (``Page-1``, ``Page-1 (2)``) so each is unique."""
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _keys(comp: Component) -> list[tuple[str, str, str]]:
    names = {normalize(name) for name in comp.names or (comp.label,)}
    return [(name, comp.service or "", comp.kind) for name in sorted(names) if name]


def merge_views(arch: Architecture) -> None:
    """Merge components repeated across the diagrams of ``arch`` (in place).

    Every component gets :attr:`Component.diagrams`; edges and annotations that pointed at a
    merged duplicate point at the kept component, and arrows that become repeats are dropped.
    """
    for comp in arch.components:
        comp.diagrams = [comp.page] if comp.page else []
    if len(arch.pages) < 2:
        return
    per_page = Counter((comp.page, key) for comp in arch.components for key in _keys(comp))
    kept: dict[tuple[str, str, str], Component] = {}
    replaced: dict[str, str] = {}
    components = []
    for comp in arch.components:
        keys = [key for key in _keys(comp) if per_page[(comp.page, key)] == 1]
        first = next((kept[key] for key in keys if key in kept), comp)
        for key in keys:
            kept.setdefault(key, first)
        if first is comp or first.page == comp.page:
            components.append(comp)
            continue
        replaced[comp.id] = first.id
        first.diagrams += [p for p in comp.diagrams if p not in first.diagrams]
        for fact, value in comp.facts.items():
            first.facts.setdefault(fact, value)
    if not replaced:
        return
    arch.components = components
    seen: set[tuple[str, str, str, str | None]] = set()
    edges: list[Edge] = []
    for edge in arch.edges:
        edge.source = replaced.get(edge.source, edge.source)
        edge.target = replaced.get(edge.target, edge.target)
        ident = (edge.source, edge.target, edge.label, edge.page)
        if edge.source != edge.target and ident not in seen:
            seen.add(ident)
            edges.append(edge)
    arch.edges = edges
    for note in arch.annotations:
        if note.attached_to and "->" in note.attached_to:
            src, _, dst = note.attached_to.partition("->")
            note.attached_to = f"{replaced.get(src, src)}->{replaced.get(dst, dst)}"
