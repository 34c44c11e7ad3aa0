"""Mermaid node text to components: label cleaning and service naming for every diagram type."""

from __future__ import annotations

import html
import re
import unicodedata

from diagrams import catalog
from diagrams.limits import MAX_LABEL
from diagrams.model import Component

# Tags end at the next ``<`` too, and no two optional runs sit side by side, so an unclosed
# ``<br`` followed by a long run of spaces (or many ``<``) is scanned once, not quadratically.
_TAGS = re.compile(r"<[^<>]*>")
_BREAK = re.compile(r"<\s*br\s*(?:/\s*)?>", re.IGNORECASE)
_ICON = re.compile(r"\bfa[bsr]?:fa-[\w-]+")


def clean(text: str) -> str:
    """Return a Mermaid label as plain text: quotes, ``<br>``, HTML, icons and emoji removed."""
    text = text[:MAX_LABEL].strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    text = _BREAK.sub("\n", text)
    text = html.unescape(_TAGS.sub("", _ICON.sub("", text)).replace("#quot;", '"'))
    text = "".join(
        ch for ch in text if unicodedata.category(ch) not in ("So", "Sk", "Cs", "Mn", "Cf")
    )
    text = text.replace("**", "").replace("`", "")
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def node_component(
    node_id: str,
    label: str,
    prefix: str,
    page: str,
    group: str | None = None,
    *,
    actor: bool = False,
) -> Component:
    """Return the component a Mermaid node stands for.

    The first line of its label names the service; a generic label falls back on the node id
    (``S3[Documents]``). ``actor`` marks a node the diagram declares as a person.
    """
    text = label or node_id
    head = text.split("\n", 1)[0]
    # an id such as ``BedrockS3Policy`` says what the node is, whatever its label lists
    match = catalog.suffix_match(node_id) if label else None
    match = match or catalog.names_service(head)
    match = match or (catalog.names_service(node_id) if label else None)
    person = match is None and (actor or catalog.is_actor(head))
    return Component(
        prefix + node_id,
        text.replace("\n", " "),
        match.slug if match else None,
        prefix + group if group else None,
        page,
        kind="service" if match else "actor" if person else "box",
        source="label" if match else "",
        names=(head, node_id),
    )
