"""Parse Mermaid flowcharts (``graph``/``flowchart``), standalone or fenced in markdown."""

from __future__ import annotations

import re

from corpus.errors import InputError
from diagrams import catalog
from diagrams.limits import Budget
from diagrams.mermaid_nodes import clean, node_component
from diagrams.mermaid_sequence import SEQUENCE_HEADER, parse_sequence
from diagrams.model import Annotation, Architecture, Component, Edge, Group
from diagrams.notes import is_legend_title, step_of
from diagrams.views import unique_names

_FENCE = re.compile(
    r"^[ \t]*(```|~~~)[ \t]*mermaid[^\n]*\n(.*?)^[ \t]*\1", re.DOTALL | re.MULTILINE
)
_HEADER = re.compile(r"^\s*(graph|flowchart)\b", re.IGNORECASE)
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+([^\n]{1,200})$", re.MULTILINE)
_SKIP = re.compile(r"^\s*(style|classDef|class|click|linkStyle|direction|accTitle|accDescr)\b")
_ID = re.compile(r"[A-Za-z0-9_$\u00c0-\uffff](?:[A-Za-z0-9_$.\u00c0-\uffff]|-(?![-.>=]))*")
_OPENERS = (
    ("(((", ")))"),
    ("[[", "]]"),
    ("[(", ")]"),
    ("((", "))"),
    ("([", "])"),
    ("{{", "}}"),
    ("[/", "/]"),
    ("[\\", "\\]"),
    ("[", "]"),
    ("(", ")"),
    ("{", "}"),
    (">", "]"),
)
# The label of ``A-- text -->`` is matched by one lazy run, with no ``\s*`` beside it (spaces
# are stripped afterwards): overlapping quantifiers there backtrack cubically on long runs.
_EDGE = re.compile(
    r"\s*(?:"
    r"(?P<lab>[<ox]?(?:--|==|-\.)(?![->.=])(?P<text>[^|]*?)(?:-{2,}|={2,}|\.-)[>ox]?)"
    r"|(?P<op>[<ox]?(?:-{2,}|={2,}|-\.+-|~{3,})[>ox]?)(?:\s*\|(?P<pipe>[^|]*)\|)?"
    r")\s*"
)
_SHAPE_DATA = re.compile(r"@\{([^}]*)\}")
_CLASS = re.compile(r":::[\w-]+")
_AMPERSAND = re.compile(r"\s*&\s*")
_MAX_STATEMENTS = 20_000


class _Flowchart:
    """Accumulates nodes, edges and subgraphs of one flowchart."""

    def __init__(self, prefix: str, page: str, budget: Budget) -> None:
        self.prefix, self.page, self.budget = prefix, page, budget
        self.labels: dict[str, str] = {}
        self.node_group: dict[str, str | None] = {}
        self.groups: dict[str, Group] = {}
        self.stack: list[str] = []
        self.edges: list[tuple[str, str, str]] = []

    def node(self, line: str, pos: int) -> tuple[str | None, int]:
        found = _ID.match(line, pos)
        if not found:
            return None, pos
        node_id, pos = found.group(0), found.end()
        for opener, closer in _OPENERS:
            if line.startswith(opener, pos):
                start = pos + len(opener)
                if line.startswith('"', start):
                    close_quote = line.find('"', start + 1)
                    end = line.find(closer, close_quote + 1 if close_quote > 0 else start)
                else:
                    end = line.find(closer, start)
                if end < 0:
                    raise InputError(f"Mermaid node '{node_id[:40]}' has an unclosed '{opener}'")
                self.labels[node_id] = clean(line[start:end])
                pos = end + len(closer)
                break
        shaped = _SHAPE_DATA.match(line, pos)
        if shaped:
            label = re.search(r'label\s*:\s*"([^"]*)"', shaped.group(1))
            if label:
                self.labels[node_id] = clean(label.group(1))
            pos = shaped.end()
        styled = _CLASS.match(line, pos)
        pos = styled.end() if styled else pos
        self.labels.setdefault(node_id, "")
        if node_id not in self.groups and (self.stack or node_id not in self.node_group):
            self.node_group[node_id] = self.stack[-1] if self.stack else None
        return node_id, pos

    def statement(self, line: str) -> None:
        pos, sets, labels = 0, [[]], []
        while pos < len(line):
            node_id, new_pos = self.node(line, pos)
            if node_id is None:
                break
            sets[-1].append(node_id)
            pos = new_pos
            amp = _AMPERSAND.match(line, pos)
            if amp:
                pos = amp.end()
                continue
            edge = _EDGE.match(line, pos)
            if not edge or edge.end() == pos:
                break
            labels.append(clean(edge.group("text") or edge.group("pipe") or ""))
            sets.append([])
            pos = edge.end()
        for (left, right), label in zip(zip(sets, sets[1:]), labels, strict=False):
            self.budget.add_edges(len(left) * len(right))  # before the product is built
            self.edges.extend((a, b, label) for a in left for b in right)

    def subgraph(self, rest: str) -> None:
        rest = rest.strip()
        found = re.match(r'([^\s\["]+)\s*\[(.*)\]\s*$', rest)
        if found:
            sub_id, title = found.group(1), clean(found.group(2))
        else:
            title = clean(rest)
            sub_id = rest if rest and '"' not in rest else title
        sub_id = sub_id or f"subgraph{len(self.groups) + 1}"
        parent = self.stack[-1] if self.stack else None
        kind = (catalog.group_kind(title) or ("cluster", None))[0]
        self.groups[sub_id] = Group(
            self.prefix + sub_id,
            title.replace("\n", " "),
            kind,
            self.prefix + parent if parent else None,
            self.page,
        )
        self.stack.append(sub_id)

    def _legends(self) -> set[str]:
        """Return the subgraphs titled as legends, and the subgraphs nested inside them."""
        found: set[str] = set()
        for sub_id, group in self.groups.items():  # parents come before their children
            parent = (group.parent or "")[len(self.prefix) :]
            if is_legend_title(group.label) or parent in found:
                found.add(sub_id)
        return found

    def build(self, arch: Architecture) -> None:
        self.budget.add_cells(len(self.labels) + len(self.edges))
        comps: dict[str, Component] = {}
        legends = self._legends()
        for sub_id in legends:
            group = self.groups.pop(sub_id)
            arch.annotations.append(Annotation(group.id, group.label, "legend", self.page))
        for node_id in [n for n, g in self.node_group.items() if g in legends]:
            text = (self.labels.pop(node_id, "") or node_id).replace("\n", " ")
            legend = self.prefix + (self.node_group[node_id] or "")
            arch.annotations.append(
                Annotation(self.prefix + node_id, text, "legend", self.page, attached_to=legend)
            )
        for sub_id, group in self.groups.items():
            found = catalog.group_kind(group.label)
            match = catalog.names_service(group.label)
            slug = found[1] if found and found[1] else match.slug if match and not found else None
            if slug:
                comps[sub_id] = Component(
                    group.id,
                    group.label,
                    slug,
                    group.parent,
                    self.page,
                    kind="group",
                    source="subgraph title",
                )
        for node_id, label in self.labels.items():
            if node_id not in self.groups:
                group = self.node_group.get(node_id)
                comps[node_id] = node_component(node_id, label, self.prefix, self.page, group)
        arch.groups.extend(self.groups.values())
        arch.components.extend(comps.values())
        for src, dst, label in self.edges:
            if src in comps and dst in comps and src != dst:
                edge = Edge(self.prefix + src, self.prefix + dst, label, page=self.page)
                edge.step = step_of(label)
                edge.label = "" if edge.step else label
                arch.edges.append(edge)


def _blocks(text: str) -> list[tuple[str, str]]:
    """Return (name, body) for each Mermaid block; a block is named by the heading above it."""
    if _reviewed(text):
        return [("flowchart 1" if _HEADER.match(text) else "sequence diagram 1", text)]
    headings = [(m.start(), clean(m.group(1))) for m in _HEADING.finditer(text)]
    blocks, at, title = [], 0, ""
    for number, fence in enumerate(_FENCE.finditer(text), start=1):
        while at < len(headings) and headings[at][0] < fence.start():
            title, at = headings[at][1], at + 1
        blocks.append((title or f"diagram {number}", fence.group(2)))
    return blocks


def _kind(body: str) -> str:
    """Return the diagram type a Mermaid block declares (its first word)."""
    for line in body.splitlines():
        line = line.strip()
        if line and not line.startswith("%%") and not line.startswith("---"):
            return line.split()[0].rstrip(";:")[:40]
    return "empty block"


def _statements(body: str) -> list[str]:
    """Return a block's statements after its header: comments dropped, ``;`` splitting lines."""
    out = []
    for raw in body.splitlines()[1:]:
        for line in raw.split(";"):
            line = line.split("%%", 1)[0].strip()
            if line:
                out.append(line)
    return out


def _reviewed(body: str) -> bool:
    return bool(_HEADER.match(body) or SEQUENCE_HEADER.match(body))


def parse_mermaid(text: str, filename: str, budget: Budget) -> Architecture:
    """Parse every Mermaid flowchart and sequence diagram in ``text`` (``.mmd`` or markdown).

    Raises:
        InputError: no flowchart or sequence diagram found, too many statements or
            connections (``budget``), or a node is malformed.
    """
    blocks = _blocks(text)
    charts = [(name, body) for name, body in blocks if _reviewed(body)]
    if not charts:
        raise InputError(
            f"{filename} holds no Mermaid flowchart ('graph' or 'flowchart') or sequence "
            "diagram; other Mermaid diagram types are not architecture diagrams"
        )
    bodies = [_statements(body) for _, body in charts]
    if sum(map(len, bodies)) > _MAX_STATEMENTS:
        raise InputError(f"Mermaid text has over {_MAX_STATEMENTS} statements")
    arch = Architecture(file=filename, format="mermaid")
    arch.warnings += [
        f"Mermaid block '{name[:60]}' is a {_kind(body)} diagram, not an architecture view: "
        "not reviewed"
        for name, body in blocks
        if not _reviewed(body)
    ]
    names = unique_names([name for name, _ in charts])
    for number, (page, (_, chart), lines) in enumerate(zip(names, charts, bodies, strict=True), 1):
        arch.pages.append(page)
        prefix = f"{number}:" if len(charts) > 1 else ""
        if SEQUENCE_HEADER.match(chart):
            parse_sequence(lines, prefix, page, arch)
            continue
        flow = _Flowchart(prefix, page, budget)
        for line in lines:
            if _SKIP.match(line):
                continue
            if line.lower().startswith("subgraph"):
                flow.subgraph(line[8:])
            elif line == "end":
                if flow.stack:
                    flow.stack.pop()
            else:
                flow.statement(line)
        flow.build(arch)
    return arch
