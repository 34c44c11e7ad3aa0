"""Read the cells of one draw.io page: style, plain-text label, absolute geometry, icon evidence."""

from __future__ import annotations

import base64
import binascii
import html
import re
import urllib.parse
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from diagrams.limits import MAX_LABEL

# Tags end at the next ``<`` as well as at ``>``, and optional runs never sit side by side: a
# run of ``<`` (or ``<`` then spaces) with no ``>`` is then scanned once, not once per ``<``.
_TAG = re.compile(r"<[^<>]*>")
_BREAK = re.compile(r"<\s*(?:/\s*)?(br|div|p|li|tr|h\d)\b[^<>]*>", re.IGNORECASE)
_TITLE = re.compile(rb"<title[^>]*>([^<]{1,200})</title>", re.IGNORECASE)
_ICON_ID = re.compile(rb'id="((?:Icon-|Arch_|Res_)[^"]{1,160})"')
_MAX_ICON_BYTES = 2 * 1024 * 1024
_SPACES = re.compile(r"[ \t\u00a0]+")
_MAX_BENDS = 100


@dataclass
class Cell:
    """One ``mxCell`` (maybe wrapped in ``<object>``/``<UserObject>``), as the parser needs it."""

    id: str
    label: str
    style: dict[str, str]
    style_names: tuple[str, ...]
    vertex: bool
    edge: bool
    parent: str | None
    source: str | None
    target: str | None
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0
    relative: bool = False
    points: dict[str, tuple[float, float]] = field(default_factory=dict)
    waypoints: list[tuple[float, float]] = field(default_factory=list)
    """An edge's bend points, in its parent's coordinates."""
    attrs: dict[str, str] = field(default_factory=dict)

    @property
    def shape(self) -> str:
        """Return the ``shape=`` style value ('' when absent)."""
        return self.style.get("shape", "")

    @property
    def center(self) -> tuple[float, float]:
        """Return the centre point in page coordinates (after :func:`absolutize`)."""
        return (self.x + self.w / 2, self.y + self.h / 2)

    def contains(self, point: tuple[float, float]) -> bool:
        """Return True when ``point`` lies inside this cell's box."""
        px, py = point
        return self.x <= px <= self.x + self.w and self.y <= py <= self.y + self.h

    @property
    def area(self) -> float:
        """Return the box's area."""
        return self.w * self.h

    @property
    def is_text(self) -> bool:
        """Return True for text-only cells (``text;`` style or label cells without a shape)."""
        return "text" in self.style_names or self.shape == "text" or "edgeLabel" in self.style_names


def parse_style(style: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """Split a draw.io style string into ``key=value`` pairs and bare style names."""
    pairs: dict[str, str] = {}
    names: list[str] = []
    for part in style.split(";"):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if sep:
            pairs[key.strip()] = value.strip()
        else:
            names.append(part.strip())
    return pairs, tuple(names)


def html_to_text(value: str) -> str:
    """Turn an HTML label into plain text with one line per visual line."""
    if "<" in value or "&" in value:
        value = _BREAK.sub("\n", value)
        value = html.unescape(_TAG.sub("", value))
    lines = (_SPACES.sub(" ", line).strip() for line in value.splitlines())
    return "\n".join(line for line in lines if line)


def _label(raw: str, *, html_label: bool) -> str:
    raw = raw[:MAX_LABEL]
    if html_label:
        return html_to_text(raw)
    lines = (_SPACES.sub(" ", line).strip() for line in raw.splitlines())
    return "\n".join(line for line in lines if line)


def _float(value: str | None) -> float:
    try:
        number = float(value) if value else 0.0
    except ValueError:
        return 0.0
    return number if number == number and abs(number) < 1e9 else 0.0


def read_cells(model: Element) -> list[Cell]:
    """Return every cell of a page's ``<mxGraphModel>`` in document order."""
    root = next((c for c in model if c.tag == "root"), None)
    if root is None:
        return []
    cells: list[Cell] = []
    for node in root:
        if node.tag == "mxCell":
            cell_el, attrs = node, {}
        else:  # <object>/<UserObject> carry the label and custom attributes, the mxCell the rest
            cell_el = node.find("mxCell")
            if cell_el is None:
                continue
            attrs = {k: v for k, v in node.attrib.items() if k not in ("id", "label")}
        cell_id = node.get("id") or cell_el.get("id")
        if not cell_id:
            continue
        raw_label = node.get("label") if node is not cell_el else cell_el.get("value")
        style, names = parse_style(cell_el.get("style") or "")
        cell = Cell(
            id=cell_id,
            label=_label(raw_label or "", html_label=style.get("html") == "1"),
            style=style,
            style_names=names,
            vertex=cell_el.get("vertex") == "1",
            edge=cell_el.get("edge") == "1",
            parent=cell_el.get("parent"),
            source=cell_el.get("source"),
            target=cell_el.get("target"),
            attrs=attrs,
        )
        geometry = cell_el.find("mxGeometry")
        if geometry is not None:
            cell.x, cell.y = _float(geometry.get("x")), _float(geometry.get("y"))
            cell.w, cell.h = _float(geometry.get("width")), _float(geometry.get("height"))
            cell.relative = geometry.get("relative") == "1"
            for point in geometry.findall("mxPoint"):
                role = point.get("as")
                if role in ("sourcePoint", "targetPoint"):
                    cell.points[role] = (_float(point.get("x")), _float(point.get("y")))
            bends = geometry.find("Array") if cell.edge else None
            if bends is not None:
                cell.waypoints = [
                    (_float(point.get("x")), _float(point.get("y")))
                    for point in bends.findall("mxPoint")[:_MAX_BENDS]
                ]
        cells.append(cell)
    return cells


def absolutize(cells: list[Cell]) -> None:
    """Convert child-relative vertex coordinates into page coordinates, in place."""
    by_id = {c.id: c for c in cells}
    done: set[str] = set()

    def resolve(cell: Cell, depth: int = 0) -> None:
        if cell.id in done or depth > 50:
            return
        done.add(cell.id)
        parent = by_id.get(cell.parent or "")
        if parent is not None and parent.vertex and not cell.relative:
            resolve(parent, depth + 1)
            cell.x += parent.x
            cell.y += parent.y

    for cell in cells:
        resolve(cell)


def icon_text(cell: Cell) -> str:
    """Return the words an icon's image carries: an SVG ``<title>`` or the image file name."""
    image = cell.style.get("image", "")
    if not image:
        return ""
    if image.startswith("data:image/svg+xml,"):
        payload = image.split(",", 1)[1]
        raw = _svg_bytes(payload)
        found = (_TITLE.search(raw) or _ICON_ID.search(raw)) if raw else None
        return html.unescape(found.group(1).decode("utf-8", errors="replace")) if found else ""
    if image.startswith("data:"):
        return ""
    name = urllib.parse.unquote(image.rsplit("/", 1)[-1])
    return name.rsplit(".", 1)[0]


def _svg_bytes(payload: str) -> bytes:
    if len(payload) > _MAX_ICON_BYTES:
        return b""
    if payload.lstrip().startswith(("%3C", "<")):
        return urllib.parse.unquote(payload).encode("utf-8", errors="replace")
    try:
        return base64.b64decode(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        return b""
