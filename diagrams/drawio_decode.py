"""Unwrap draw.io containers into page models: .drawio, compressed pages, .drawio.png, .svg.

Every XML parse goes through ``defusedxml`` (no DTDs, entities or external references) and every
inflate through :class:`~diagrams.limits.Budget`, so hostile files fail fast and cheaply.
"""

from __future__ import annotations

import io
import struct
import urllib.parse
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from corpus.errors import InputError
from diagrams.limits import Budget, b64decode

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
_MAX_PNG_CHUNKS = 10_000

Page = tuple[str, Element]
"""A page name and its ``<mxGraphModel>`` element."""


def parse_xml(text: str | bytes, budget: Budget, what: str = "diagram") -> Element:
    """Parse untrusted XML safely, turning every failure into one :class:`InputError`.

    Elements are counted against ``budget`` as they are read, so a small file that expands
    into millions of elements is refused before its tree fills memory.
    """
    source = io.StringIO(text) if isinstance(text, str) else io.BytesIO(text)
    try:
        events = SafeET.iterparse(source, events=("start",), forbid_dtd=True)
        for _ in events:
            budget.add_element()
        return events.root
    except DefusedXmlException as exc:
        raise InputError(f"{what} XML uses forbidden constructs ({type(exc).__name__})") from None
    except ParseError as exc:
        raise InputError(f"{what} is not well-formed XML ({exc})") from None
    except (ValueError, UnicodeError) as exc:
        raise InputError(f"{what} XML cannot be decoded ({exc})") from None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _unquote(text: str, budget: Budget) -> str:
    """URL-decode draw.io XML, refusing first the text that would decode to too many elements.

    Every element needs at least one ``<`` (literal or ``%3C``) and at most two, so half of
    them bounds the element count from below: counting is cheap, while decoding a
    percent-encoded bomb and building its tree would take seconds and gigabytes.
    """
    tags = text.count("<") + text.count("%3C") + text.count("%3c")
    budget.check_elements(tags // 2)
    return urllib.parse.unquote(text)


def _maybe_unquote(text: str, budget: Budget) -> str:
    stripped = text.lstrip()
    return _unquote(stripped, budget) if stripped.startswith("%3C") else stripped


def decode_compressed_page(text: str, budget: Budget) -> str:
    """Decode a compressed ``<diagram>`` body: base64, then raw deflate, then URL-encoding."""
    inflated = budget.inflate(b64decode(text, "compressed diagram page"))
    try:
        return _unquote(inflated.decode("utf-8"), budget)
    except UnicodeDecodeError:
        raise InputError("compressed diagram page does not inflate to text") from None


def pages_from_root(root: Element, budget: Budget) -> list[Page]:
    """Return the pages of an ``<mxfile>`` or a bare ``<mxGraphModel>`` root element."""
    tag = _local(root.tag)
    if tag == "mxGraphModel":
        return [("Page-1", root)]
    if tag != "mxfile":
        raise InputError(f"XML root is <{tag}>, not a draw.io <mxfile> or <mxGraphModel>")
    pages: list[Page] = []
    diagrams = [child for child in root if _local(child.tag) == "diagram"]
    if len(diagrams) > budget.limits.max_pages:
        raise InputError(
            f"diagram has {len(diagrams)} pages, over the {budget.limits.max_pages} cap"
        )
    for number, diagram in enumerate(diagrams, start=1):
        name = diagram.get("name") or f"Page-{number}"
        model = next((c for c in diagram if _local(c.tag) == "mxGraphModel"), None)
        if model is None:
            body = (diagram.text or "").strip()
            if not body:
                continue
            xml = body if body.startswith("<") else decode_compressed_page(body, budget)
            model = parse_xml(xml, budget, f"page '{name}'")
            if _local(model.tag) != "mxGraphModel":
                raise InputError(f"page '{name}' does not hold an <mxGraphModel>")
        pages.append((name, model))
    if not pages:
        raise InputError("draw.io file has no diagram pages")
    return pages


def pages_from_xml_text(text: str | bytes, budget: Budget) -> list[Page]:
    """Parse draw.io XML text (``<mxfile>``, possibly URL-encoded, or ``<mxGraphModel>``)."""
    if isinstance(text, str):
        text = _maybe_unquote(text, budget)
    return pages_from_root(parse_xml(text, budget), budget)


def png_text_chunks(data: bytes, budget: Budget) -> dict[str, str]:
    """Return the text chunks of a PNG (tEXt, zTXt, iTXt) keyed by keyword.

    Raises:
        InputError: the bytes are not a PNG or its chunk structure is broken.
    """
    if not data.startswith(PNG_SIGNATURE):
        raise InputError("file is not a PNG image")
    chunks: dict[str, str] = {}
    pos, count = len(PNG_SIGNATURE), 0
    while pos + 8 <= len(data) and count < _MAX_PNG_CHUNKS:
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if len(body) < length:
            raise InputError("PNG is truncated (a chunk runs past the end of the file)")
        pos, count = pos + 12 + length, count + 1
        if kind == b"IEND":
            break
        if kind in _TEXT_CHUNKS:
            keyword, text = _png_text(kind, body, budget)
            if keyword:
                chunks[keyword] = text
    return chunks


def _png_text(kind: bytes, body: bytes, budget: Budget) -> tuple[str, str]:
    keyword, _, rest = body.partition(b"\0")
    name = keyword.decode("latin-1")
    if kind == b"tEXt":
        return name, rest.decode("latin-1")
    if kind == b"zTXt":
        return name, budget.inflate(rest[1:], raw=False).decode("latin-1")
    if len(rest) < 2:
        raise InputError("PNG iTXt chunk is truncated")
    compressed, rest = rest[0], rest[2:]
    _language, _, rest = rest.partition(b"\0")
    _translated, _, text = rest.partition(b"\0")
    if compressed:
        text = budget.inflate(text, raw=False)
    return name, text.decode("utf-8", errors="replace")


def pages_from_png(data: bytes, budget: Budget) -> list[Page] | None:
    """Return the diagram embedded in a ``.drawio.png``, or None when the PNG carries none."""
    chunks = png_text_chunks(data, budget)
    text = chunks.get("mxfile") or chunks.get("mxGraphModel")
    if text is None:
        return None
    return pages_from_xml_text(text, budget)


def pages_from_svg(root: Element, budget: Budget) -> list[Page] | None:
    """Return the diagram held in an ``<svg content="...">`` attribute, or None when absent."""
    content = (root.get("content") or "").strip()
    if not content:
        return None
    if not content.startswith(("<", "%3C")):
        inflated = b64decode(content, "SVG content attribute")
        content = inflated.decode("utf-8", errors="replace")
    return pages_from_xml_text(content, budget)
