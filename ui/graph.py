"""Draw a parsed architecture as Graphviz DOT text.

Groups (accounts, VPCs, subnets...) become nested ``cluster`` subgraphs drawn as boundaries;
components become nodes labelled with what the diagram says plus the recognised AWS service,
with a tooltip naming the diagrams they are drawn in; arrows carry their step number and,
from the legend, what that step does. Every label is untrusted text from the file's author,
so it is escaped for DOT and nothing is HTML.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

MAX_NODES = 250
"""Larger designs are cut to this many nodes (the chart says so) to keep the page usable."""
GRID_MIN = 4
"""More unconnected boxes than this in one group are laid out as a grid, not one row."""
MAX_EDGE_LABELS = 16
"""Edge labels are drawn only for designs with at most this many edges (else they clutter)."""

_GROUP_STYLE = {
    "cloud": ("#f5f7fa", "dashed"),
    "account": ("#fdf6ec", "dashed"),
    "region": ("#eef6fc", "dashed"),
    "availability-zone": ("#f3f9f1", "dashed"),
    "vpc": ("#eef8f0", "solid"),
    "subnet": ("#f6fbf6", "solid"),
    "security-group": ("#fdf1f1", "dotted"),
}


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def dot_escape(text: Any, limit: int = 60) -> str:
    """Return ``text`` as the inside of a DOT double-quoted string, shortened to ``limit``."""
    flat = " ".join(str(text or "").split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat.replace("\\", "\\\\").replace('"', '\\"')


def _node_label(comp: Any) -> str:
    label = dot_escape(_get(comp, "label"))
    service = dot_escape(_get(comp, "service_name"), 40)
    if label and service and service.lower() not in label.lower():
        return f"{label}\\n({service})"
    return label or service or dot_escape(_get(comp, "id"))


def _node_attrs(comp: Any) -> str:
    kind = _get(comp, "kind", "service")
    drawn = [d for d in _get(comp, "diagrams", None) or [] if d]
    tooltip = f'tooltip="{dot_escape("Drawn in: " + ", ".join(drawn), 200)}", ' if drawn else ""
    return tooltip + _shape(kind, bool(_get(comp, "service")))


def _shape(kind: str, is_service: bool) -> str:
    if kind == "actor":
        return 'shape=ellipse, style="filled", fillcolor="#fff4e0"'
    if is_service:
        return 'shape=box, style="rounded,filled", fillcolor="#e8f1fb", color="#3b6ea8"'
    return 'shape=box, style="rounded", color="#888888"'


def _edge_label(edge: Any, steps: dict[str, str], show_text: bool) -> str:
    step = str(_get(edge, "step", "") or "")
    text = dot_escape(_get(edge, "label"), 30) if show_text else ""
    label = f"{step}. {text}" if step and text else step or text
    attrs = [f'label="{label}"'] if label else []
    if step in steps:
        attrs.append(f'tooltip="{dot_escape(f"Step {step}: {steps[step]}", 200)}"')
    return f" [{', '.join(attrs)}];" if attrs else ";"


def _unique_edges(edges: list[Any]) -> list[Any]:
    """Drop arrows repeated by several diagrams of one file (same ends, label and step)."""
    seen: set[tuple] = set()
    out = []
    for edge in edges:
        ident = tuple(_get(edge, k, "") for k in ("source", "target", "label", "step"))
        if ident not in seen:
            seen.add(ident)
            out.append(edge)
    return out


def legend_steps(architecture: Any) -> dict[str, str]:
    """Return step number -> what the diagram's legend says that step does."""
    steps: dict[str, str] = {}
    for note in _get(architecture, "annotations", []) or []:
        step, text = _get(note, "step", ""), _get(note, "text", "")
        if _get(note, "kind") == "legend" and step and text and text != step:
            steps.setdefault(str(step), str(text))
    return steps


def architecture_dot(
    architecture: Any,
    max_nodes: int = MAX_NODES,
    rankdir: str | None = None,
    *,
    hide_unconnected: bool = False,
) -> str:
    """Return DOT text drawing ``architecture`` (an ``Architecture`` or its dict form).

    Args:
        architecture: object or dict with ``components``, ``edges`` and optional ``groups``
            and ``annotations`` (legend entries give arrow steps their tooltip).
        max_nodes: draw at most this many components (connected ones first).
        rankdir: Graphviz layout direction. Default: top-to-bottom for mid-sized designs,
            which then fit the page width; left-to-right for small ones, and for large
            ones, whose many separate groups then stack down the page instead of running
            off its side.
        hide_unconnected: leave out components that no arrow reaches.
    """
    comps = list(_get(architecture, "components", []) or [])
    edges = _unique_edges(list(_get(architecture, "edges", []) or []))
    groups = {_get(g, "id"): g for g in _get(architecture, "groups", []) or []}
    steps = legend_steps(architecture)

    linked = {_get(e, "source") for e in edges} | {_get(e, "target") for e in edges}
    if hide_unconnected:
        comps = [c for c in comps if _get(c, "id") in linked]
    comps.sort(key=lambda c: _get(c, "id") not in linked)
    dropped = max(0, len(comps) - max_nodes)
    comps = comps[:max_nodes]
    node_ids = {_get(c, "id"): f"n{i}" for i, c in enumerate(comps)}

    members: dict[str | None, list[Any]] = defaultdict(list)
    for comp in comps:
        group = _get(comp, "group")
        members[group if group in groups else None].append(comp)
    children: dict[str | None, list[str]] = defaultdict(list)
    for gid, group in groups.items():
        parent = _get(group, "parent")
        children[parent if parent in groups else None].append(gid)

    rankdir = rankdir or ("TB" if 8 < len(comps) <= 40 else "LR")
    edge_labels = len(edges) <= MAX_EDGE_LABELS
    lines = [
        "digraph architecture {",
        f'  graph [rankdir={rankdir}, fontname="Helvetica", fontsize=14, nodesep=0.3, '
        'ranksep=0.5, tooltip=" "];',
        '  node [fontname="Helvetica", fontsize=14, margin="0.14,0.07"];',
        '  edge [fontname="Helvetica", fontsize=12, color="#555555", arrowsize=0.8];',
    ]

    def has_nodes(gid: str) -> bool:
        return bool(members.get(gid)) or any(has_nodes(c) for c in children.get(gid, []))

    def emit_group(gid: str, depth: int, seen: set[str]) -> None:
        if gid in seen or not has_nodes(gid):
            return
        seen.add(gid)
        group = groups[gid]
        fill, style = _GROUP_STYLE.get(_get(group, "kind", "cluster"), ("#f7f7f7", "rounded"))
        pad = "  " * depth
        lines.append(f"{pad}subgraph cluster_{len(seen)} {{")
        kind = _get(group, "kind", "cluster")
        title = _get(group, "label") or ("" if kind == "cluster" else kind.replace("-", " "))
        lines.append(
            f'{pad}  label="{dot_escape(title)}"; labeljust=l; '
            f'style="{style},filled"; fillcolor="{fill}"; color="#7a7a7a"; penwidth=1.4;'
        )
        for comp in members.get(gid, []):
            emit_node(comp, depth + 1)
        grid(members.get(gid, []), depth + 1)
        for child in children.get(gid, []):
            emit_group(child, depth + 1, seen)
        lines.append(f"{pad}}}")

    def emit_node(comp: Any, depth: int) -> None:
        pad = "  " * depth
        ident = node_ids[_get(comp, "id")]
        lines.append(f'{pad}{ident} [label="{_node_label(comp)}", {_node_attrs(comp)}];')

    def grid(comps_here: list[Any], depth: int) -> None:
        # Unconnected boxes would all share one rank: one endless row. Invisible edges
        # stack them into rows of a few instead.
        loose = [node_ids[_get(c, "id")] for c in comps_here if _get(c, "id") not in linked]
        if len(loose) <= GRID_MIN:
            return
        width = max(GRID_MIN, math.ceil(math.sqrt(len(loose) * 2)))
        pad = "  " * depth
        for i in range(len(loose) - width):
            lines.append(f"{pad}{loose[i]} -> {loose[i + width]} [style=invis];")

    seen: set[str] = set()
    for gid in children.get(None, []):
        emit_group(gid, 1, seen)
    for comp in members.get(None, []):
        emit_node(comp, 1)
    grid(members.get(None, []), 1)
    for edge in edges:
        src, dst = node_ids.get(_get(edge, "source")), node_ids.get(_get(edge, "target"))
        if src and dst:
            lines.append(f"  {src} -> {dst}{_edge_label(edge, steps, edge_labels)}")
    if dropped:
        lines.append(f'  more [shape=plaintext, label="… {dropped} more components not drawn"];')
    lines.append("}")
    return "\n".join(lines)
