"""Turn draw.io pages into a graph: icons to services, boxes to groups, arrows to edges."""

from __future__ import annotations

from dataclasses import dataclass

from diagrams import catalog
from diagrams.drawio_arrows import page_arrows
from diagrams.drawio_cells import Cell, absolutize, icon_text, read_cells
from diagrams.drawio_decode import Page
from diagrams.drawio_notes import PageNotes, is_badge
from diagrams.drawio_space import Grid, extent, innermost
from diagrams.limits import Budget
from diagrams.model import Architecture, Component, Group
from diagrams.notes import is_legend_title
from diagrams.views import unique_names

_MIN_BOX_AREA = 15_000.0
_NAME_REACH = 60.0
"""How far (page units) below or right of an unlabelled icon its name may be drawn."""


@dataclass
class _Icon:
    slug: str | None
    evidence: str
    actor: bool = False


def _icon(cell: Cell) -> _Icon | None:
    """Return what a cell's icon says, or None when the cell is not an icon at all."""
    candidates = [
        ("resIcon", cell.style.get("resIcon", "")),
        ("prIcon", cell.style.get("prIcon", "")),
        ("shape", cell.shape if "aws" in cell.shape and "group" not in cell.shape else ""),
        ("stencilType", cell.attrs.get("stencilType", "")),
    ]
    for kind, name in candidates:
        if not name or name.endswith(("resourceIcon", "productIcon")):
            continue
        tail = name.rsplit(".", 1)[-1]
        slug = catalog.from_shape(name) if "aws" in name or kind == "stencilType" else None
        if slug or catalog.is_actor(catalog.shape_words(tail)):
            return _Icon(slug, f"{kind} {name}", actor=slug is None)
    image_words = icon_text(cell)
    if image_words:
        slug = catalog.from_shape(image_words)
        return _Icon(
            slug,
            f"icon image '{image_words[:80]}'",
            actor=slug is None and catalog.is_actor(catalog.shape_words(image_words)),
        )
    if cell.style.get("grIcon") or "group" in cell.shape:
        return None
    if "image" in cell.style_names or cell.shape == "image" or "aws" in cell.shape:
        return _Icon(None, "unrecognised icon")
    return None


def _as_group(cell: Cell, has_children: bool) -> tuple[str, str | None] | None:
    """Return (kind, service) when the cell is a boundary box, else None."""
    group_icon = cell.style.get("grIcon", "")
    if "group" in cell.shape or group_icon:
        by_label = catalog.group_kind(cell.label)
        by_icon = catalog.group_kind(catalog.shape_words(group_icon or cell.shape))
        if by_label and by_icon and by_icon[1] and not by_label[1]:
            return by_label[0], by_icon[1]  # a subnet drawn inside a VPC-icon box is a subnet
        return by_label or by_icon or ("cluster", None)
    if cell.is_text:
        return None
    containerish = (
        cell.style.get("container") == "1"
        or "swimlane" in cell.style_names
        or cell.shape == "swimlane"
        or has_children
    )
    if containerish or (cell.w * cell.h >= _MIN_BOX_AREA and cell.style.get("dashed") == "1"):
        found = catalog.group_kind(cell.label)
        if found:
            return found
        match = catalog.names_service(cell.label.split("\n")[0]) if cell.label else None
        return ("cluster", match.slug if match else None)
    return None


def _decide(icon: _Icon | None, label: str) -> tuple[str | None, str, str | None]:
    """Choose the service from icon and label evidence: (slug, source, disagreement note)."""
    lines = label.split("\n") if label else []
    head = " ".join(lines[:2])
    strict = bool(icon and icon.actor)  # "Bedrock callers" under a people icon are people
    said = catalog.names_service(head, strict=strict) if head else None
    if said is None and lines:
        said = catalog.names_service(lines[0], strict=strict)
    icon_slug = icon.slug if icon else None
    if icon is None or icon_slug is None:
        return (said.slug, "label", None) if said else (None, "", None)
    if said is not None and said.slug != icon_slug:
        confirmed = icon_slug in catalog.mentioned(label)
        strong = catalog.names_service(head, strict=True) or catalog.names_service(
            lines[0], strict=True
        )
        if confirmed or strong is None or strong.slug != said.slug:
            said = None
    if said is None or said.slug == icon_slug:
        refined = catalog.refine_by_phrase(icon_slug, head)
        return (
            (refined, "icon refined by label", None)
            if refined
            else (icon_slug, icon.evidence, None)
        )
    if catalog.refines(said.slug, icon_slug):
        return icon_slug, icon.evidence, None
    if catalog.refines(icon_slug, said.slug):
        return said.slug, "label refines icon", None
    note = f"icon says {icon_slug}, label '{head[:60]}' names {said.slug}: the label won"
    return said.slug, "label over icon", note


def _nearby_text(icon: Cell, grid: Grid[Cell], used: set[str]) -> Cell | None:
    """Find the free text cell that names an unlabelled icon: just below it or to its right."""
    cx, cy = icon.center
    best, best_dist = None, float("inf")
    for text in grid.around(icon, _NAME_REACH):
        if text.id in used or not text.label or text.contains((cx, cy)):
            continue  # a box drawn around the icon is its boundary, not its name
        tx, ty = text.center
        gap_below, gap_right = ty - (icon.y + icon.h), text.x - (icon.x + icon.w)
        below = abs(tx - cx) <= max(icon.w, 80) and -10 <= gap_below <= _NAME_REACH
        right = 0 <= gap_right <= _NAME_REACH and abs(ty - cy) <= max(icon.h / 2, 20)
        if below or right:
            dist = (tx - cx) ** 2 + (ty - cy) ** 2
            if dist < best_dist:
                best, best_dist = text, dist
    return best


def _legend_boxes(
    vertices: list[Cell], icons: dict[str, _Icon], bounds, budget: Budget
) -> set[str]:
    """Return the ids of boxes titled as legends, and drop the icon samples drawn inside them."""
    legends = [c for c in vertices if c.id not in icons and is_legend_title(c.label)]
    if not legends:
        return set()
    grid: Grid[Cell] = Grid(bounds, budget)
    for box in legends:
        grid.add_box(box, box)
    for cell in vertices:
        if cell.id in icons and innermost(cell.center, grid, skip=cell.id) is not None:
            del icons[cell.id]
    return {box.id for box in legends}


def _zones(candidates: list[Cell], icons: list[Cell], bounds, budget: Budget) -> set[str]:
    """Return the ids of plain boxes drawn around two or more icons: unmarked boundaries."""
    grid: Grid[Cell] = Grid(bounds, budget)
    for box in candidates:
        grid.add_box(box, box)
    held: dict[str, int] = {}
    for icon in icons:
        point = icon.center
        for box in grid.at(point):
            if box.id != icon.id and box.area > icon.area and box.contains(point):
                held[box.id] = held.get(box.id, 0) + 1
    return {box_id for box_id, count in held.items() if count >= 2}


def _page_graph(
    name: str, cells: list[Cell], prefix: str, arch: Architecture, budget: Budget
) -> None:
    by_id = {c.id: c for c in cells}
    edge_ids = {c.id for c in cells if c.edge}
    ends = {ref for c in cells if c.edge for ref in (c.source, c.target) if ref}
    has_children = {c.parent for c in cells if c.vertex and c.parent}
    vertices = [c for c in cells if c.vertex and c.parent not in edge_ids]
    bounds = extent(vertices)
    icons = {c.id: icon for c in vertices if (icon := _icon(c)) is not None}
    legends = _legend_boxes(vertices, icons, bounds, budget)
    plain = [c for c in vertices if c.id not in icons]
    held = ends | has_children | legends  # a connected or containing cell is no badge
    badges = {c.id for c in plain if c.id not in held and is_badge(c)}
    marks = badges | legends
    zones = _zones(
        [c for c in plain if c.id not in marks and not c.is_text],
        [c for c in vertices if c.id in icons],
        bounds,
        budget,
    )
    texts = [
        c
        for c in plain
        if c.label
        and c.id not in marks
        and c.id not in zones
        and (c.is_text or (not c.shape and c.id not in has_children))
    ]
    grid: Grid[Cell] = Grid(bounds, budget)
    for text in texts:
        grid.add_box(text, text)
    notes = PageNotes(name, prefix, by_id, budget)
    groups: dict[str, Group] = {}
    group_cells: list[Cell] = []
    comps: dict[str, Component] = {}
    used: set[str] = set()
    alias: dict[str, str] = {}

    def add(cell: Cell, label: str, slug: str | None, kind: str, source: str) -> None:
        comps[cell.id] = Component(
            f"{prefix}{cell.id}",
            label.replace("\n", " "),
            slug,
            page=name,
            kind=kind,
            source=source,
            names=(label.split("\n", 1)[0],),
        )

    for cell in vertices:
        icon = icons.get(cell.id)
        if icon is None:
            continue
        label = cell.label
        if not label or icon.slug is None:
            text = _nearby_text(cell, grid, used)
            if text is not None and (not label or catalog.names_service(text.label)):
                used.add(text.id)
                alias[text.id] = cell.id
                label = label or text.label
        slug, source, note = _decide(icon, label)
        if note:
            arch.warnings.append(f"{prefix}{cell.id}: {note}")
        actor = slug is None and (icon.actor or catalog.is_actor(label))
        if slug is None and not actor and not label:
            continue
        add(cell, label, slug, "service" if slug else "actor" if actor else "box", source)
        if icon.slug and slug and slug != icon.slug and catalog.refines(icon.slug, slug):
            comps[cell.id].facts["icon_service"] = icon.slug  # a Bedrock icon is Bedrock too
    for cell in plain:
        if cell.id in icons or cell.id in used:
            continue
        if cell.id in badges:
            notes.badges.append(cell)
            continue
        if cell.id in legends:
            notes.boxes.append(cell)
            continue
        grouped = _as_group(cell, cell.id in has_children or cell.id in zones)
        if grouped:
            kind, slug = grouped
            groups[cell.id] = Group(
                f"{prefix}{cell.id}", cell.label.replace("\n", " "), kind, page=name
            )
            group_cells.append(cell)
            if slug:
                add(cell, cell.label, slug, "group", "group")
        elif cell.label and cell.is_text and cell.id not in ends:
            notes.texts.append(cell)
        elif cell.label:
            slug, source, _ = _decide(None, cell.label)
            actor = slug is None and catalog.is_actor(cell.label)
            if slug or actor or cell.id in ends:
                kind = "service" if slug else "actor" if actor else "box"
                add(cell, cell.label, slug, kind, source)
            else:
                notes.boxes.append(cell)
    _assign_groups(by_id, comps, groups, Grid(bounds, budget), group_cells)
    drawn = page_arrows(cells, by_id, comps, alias, prefix, name, budget)
    arch.groups.extend(groups.values())
    arch.components.extend(comps.values())
    arch.edges.extend(edge for _, edge in drawn)
    arch.annotations.extend(notes.resolve(comps, groups, drawn, bounds))


def _assign_groups(
    by_id: dict[str, Cell],
    comps: dict[str, Component],
    groups: dict[str, Group],
    grid: Grid[Cell],
    group_cells: list[Cell],
) -> None:
    """Put every component and group in its innermost group.

    The draw.io parent chain decides first (the nearest ancestor that is a group); a cell with
    no group among its ancestors goes in the smallest larger group box holding its centre,
    found through ``grid``. Chains are walked once each (memoised, cycles cut), so a page of
    boxes nested thousands deep stays linear.
    """
    for cell in group_cells:
        grid.add_box(cell, cell)
    above: dict[str, str | None] = {}  # cell id -> the first group at or above it

    def group_at_or_above(cell_id: str | None) -> str | None:
        chain: list[str] = []
        seen: set[str] = set()
        while cell_id in by_id and cell_id not in groups and cell_id not in above:
            if cell_id in seen:  # a parent cycle in a hostile file: no group up there
                break
            seen.add(cell_id)
            chain.append(cell_id)
            cell_id = by_id[cell_id].parent
        found = cell_id if cell_id in groups else above.get(cell_id or "")
        above.update(dict.fromkeys(chain, found))
        return found

    def enclosing(cell: Cell) -> str | None:
        center, area = cell.center, cell.w * cell.h
        holders = [
            b
            for b in grid.at(center)
            if b.id != cell.id and b.w * b.h > area and b.contains(center)
        ]
        return min(holders, key=lambda b: b.w * b.h).id if holders else None

    for raw_id, comp in comps.items():
        cell = by_id[raw_id]
        parent = group_at_or_above(cell.parent) or enclosing(cell)
        comp.group = groups[parent].id if parent else None
    for gid, group in groups.items():
        cell = by_id[gid]
        outer = group_at_or_above(cell.parent) or enclosing(cell)
        group.parent = groups[outer].id if outer and outer != gid else None


def graph_from_pages(pages: list[Page], *, file: str, fmt: str, budget: Budget) -> Architecture:
    """Build the :class:`Architecture` of a draw.io file from its decoded pages."""
    arch = Architecture(file=file, format=fmt, pages=unique_names([name for name, _ in pages]))
    for number, (name, (_, model)) in enumerate(zip(arch.pages, pages, strict=True), start=1):
        cells = read_cells(model)
        budget.add_cells(len(cells))
        absolutize(cells)
        _page_graph(name, cells, f"{number}:" if len(pages) > 1 else "", arch, budget)
    return arch
