"""Parse Mermaid flowcharts (``graph``/``flowchart``), standalone or fenced in markdown."""

from __future__ import annotations

import html
import re
import unicodedata

from agent.diagrams import catalog
from agent.diagrams.drawio_notes import step_of
from agent.diagrams.model import Architecture, Component, Edge, Group
from agent.diagrams.views import unique_names
from corpus.errors import InputError

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
_EDGE = re.compile(
    r"\s*(?:"
    r"(?P<lab>[<ox]?(?:--|==|-\.)(?![->.=])\s*(?P<text>[^|]*?)\s*(?:-{2,}|={2,}|\.-)[>ox]?)"
    r"|(?P<op>[<ox]?(?:-{2,}|={2,}|-\.+-|~{3,})[>ox]?)(?:\s*\|(?P<pipe>[^|]*)\|)?"
    r")\s*"
)
_TAGS = re.compile(r"<[^>]*>")
_SHAPE_DATA = re.compile(r"@\{([^}]*)\}")
_CLASS = re.compile(r":::[\w-]+")
_ICON = re.compile(r"\bfa[bsr]?:fa-[\w-]+")
_MAX_STATEMENTS = 20_000


def _clean(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    text = re.sub(r"<\s*br\s*/?\s*>", "\n", text, flags=re.IGNORECASE)
    text = html.unescape(_TAGS.sub("", _ICON.sub("", text)).replace("#quot;", '"'))
    text = "".join(
        ch for ch in text if unicodedata.category(ch) not in ("So", "Sk", "Cs", "Mn", "Cf")
    )
    text = text.replace("**", "").replace("`", "")
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


class _Flowchart:
    """Accumulates nodes, edges and subgraphs of one flowchart."""

    def __init__(self, prefix: str, page: str) -> None:
        self.prefix, self.page = prefix, page
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
                self.labels[node_id] = _clean(line[start:end])
                pos = end + len(closer)
                break
        shaped = _SHAPE_DATA.match(line, pos)
        if shaped:
            label = re.search(r'label\s*:\s*"([^"]*)"', shaped.group(1))
            if label:
                self.labels[node_id] = _clean(label.group(1))
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
            amp = re.match(r"\s*&\s*", line[pos:])
            if amp:
                pos += amp.end()
                continue
            edge = _EDGE.match(line, pos)
            if not edge or edge.end() == pos:
                break
            labels.append(_clean(edge.group("text") or edge.group("pipe") or ""))
            sets.append([])
            pos = edge.end()
        for (left, right), label in zip(zip(sets, sets[1:]), labels, strict=False):
            self.edges.extend((a, b, label) for a in left for b in right)

    def subgraph(self, rest: str) -> None:
        rest = rest.strip()
        found = re.match(r'([^\s\["]+)\s*\[(.*)\]\s*$', rest)
        if found:
            sub_id, title = found.group(1), _clean(found.group(2))
        else:
            title = _clean(rest)
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

    def build(self, arch: Architecture) -> None:
        comps: dict[str, Component] = {}
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
            if node_id in self.groups:
                continue
            text = label or node_id
            match = catalog.names_service(" ".join(text.split("\n")[:1]))
            match = match or (catalog.names_service(node_id) if label else None)
            actor = match is None and catalog.is_actor(text.split("\n")[0])
            group = self.node_group.get(node_id)
            comps[node_id] = Component(
                self.prefix + node_id,
                text.replace("\n", " "),
                match.slug if match else None,
                self.prefix + group if group else None,
                self.page,
                kind="service" if match else "actor" if actor else "box",
                source="label" if match else "",
                names=(text.split("\n", 1)[0], node_id),
            )
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
    if _HEADER.match(text):
        return [("flowchart 1", text)]
    headings = [(m.start(), _clean(m.group(1))) for m in _HEADING.finditer(text)]
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


def parse_mermaid(text: str, filename: str) -> Architecture:
    """Parse every Mermaid flowchart in ``text`` (a ``.mmd`` file or markdown with fences).

    Raises:
        InputError: no flowchart found, or a node is malformed.
    """
    blocks = _blocks(text)
    charts = [(name, body) for name, body in blocks if _HEADER.match(body)]
    if not charts:
        raise InputError(
            f"{filename} holds no Mermaid flowchart ('graph' or 'flowchart'); other Mermaid "
            "diagram types are not architecture diagrams"
        )
    arch = Architecture(file=filename, format="mermaid")
    arch.warnings += [
        f"Mermaid block '{name[:60]}' is a {_kind(body)} diagram, not a flowchart: not reviewed"
        for name, body in blocks
        if not _HEADER.match(body)
    ]
    count = 0
    names = unique_names([name for name, _ in charts])
    for number, (page, (_, chart)) in enumerate(zip(names, charts, strict=True), start=1):
        arch.pages.append(page)
        flow = _Flowchart(f"{number}:" if len(charts) > 1 else "", page)
        for raw in chart.splitlines()[1:]:
            for line in raw.split(";"):
                count += 1
                if count > _MAX_STATEMENTS:
                    raise InputError(f"Mermaid text has over {_MAX_STATEMENTS} statements")
                line = line.split("%%", 1)[0].strip()
                if not line or _SKIP.match(line):
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
