"""Hostile and broken input: every failure is one InputError, caps hold, fuzzing finds no crash."""

from __future__ import annotations

import base64
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.errors import InputError
from diagrams import parse_bytes
from diagrams.limits import MIB, Limits
from tests.samples import compress, drawio_png, icon, model, mxfile, png, rag_page

GOOD_XML = mxfile(rag_page())
SEEDS = {
    "d.drawio": GOOD_XML.encode(),
    "c.drawio": mxfile(compress(rag_page())).encode(),
    "a.drawio.png": drawio_png(mxfile(compress(rag_page()))),
    "a.mmd": b"graph LR\n  A[Users] -->|x| B(API Gateway) --> C[[Lambda]]\n"
    b"  subgraph s [VPC]\n C\n end\n",
    "t.yaml": b"Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
    b"      Role: !GetAtt R.Arn\n  R:\n    Type: AWS::IAM::Role\n",
    "main.tf": b'resource "aws_lambda_function" "f" {\n  role = aws_iam_role.r.arn\n}\n'
    b'resource "aws_iam_role" "r" {}\n',
}


def _bomb(size: int) -> str:
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflater.compress(b"A" * size) + deflater.flush()
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("d.drawio", b"", "empty"),
        ("d.drawio", GOOD_XML.encode()[:300], "not well-formed"),
        ("d.drawio", b'<mxfile><diagram name="p">%%%not base64%%%</diagram></mxfile>', "base64"),
        (
            "d.drawio",
            b'<mxfile><diagram name="p">'
            + base64.b64encode(b"\xff\x00junk")
            + b"</diagram></mxfile>",
            "deflate",
        ),
        ("d.drawio", b"<html><body>hi</body></html>", "not a draw.io"),
        ("d.drawio", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><mxfile>&a;</mxfile>', "forbidden"),
        ("d.drawio", b'<!DOCTYPE x SYSTEM "http://example.com/x.dtd"><mxfile/>', "forbidden"),
        ("d.drawio", b"<mxfile></mxfile>", "no diagram pages"),
        ("x.png", png(), "--model"),
        ("x.png", b"\x89PNG\r\n\x1a\n\x00\x00\x10\x00tEXtmxfile", "truncated"),
        ("x.jpg", b"\xff\xd8\xff\xe0junk", "--model"),
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', "without an embedded"),
        ("x.bin", bytes(range(256)) * 4, "binary"),
        ("x.txt", b"just some notes about my system", "cannot tell"),
        ("x.yaml", b"\xff\xfe\xfa not utf8", "UTF-8"),
    ],
)
def test_malformed_inputs_give_one_clear_error(name, data, message):
    with pytest.raises(InputError, match=message) as info:
        parse_bytes(data, name)
    assert "\n" not in str(info.value)


def test_deflate_bomb_stops_at_the_cap():
    xml = f'<mxfile><diagram name="p">{_bomb(3 * MIB)}</diagram></mxfile>'
    with pytest.raises(InputError, match="inflates past"):
        parse_bytes(xml.encode(), "bomb.drawio", limits=Limits(max_decompressed=MIB))


def test_file_size_page_and_cell_caps():
    with pytest.raises(InputError, match="limit"):
        parse_bytes(GOOD_XML.encode(), "d.drawio", max_bytes=100)
    pages = mxfile(*[model(icon("a", "x", "shape=mxgraph.aws4.lambda;"))] * 5)
    with pytest.raises(InputError, match="pages"):
        parse_bytes(pages.encode(), "d.drawio", limits=Limits(max_pages=3))
    many = model(*[icon(f"c{i}", "", "shape=mxgraph.aws4.lambda;") for i in range(60)])
    with pytest.raises(InputError, match="cells"):
        parse_bytes(many.encode(), "d.drawio", limits=Limits(max_cells=50))


def test_yaml_alias_bomb_is_refused():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
        for i in range(1, 10)
    ]
    lines += [
        "Resources:",
        "  R:",
        "    Type: AWS::S3::Bucket",
        "    Properties:",
        "      Tags: *a9",
    ]
    with pytest.raises(InputError, match="too large"):
        parse_bytes("\n".join(lines).encode(), "bomb.yaml")


def test_deeply_nested_input_is_refused():
    deep = "Resources:\n  R:\n    Type: AWS::S3::Bucket\n    Properties: " + "[" * 5000 + "]" * 5000
    with pytest.raises(InputError):
        parse_bytes(deep.encode(), "deep.yaml")


def _mutate(data: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    buf = bytearray(data)
    for kind, position, value in ops:
        if not buf:
            break
        at = position % len(buf)
        if kind == 0:
            buf[at] = value
        elif kind == 1:
            del buf[at : at + 1 + value % 16]
        elif kind == 2:
            buf[at:at] = bytes([value]) * (1 + value % 8)
        else:
            del buf[at:]
    return bytes(buf)


@settings(
    max_examples=1500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    seed=st.sampled_from(sorted(SEEDS)),
    ops=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 1 << 20), st.integers(0, 255)), max_size=6
    ),
)
def test_fuzz_mutated_inputs_raise_only_input_error(seed, ops):
    data = _mutate(SEEDS[seed], ops)
    try:
        arch = parse_bytes(data, seed)
    except InputError:
        return
    assert arch.format in ("drawio", "drawio.png", "mermaid", "cloudformation", "terraform")


@settings(max_examples=500, deadline=None, database=None)
@given(st.binary(max_size=400), st.sampled_from(sorted(SEEDS)))
def test_fuzz_random_bytes_raise_only_input_error(data, name):
    try:
        parse_bytes(data, name)
    except InputError:
        pass
