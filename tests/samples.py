"""Builders of small synthetic diagram files shared by the diagram tests."""

from __future__ import annotations

import base64
import struct
import urllib.parse
import zlib
from xml.sax.saxutils import quoteattr

from tests.helpers import SHARED

SHARED_DIAGRAMS = SHARED / "diagrams"

AWS4 = "sketch=0;outlineConnect=0;html=1;aspect=fixed;"


def icon(
    cell_id: str, label: str, style: str, x: int = 0, y: int = 0, parent: str = "1", size: int = 78
) -> str:
    """Return one vertex ``mxCell``."""
    return (
        f'<mxCell id="{cell_id}" value={quoteattr(label)} style={quoteattr(style)} vertex="1" '
        f'parent="{parent}"><mxGeometry x="{x}" y="{y}" width="{size}" height="{size}" '
        'as="geometry"/></mxCell>'
    )


def box(
    cell_id: str, label: str, style: str, x: int, y: int, w: int, h: int, parent: str = "1"
) -> str:
    """Return one vertex ``mxCell`` with a free size (groups, text)."""
    return (
        f'<mxCell id="{cell_id}" value={quoteattr(label)} style={quoteattr(style)} vertex="1" '
        f'parent="{parent}"><mxGeometry x="{x}" y="{y}" width="{w}" height="{h}" '
        'as="geometry"/></mxCell>'
    )


def edge(cell_id: str, source: str, target: str, label: str = "") -> str:
    """Return one edge ``mxCell``."""
    return (
        f'<mxCell id="{cell_id}" value={quoteattr(label)} style="edgeStyle=orthogonalEdgeStyle;" '
        f'edge="1" parent="1" source="{source}" target="{target}">'
        '<mxGeometry relative="1" as="geometry"/></mxCell>'
    )


def model(*cells: str) -> str:
    """Wrap cells in a page ``<mxGraphModel>``."""
    return (
        '<mxGraphModel><root><mxCell id="0"/><mxCell id="1" parent="0"/>'
        + "".join(cells)
        + "</root></mxGraphModel>"
    )


def _name(names: tuple[str, ...], i: int) -> str:
    return names[i] if i < len(names) else f"Page-{i + 1}"


def mxfile(*pages: str, names: tuple[str, ...] = ()) -> str:
    """Wrap page models (or compressed page bodies) in an ``<mxfile>``."""
    body = "".join(
        f'<diagram id="d{i}" name="{_name(names, i)}">{page}</diagram>'
        for i, page in enumerate(pages)
    )
    return f'<mxfile host="test">{body}</mxfile>'


def compress(page_xml: str) -> str:
    """Compress a page the way draw.io does: URL-encode, raw deflate, base64."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflater.compress(urllib.parse.quote(page_xml).encode()) + deflater.flush()
    return base64.b64encode(raw).decode()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """Return one PNG chunk with its CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(text_chunk: bytes | None = None) -> bytes:
    """Return a 1x1 PNG, optionally with an extra text chunk before the image data."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    data = png_chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    return b"\x89PNG\r\n\x1a\n" + header + (text_chunk or b"") + data + png_chunk(b"IEND", b"")


def drawio_png(xml: str, *, compressed_chunk: bool = False) -> bytes:
    """Return a .drawio.png holding ``xml`` in a tEXt (or zTXt) ``mxfile`` chunk."""
    if compressed_chunk:
        return png(png_chunk(b"zTXt", b"mxfile\x00\x00" + zlib.compress(xml.encode())))
    return png(png_chunk(b"tEXt", b"mxfile\x00" + urllib.parse.quote(xml).encode()))


def svg_icon(title: str) -> str:
    """Return a draw.io style ``image=`` value embedding an SVG icon with ``title``."""
    svg = f'<svg xmlns="http://www.w3.org/2000/svg"><title>{title}</title><rect/></svg>'
    return "shape=image;image=data:image/svg+xml," + base64.b64encode(svg.encode()).decode() + ";"


def rag_page() -> str:
    """A small RAG design: user -> API -> Lambda -> Bedrock + knowledge base, in a VPC."""
    return model(
        box(
            "vpc", "VPC", "shape=mxgraph.aws4.group;grIcon=mxgraph.aws4.group_vpc;", 0, 0, 900, 500
        ),
        icon("user", "Users", "shape=mxgraph.aws4.users;", 10, 200),
        icon(
            "api",
            "Amazon API Gateway",
            AWS4 + "shape=mxgraph.aws4.resourceIcon;resIcon=mxgraph.aws4.api_gateway;",
            150,
            200,
            parent="vpc",
        ),
        icon(
            "fn",
            "<b>Chat</b><br>handler",
            AWS4 + "shape=mxgraph.aws4.lambda_function;",
            300,
            200,
            parent="vpc",
        ),
        icon(
            "llm",
            "Amazon Bedrock",
            AWS4 + "shape=mxgraph.aws4.resourceIcon;resIcon=mxgraph.aws4.bedrock;",
            450,
            200,
            parent="vpc",
        ),
        icon(
            "kb",
            "",
            svg_icon("Icon-Architecture/64/Arch_Amazon-OpenSearch-Service_64"),
            600,
            200,
            parent="vpc",
        ),
        box("kbname", "Vector store", "text;html=1;", 590, 285, 100, 20, parent="vpc"),
        edge("e1", "user", "api", "HTTPS"),
        edge("e2", "api", "fn"),
        edge("e3", "fn", "llm", "InvokeModel"),
        edge("e4", "fn", "kbname", "query"),
    )
