"""Find the line where each component of a parsed design is written, for SARIF and diffs."""

from __future__ import annotations

import re
from collections.abc import Iterable

from diagrams.contracts import LocationJSON
from diagrams.model import Architecture, Component


def _patterns(arch_format: str, comp: Component) -> list[re.Pattern[str]]:
    """Return the patterns that find ``comp``'s own line, most specific first."""
    bare = comp.id.rsplit(":", 1)[-1]
    if arch_format == "terraform":
        parts = comp.id.split(".")
        if parts[0] == "data" and len(parts) == 3:
            return [re.compile(rf'^\s*data\s+"{re.escape(parts[1])}"\s+"{re.escape(parts[2])}"')]
        if parts[0] == "module" and len(parts) == 2:
            return [re.compile(rf'^\s*module\s+"{re.escape(parts[1])}"')]
        if len(parts) == 2:
            rtype, name = map(re.escape, parts)
            return [
                re.compile(rf'^\s*resource\s+"{rtype}"\s+"{name}"'),
                re.compile(rf'^\s*"{name}"\s*:'),
            ]
        return []
    if arch_format == "cloudformation":
        return [re.compile(rf'^\s*"?{re.escape(comp.id)}"?\s*:')]
    if arch_format.startswith("drawio"):
        return [re.compile(rf'\bid="{re.escape(bare)}"')]
    if arch_format == "mermaid":
        names = [bare, *comp.names[1:2]]
        return [re.compile(rf"(?<![\w-]){re.escape(n)}(?![\w-])") for n in names if n]
    return []


def _find(lines: list[str], patterns: list[re.Pattern[str]]) -> int | None:
    for pattern in patterns:
        for number, line in enumerate(lines, 1):
            if pattern.search(line):
                return number
    return None


def locate(arch: Architecture, sources: Iterable[tuple[str, str]]) -> None:
    """Set :attr:`Component.location` from the design's source texts.

    Args:
        arch: the parsed design; its components get ``{"file", "line"}``.
        sources: ``(path, text)`` of every file the design was read from, in order; a
            component found in none of them points at the first file with ``line`` None
            (compressed draw.io pages and images have no useful line).
    """
    files = [(path, text.splitlines()) for path, text in sources]
    if not files:
        return
    for comp in arch.components:
        patterns = _patterns(arch.format, comp)
        where: LocationJSON = {"file": files[0][0], "line": None}
        for path, lines in files:
            line = _find(lines, patterns) if patterns else None
            if line is not None:
                where = {"file": path, "line": line}
                break
        comp.location = where
