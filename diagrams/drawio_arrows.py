"""Arrows of a draw.io page: each end resolved to the component it is drawn to.

An end attached to a component is that component; one attached to a plain box lands on the
main component drawn inside it; a loose end lands on the icon (or printed label) it touches.
"""

from __future__ import annotations

import math

from diagrams.drawio_cells import Cell
from diagrams.drawio_space import Grid, drawn_box, extent, point_box
from diagrams.limits import Budget
from diagrams.model import Component, Edge
from diagrams.notes import step_of


def _inside(card: Cell, boxes: list[Cell], comps: dict[str, Component]) -> str | None:
    """Return the main component drawn inside a plain box that an arrow points at."""
    inside = [
        b
        for b in boxes
        if b.id != card.id and card.contains(b.center) and b.w * b.h <= card.w * card.h
    ]
    services = [b for b in inside if comps[b.id].service] or inside
    return max(services, key=lambda b: b.w * b.h).id if services else None


def _offset(edge: Cell, by_id: dict[str, Cell], point: tuple[float, float]):
    """Return an arrow's own point in page coordinates (it is relative to the arrow's parent)."""
    parent = by_id.get(edge.parent or "")
    if parent is None or not parent.vertex:
        return point
    return (point[0] + parent.x, point[1] + parent.y)


def _loose_end(point, near: Grid[Cell], boxes: list[Cell]) -> str | None:
    """Return the component a loose arrow end points at: the icon (or its label) it touches.

    An end within a quarter of an icon's size of the icon or its printed label counts;
    otherwise the smallest component box holding the point.
    """
    best, best_gap = None, float("inf")
    for box in near.around(point_box(point)):
        grown = drawn_box(box)
        gap = math.hypot(
            max(0.0, grown.x - point[0], point[0] - grown.x - grown.w),
            max(0.0, grown.y - point[1], point[1] - grown.y - grown.h),
        )
        if gap <= min(box.w, box.h) / 4 and (gap, box.area) < (best_gap, best.area if best else 0):
            best, best_gap = box, gap
    if best is None:
        best = next((b for b in boxes if b.contains(point)), None)
    return best.id if best else None


def page_arrows(
    cells: list[Cell],
    by_id: dict[str, Cell],
    comps: dict[str, Component],
    alias: dict[str, str],
    prefix: str,
    page: str,
    budget: Budget,
) -> list[tuple[Cell, Edge]]:
    """Return each arrow between two components, with the cell it was drawn as.

    Args:
        cells: every cell of the page.
        by_id: the cells by id.
        comps: the page's components, by raw cell id.
        alias: text cell id -> the icon it names (an arrow to the name reaches the icon).
        prefix: page prefix of component ids.
        page: page name.
        budget: the file's work budget (the lookups are charged to it).
    """
    labels: dict[str, list[str]] = {}
    for cell in cells:
        if cell.vertex and cell.parent in by_id and by_id[cell.parent].edge and cell.label:
            labels.setdefault(cell.parent, []).append(cell.label)
    boxes = sorted((by_id[k] for k in comps), key=lambda c: c.w * c.h)
    near: Grid[Cell] = Grid(extent(boxes), budget)
    for box in boxes:
        near.add_box(box, drawn_box(box))
    drawn: list[tuple[Cell, Edge]] = []
    for cell in cells:
        if not cell.edge:
            continue
        ends = []
        for ref, point in ((cell.source, "sourcePoint"), (cell.target, "targetPoint")):
            ref = alias.get(ref or "", ref)
            if ref not in comps and ref in by_id and by_id[ref].vertex:
                budget.spend(len(boxes))
                ref = _inside(by_id[ref], boxes, comps)
            if ref not in comps and point in cell.points:
                budget.spend(len(boxes))
                ref = _loose_end(_offset(cell, by_id, cell.points[point]), near, boxes)
            ends.append(ref if ref in comps else None)
        if ends[0] and ends[1] and ends[0] != ends[1]:
            text = " ".join([cell.label, *labels.get(cell.id, [])]).strip().replace("\n", " ")
            step = step_of(text)
            edge = Edge(f"{prefix}{ends[0]}", f"{prefix}{ends[1]}", "" if step else text, step)
            edge.page = page
            drawn.append((cell, edge))
    return drawn
