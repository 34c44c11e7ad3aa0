"""Parse Mermaid sequence diagrams: participants become components, messages become arrows.

A sequence diagram in a design document is one more view of the system: who calls whom, in
what order. Notes become annotations; with ``autonumber`` each message carries its step.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from diagrams.mermaid_nodes import clean, node_component
from diagrams.model import Annotation, Architecture, Edge

SEQUENCE_HEADER = re.compile(r"^\s*sequenceDiagram\b")
_DECLARE = re.compile(
    r"^(?P<kind>participant|actor)\s+(?P<id>[^\s:;]+)(?:\s+as\s+(?P<alias>.+))?$", re.IGNORECASE
)
_ARROWS = ("-->>", "->>", "-->", "->", "--x", "-x", "--)", "-)", "<<->>", "<<-->>")
_SENDER = re.compile(r"^(?P<src>[^\s\-<>+:;]+)\s*")
# The participants start at a non-space: ``\s+[^:]+`` would share the spaces between them and
# backtrack quadratically over a long run of spaces with no colon.
_NOTE = re.compile(
    r"^note\s+(?:over|left of|right of)\s+[^\s:][^:]*:\s*(?P<text>.*)$", re.IGNORECASE
)
_BLOCKS = ("loop", "alt", "else", "opt", "par", "and", "critical", "option", "break", "rect")
_IGNORED = ("end", "activate", "deactivate", "box", "title", "autonumber", "create", "destroy")


class _Sequence:
    """Accumulates participants, messages and notes of one sequence diagram."""

    def __init__(self, prefix: str, page: str) -> None:
        self.prefix, self.page = prefix, page
        self.labels: dict[str, str] = {}
        self.actors: set[str] = set()
        self.messages: list[tuple[str, str, str]] = []
        self.notes: list[str] = []
        self.numbered = False

    def statement(self, line: str) -> None:
        word = line.split(None, 1)[0].lower()
        declared = _DECLARE.match(line)
        note = _NOTE.match(line)
        if declared:
            node = declared.group("id")
            self.labels[node] = clean(declared.group("alias") or "")
            if declared.group("kind").lower() == "actor":
                self.actors.add(node)
        elif note:
            self.notes.append(clean(note.group("text")))
        elif word == "autonumber":
            self.numbered = True
        elif word not in _BLOCKS and word not in _IGNORED:
            self._message(line)

    def _message(self, line: str) -> None:
        sender = _SENDER.match(line)
        if not sender:
            return
        rest = line[sender.end() :]
        arrow = next((a for a in sorted(_ARROWS, key=len, reverse=True) if rest.startswith(a)), "")
        target, _, text = rest[len(arrow) :].lstrip("+- ").partition(":")
        target = target.strip()
        if not arrow or not target or any(c.isspace() for c in target):
            return
        source = sender.group("src")
        for node in (source, target):
            self.labels.setdefault(node, "")
        self.messages.append((source, target, clean(text)))

    def build(self, arch: Architecture) -> None:
        for node, label in self.labels.items():
            comp = node_component(node, label, self.prefix, self.page, actor=node in self.actors)
            arch.components.append(comp)
        for number, (src, dst, text) in enumerate(self.messages, start=1):
            if src != dst:
                step = str(number) if self.numbered else ""
                edge = Edge(self.prefix + src, self.prefix + dst, text, step, self.page)
                arch.edges.append(edge)
        arch.annotations += [
            Annotation(f"{self.prefix}note{n}", text, "note", self.page)
            for n, text in enumerate(self.notes, start=1)
            if text
        ]


def parse_sequence(lines: Iterable[str], prefix: str, page: str, arch: Architecture) -> None:
    """Add one sequence diagram (its statements after the header) to ``arch``."""
    sequence = _Sequence(prefix, page)
    for line in lines:
        sequence.statement(line)
    sequence.build(arch)
