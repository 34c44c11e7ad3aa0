"""Caps that keep hostile uploads cheap: file size, pages, cells, decompressed bytes."""

from __future__ import annotations

import base64
import binascii
import zlib
from dataclasses import dataclass

from corpus.errors import InputError

MIB = 1024 * 1024
MAX_LABEL = 10_000
"""Most characters of one label that are read; the rest is cut. A label names a service in a
few words; a megabyte of it would only make every name lookup slow."""


@dataclass(frozen=True)
class Limits:
    """Upper bounds applied while parsing one untrusted file."""

    max_bytes: int = 10 * MIB
    """Largest file accepted as uploaded."""
    max_pages: int = 50
    """Most diagram pages read from one draw.io file."""
    max_cells: int = 50_000
    """Most cells (shapes plus edges) over all pages."""
    max_decompressed: int = 20 * MIB
    """Most bytes any one inflate may produce (a deflate bomb stops here)."""
    max_total_decompressed: int = 40 * MIB
    """Most bytes all inflates of one file may produce together."""
    max_elements: int = 400_000
    """Most XML elements in one file, over all its pages (a cell is a few elements; a page that
    decodes to millions of tiny elements would take gigabytes as a tree)."""
    max_edges: int = 50_000
    """Most connections, counted after expanding Mermaid ``&`` lists (``A & B --> C & D``)."""
    max_geometry_steps: int = 1_000_000
    """Most geometry steps (grid filings, containment and distance tests) one file may take.
    Real pages need a few hundred thousand at most; thousands of boxes nested inside each
    other need billions, and are refused instead."""
    max_resources: int = 2_000
    """Most resources in one CloudFormation or Terraform file (a CloudFormation stack allows
    500); beyond this a template is refused before it is parsed."""
    max_hcl_bytes: int = 1 * MIB
    """Largest Terraform (HCL) file read: its parser lexes about 2 MB a second, so a 10 MB
    string alone would take five (real ``.tf`` files are tens of kilobytes)."""
    max_iac_lines: int = 50_000
    """Most lines in one Terraform file, blank ones included (the HCL parser pays for each)."""
    max_iac_values: int = 6_000
    """Most values in one Terraform file, counted before parsing as its ``=``, ``,``, ``{`` and
    ``[`` (an upper bound of its attributes, list items and blocks). The HCL parser takes
    about a quarter of a millisecond per value; large real modules hold a few thousand."""


class Budget:
    """Running totals checked against :class:`Limits` while one file is parsed."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.inflated = 0
        self.cells = 0
        self.edges = 0
        self.elements = 0
        self.steps = 0

    def add_element(self) -> None:
        """Count one more XML element; raise once the element cap is passed."""
        self.elements += 1
        self.check_elements(0)

    def check_elements(self, coming: int) -> None:
        """Raise when ``coming`` more XML elements would pass the element cap (none counted)."""
        if self.elements + coming > self.limits.max_elements:
            raise InputError(
                f"diagram XML has more than {self.limits.max_elements} elements: "
                "too large to review"
            )

    def add_edges(self, count: int) -> None:
        """Count ``count`` more connections; raise once the connection cap is passed."""
        self.edges += count
        if self.edges > self.limits.max_edges:
            raise InputError(
                f"diagram expands to more than {self.limits.max_edges} connections "
                "(long '&' lists multiply): too large to review"
            )

    def spend(self, steps: int) -> None:
        """Count ``steps`` geometry steps before they are taken; raise once over the cap."""
        self.steps += steps
        if self.steps > self.limits.max_geometry_steps:
            raise InputError(
                "diagram is too intricate to review: its boxes nest or overlap so much that "
                f"placing them takes over {self.limits.max_geometry_steps} steps"
            )

    def check_resources(self, count: int, what: str) -> None:
        """Raise when ``what`` declares more than the resource cap (``count`` of them)."""
        if count > self.limits.max_resources:
            raise InputError(
                f"{what} declares {count} resources, more than the "
                f"{self.limits.max_resources} lenswise reviews at once: split it by stack "
                "or module and review the parts"
            )

    def check_hcl(self, text: str) -> None:
        """Raise when Terraform ``text`` has more lines or values than the caps, before parsing."""
        if len(text) > self.limits.max_hcl_bytes:
            raise InputError(
                f"Terraform file is {len(text) / MIB:.1f} MiB, over the "
                f"{self.limits.max_hcl_bytes / MIB:.1f} MiB lenswise reads as HCL: split it "
                "into modules and review the parts"
            )
        lines = text.count("\n") + 1
        if lines > self.limits.max_iac_lines:
            raise InputError(
                f"Terraform file has {lines} lines, more than the {self.limits.max_iac_lines} "
                "lenswise reviews at once: split it into modules and review the parts"
            )
        values = sum(text.count(mark) for mark in "=,{[")
        if values > self.limits.max_iac_values:
            raise InputError(
                f"Terraform file holds about {values} values (attributes, list items, blocks), "
                f"more than the {self.limits.max_iac_values} lenswise reviews at once: split it "
                "into modules and review the parts"
            )

    def add_cells(self, count: int) -> None:
        """Count ``count`` more cells; raise once the cell cap is passed."""
        self.cells += count
        self.check_cells(0)

    def check_cells(self, coming: int) -> None:
        """Raise when ``coming`` more cells would pass the cell cap (none counted)."""
        if self.cells + coming > self.limits.max_cells:
            raise InputError(
                f"diagram has more than {self.limits.max_cells} cells: too large to review"
            )

    def inflate(self, data: bytes, *, raw: bool = True) -> bytes:
        """Decompress deflate ``data`` (raw, or zlib-wrapped), stopping at the size caps.

        Raises:
            InputError: the stream is not valid deflate, or inflates past the caps.
        """
        left = self.limits.max_total_decompressed - self.inflated
        cap = min(self.limits.max_decompressed, left)
        inflater = zlib.decompressobj(-15 if raw else 15)
        try:
            out = inflater.decompress(data, cap + 1)
        except zlib.error as exc:
            raise InputError(f"compressed diagram data is corrupt (bad deflate: {exc})") from None
        if len(out) > cap:
            what = "one part" if cap < left else "all parts together"
            total = min(self.limits.max_decompressed, self.limits.max_total_decompressed)
            total = total if cap < left else self.limits.max_total_decompressed
            raise InputError(
                f"compressed diagram data ({what}) inflates past {total // MIB} MiB: "
                "refusing to read it"
            )
        self.inflated += len(out)
        return out


def check_size(size: int, max_bytes: int) -> None:
    """Raise :class:`InputError` when a file of ``size`` bytes is empty or over ``max_bytes``."""
    if size == 0:
        raise InputError("file is empty: nothing to review")
    if size > max_bytes:
        raise InputError(
            f"file is {size / MIB:.1f} MiB, over the {max_bytes / MIB:.1f} MiB limit "
            "(set LENSWISE_MAX_UPLOAD_BYTES to raise it)"
        )


def b64decode(text: str, what: str = "diagram data") -> bytes:
    """Decode standard base64 strictly, raising :class:`InputError` on junk."""
    cleaned = "".join(text.split())
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{what} is not valid base64") from None
