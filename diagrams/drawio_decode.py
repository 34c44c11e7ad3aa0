"""Unwrap draw.io containers into page models: .drawio, compressed pages, .drawio.png, .svg.

Every XML parse goes through ``defusedxml`` (no DTDs, entities or external references) and every
inflate through :class:`~diagrams.limits.Budget`, so hostile files fail fast and cheaply.
"""

from __future__ import annotations

import binascii
import re
import struct
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from corpus.errors import InputError
from diagrams.limits import Budget, b64decode

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
_MAX_PNG_CHUNKS = 10_000

Page = tuple[str, Element]
"""A page name and its ``<mxGraphModel>`` element."""


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _count(text: str | bytes, mark: str) -> int:
    return text.count(mark) if isinstance(text, str) else text.count(mark.encode())


def _check_markup(texts: list[str | bytes], budget: Budget) -> None:
    """Refuse XML whose ``<`` and ``<mxCell`` counts alone pass the element or cell caps.

    Every element needs one or two ``<``, and every draw.io cell is one ``<mxCell``: counting
    is cheap, while parsing what the counts already refuse would take seconds.
    """
    budget.check_elements(sum(_count(text, "<") for text in texts) // 2)
    budget.check_cells(sum(_count(text, "<mxCell") for text in texts))


def parse_xml(text: str | bytes, budget: Budget, what: str = "diagram") -> Element:
    """Parse untrusted XML safely, turning every failure into one :class:`InputError`.

    Text whose markup counts alone pass the caps is refused before it is parsed; the elements
    are then counted exactly as they are read. The text goes to expat in one piece: the
    bundled expat (2.5) rescans a token that spans the 16 KiB pieces ``iterparse`` feeds,
    which is quadratic in one huge attribute value.

    Text (``str``) reaches expat as UTF-8 whatever it declares, so a document type declaration
    is found by its literal ``<!DOCTYPE``; with none, XML has no entities to expand and nothing
    external to fetch, and the C tree builder (about twice as fast) is as safe as defusedxml.
    Bytes may be in any encoding and go through defusedxml.
    """
    _check_markup([text], budget)
    if isinstance(text, str):
        if "<!DOCTYPE" in text:
            raise InputError(f"{what} XML uses forbidden constructs (a DTD)")
        pull = XMLPullParser(events=("start",))
    else:
        pull = XMLPullParser(events=("start",), _parser=DefusedXMLParser(forbid_dtd=True))
    root = None
    try:
        pull.feed(text)
        pull.close()
        for event in pull.read_events():
            element = event[-1]  # ("start", element): the only events asked for
            if root is None and isinstance(element, Element):
                root = element
            budget.add_element()
    except DefusedXmlException as exc:
        raise InputError(f"{what} XML uses forbidden constructs ({type(exc).__name__})") from None
    except ParseError as exc:
        raise InputError(f"{what} is not well-formed XML ({exc})") from None
    except (ValueError, UnicodeError) as exc:
        raise InputError(f"{what} XML cannot be decoded ({exc})") from None
    if root is None:
        raise InputError(f"{what} is not well-formed XML (no element found)")
    return root


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _unquote(text: str, budget: Budget) -> str:
    """URL-decode draw.io XML, refusing first the text that would decode to too many elements.

    Every element needs at least one ``<`` (literal or ``%3C``) and at most two, so half of
    them bounds the element count from below: counting is cheap, while decoding a
    percent-encoded bomb and building its tree would take seconds and gigabytes. The decoding
    itself runs in C (quoted-printable with ``%`` for ``=``): ``urllib.parse.unquote`` splits
    the text at every ``%`` into a list of small strings, gigabytes for a 50 MB page.

    Raises:
        InputError: too many elements, or a ``%`` that starts no two-digit escape (draw.io
            never writes one).
    """
    tags = text.count("<") + text.count("%3C") + text.count("%3c")
    budget.check_elements(tags // 2)
    if _BAD_ESCAPE.search(text):
        raise InputError("URL-encoded diagram has a broken %-escape")
    quoted = text.replace("=", "=3D").replace("%", "=").encode("utf-8", errors="replace")
    return binascii.a2b_qp(quoted).decode("utf-8", errors="replace")


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
    bodies = [_page_body(diagram, budget) for diagram in diagrams]
    # Every page is decoded before any is parsed, so the pages together are refused at once.
    _check_markup([body for body in bodies if isinstance(body, str)], budget)
    for number, (diagram, body) in enumerate(zip(diagrams, bodies, strict=True), start=1):
        name = diagram.get("name") or f"Page-{number}"
        if isinstance(body, str):
            model = parse_xml(body, budget, f"page '{name}'")
            if _local(model.tag) != "mxGraphModel":
                raise InputError(f"page '{name}' does not hold an <mxGraphModel>")
        else:
            model = body
        if model is not None:
            pages.append((name, model))
    if not pages:
        raise InputError("draw.io file has no diagram pages")
    return pages


def _page_body(diagram: Element, budget: Budget) -> Element | str | None:
    """Return a ``<diagram>``'s inline model, its decoded page XML, or None for an empty page."""
    model = next((c for c in diagram if _local(c.tag) == "mxGraphModel"), None)
    if model is not None:
        return model
    body = (diagram.text or "").strip()
    if not body:
        return None
    return body if body.startswith("<") else decode_compressed_page(body, budget)


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
