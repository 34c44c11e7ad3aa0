"""Detect a file's format and parse it into an :class:`Architecture` (the entry point)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.errors import InputError
from diagrams.drawio import graph_from_pages
from diagrams.drawio_decode import PNG_SIGNATURE, pages_from_png, pages_from_root, parse_xml
from diagrams.limits import MIB, Budget, Limits, check_size
from diagrams.model import Architecture
from diagrams.views import merge_views

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

IMAGE_SIGNATURES = {
    b"\xff\xd8\xff": "jpeg",
    b"GIF87a": "gif",
    b"GIF89a": "gif",
}
_XML_START = re.compile(r"^\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*<", re.DOTALL)
_MERMAID_START = re.compile(r"^\s*(%%.*\n\s*)*(graph|flowchart|sequenceDiagram)\b", re.IGNORECASE)
# Line-anchored sniffing uses ``[ \t]*``, never ``\s*``: under MULTILINE, ``^\s*`` at every line
# start runs over all the blank lines below it, quadratic in a file of blank lines.
_MERMAID_FENCE = re.compile(r"^[ \t]*(```|~~~)[ \t]*mermaid\b", re.IGNORECASE | re.MULTILINE)
_TF_HINT = re.compile(
    r'^[ \t]*(resource|module|provider|data|variable|terraform)[ \t]+("|\{)', re.MULTILINE
)
_CFN_HINT = re.compile(
    r"AWSTemplateFormatVersion|^Resources[ \t]*:|\"Resources\"[ \t]*:", re.MULTILINE
)
WHAT_TO_UPLOAD = (
    "upload the .drawio / .drawio.png / .drawio.svg file, a Mermaid flowchart (.mmd or .md), "
    "or a CloudFormation/SAM or Terraform template"
)


def _image_kind(data: bytes) -> str | None:
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return next((kind for sig, kind in IMAGE_SIGNATURES.items() if data.startswith(sig)), None)


def _text(data: bytes, filename: str) -> str:
    if b"\0" in data[:4096]:
        raise InputError(f"{filename} is a binary file lenswise cannot read; {WHAT_TO_UPLOAD}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{filename} is not UTF-8 text; {WHAT_TO_UPLOAD}") from None


def _parse_image(data, kind, filename, vision_model, budget) -> Architecture:
    if kind == "png":
        pages = pages_from_png(data, budget)
        if pages is not None:
            return graph_from_pages(pages, file=filename, fmt="drawio.png", budget=budget)
    from diagrams.image import parse_image

    return parse_image(data, kind, filename=filename, vision_model=vision_model)


def _parse_xml(text: str, filename: str, budget: Budget) -> Architecture:
    root = parse_xml(text, budget, filename)
    tag = root.tag.rsplit("}", 1)[-1]
    if tag == "svg":
        from diagrams.drawio_decode import pages_from_svg

        pages = pages_from_svg(root, budget)
        if pages is None:
            raise InputError(
                f"{filename} is an SVG without an embedded draw.io diagram; export it from "
                "draw.io with 'Include a copy of my diagram', or " + WHAT_TO_UPLOAD
            )
        return graph_from_pages(pages, file=filename, fmt="drawio.svg", budget=budget)
    return graph_from_pages(
        pages_from_root(root, budget), file=filename, fmt="drawio", budget=budget
    )


def _kind_of_text(text: str, suffix: str) -> str:
    if suffix in (".tf", ".hcl"):
        return "terraform"
    if suffix in (".mmd", ".mermaid"):
        return "mermaid"
    if _XML_START.match(text):
        return "xml"
    if suffix in (".md", ".markdown") or _MERMAID_START.match(text) or _MERMAID_FENCE.search(text):
        return "mermaid"
    if _CFN_HINT.search(text) or suffix in (".yaml", ".yml", ".template"):
        return "cloudformation"
    if suffix == ".json":
        return "terraform" if '"resource"' in text and "aws_" in text else "cloudformation"
    if _TF_HINT.search(text):
        return "terraform"
    raise InputError(f"cannot tell what kind of file {filename_hint(suffix)} is; {WHAT_TO_UPLOAD}")


def filename_hint(suffix: str) -> str:
    """Describe a file by its suffix for error messages."""
    return f"this {suffix} file" if suffix else "this file"


def parse_bytes(
    data: bytes,
    filename: str,
    *,
    max_bytes: int = 10 * MIB,
    vision_model: BaseChatModel | None = None,
    limits: Limits | None = None,
) -> Architecture:
    """Parse an uploaded diagram or IaC file held in memory.

    Args:
        data: the file's bytes (untrusted).
        filename: its name; the suffix helps tell Terraform, Mermaid and YAML apart.
        max_bytes: largest accepted size.
        vision_model: optional multimodal chat model used for images without an embedded diagram.
        limits: caps on pages, cells and decompressed size (defaults are safe).

    Raises:
        InputError: the file is empty, too large, malformed, or in no supported format.
    """
    check_size(len(data), max_bytes)
    arch = _parse(
        data, Path(filename).name or "upload", vision_model, limits or Limits(max_bytes=max_bytes)
    )
    merge_views(arch)
    return arch


def _parse(data: bytes, name: str, vision_model, limits: Limits) -> Architecture:
    budget = Budget(limits)
    kind = _image_kind(data)
    if kind:
        return _parse_image(data, kind, name, vision_model, budget)
    text = _text(data, name)
    suffix = Path(name.lower()).suffix
    detected = _kind_of_text(text, suffix)
    if detected == "xml":
        return _parse_xml(text, name, budget)
    if detected == "mermaid":
        from diagrams.mermaid import parse_mermaid

        return parse_mermaid(text, name, budget)
    if detected == "terraform":
        from diagrams.terraform import parse_terraform

        return parse_terraform(text, name, budget, json_syntax=suffix == ".json")
    from diagrams.cloudformation import parse_cloudformation

    return parse_cloudformation(text, name, budget)


def parse_file(
    path: str | Path,
    *,
    max_bytes: int = 10 * MIB,
    vision_model: BaseChatModel | None = None,
) -> Architecture:
    """Parse a diagram or IaC file from disk (see :func:`parse_bytes`).

    Raises:
        InputError: the file is missing or unreadable, or :func:`parse_bytes` rejects it.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InputError(f"not a file: {path}")
        check_size(size, max_bytes)
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_bytes(data, path.name, max_bytes=max_bytes, vision_model=vision_model)
