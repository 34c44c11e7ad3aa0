"""Mermaid flowcharts: node shapes, edge forms, subgraphs, fenced markdown."""

from __future__ import annotations

import pytest

from corpus.errors import InputError
from corpus.loaders.builtin import digest_practices
from diagrams import parse_bytes, review_architecture

CHART = """flowchart LR
    %% a comment
    U["👤 Users"] -->|HTTPS| CF(Amazon CloudFront)
    CF --> API{{API Gateway}} -- invokes --> FN[[Lambda<br/>orchestrator]]
    subgraph vpc1 [Production VPC]
        FN
        subgraph AI["AI services"]
            BR[(Amazon Bedrock)]
            KB>Bedrock Knowledge Base]
        end
    end
    FN -.-> BR & KB
    FN ==> DB[(DynamoDB)]
    KB --- OS((OpenSearch Serverless))
    style FN fill:#f9f
    classDef x fill:#fff
    click FN "http://example.com"
"""


def test_flowchart_nodes_edges_and_subgraphs():
    arch = parse_bytes(CHART.encode(), "arch.mmd")
    assert arch.format == "mermaid"
    assert arch.services == [
        "api-gateway",
        "bedrock",
        "bedrock-knowledge-bases",
        "cloudfront",
        "dynamodb",
        "lambda",
        "opensearch",
        "vpc",
    ]
    comps = {c.id: c for c in arch.components}
    assert comps["U"].kind == "actor" and comps["U"].label == "Users"
    assert comps["FN"].label == "Lambda orchestrator"
    assert comps["FN"].group == "vpc1" and comps["BR"].group == "AI"
    assert {g.id: g.parent for g in arch.groups}["AI"] == "vpc1"
    edges = {(e.source, e.target, e.label) for e in arch.edges}
    assert ("U", "CF", "HTTPS") in edges and ("API", "FN", "invokes") in edges
    assert {("FN", "BR", ""), ("FN", "KB", ""), ("FN", "DB", ""), ("KB", "OS", "")} <= edges


def test_markdown_with_several_fences_keeps_only_flowcharts():
    text = (
        "# Design\n\n```mermaid\ngraph TD\n  A[S3 bucket] --> B[Lambda]\n```\n\n"
        '```mermaid\npie\n  "a" : 1\n```\n\n'
        "~~~mermaid\nflowchart TB\n  C[Amazon SQS] --> D[Step Functions]\n~~~\n"
    )
    arch = parse_bytes(text.encode(), "README.md")
    assert arch.pages == ["Design", "Design (2)"]  # named by the heading above each block
    assert arch.services == ["lambda", "s3", "sqs", "step-functions"]
    assert {(e.source, e.target) for e in arch.edges} == {("1:A", "1:B"), ("2:C", "2:D")}
    assert arch.warnings == [
        "Mermaid block 'Design' is a pie diagram, not an architecture view: not reviewed"
    ]


def test_markdown_without_flowchart_is_input_error():
    with pytest.raises(InputError, match="no Mermaid flowchart"):
        parse_bytes(b'# Notes\n\n```mermaid\npie\n  "a" : 1\n```\n', "notes.md")


def test_unclosed_node_is_input_error():
    with pytest.raises(InputError, match="unclosed"):
        parse_bytes(b"graph TD\n  A[Lambda --> B\n", "x.mmd")


def test_node_ids_name_services_when_text_is_generic():
    arch = parse_bytes(b"graph LR\n  BedrockKB[KB for docs] --> X[Some app]\n", "x.mmd")
    assert {c.id: c.service for c in arch.components} == {
        "BedrockKB": "bedrock-knowledge-bases",
        "X": None,
    }


def test_class_suffixes_and_shape_data_syntax():
    text = (
        "flowchart LR\n"
        '  A[Users]:::actor --> B@{ shape: rect, label: "Amazon Bedrock" }\n'
        "  B:::hot --> C[(DynamoDB)]\n"
    )
    arch = parse_bytes(text.encode(), "x.mmd")
    assert {c.id: c.service for c in arch.components} == {
        "A": None,
        "B": "bedrock",
        "C": "dynamodb",
    }
    assert {(e.source, e.target) for e in arch.edges} == {("A", "B"), ("B", "C")}


def test_views_of_one_system_are_named_by_heading_and_merged_by_node_id_or_name():
    text = (
        "# Overview\n\n```mermaid\nflowchart LR\n  API[API Gateway] --> FN[Orders handler]\n"
        "  FN --> DB[(DynamoDB<br>orders table)]\n```\n\n"
        "## Network\n\n```mermaid\nflowchart LR\n  subgraph V[Prod VPC]\n"
        "    FN[Lambda in VPC]\n  end\n  FN --> DB[DynamoDB]\n  FN --> X[Orders handler]\n```\n"
    )
    arch = parse_bytes(text.encode(), "design.md")
    assert arch.pages == ["Overview", "Network"] and arch.diagrams == ["Overview", "Network"]
    comps = {c.id: c for c in arch.components}
    # FN is a node id in both blocks, but the second names another service: kept apart
    assert "2:FN" in comps and comps["2:FN"].service == "lambda"
    # DB is the same node id and service in both: one component drawn in both diagrams
    assert "2:DB" not in comps and comps["1:DB"].diagrams == ["Overview", "Network"]
    # "Orders handler" is the same name in both: merged although the node ids differ
    assert "2:X" not in comps and comps["1:FN"].diagrams == ["Overview", "Network"]
    assert {(e.source, e.target) for e in arch.edges} == {
        ("1:API", "1:FN"),
        ("1:FN", "1:DB"),
        ("2:FN", "1:DB"),
        ("2:FN", "1:FN"),
    }
    data = review_architecture(arch, digest_practices()).to_dict()
    network = data["diagrams"][1]
    assert network["name"] == "Network" and set(network["components"]) == {
        "2:V",
        "2:FN",
        "1:DB",
        "1:FN",
    }
    assert next(c for c in data["components"] if c["id"] == "1:DB")["diagrams"] == [
        "Overview",
        "Network",
    ]


def test_numeric_arrow_labels_are_steps():
    arch = parse_bytes(b"graph LR\n  A[S3] -->|1| B[Lambda]\n  B -->|reads| C[DynamoDB]\n", "s.mmd")
    assert [(e.label, e.step) for e in arch.edges] == [("", "1"), ("reads", "")]


def test_sequence_diagram_participants_messages_steps_and_notes():
    text = """sequenceDiagram
    autonumber
    actor U as Analyst
    participant API as Amazon API Gateway
    participant KB as Bedrock Knowledge Bases
    U->>+API: ask a question
    loop every passage
      API->>KB: Retrieve
      KB-->>API: passages
    end
    API->>API: build prompt
    Note over API,KB: cached for an hour
    API-)S3: archive the answer
"""
    arch = parse_bytes(text.encode(), "flow.mmd")
    assert arch.pages == ["sequence diagram 1"]
    comps = {c.id: (c.kind, c.service) for c in arch.components}
    assert comps == {
        "U": ("actor", None),
        "API": ("service", "api-gateway"),
        "KB": ("service", "bedrock-knowledge-bases"),
        "S3": ("service", "s3"),  # named by its id where first used
    }
    assert [(e.source, e.target, e.label, e.step) for e in arch.edges] == [
        ("U", "API", "ask a question", "1"),
        ("API", "KB", "Retrieve", "2"),
        ("KB", "API", "passages", "3"),
        ("API", "S3", "archive the answer", "5"),  # step 4 is a message to itself
    ]
    assert [(a.kind, a.text) for a in arch.annotations] == [("note", "cached for an hour")]


def test_legend_subgraph_holds_samples_not_components():
    text = """flowchart LR
  API[Amazon API Gateway] --> FN[AWS Lambda]
  subgraph Legend
    direction TB
    S[Amazon SQS]
    subgraph inner[Arrow kinds]
      X[dashed: async]
    end
  end
"""
    arch = parse_bytes(text.encode(), "l.mmd")
    assert [c.id for c in arch.components] == ["API", "FN"] and arch.services == [
        "api-gateway",
        "lambda",
    ]
    assert not arch.groups
    assert {(a.id, a.kind, a.attached_to) for a in arch.annotations} == {
        ("Legend", "legend", None),
        ("inner", "legend", None),
        ("S", "legend", "Legend"),
        ("X", "legend", "inner"),
    }
