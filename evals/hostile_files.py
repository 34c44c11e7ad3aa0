"""More worst-case files for the hostile-input bench: the shapes of the second attack (issue 23).

Each generator returns the bytes of one upload. They sit beside :mod:`evals.bench_hostile`,
which measures them, and the hostile tests, which draw sizes of the same shapes.
"""

from __future__ import annotations

import base64
import html
import zlib

_LAMBDA = "shape=mxgraph.aws4.resourceIcon;resIcon=mxgraph.aws4.lambda;html=1;"


def _page(cells: str) -> str:
    return (
        '<mxGraphModel><root><mxCell id="0"/><mxCell id="1" parent="0"/>'
        + cells
        + "</root></mxGraphModel>"
    )


def _icon(cell_id: str, label: str, x: int = 0) -> str:
    return (
        f'<mxCell id="{cell_id}" value="{html.escape(label, quote=True)}" style="{_LAMBDA}" '
        f'vertex="1" parent="1"><mxGeometry x="{x}" y="0" width="40" height="40" '
        'as="geometry"/></mxCell>'
    )


def _compressed(xml: str) -> str:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(deflater.compress(xml.encode()) + deflater.flush()).decode()


def _mxfile(pages: list[str]) -> bytes:
    body = "".join(
        f'<diagram id="d{n}" name="Page-{n}">{page}</diagram>' for n, page in enumerate(pages)
    )
    return f'<mxfile host="bench">{body}</mxfile>'.encode()


def drawio_html_label(text: str) -> bytes:
    """Return one page holding one HTML-labelled icon whose label markup is ``text``."""
    return _mxfile([_page(_icon("v", text))])


def drawio_compressed_pages(pages: int, icons: int) -> bytes:
    """Return ``pages`` compressed pages of ``icons`` labelled icons each."""
    page = _page("".join(_icon(f"v{i}", f"fn {i}", 60 * i) for i in range(icons)))
    return _mxfile([_compressed(page)] * pages)


def drawio_huge_token(size: int) -> bytes:
    """Return one compressed page whose single attribute value is ``size`` characters long."""
    return _mxfile([_compressed(_page(_icon("v", "x" * size)))])


def drawio_percent_page(size: int) -> bytes:
    """Return one compressed page of ``size`` percent-escapes that holds almost no markup."""
    return _mxfile([_compressed("%3C" + "%41" * size)])


def mermaid_unclosed_break(spaces: int) -> bytes:
    """Return a flowchart whose quoted label holds ``<br`` then ``spaces`` spaces, never closed.

    The quotes keep the spaces: an unquoted label is stripped before its tags are read.
    """
    return b'graph LR\nA["<br' + b" " * spaces + b'"] --> B[Lambda]\n'


def mermaid_note_spaces(spaces: int) -> bytes:
    """Return a sequence diagram with ``note over`` then ``spaces`` spaces and no colon."""
    return b"sequenceDiagram\nA->>B: hi\nnote over" + b" " * spaces + b"A\n"


def mermaid_one_line_chain(nodes: int) -> bytes:
    """Return one statement chaining ``nodes`` labelled nodes: ``N0[..] --> N1[..] --> ...``."""
    chain = " --> ".join(f"N{i}[Lambda {i}]" for i in range(nodes))
    return f"graph LR\n{chain}\n".encode()


def mermaid_huge_label(size: int) -> bytes:
    """Return a flowchart whose one node label is ``size`` characters of words."""
    words = ("Lambda function " * (size // 16 + 1))[:size]
    return f"graph LR\nA[{words}] --> B[S3]\n".encode()


def terraform_blank_lines(lines: int) -> bytes:
    """Return one bucket preceded by ``lines`` blank lines."""
    return b"\n" * lines + b'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'


def terraform_functions(count: int, attributes: int) -> bytes:
    """Return ``count`` Lambda functions with ``attributes`` attributes each."""
    body = "".join(f"  a{i} = {i}\n" for i in range(attributes))
    return "".join(
        f'resource "aws_lambda_function" "f{i}" {{\n{body}}}\n' for i in range(count)
    ).encode()


def terraform_attributes(count: int) -> bytes:
    """Return one bucket with ``count`` attributes."""
    body = "".join(f"  a{i} = {i}\n" for i in range(count))
    return f'resource "aws_s3_bucket" "b" {{\n{body}}}\n'.encode()


def terraform_list_items(count: int) -> bytes:
    """Return one bucket whose one attribute is a list of ``count`` numbers."""
    return f'resource "aws_s3_bucket" "b" {{\n  tags = [{",".join("1" * count)}]\n}}\n'.encode()


def terraform_one_line_resources(count: int) -> bytes:
    """Return ``count`` buckets written on one line, separated by spaces only."""
    return " ".join(f'resource "aws_s3_bucket" "b{i}" {{}}' for i in range(count)).encode() + b"\n"


def terraform_action_spaces(spaces: int) -> bytes:
    """Return an IAM policy whose string is ``Action:`` then ``spaces`` spaces (no value)."""
    return (
        f'resource "aws_iam_role_policy" "p" {{\n  policy = "Action:{" " * spaces}x"\n}}\n'
    ).encode()


def cloudformation_scalar(value: str, *, as_key: bool = False, json_syntax: bool = False) -> bytes:
    """Return a one-function template carrying ``value`` as a property (or a property key)."""
    if json_syntax:
        prop = f'"{value}": 1' if as_key else f'"Description": {value}'
        return (
            '{"Resources": {"Fn": {"Type": "AWS::Lambda::Function", '
            f'"Properties": {{{prop}}}}}}}}}'
        ).encode()
    prop = f"{value}: 1" if as_key else f"Description: {value}"
    return (
        f"Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      {prop}\n"
    ).encode()
