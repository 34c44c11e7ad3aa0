"""Worst-case shapes for the parsers: each parses or is refused quickly, never slowly.

Property-based: hypothesis draws sizes and variants of the shapes that once took minutes or
gigabytes (long runs, blank-line prefixes, many nested groups, ``&`` lists, deep nesting), and
every draw must end, under a wall-clock guard, in an :class:`Architecture` or one
:class:`InputError`. The guards are generous (the parsers take milliseconds here): they catch a
return to quadratic or cubic work, which would take minutes on these sizes.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.errors import InputError
from diagrams import parse_bytes
from diagrams.limits import Limits
from evals import bench_hostile as shapes

GUARD_S = 5.0
"""Most seconds one parse may take here; the fixed parsers need well under a second."""
FUZZ = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _parse(data: bytes, name: str, limits: Limits | None = None):
    """Parse ``data``; return (architecture or the InputError, seconds taken)."""
    start = time.perf_counter()
    try:
        result = parse_bytes(data, name, limits=limits)
    except InputError as exc:
        result = exc
    return result, time.perf_counter() - start


def _guarded(data: bytes, name: str, limits: Limits | None = None):
    result, seconds = _parse(data, name, limits)
    assert seconds < GUARD_S, f"{name}: {seconds:.1f} s for {len(data)} bytes"
    return result


@pytest.mark.timeout(120)
@FUZZ
@given(
    st.sampled_from(["--", "==", "-."]),
    st.integers(1_000, 60_000),
    st.sampled_from(["x", "x -->", "", "|y|"]),
)
def test_a_link_label_that_never_closes_is_linear(link, spaces, tail):
    text = f"graph LR\nA{link} " + " " * spaces + tail + "\n"
    result = _guarded(text.encode(), "spaces.mmd")
    assert not isinstance(result, Exception) or "Mermaid" in str(result) or "node" in str(result)


def test_a_spaced_label_is_still_read_as_a_label():
    arch = parse_bytes(b"graph LR\nA[Users]--   asks   -->B[Lambda]\n", "l.mmd")
    assert [(e.source, e.target, e.label) for e in arch.edges] == [("A", "B", "asks")]


@pytest.mark.timeout(120)
@FUZZ
@given(
    st.integers(1_000, 100_000),
    st.sampled_from(["\n", "\r\n", "  \n"]),
    st.sampled_from(["t.yaml", "main.tf", "a.mmd", "upload"]),
)
def test_blank_line_prefixes_are_linear(lines, blank, name):
    bodies = {
        "t.yaml": shapes.cloudformation_blank_prefix(0),
        "main.tf": shapes.terraform_resources(1),
        "a.mmd": b"graph LR\nA[Users] --> B[Lambda]\n",
        "upload": shapes.cloudformation_blank_prefix(0),
    }
    result = _guarded(blank.encode() * lines + bodies[name], name)
    assert not isinstance(result, Exception), result
    assert result.components


@pytest.mark.timeout(120)
@FUZZ
@given(st.integers(1, 400), st.integers(1, 400))
def test_ampersand_lists_expand_up_to_the_cap_and_are_refused_beyond(left, right):
    limits = Limits(max_edges=20_000)
    result = _guarded(_amp(left, right), "a.mmd", limits)
    if left * right <= limits.max_edges:
        assert not isinstance(result, Exception), result
        assert len(result.edges) == left * right
    else:
        assert isinstance(result, InputError)
        assert "connections" in str(result)


def _amp(left: int, right: int) -> bytes:
    lhs = "&".join(f"A{i}[Lambda {i}]" for i in range(left))
    rhs = "&".join(f"B{i}[S3 {i}]" for i in range(right))
    return f"graph LR\n{lhs} --> {rhs}\n".encode()


@pytest.mark.timeout(120)
@FUZZ
@given(st.integers(500, 16_000), st.sampled_from(["nested", "chain"]))
def test_many_nested_groups_parse_or_are_refused_quickly(count, shape):
    make = shapes.drawio_nested_groups if shape == "nested" else shapes.drawio_parent_chain
    result = _guarded(make(count), f"{shape}.drawio")
    if isinstance(result, InputError):
        assert "too intricate" in str(result) or "cells" in str(result)
    else:
        assert len(result.components) == count


def test_a_moderate_nest_of_groups_still_places_each_icon_in_its_ring():
    arch = parse_bytes(shapes.drawio_nested_groups(40), "rings.drawio")
    group_of = {c.id: c.group for c in arch.components}
    assert group_of["f0"] == "g0" and group_of["f39"] == "g39"
    parents = {g.id: g.parent for g in arch.groups}
    assert parents["g1"] == "g0" and parents["g0"] is None


@pytest.mark.timeout(120)
@FUZZ
@given(st.integers(10, 5_000), st.sampled_from(["mermaid", "terraform", "cloudformation"]))
def test_deep_nesting_parses_or_is_refused_quickly(depth, kind):
    if kind == "mermaid":
        data, name = shapes.mermaid_nested_subgraphs(depth), "n.mmd"
    elif kind == "terraform":
        data, name = shapes.terraform_deep_nesting(depth), "n.tf"
    else:
        nested = "".join(f"{'  ' * (i + 3)}k{i}:\n" for i in range(depth))
        data, name = (
            (shapes.cloudformation_blank_prefix(0).decode() + nested + "v\n").encode(),
            "n.yaml",
        )
    result = _guarded(data, name)
    assert isinstance(result, InputError) or result.components


@pytest.mark.timeout(120)
@FUZZ
@given(st.integers(1_000, 100_000), st.sampled_from(["a-", "a1-", "-", "s3"]))
def test_long_runs_in_a_policy_string_are_linear(size, unit):
    run = (unit * (size // len(unit) + 1))[:size]
    data = (
        'resource "aws_iam_role" "r" {\n  name = "r"\n}\n'
        'resource "aws_iam_role_policy" "p" {\n  role = aws_iam_role.r.id\n'
        f'  policy = "{run} bedrock:InvokeModel"\n}}\n'
    ).encode()
    result = _guarded(data, "p.tf")
    assert not isinstance(result, Exception), result


def test_iam_actions_are_still_read_from_policies():
    data = (
        b'resource "aws_iam_role" "r" {\n  name = "r"\n}\n'
        b'resource "aws_iam_role_policy" "p" {\n  role = aws_iam_role.r.id\n'
        b'  policy = "{\\"Action\\": [\\"bedrock:InvokeModel\\", \\"s3:GetObject\\"]}"\n}\n'
    )
    policy = next(c for c in parse_bytes(data, "p.tf").components if c.id.endswith("policy.p"))
    assert policy.facts["actions"] == ["bedrock:InvokeModel", "s3:GetObject"]


@pytest.mark.parametrize(
    ("make", "name"),
    [(shapes.cloudformation_resources, "many.yaml"), (shapes.terraform_resources, "many.tf")],
)
def test_templates_over_the_resource_cap_are_refused_before_parsing(make, name):
    limits = Limits(max_resources=50)
    assert len(parse_bytes(make(40), name, limits=limits).components) == 41
    result, seconds = _parse(make(20_000), name, limits)
    assert isinstance(result, InputError) and "more than the 50" in str(result)
    assert seconds < GUARD_S


def test_a_page_that_decodes_to_millions_of_elements_is_refused_before_it_is_built():
    result = _guarded(shapes.drawio_percent_bomb(1_000_000), "bomb.drawio")
    assert isinstance(result, InputError) and "elements" in str(result)


def test_plain_xml_with_too_many_elements_is_refused_while_parsed():
    data = shapes.drawio_many_cells(300)
    assert parse_bytes(data, "ok.drawio").components
    result = _guarded(data, "small-cap.drawio", Limits(max_elements=500))
    assert isinstance(result, InputError) and "more than 500 elements" in str(result)
