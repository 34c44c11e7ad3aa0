"""Tell annotation from architecture on a draw.io page: titles, legends, step badges and notes.

The decisions rest on how a cell is drawn, never on what a particular file calls things:
a label that is only a step number is a badge; free text and unconnected plain boxes that
name no service are notes; a box holding only such notes (or titled "Legend") is a legend;
a badge or text lying on an arrow labels that arrow; a text at the top of an untitled box
is its title, and one above everything else on the page is the page's title.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from diagrams.drawio_cells import Cell
from diagrams.drawio_space import Grid, arrow_segments, box_distance, innermost
from diagrams.limits import Budget
from diagrams.model import Annotation, Component, Edge, Group
from diagrams.notes import is_legend_title, step_of


def is_badge(cell: Cell) -> bool:
    """Return True for a step marker: a label that is only a number (``3``, ``2a``, ``(4)``).

    One or two letters in a circle (``A``) are badges too.
    """
    label = cell.label.strip()
    if step_of(label):
        return True
    round_shape = "ellipse" in cell.style_names or cell.shape == "ellipse"
    return round_shape and 0 < len(label) <= 2 and label.isalnum()


@dataclass
class PageNotes:
    """Everything on one page that may be annotation, and what the page's architecture is.

    Fill :attr:`badges`, :attr:`texts` and :attr:`boxes` with the candidate cells, then call
    :meth:`resolve` once the components, groups and arrows are known.
    """

    page: str
    prefix: str
    by_id: dict[str, Cell]
    budget: Budget
    """The file's work budget: the page's lookups are charged to it."""
    badges: list[Cell] = field(default_factory=list)
    """Cells whose label is only a step number."""
    texts: list[Cell] = field(default_factory=list)
    """Free text cells that name no icon and that no arrow connects."""
    boxes: list[Cell] = field(default_factory=list)
    """Unconnected plain boxes that name no service: notes, or legends when they hold notes."""

    def resolve(
        self,
        comps: dict[str, Component],
        groups: dict[str, Group],
        edges: list[tuple[Cell, Edge]],
        grid_bounds: tuple[float, float, float, float],
    ) -> list[Annotation]:
        """Classify the candidates: return the annotations, labelling arrows and groups."""
        holders: Grid[Cell] = Grid(grid_bounds, self.budget)
        for raw_id in [*groups, *(b.id for b in self.boxes)]:
            holders.add_box(self.by_id[raw_id], self.by_id[raw_id])
        notes: dict[str, Annotation] = {}
        legends = self._legends(comps, holders)
        badges = {b.id for b in self.badges}
        for cell in [*self.badges, *self.texts, *self.boxes]:
            if cell.id in legends:
                continue
            inside = innermost(cell.center, holders, skip=cell.id)
            legend = legends.get(inside.id) if inside is not None else None
            in_group = groups.get(inside.id) if inside is not None else None
            notes[cell.id] = Annotation(
                f"{self.prefix}{cell.id}",
                cell.label.replace("\n", " "),
                "legend" if legend else "step" if cell.id in badges else "note",
                self.page,
                attached_to=legend.id if legend else in_group.id if in_group else None,
                step=step_of(cell.label) if cell.id in badges else "",
            )
        self._number_legend_entries(notes, legends)
        self._titles(notes, comps, groups)
        self._label_arrows(notes, edges, grid_bounds)
        return [*legends.values(), *notes.values()]

    def _legends(self, comps: dict[str, Component], holders: Grid[Cell]) -> dict[str, Annotation]:
        """Find legend boxes: titled so, or plain boxes holding two or more notes only."""
        held: dict[str, int] = {}
        for cell in [*self.badges, *self.texts, *self.boxes]:
            inside = innermost(cell.center, holders, skip=cell.id)
            if inside is not None:
                held[inside.id] = held.get(inside.id, 0) + 1
        for raw_id in comps:
            inside = innermost(self.by_id[raw_id].center, holders, skip=raw_id)
            if inside is not None:
                held[inside.id] = -1_000_000  # a box drawing architecture is no legend
        found = [
            box.id
            for box in self.boxes
            if held.get(box.id, 0) >= 2 or (is_legend_title(box.label) and held.get(box.id, 0) >= 0)
        ]
        return {
            raw_id: Annotation(
                f"{self.prefix}{raw_id}",
                self.by_id[raw_id].label.replace("\n", " "),
                "legend",
                self.page,
            )
            for raw_id in found
        }

    def _number_legend_entries(
        self, notes: dict[str, Annotation], legends: dict[str, Annotation]
    ) -> None:
        """Give each legend text the number of the badge drawn on its row, left of it."""
        rows: dict[str, list[tuple[float, Cell]]] = {}
        for badge in self.badges:
            note = notes.get(badge.id)
            if note is not None and note.kind == "legend":
                rows.setdefault(note.attached_to or "", []).append((badge.center[1], badge))
        for row in rows.values():
            row.sort(key=lambda pair: pair[0])
        for cell in self.texts:
            note = notes.get(cell.id)
            if note is None or note.kind != "legend":
                continue
            row = rows.get(note.attached_to or "", [])
            if not row:
                continue
            low = bisect.bisect_left(row, cell.y, key=lambda pair: pair[0])
            high = bisect.bisect_right(row, cell.y + cell.h, key=lambda pair: pair[0])
            beside = [badge for _, badge in row[low:high] if badge.x < cell.x]
            if beside:
                note.step = step_of(max(beside, key=lambda b: b.x).label)

    def _titles(
        self,
        notes: dict[str, Annotation],
        comps: dict[str, Component],
        groups: dict[str, Group],
    ) -> None:
        """Name untitled groups by the text at their top; mark the page's title texts."""
        top: dict[str | None, float] = {}
        for raw_id, comp in comps.items():
            y = self.by_id[raw_id].y
            top[comp.group] = min(top.get(comp.group, y), y)
        drawn = [self.by_id[raw_id].y for raw_id in [*comps, *groups]]
        page_top = min(drawn, default=None)
        by_gid = {group.id: group for group in groups.values()}
        for cell in self.texts:
            note = notes[cell.id]
            if note.kind != "note":
                continue
            group = by_gid.get(note.attached_to or "")
            bottom = cell.y + cell.h
            if group is not None:
                if not group.label and bottom <= top.get(group.id, float("inf")):
                    group.label = note.text
                    note.kind = "title"
            elif page_top is not None and bottom <= page_top:
                note.kind = "title"

    def _label_arrows(
        self,
        notes: dict[str, Annotation],
        edges: list[tuple[Cell, Edge]],
        bounds: tuple[float, float, float, float],
    ) -> None:
        """Attach badges and free texts lying on an arrow to that arrow."""
        segments: Grid[tuple[Edge, tuple]] = Grid(bounds, self.budget)
        for cell, edge in edges:
            for segment in arrow_segments(cell, self.by_id):
                segments.add_segment((edge, segment), segment)
        for cell in [*self.badges, *self.texts]:
            note = notes.get(cell.id)
            if note is None or note.kind not in ("step", "note"):
                continue
            reach = min(max(min(cell.w, cell.h), 1.0), segments.size)
            near = [
                (box_distance(cell, segment), edge)
                for edge, segment in segments.around(cell, reach)
            ]
            close = [(d, e) for d, e in near if d <= reach]
            if not close:
                continue
            edge = min(close, key=lambda pair: pair[0])[1]
            note.attached_to = f"{edge.source}->{edge.target}"
            if note.kind == "step":
                edge.step = edge.step or note.step
            else:
                note.kind = "label"
                if note.text.lower() not in edge.label.lower():
                    edge.label = f"{edge.label} {note.text}".strip()
