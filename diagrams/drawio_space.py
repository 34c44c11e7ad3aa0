"""Geometry of a draw.io page: a bucket grid for nearby lookups, arrow paths and distances.

Pages can hold tens of thousands of cells, so "which boxes hold this point" and "which arrow
passes next to this badge" are answered from buckets around the point, never by comparing
every cell with every other. Every filing and every item looked at is charged to the file's
:class:`~diagrams.limits.Budget` first, so boxes stacked thousands deep (where buckets
fill up) end in a clear refusal, not in minutes of work.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Generic, TypeVar

from diagrams.drawio_cells import Cell
from diagrams.limits import Budget

T = TypeVar("T")
Point = tuple[float, float]
Segment = tuple[Point, Point]

BUCKETS_PER_SIDE = 64
"""The page is cut into at most this many buckets along its longer side."""


def extent(cells: Iterable[Cell]) -> tuple[float, float, float, float]:
    """Return the bounding box (x0, y0, x1, y1) of ``cells`` (a unit box when there are none)."""
    x0 = y0 = math.inf
    x1 = y1 = -math.inf
    for cell in cells:
        x0, y0 = min(x0, cell.x), min(y0, cell.y)
        x1, y1 = max(x1, cell.x + cell.w), max(y1, cell.y + cell.h)
    return (x0, y0, x1, y1) if x0 <= x1 else (0.0, 0.0, 1.0, 1.0)


class Grid(Generic[T]):
    """Items (boxes or segments) filed in the buckets they cover."""

    def __init__(self, bounds: tuple[float, float, float, float], budget: Budget) -> None:
        x0, y0, x1, y1 = bounds
        self.budget = budget
        self.x0, self.y0 = x0, y0
        self.size = max(x1 - x0, y1 - y0, 1.0) / BUCKETS_PER_SIDE
        self.buckets: dict[tuple[int, int], list[T]] = defaultdict(list)

    def _key(self, x: float, y: float) -> tuple[int, int]:
        clip = BUCKETS_PER_SIDE + 1
        bx = int((x - self.x0) // self.size)
        by = int((y - self.y0) // self.size)
        return (max(-1, min(clip, bx)), max(-1, min(clip, by)))

    def add_box(self, item: T, cell: Cell) -> None:
        """File ``item`` in every bucket that ``cell``'s box covers."""
        (bx0, by0), (bx1, by1) = (
            self._key(cell.x, cell.y),
            self._key(cell.x + cell.w, cell.y + cell.h),
        )
        self.budget.spend((bx1 - bx0 + 1) * (by1 - by0 + 1))
        for bx in range(bx0, bx1 + 1):
            for by in range(by0, by1 + 1):
                self.buckets[(bx, by)].append(item)

    def add_segment(self, item: T, segment: Segment) -> None:
        """File ``item`` in the buckets along a straight segment."""
        (ax, ay), (bx, by) = segment
        steps = min(4 * BUCKETS_PER_SIDE, int(math.hypot(bx - ax, by - ay) / (self.size / 2)) + 1)
        self.budget.spend(steps)
        keys = {
            self._key(ax + (bx - ax) * i / steps, ay + (by - ay) * i / steps)
            for i in range(steps + 1)
        }
        for key in keys:
            self.buckets[key].append(item)

    def at(self, point: Point) -> list[T]:
        """Return the items filed in the bucket of ``point``."""
        found = self.buckets.get(self._key(*point), [])
        self.budget.spend(len(found) + 1)
        return found

    def around(self, cell: Cell, margin: float = 0.0) -> list[T]:
        """Return the items filed near ``cell``'s box grown by ``margin`` (each item once)."""
        grow = margin + self.size
        (bx0, by0) = self._key(cell.x - grow, cell.y - grow)
        (bx1, by1) = self._key(cell.x + cell.w + grow, cell.y + cell.h + grow)
        found: dict[int, T] = {}
        for bx in range(bx0, bx1 + 1):
            for by in range(by0, by1 + 1):
                items = self.buckets.get((bx, by), ())
                self.budget.spend(len(items) + 1)
                for item in items:
                    found.setdefault(id(item), item)
        return list(found.values())


def drawn_box(cell: Cell) -> Cell:
    """Return ``cell`` grown by the label that draw.io prints below it (icons label below)."""
    if cell.style.get("verticalLabelPosition") != "bottom" or not cell.label:
        return cell
    try:
        font = float(cell.style.get("fontSize", "12"))
    except ValueError:
        font = 12.0
    lines = cell.label.count("\n") + 1
    grown = Cell(cell.id, cell.label, cell.style, cell.style_names, True, False, None, None, None)
    grown.x, grown.y, grown.w = cell.x, cell.y, cell.w
    grown.h = cell.h + lines * min(max(font, 1.0), 72.0) * 1.25
    return grown


def point_box(point: Point) -> Cell:
    """Return a zero-size cell at ``point`` (to query a :class:`Grid` around a point)."""
    cell = Cell("", "", {}, (), False, False, None, None, None)
    cell.x, cell.y = point
    return cell


def innermost(point: Point, grid: Grid[Cell], skip: str | None = None) -> Cell | None:
    """Return the smallest box filed in ``grid`` that holds ``point`` (``skip`` excluded)."""
    holders = [b for b in grid.at(point) if b.id != skip and b.contains(point)]
    return min(holders, key=lambda b: b.area) if holders else None


def arrow_segments(edge: Cell, by_id: dict[str, Cell]) -> list[Segment]:
    """Return the segments an arrow may be drawn along, in page coordinates.

    The path runs from the source through the bends to the target; an end attached to a
    shape starts at the shape's centre, a loose end at its own point (bends and loose points
    are relative to the arrow's parent box). An orthogonal arrow turns a corner between two
    points that are not in line, so both corners it may take are included.
    """
    parent = by_id.get(edge.parent or "")
    dx, dy = (parent.x, parent.y) if parent is not None and parent.vertex else (0.0, 0.0)
    ends: list[Point] = []
    for ref, role in ((edge.source, "sourcePoint"), (edge.target, "targetPoint")):
        shape = by_id.get(ref or "")
        if shape is not None and shape.vertex:
            ends.append(shape.center)
        elif role in edge.points:
            x, y = edge.points[role]
            ends.append((x + dx, y + dy))
        else:
            return []
    path = [ends[0], *((x + dx, y + dy) for x, y in edge.waypoints), ends[1]]
    square = "orthogonal" in edge.style.get("edgeStyle", "") or "elbow" in edge.style.get(
        "edgeStyle", ""
    )
    segments: list[Segment] = []
    for a, b in zip(path, path[1:], strict=False):
        if square and a[0] != b[0] and a[1] != b[1]:
            for corner in ((b[0], a[1]), (a[0], b[1])):
                segments += [(a, corner), (corner, b)]
        else:
            segments.append((a, b))
    return segments


def _point_segment(p: Point, a: Point, b: Point) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    vx, vy = bx - ax, by - ay
    length = vx * vx + vy * vy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - ax) * vx + (py - ay) * vy) / length))
    return math.hypot(px - (ax + t * vx), py - (ay + t * vy))


def box_distance(cell: Cell, segment: Segment) -> float:
    """Return the distance between ``cell``'s box and a segment (0 when they touch)."""
    a, b = segment
    if cell.contains(a) or cell.contains(b):
        return 0.0
    corners = [
        (cell.x, cell.y),
        (cell.x + cell.w, cell.y),
        (cell.x + cell.w, cell.y + cell.h),
        (cell.x, cell.y + cell.h),
    ]
    sides = list(zip(corners, corners[1:] + corners[:1], strict=True))
    if any(_crosses(a, b, c, d) for c, d in sides):
        return 0.0
    return min(
        [_point_segment(c, a, b) for c in corners]
        + [_point_segment(a, c, d) for c, d in sides]
        + [_point_segment(b, c, d) for c, d in sides]
    )


def _crosses(a: Point, b: Point, c: Point, d: Point) -> bool:
    def side(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    return side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0
