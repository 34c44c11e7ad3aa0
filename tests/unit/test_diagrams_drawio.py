"""draw.io parsing: every container, shape namespaces, groups, labels, icons and edges."""

from __future__ import annotations

import base64
import urllib.parse
import zlib

import pytest

from corpus.loaders.builtin import digest_practices
from diagrams import parse_bytes, review_architecture
from tests.samples import (
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


# --- annotation and architecture -------------------------------------------------------------

BADGE = "ellipse;whiteSpace=wrap;html=1;fillColor=#007CBD;fontColor=#FFFFFF;"
TEXT = "text;html=1;align=left;"
RES = AWS4 + "shape=mxgraph.aws4.resourceIcon;resIcon=mxgraph.aws4.{};"


def _flow(*extra: str) -> str:
    return model(
        icon("api", "Orders API", RES.format("api_gateway"), 0, 0),
        icon("fn", "Worker", RES.format("lambda"), 300, 0),
        edge("e", "api", "fn"),
        *extra,
    )


def test_step_badge_on_an_arrow_numbers_it_and_is_no_component():
    arch = parse_bytes(_flow(box("b", "2", BADGE, 177, 27, 24, 24)).encode(), "d.drawio")
    assert [c.id for c in arch.components] == ["api", "fn"]
    assert [(e.source, e.target, e.step) for e in arch.edges] == [("api", "fn", "2")]
    note = arch.annotations[0]
    assert (note.kind, note.step, note.attached_to) == ("step", "2", "api->fn")


def test_badge_far_from_any_arrow_stays_a_loose_step_note():
    arch = parse_bytes(_flow(box("b", "(3)", BADGE, 600, 400, 24, 24)).encode(), "d.drawio")
    assert arch.edges[0].step == "" and len(arch.components) == 2
    assert [(a.kind, a.step, a.attached_to) for a in arch.annotations] == [("step", "3", None)]


def test_legend_box_of_numbered_notes_is_a_legend_whose_entries_carry_their_step():
    legend = [
        box("lg", "How it works", "rounded=1;whiteSpace=wrap;verticalAlign=top;", 600, 0, 300, 140),
        box("l1", "1", BADGE, 610, 40, 20, 20),
        box("t1", "A client posts an order; guardrails come later", TEXT, 640, 38, 250, 24),
        box("l2", "2", BADGE, 610, 90, 20, 20),
        box("t2", "The worker stores it", TEXT, 640, 88, 250, 24),
    ]
    arch = parse_bytes(_flow(*legend).encode(), "d.drawio")
    assert [c.id for c in arch.components] == ["api", "fn"] and not arch.groups
    kinds = {a.id: (a.kind, a.step, a.attached_to) for a in arch.annotations}
    assert kinds["lg"] == ("legend", "", None)
    assert kinds["t1"] == ("legend", "1", "lg") and kinds["t2"] == ("legend", "2", "lg")
    assert kinds["l1"] == ("legend", "1", "lg")
    review = review_architecture(arch, digest_practices())
    guard = next(f for f in review.findings if f.bp_id == "GENSEC02-BP01")
    assert guard.status != "addressed"  # a legend sentence is no guardrail


def test_box_titled_legend_turns_its_icon_samples_into_legend():
    legend = [
        box("lg", "Legend", "rounded=1;whiteSpace=wrap;verticalAlign=top;", 600, 0, 300, 200),
        icon("sample", "", RES.format("dynamodb"), 620, 40),
        box("st", "Table", TEXT, 720, 60, 100, 20),
    ]
    arch = parse_bytes(_flow(*legend).encode(), "d.drawio")
    assert arch.services == ["api-gateway", "lambda"]  # the DynamoDB sample is no table
    assert {a.id: a.kind for a in arch.annotations} == {"lg": "legend", "st": "legend"}


def test_plain_box_around_icons_is_a_boundary_and_a_top_text_names_untitled_ones():
    cells = _flow(
        box(
            "zone", "Order service", "rounded=1;whiteSpace=wrap;fillColor=#eee;", -20, -20, 420, 140
        ),
        box("z2", "", "rounded=1;whiteSpace=wrap;fillColor=#eee;", -20, 200, 420, 160),
        box("z2t", "Storage tier", TEXT, 0, 205, 150, 20),
        icon("t1", "Orders", RES.format("dynamodb"), 0, 240),
        icon("t2", "Archive", RES.format("s3"), 300, 240),
    )
    arch = parse_bytes(cells.encode(), "d.drawio")
    groups = {g.id: g for g in arch.groups}
    assert groups["zone"].label == "Order service" and groups["z2"].label == "Storage tier"
    assert {c.id: c.group for c in arch.components} == {
        "api": "zone",
        "fn": "zone",
        "t1": "z2",
        "t2": "z2",
    }
    assert [(a.id, a.kind, a.attached_to) for a in arch.annotations] == [("z2t", "title", "z2")]


def test_page_title_free_note_and_text_on_an_arrow():
    cells = _flow(
        box("title", "Order pipeline", TEXT + "fontSize=24;", 0, -120, 400, 40),
        box("lbl", "HTTPS", TEXT, 150, 20, 60, 20),
        box(
            "note",
            "Owner: team A, rate limits to decide",
            "rounded=0;whiteSpace=wrap;",
            0,
            300,
            300,
            60,
        ),
    )
    arch = parse_bytes(cells.encode(), "d.drawio")
    assert [c.id for c in arch.components] == ["api", "fn"]
    assert arch.edges[0].label == "HTTPS"
    kinds = {a.id: (a.kind, a.attached_to) for a in arch.annotations}
    assert kinds == {
        "title": ("title", None),
        "lbl": ("label", "api->fn"),
        "note": ("note", None),
    }
    data = review_architecture(arch, digest_practices()).to_dict()
    assert {a["id"] for a in data["annotations"]} == {"title", "lbl", "note"}
    assert not any(c["label"].startswith("Owner") for c in data["components"])


def test_connected_plain_box_and_text_stay_components():
    cells = model(
        box("a", "Billing system", "rounded=1;whiteSpace=wrap;", 0, 0, 120, 60),
        box("b", "Ledger", TEXT, 300, 0, 80, 20),
        edge("e", "a", "b"),
    )
    arch = parse_bytes(cells.encode(), "d.drawio")
    assert [(c.id, c.kind) for c in arch.components] == [("a", "box"), ("b", "box")]
    assert not arch.annotations and len(arch.edges) == 1


def test_people_icon_named_after_what_they_call_stays_actor():
    xml = model(icon("u", "Bedrock callers<br>apps and analysts", RES.format("users"), 0, 0))
    comp = parse_bytes(xml.encode(), "d.drawio").components[0]
    assert comp.kind == "actor" and comp.service is None


def test_loose_arrow_end_on_an_icon_label_connects_to_the_icon():
    under = AWS4 + "verticalLabelPosition=bottom;fontSize=12;shape=mxgraph.aws4.lambda;"
    xml = model(
        icon("a", "Reader<br>function", under, 0, 0),
        icon("b", "", AWS4 + "shape=mxgraph.aws4.sqs;", 300, 0),
        '<mxCell id="e" edge="1" parent="1" target="b" style=""><mxGeometry relative="1" '
        'as="geometry"><mxPoint x="39" y="100" as="sourcePoint"/></mxGeometry></mxCell>',
    )
    arch = parse_bytes(xml.encode(), "d.xml")
    assert [(e.source, e.target) for e in arch.edges] == [("a", "b")]


def test_pages_repeating_a_component_are_merged_by_name_with_their_diagrams():
    first = model(
        icon("kb", "Product search", RES.format("bedrock"), 0, 0),
        icon("fn", "Handler", RES.format("lambda"), 300, 0),
        edge("e", "fn", "kb"),
    )
    second = model(
        icon("x", "Product search", RES.format("bedrock"), 0, 0),
        icon("f1", "AWS Lambda", RES.format("lambda"), 300, 0),
        icon("f2", "AWS Lambda", RES.format("lambda"), 300, 200),
        edge("e2", "f1", "x"),
    )
    arch = parse_bytes(mxfile(first, second, names=("Runtime", "Runtime")).encode(), "m.drawio")
    assert arch.pages == ["Runtime", "Runtime (2)"]
    comps = _by_id(arch)
    assert "2:x" not in comps and comps["1:kb"].diagrams == ["Runtime", "Runtime (2)"]
    assert {"2:f1", "2:f2"} <= set(comps)  # one name drawn twice in a page names two things
    assert ("2:f1", "1:kb") in {(e.source, e.target) for e in arch.edges}
    view = arch.view("Runtime (2)")
    assert {c.id for c in view.components} == {"1:kb", "2:f1", "2:f2"}
    assert [(e.source, e.target) for e in view.edges] == [("2:f1", "1:kb")]
    review = review_architecture(arch, digest_practices())
    assert [d.name for d in review.diagrams] == ["Runtime", "Runtime (2)"]
    assert review.diagrams[1].components == ["1:kb", "2:f1", "2:f2"]
    assert review.to_dict()["diagrams"][0]["coverage"]["total"] == 51


def test_text_beside_the_corner_of_an_orthogonal_arrow_labels_it():
    cells = model(
        icon("a", "Orders API", RES.format("api_gateway"), 0, 0),
        icon("b", "Worker", RES.format("lambda"), 300, 300),
        edge("e", "a", "b"),  # orthogonal style: drawn right, then down
        box("t", "async", TEXT, 345, 150, 60, 20),
    )
    arch = parse_bytes(cells.encode(), "d.drawio")
    assert arch.edges[0].label == "async"
    assert arch.annotations[0].attached_to == "a->b"


def test_builders_make_valid_png_and_compressed_page():
    data = drawio_png(mxfile(rag_page()))
    assert data.startswith(b"\x89PNG") and b"tEXt" in data
    raw = zlib.decompress(base64.b64decode(compress("<x/>")), -15)
    assert urllib.parse.unquote(raw.decode()) == "<x/>"
