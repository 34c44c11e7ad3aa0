"""The UI's pure helpers: markdown escaping, safe answer markdown, DOT drawing, tables."""

from __future__ import annotations

import re
import shutil

import pytest

from agent.config import Settings
from agent.results import Citation
from diagrams import Annotation, Architecture, Component, Edge, Group
from tests.helpers import LENS_DOCS, SHARED
from ui.graph import architecture_dot, dot_escape
from ui.render import (
    citation_label,
    escape_markdown,
    is_trusted_url,
    safe_answer_markdown,
    slugify,
)

URL = LENS_DOCS + "gensec04-bp02.html"
CITATION = Citation(
    "GENSEC04-BP02",
    "Sanitize and validate user inputs to foundation models",
    URL,
    ("c#1",),
    "Screen every prompt.",
    risk="High",
    pillar="Security",
    page_id="GENSEC04-BP02",
)
PAGE = Citation(
    None,
    "Responsible AI",
    "https://docs.aws.amazon.com/wellarchitected/latest/x.html",
    (),
    "",
    page_id="responsible-ai",
)

DOT_STRING = re.compile(r'label="((?:[^"\\]|\\.)*)"')


def test_escape_markdown_neutralises_every_construct():
    raw = "**b** _i_ [l](http://x) ![i](y) <b> `c` # h :red[x] $x$ | ~s~ 1. - \\"
    escaped = escape_markdown(raw)
    assert re.sub(r"\\(.)", r"\1", escaped) == raw
    for construct in ("**", "[l]", "](", "![", "<b>", "`c`", ":red[", "$x$", "~s~"):
        assert construct not in escaped
    assert escape_markdown(None) == ""


def test_safe_answer_links_markers_and_drops_foreign_links_and_images():
    text = (
        "Use guardrails [GENSEC04-BP02] and care [responsible-ai]. Unknown [GENOPS09-BP09]. "
        "![img](http://evil.example/i.png) [click](http://evil.example) "
        f"[official]({URL}) <script>x</script> costs $5 :red[alarm]"
    )
    out = safe_answer_markdown(text, [CITATION, PAGE])
    assert f"\\[[GENSEC04-BP02]({URL})\\]" in out
    assert "[responsible-ai](https://docs.aws.amazon.com/wellarchitected/latest/x.html)" in out
    assert "[GENOPS09-BP09]" in out and "GENOPS09-BP09](" not in out
    assert "evil.example" not in out and "![" not in out
    assert "img" in out and "click" in out
    assert f"[official]({URL})" in out
    assert "<script>" not in out and "\\<script\\>" in out
    assert "\\$5" in out and "\\:red[" in out


def test_safe_answer_links_lists_of_markers():
    out = safe_answer_markdown("Both [GENSEC04-BP02, responsible-ai].", [CITATION, PAGE])
    assert out.count("](https://docs.aws.amazon.com/") == 2


def test_trusted_urls_are_https_docs_only():
    assert is_trusted_url(URL)
    assert not is_trusted_url(URL.replace("https", "http"))
    assert not is_trusted_url("https://docs.aws.amazon.com.evil.example/x")
    assert not is_trusted_url("javascript:alert(1)")
    assert not is_trusted_url(None)


def test_citation_label_has_id_title_and_risk():
    label = citation_label(CITATION)
    assert label.startswith("GENSEC04\\-BP02 · High risk · Sanitize and validate")
    assert citation_label(PAGE) == "Responsible AI"


def test_slugify():
    assert slugify("How do I stop *prompt* injection?") == "how-do-i-stop-prompt-injection"
    assert slugify("???") == "lenswise"


def test_dot_escape_keeps_strings_closed():
    for text in ['a "quoted" label', "back\\slash\\", 'end \\"', "multi\nline\r\ttext"]:
        escaped = dot_escape(text)
        assert "\n" not in escaped
        assert DOT_STRING.fullmatch(f'label="{escaped}"'), escaped
    assert dot_escape("x" * 100, limit=10) == "x" * 9 + "…"


def _arch() -> Architecture:
    return Architecture(
        file="t.drawio",
        format="drawio",
        components=[
            Component("u", "Users", kind="actor"),
            Component("api", 'API "edge"', service="api-gateway", group="vpc1"),
            Component("fn", "Handler", service="lambda", group="sub1"),
            Component("br", "", service="bedrock"),
            Component("spare", "Spare queue", service="sqs", diagrams=["Main", "Async"]),
        ],
        edges=[
            Edge("u", "api", "HTTPS", step="1"),
            Edge("api", "fn"),
            Edge("fn", "br", 'say "hi"'),
            Edge("fn", "br", 'say "hi"', page="second view"),  # the same arrow drawn twice
        ],
        annotations=[
            Annotation("l1", "Users call the API", "legend", step="1"),
            Annotation("n", "a free note"),
        ],
        groups=[Group("vpc1", "Prod VPC", kind="vpc"), Group("sub1", "Private", "subnet", "vpc1")],
    )


def test_architecture_dot_draws_nested_groups_nodes_and_edges():
    dot = architecture_dot(_arch())
    assert dot.startswith("digraph architecture {") and dot.rstrip().endswith("}")
    labels = DOT_STRING.findall(dot)
    assert len(labels) == dot.count("label=")
    assert "Prod VPC" in labels and "Private" in labels
    assert 'API \\"edge\\"\\n(Amazon API Gateway)' in labels
    assert "Amazon Bedrock" in labels  # no label: the service name
    assert "a free note" not in labels  # annotations are not nodes
    assert 'label="1. HTTPS", tooltip="Step 1: Users call the API"' in dot
    assert 'tooltip="Drawn in: Main, Async"' in dot
    # the subnet cluster sits inside the VPC cluster
    vpc, subnet = dot.index('label="Prod VPC"'), dot.index('label="Private"')
    assert vpc < subnet < dot.index("Handler")
    assert dot.count("subgraph cluster_") == 2
    assert dot.count("->") == 3 and 'label="say \\"hi\\""' in dot
    assert "Spare queue" in dot
    hidden = architecture_dot(_arch(), hide_unconnected=True)
    assert "Spare queue" not in hidden and hidden.count("->") == 3


def test_architecture_dot_caps_large_designs_and_accepts_dicts():
    arch = {
        "components": [{"id": f"c{i}", "label": f"box {i}"} for i in range(30)],
        "edges": [{"source": "c0", "target": "c1", "label": ""}],
    }
    dot = architecture_dot(arch, max_nodes=10)
    assert dot.count('[label="box') == 10
    assert "20 more components not drawn" in dot
    assert "rankdir=TB" in dot and "n0 -> n1;" in dot


def test_unconnected_boxes_are_stacked_in_rows_and_unnamed_groups_unlabelled():
    arch = Architecture(
        file="t.drawio",
        format="drawio",
        components=[Component(f"c{i}", f"box {i}", group="g") for i in range(18)],
        groups=[Group("g", "", kind="cluster")],
    )
    dot = architecture_dot(arch)
    invisible = re.findall(r"(n\d+) -> (n\d+) \[style=invis\];", dot)
    width = int(invisible[0][1][1:]) - int(invisible[0][0][1:])
    assert 4 <= width < 18 and len(invisible) == 18 - width
    assert 'label=""' in dot and "cluster" not in DOT_STRING.findall(dot)


def test_safe_svg_keeps_drawings_and_refuses_active_content():
    from ui.graph_view import safe_svg

    drawing = '<svg xmlns="http://www.w3.org/2000/svg"><text>a &lt;b&gt;</text></svg>'
    assert safe_svg('<?xml version="1.0"?><!-- c -->' + drawing) == drawing.encode()
    for bad in (
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><g onload="x()"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:l="http://www.w3.org/1999/xlink">'
        '<a l:href="javascript:x()"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>',
        "<svg><unclosed></svg>",
        "no drawing at all",
    ):
        assert safe_svg(bad) is None, bad


def test_viewer_page_holds_the_svg_zoom_controls_and_an_escaped_title():
    from ui.graph_view import viewer_html

    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="300pt" height="150pt"><g/></svg>'
    page = viewer_html(svg, 'design <"x">')
    assert svg.decode() in page and 'aria-label="design &lt;&quot;x&quot;&gt;"' in page
    assert all(f'id="zoom-{b}"' in page for b in ("in", "out", "fit", "reset"))
    assert "const W = 400.0, H = 200.0" in page  # points to CSS pixels
    assert "fit(0);" in page  # opens with the whole graph in view


@pytest.mark.skipif(not shutil.which("dot"), reason="Graphviz dot is not installed")
def test_render_lays_out_svg_and_png_with_graphviz():
    from ui.graph_view import render

    dot = architecture_dot(_arch())
    svg = render(dot, "svg")
    assert svg.startswith(b"<svg") and b"Prod VPC" in svg and b"Step 1: Users call the API" in svg
    png = render(dot, "png")
    assert png.startswith(b"\x89PNG") and len(png) > 1000
    assert render("digraph { a -> }", "svg") is None  # a layout error is no drawing
    assert render(dot, "pdf") is None


def test_counts_name_their_noun_in_the_right_number():
    from ui.render import counted

    assert [counted(n, "quote") for n in (0, 1, 2)] == ["0 quotes", "1 quote", "2 quotes"]


def test_findings_table_lists_gaps_first_then_by_risk():
    from agent import RISKS, LensAssistant
    from ui.review import findings_frame

    sam = SHARED / "diagrams" / "aws-samples_serverless-pdf-chat__backend_template.yaml"
    if not sam.is_file():
        pytest.skip("../shared/diagrams is not present")
    table = findings_frame(LensAssistant(Settings.from_env()).review(sam))
    order = [
        (["Gap", "Addressed", "Unknown"].index(s), RISKS.index(r) if r in RISKS else len(RISKS))
        for s, r in zip(table["Status"], table["Risk"], strict=True)
    ]
    assert order == sorted(order) and table["Status"].iloc[0] == "Gap"
    assert len(set(table["Status"])) == 3
