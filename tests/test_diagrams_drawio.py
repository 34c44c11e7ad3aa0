"""draw.io parsing: every container, shape namespaces, groups, labels, icons and edges."""

from __future__ import annotations

import pytest

from agent.diagrams import parse_bytes
from tests.test_diagrams_samples import (
    AWS4,
    box,
    compress,
    drawio_png,
    edge,
    icon,
    model,
    mxfile,
    png,
    png_chunk,
    rag_page,
)

RAG_SERVICES = ["api-gateway", "bedrock", "lambda", "opensearch", "vpc"]


def _by_id(arch):
    return {c.id: c for c in arch.components}


def test_plain_mxfile_gives_services_groups_edges():
    arch = parse_bytes(mxfile(rag_page()).encode(), "design.drawio")
    assert arch.format == "drawio"
    assert arch.services == RAG_SERVICES
    comps = _by_id(arch)
    assert comps["user"].kind == "actor" and comps["user"].service is None
    assert comps["fn"].label == "Chat handler"  # HTML stripped, lines joined
    assert comps["api"].group == "vpc"
    assert {(e.source, e.target, e.label) for e in arch.edges} >= {
        ("user", "api", "HTTPS"),
        ("fn", "llm", "InvokeModel"),
    }


def test_icon_without_label_takes_name_from_nearby_text_and_edges_follow():
    arch = parse_bytes(mxfile(rag_page()).encode(), "design.drawio")
    kb = _by_id(arch)["kb"]
    assert kb.service == "opensearch"  # from the embedded SVG <title>
    assert kb.label == "Vector store"  # from the text cell below it
    assert "kbname" not in _by_id(arch)
    assert ("fn", "kb") in {(e.source, e.target) for e in arch.edges}


def test_compressed_pages_and_multi_page_files():
    second = model(
        icon("q", "Queue", "shape=mxgraph.aws4.queue;"),
        icon("t", "", "shape=mxgraph.aws3.dynamo_db;", x=200),
    )
    xml = mxfile(compress(rag_page()), compress(second), names=("main", "async"))
    arch = parse_bytes(xml.encode(), "multi.drawio")
    assert arch.pages == ["main", "async"]
    assert {"sqs", "dynamodb", "bedrock"} <= set(arch.services)
    assert {c.page for c in arch.components} == {"main", "async"}
    assert all(c.id.startswith(("1:", "2:")) for c in arch.components)


def test_bare_mxgraphmodel_xml_with_aws20_shapes():
    xml = model(
        icon(
            "a",
            "Amazon Cloudfront",
            "shape=mxgraph.aws20.resourceIcon;resIcon=mxgraph.aws20.cloudfront;",
        ),
        icon("b", "Traces", "shape=mxgraph.aws20.xray;", x=200),
    )
    arch = parse_bytes(('<?xml version="1.0"?>' + xml).encode(), "architecture.xml")
    assert arch.format == "drawio" and arch.services == ["cloudfront", "xray"]


def test_drawio_png_with_text_and_ztxt_chunks():
    xml = mxfile(compress(rag_page()))
    for data in (drawio_png(xml), drawio_png(xml, compressed_chunk=True)):
        arch = parse_bytes(data, "arch.drawio.png")
        assert arch.format == "drawio.png" and arch.services == RAG_SERVICES


def test_drawio_svg_content_attribute():
    from xml.sax.saxutils import quoteattr

    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" content={quoteattr(mxfile(rag_page()))}>'
        "<g/></svg>"
    )
    arch = parse_bytes(svg.encode(), "arch.drawio.svg")
    assert arch.format == "drawio.svg" and arch.services == RAG_SERVICES


def test_label_naming_another_service_wins_over_icon_and_says_so():
    xml = model(
        icon(
            "x",
            "Amazon Bedrock<br>Claude 3 Sonnet",
            AWS4 + "shape=mxgraph.aws4.resourceIcon;resIcon=mxgraph.aws4.sagemaker;",
        )
    )
    arch = parse_bytes(xml.encode(), "d.xml")
    assert arch.components[0].service == "bedrock"
    assert any("sagemaker" in w and "label won" in w for w in arch.warnings)


def test_label_that_only_mentions_a_service_does_not_override_icon():
    xml = model(icon("x", "Calls Bedrock for summaries", AWS4 + "shape=mxgraph.aws4.lambda;"))
    arch = parse_bytes(xml.encode(), "d.xml")
    assert arch.components[0].service == "lambda" and not arch.warnings


def test_family_label_refines_icon():
    xml = model(
        icon(
            "kb",
            "Knowledge Base",
            AWS4 + "shape=mxgraph.aws4.resourceIcon;resIcon=mxgraph.aws4.bedrock;",
        ),
        icon(
            "g",
            "Guardrails",
            AWS4 + "shape=mxgraph.aws4.resourceIcon;resIcon=mxgraph.aws4.bedrock;",
            x=200,
        ),
    )
    arch = parse_bytes(xml.encode(), "d.xml")
    services = {c.id: c.service for c in arch.components}
    assert services == {"kb": "bedrock-knowledge-bases", "g": "bedrock-guardrails"}
    assert arch.services == ["bedrock", "bedrock-guardrails", "bedrock-knowledge-bases"]


def test_png_image_icon_named_by_text_cell():
    xml = model(
        icon("img", "", "shape=image;image=data:image/png,iVBORw0KGgo=;"),
        box("t", "Amazon Textract", "text;html=1;", 0, 80, 78, 20),
    )
    arch = parse_bytes(xml.encode(), "d.xml")
    assert [(c.id, c.service) for c in arch.components] == [("img", "textract")]


def test_groups_region_subnet_and_legacy_shapes():
    xml = model(
        box(
            "r",
            "us-east-1",
            "shape=mxgraph.aws4.group;grIcon=mxgraph.aws4.group_region;",
            0,
            0,
            800,
            600,
        ),
        box(
            "s",
            "Private subnet",
            "shape=mxgraph.aws4.group;grIcon=mxgraph.aws4.group_security_group;",
            50,
            50,
            400,
            300,
        ),
        icon("l", "fn", "shape=mxgraph.aws3.lambda_function;", 100, 100),
        box(
            "sf",
            "Workflow",
            "shape=mxgraph.aws4.group;grIcon=mxgraph.aws4.group_aws_step_functions_workflow;",
            500,
            50,
            200,
            200,
        ),
    )
    arch = parse_bytes(xml.encode(), "d.drawio")
    kinds = {g.id: g.kind for g in arch.groups}
    assert kinds["r"] == "region" and kinds["s"] == "subnet"  # the label says what the box is
    assert _by_id(arch)["l"].group == "s"  # innermost box by geometry
    assert {g.id: g.parent for g in arch.groups}["s"] == "r"
    assert set(arch.services) == {"lambda", "step-functions"}


def test_object_wrapped_cells_and_labels():
    xml = (
        '<mxGraphModel><root><mxCell id="0"/><mxCell id="1" parent="0"/>'
        '<object label="Orders &lt;i&gt;table&lt;/i&gt;" id="o1" tooltip="x">'
        '<mxCell style="shape=mxgraph.aws4.dynamodb;html=1;" vertex="1" parent="1">'
        '<mxGeometry width="78" height="78" as="geometry"/></mxCell></object></root></mxGraphModel>'
    )
    comp = parse_bytes(xml.encode(), "d.xml").components[0]
    assert (comp.id, comp.label, comp.service) == ("o1", "Orders table", "dynamodb")


def test_plain_boxes_named_by_label_and_generic_boxes_kept_without_service():
    xml = model(
        box("a", "Amazon S3", "rounded=1;whiteSpace=wrap;", 0, 0, 120, 60),
        box("b", "Billing system", "rounded=1;whiteSpace=wrap;", 200, 0, 120, 60),
        edge("e", "a", "b"),
    )
    comps = _by_id(parse_bytes(xml.encode(), "d.xml"))
    assert comps["a"].service == "s3" and comps["b"].service is None and comps["b"].kind == "box"


def test_png_without_diagram_chunk_is_an_image_needing_a_model():
    from corpus.errors import InputError

    with pytest.raises(InputError, match="--model"):
        parse_bytes(png(png_chunk(b"tEXt", b"Software\x00paint")), "photo.png")


def test_dangling_edge_end_found_by_point():
    xml = model(
        icon("a", "", AWS4 + "shape=mxgraph.aws4.lambda;", 0, 0),
        icon("b", "", AWS4 + "shape=mxgraph.aws4.sqs;", 300, 0),
        '<mxCell id="e" edge="1" parent="1" source="a" style=""><mxGeometry relative="1" '
        'as="geometry"><mxPoint x="330" y="30" as="targetPoint"/></mxGeometry></mxCell>',
    )
    arch = parse_bytes(xml.encode(), "d.xml")
    assert [(e.source, e.target) for e in arch.edges] == [("a", "b")]


def test_arrows_to_a_card_box_land_on_the_icon_inside_it():
    xml = model(
        box("card1", "", "rounded=1;whiteSpace=wrap;", 0, 0, 200, 120),
        icon("card1-i", "", AWS4 + "shape=mxgraph.aws4.lambda;", 10, 10),
        box("card1-t", "Router", "text;html=1;", 100, 10, 90, 20),
        box("card2", "", "rounded=1;whiteSpace=wrap;", 400, 0, 200, 120),
        icon(
            "card2-i",
            "",
            AWS4 + "shape=mxgraph.aws4.resourceIcon;resIcon=mxgraph.aws4.bedrock;",
            410,
            10,
        ),
        edge("e", "card1", "card2", "invoke"),
    )
    arch = parse_bytes(xml.encode(), "cards.drawio")
    assert [(e.source, e.target, e.label) for e in arch.edges] == [("card1-i", "card2-i", "invoke")]
    assert _by_id(arch)["card1-i"].label == "Router"
