"""Worst-case shapes for the parsers: each parses or is refused quickly, never slowly.

Property-based: hypothesis draws sizes and variants of the shapes that once took minutes or
gigabytes (long runs, blank-line prefixes, many nested groups, ``&`` lists, deep nesting), and
every draw must end in an :class:`Architecture` or one :class:`InputError`, within a guard
set relative to an honest reference parse in the same run (so a busy machine slows both). The
guard is generous: it catches a return to quadratic or cubic work, which would take minutes on
these sizes, not a slow machine.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus.errors import InputError
from corpus.loaders.builtin import digest_practices
from diagrams import drawio_decode, parse_bytes, render_markdown, review_architecture
from diagrams.limits import MAX_LABEL, Budget, Limits
from evals import bench_hostile as shapes
from evals import hostile_files as more

GUARD_FACTOR = 25
"""Most times the reference parse one hostile parse may take (the worst here take about 5)."""
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


@lru_cache(maxsize=1)
def _reference_s() -> float:
    """Return the best of three parse times of an honest 10,000-node flowchart, this run."""
    data = shapes.mermaid_chain(10_000)
    return min(_parse(data, "reference.mmd")[1] for _ in range(3))


def _guard_s() -> float:
    return GUARD_FACTOR * _reference_s()


def _guarded(data: bytes, name: str, limits: Limits | None = None):
    result, seconds = _parse(data, name, limits)
    assert seconds < _guard_s(), f"{name}: {seconds:.2f} s, reference {_reference_s():.3f} s"
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
    assert seconds < _guard_s()


def test_a_page_that_decodes_to_millions_of_elements_is_refused_before_it_is_built():
    result = _guarded(shapes.drawio_percent_bomb(1_000_000), "bomb.drawio")
    assert isinstance(result, InputError) and "elements" in str(result)


def test_plain_xml_with_too_many_elements_is_refused_while_parsed():
    data = shapes.drawio_many_cells(300)
    assert parse_bytes(data, "ok.drawio").components
    result = _guarded(data, "small-cap.drawio", Limits(max_elements=500))
    assert isinstance(result, InputError) and "more than 500 elements" in str(result)


def _seconds(data: bytes, name: str) -> float:
    """Return the best of three parse times of ``data`` (the result must be no crash)."""
    best = float("inf")
    for _ in range(3):
        result, seconds = _parse(data, name)
        assert not isinstance(result, Exception) or isinstance(result, InputError)
        best = min(best, seconds)
    return best


SCALING = {
    "html '<' + spaces": (lambda n: more.drawio_html_label("<" + " " * n), "a.drawio"),
    "html '</' run": (lambda n: more.drawio_html_label("</" * (n // 2)), "b.drawio"),
    "html '< ' run": (lambda n: more.drawio_html_label("< " * (n // 2)), "c.drawio"),
    "quoted '<br' + spaces": (more.mermaid_unclosed_break, "br.mmd"),
    "note over + spaces": (more.mermaid_note_spaces, "note.mmd"),
    "policy 'Action:' + spaces": (more.terraform_action_spaces, "action.tf"),
    "one huge compressed token": (lambda n: more.drawio_huge_token(40 * n), "token.drawio"),
}


@pytest.mark.parametrize("shape", sorted(SCALING))
def test_runs_that_once_backtracked_now_scale_linearly(shape):
    """Ten times the input costs about ten times the time (quadratic work would cost 100)."""
    make, name = SCALING[shape]
    small = _seconds(make(8_000), name)
    large = _seconds(make(80_000), name)
    assert large < 30 * small + 0.05, f"{shape}: {small:.4f} s -> {large:.4f} s"


def test_html_labels_still_lose_their_tags_and_keep_their_breaks():
    arch = parse_bytes(
        more.drawio_html_label("<b>Lambda</b><br/>handler &lt; 5 <div>x</div>"), "l.drawio"
    )
    assert arch.components[0].label.split(" ")[:2] == ["Lambda", "handler"]
    assert "<" in arch.components[0].label and "b>" not in arch.components[0].label


def test_a_label_past_the_label_cap_is_cut():
    arch = parse_bytes(more.mermaid_huge_label(5 * MAX_LABEL), "big.mmd")
    assert max(len(c.label) for c in arch.components) <= MAX_LABEL


def test_a_one_line_chain_counts_its_nodes_and_edges_as_cells():
    limits = Limits(max_cells=1_000)
    assert len(parse_bytes(more.mermaid_one_line_chain(500), "c.mmd", limits=limits).edges) == 499
    result, _ = _parse(more.mermaid_one_line_chain(501), "c.mmd", limits)
    assert isinstance(result, InputError) and "more than 1000 cells" in str(result)


@pytest.mark.parametrize(
    ("make", "fits", "over", "words"),
    [
        (more.terraform_blank_lines, 1_995, 1_997, "lines"),
        (more.terraform_attributes, 298, 301, "values"),
        (more.terraform_list_items, 298, 301, "values"),
    ],
)
def test_terraform_is_capped_by_lines_and_values_before_parsing(make, fits, over, words):
    limits = Limits(max_iac_lines=2_000, max_iac_values=300)
    assert parse_bytes(make(fits), "t.tf", limits=limits).components
    result, _ = _parse(make(over), "t.tf", limits)
    assert isinstance(result, InputError) and words in str(result)


def test_terraform_is_capped_by_size_and_counts_blocks_that_share_a_line():
    result, _ = _parse(more.terraform_one_line_resources(60), "t.tf", Limits(max_resources=50))
    assert isinstance(result, InputError) and "declares 60 resources" in str(result)
    assert len(parse_bytes(more.terraform_one_line_resources(3), "t.tf").components) == 3
    big = b'resource "aws_s3_bucket" "b" {\n  bucket = "' + b"x" * 3_000 + b'"\n}\n'
    result, _ = _parse(big, "t.tf", Limits(max_hcl_bytes=2_000))
    assert isinstance(result, InputError) and "MiB lenswise reads as HCL" in str(result)


@FUZZ
@given(st.text(max_size=300))
def test_percent_decoding_matches_the_standard_library(text):
    budget = Budget(Limits())
    assert drawio_decode._unquote(urllib.parse.quote(text), budget) == text


def test_a_broken_percent_escape_is_refused():
    with pytest.raises(InputError, match="broken %-escape"):
        drawio_decode._unquote("%3Cmx%zz", Budget(Limits()))


def test_compressed_pages_are_counted_together_before_any_is_parsed(monkeypatch):
    data = more.drawio_compressed_pages(3, 40)
    assert len(parse_bytes(data, "p.drawio").pages) == 3
    parsed = []
    real = drawio_decode.XMLPullParser

    def counting(**kwargs):
        parsed.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(drawio_decode, "XMLPullParser", counting)
    result, _ = _parse(data, "p.drawio", Limits(max_elements=150))
    assert isinstance(result, InputError) and "more than 150 elements" in str(result)
    assert len(parsed) == 1  # only the outer file was parsed, no page


@pytest.mark.parametrize(
    ("data", "name", "value"),
    [
        (more.cloudformation_scalar("1" * 5_000), "i.yaml", "1" * 5_000),
        (more.cloudformation_scalar("1" * 5_000, json_syntax=True), "i.json", "1" * 5_000),
        (more.cloudformation_scalar('"\\ud800x"', json_syntax=True), "s.json", "\ufffdx"),
        (more.cloudformation_scalar('"\\ud83d\\ude00"', json_syntax=True), "p.json", "\U0001f600"),
        (more.cloudformation_scalar("2024-13-45"), "d.yaml", "2024-13-45"),
        (more.cloudformation_scalar("2024-02-01"), "ok.yaml", "2024-02-01"),
        (more.cloudformation_scalar("12"), "n.yaml", 12),
    ],
)
def test_templates_with_odd_scalars_load_as_cloudformation_reads_them(data, name, value):
    from diagrams.cloudformation import load_template

    doc = load_template(data.decode(), Budget(Limits()))
    assert doc["Resources"]["Fn"]["Properties"]["Description"] == value
    review = review_architecture(parse_bytes(data, name), digest_practices())
    json.dumps(review.to_dict(), ensure_ascii=False).encode()
    render_markdown(review).encode()


@pytest.mark.parametrize("key", ["2024-02-31", "2024-02-01", "\\udc00"])
def test_odd_keys_load_as_text(key):
    json_syntax = key.startswith("\\")
    data = more.cloudformation_scalar(key, as_key=True, json_syntax=json_syntax)
    arch = parse_bytes(data, "k.json" if json_syntax else "k.yaml")
    assert [c.id for c in arch.components] == ["Fn"]
