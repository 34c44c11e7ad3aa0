"""Review engine, rule table and markdown report."""

from __future__ import annotations

import json

import pytest

from corpus.loaders.builtin import digest_practices
from corpus.vocabulary import PILLARS
from diagrams import parse_bytes, render_markdown, review_architecture
from diagrams.model import Architecture, Component
from diagrams.rules import load_rules, parse_rules

BARE = """graph LR
  U[Users] --> API[Amazon API Gateway] --> L[AWS Lambda] --> B[Amazon Bedrock]
"""
GUARDED = """graph LR
  U[Users] --> W[AWS WAF] --> API[Amazon API Gateway] --> L[AWS Lambda]
  C[Amazon Cognito] --> API
  L --> VE[VPC endpoint] --> B[Amazon Bedrock]
  B --> G[Bedrock Guardrails]
  B --> CW[Amazon CloudWatch]
  T[AWS CloudTrail]
"""


@pytest.fixture(scope="module")
def practices():
    return digest_practices()


def _review(text: str, name: str, practices):
    return review_architecture(parse_bytes(text.encode(), name), practices)


def _status(review, bp_id):
    return next(f for f in review.findings if f.bp_id == bp_id)


def test_every_practice_has_exactly_one_rule(practices):
    rules = load_rules()
    assert len(practices) == 51
    assert set(rules.rules) == set(practices)
    for rule in rules.rules.values():
        assert rule.question.endswith("?"), rule.bp_id
        assert rule.addressed, rule.bp_id


def test_rule_table_rejects_unknown_slugs_and_keys():
    with pytest.raises(ValueError, match="unknown service"):
        parse_rules({"rules": {"X": {"addressed": [{"services": ["not-a-service"]}]}}})
    with pytest.raises(ValueError, match="unknown rule keys"):
        parse_rules({"rules": {"X": {"adressed": []}}})
    with pytest.raises(ValueError, match="matcher"):
        parse_rules({"rules": {"X": {"addressed": [{"colour": "red"}]}}})


def test_design_without_controls_has_gaps_on_the_model_path(practices):
    review = _review(BARE, "bare.mmd", practices)
    guard = _status(review, "GENSEC02-BP01")
    assert guard.status == "gap" and guard.evidence == ["B"]
    assert "Amazon Bedrock" in guard.explanation
    inputs = _status(review, "GENSEC04-BP02")
    assert inputs.status == "gap" and inputs.evidence == ["API"]
    # a drawing that omits a VPC endpoint is not proof there is none
    assert _status(review, "GENSEC01-BP02").status == "unknown"
    unknown = _status(review, "GENOPS01-BP02")
    assert unknown.status == "unknown" and unknown.explanation.endswith("?")


def test_design_with_controls_is_addressed_with_evidence(practices):
    review = _review(GUARDED, "guarded.mmd", practices)
    expected = {
        "GENSEC02-BP01": "G",
        "GENSEC04-BP02": "W",
        "GENSEC01-BP01": "C",
        "GENSEC01-BP02": "VE",
        "GENSEC03-BP01": "T",
        "GENOPS02-BP01": "CW",
        "GENOPS02-BP02": "CW",
    }
    for bp_id, component in expected.items():
        finding = _status(review, bp_id)
        assert finding.status == "addressed", (bp_id, finding.explanation)
        assert component in finding.evidence, bp_id


def test_iac_absence_counts_and_explicit_facts_win(practices):
    template = """Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: prod}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement: [{Effect: Allow, Action: "bedrock:InvokeModel", Resource: "*"}]
      Events:
        Ask: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /, Method: post}}
  Pool:
    Type: AWS::Cognito::UserPool
"""
    review = _review(template, "template.yaml", practices)
    access = _status(review, "GENSEC01-BP01")
    assert access.status == "gap" and {"Api", "Fn"} <= set(access.evidence)
    assert "no authentication" in access.explanation
    assert "Pool" not in access.evidence  # a user pool on its own controls nothing
    assert _status(review, "GENSEC01-BP02").status == "gap"  # IaC: no VPC endpoint declared
    assert _status(review, "GENOPS04-BP01").status == "addressed"


def test_secured_template_addresses_access_network_and_guardrails(practices):
    template = """Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      Auth: {DefaultAuthorizer: Cognito, Authorizers: {Cognito: {UserPoolArn: x}}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      VpcConfig: {SubnetIds: [a]}
      Policies:
        - Statement: [{Effect: Allow, Action: [bedrock:InvokeModel, bedrock:ApplyGuardrail],
                       Resource: "arn:aws:bedrock:us-east-1::foundation-model/m"}]
  Endpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties: {ServiceName: com.amazonaws.us-east-1.bedrock-runtime}
"""
    review = _review(template, "template.yaml", practices)
    for bp_id in ("GENSEC01-BP01", "GENSEC01-BP02", "GENSEC02-BP01"):
        assert _status(review, bp_id).status == "addressed", bp_id


def test_agent_without_guardrail_is_a_gap_even_if_a_guardrail_exists(practices):
    tf = """
resource "aws_bedrock_guardrail" "g" { name = "g" }
resource "aws_bedrockagent_agent" "a" { agent_name = "a" }
"""
    review = _review(tf, "main.tf", practices)
    finding = _status(review, "GENSEC02-BP01")
    assert finding.status == "gap" and finding.evidence == ["aws_bedrockagent_agent.a"]
    assert "no guardrail attached" in finding.explanation


def test_practices_without_concerned_components_stay_unknown(practices):
    arch = Architecture("x.drawio", "drawio", [Component("a", "Amazon S3", "s3")])
    review = review_architecture(arch, practices)
    assert _status(review, "GENSEC02-BP01").status == "unknown"
    assert _status(review, "GENSUS01-BP01").status == "addressed"


def test_coverage_and_json_shape(practices):
    review = _review(GUARDED, "guarded.mmd", practices)
    data = json.loads(json.dumps(review.to_dict()))
    assert list(data) == [
        "file",
        "format",
        "components",
        "edges",
        "services",
        "findings",
        "coverage",
        "annotations",
        "diagrams",
        "warnings",
    ]
    contract = {"id", "label", "service", "service_name", "group", "page"}
    assert set(data["components"][0]) == contract | {"kind", "diagrams"}
    assert data["diagrams"] == [] and data["annotations"] == []  # one diagram, no notes
    assert set(data["findings"][0]) == {
        "bp_id",
        "title",
        "pillar",
        "risk",
        "status",
        "evidence",
        "explanation",
        "url",
        "resource",  # added by issue 24: the declared resources to change for a gap
    }
    cov = data["coverage"]
    assert cov["total"] == 51 == cov["addressed"] + cov["gap"] + cov["unknown"]
    assert list(cov["by_pillar"]) == list(PILLARS)
    assert sum(p["total"] for p in cov["by_pillar"].values()) == 51
    assert [f["bp_id"] for f in data["findings"]][:2] == ["GENOPS01-BP01", "GENOPS01-BP02"]


def test_report_escapes_labels_and_orders_sections(practices):
    label = "<script>alert(1)</script> | **bold** [link](http://x)\n# heading"
    arch = Architecture("evil.drawio", "drawio", [Component("x", label, "bedrock")])
    report = render_markdown(review_architecture(arch, practices))
    assert "<script>" not in report and "&lt;script&gt;" in report
    assert "| **bold**" not in report and "[link](http" not in report
    assert "\n# heading" not in report
    order = [
        report.index(h)
        for h in (
            "## Summary",
            "## Coverage by pillar",
            "## Gaps",
            "## Addressed",
            "## Not visible",
            "## Component inventory",
        )
    ]
    assert order == sorted(order)
    assert "| Security |" in report and "partial review" in report
    assert "GENSEC02-BP01" in report.split("## Addressed")[0]  # the guardrail gap is listed first


def test_review_time_grows_linearly_with_the_graph(practices):
    """Ten times the components costs about ten times the time, not a hundred (no pair loops).

    Timed against a tenth-size graph in the same run, so a busy machine slows both sides.
    """
    import time

    def best_of_three(size: int) -> float:
        comps = [Component(f"c{i}", f"Lambda {i} calling Bedrock", "lambda") for i in range(size)]
        arch = Architecture("big.drawio", "drawio", comps)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            review_architecture(arch, practices)
            times.append(time.perf_counter() - start)
        return min(times)

    small, large = best_of_three(200), best_of_three(2000)
    assert large < 40 * small, f"2000 components: {large:.3f} s, 200: {small:.3f} s"


def test_a_drawn_vpc_turns_a_missing_endpoint_into_a_gap(practices):
    flat = _review(BARE, "flat.mmd", practices)
    assert _status(flat, "GENSEC01-BP02").status == "unknown"  # network not drawn at all
    networked = """graph LR
  U[Users] --> API[Amazon API Gateway]
  subgraph VPC[Amazon VPC]
    L[AWS Lambda]
  end
  API --> L --> B[Amazon Bedrock]
"""
    finding = _status(_review(networked, "vpc.mmd", practices), "GENSEC01-BP02")
    assert finding.status == "gap" and "no VPC endpoint" in finding.explanation


def test_look_alikes_of_a_control_leave_the_practice_unknown_and_say_why(practices):
    text = """graph LR
  U[Users] --> C[Amazon Cognito]
  U --> API[Amazon API Gateway] --> Q[Amazon SQS queue] --> L[AWS Lambda] --> B[Amazon Bedrock]
  S[Amazon S3] --> P[Ingestion pipeline] --> L
  L --> D[Spotlight board]
"""
    review = _review(text, "look.mmd", practices)
    access = _status(review, "GENSEC01-BP01")
    assert access.status == "unknown" and "Amazon Cognito signs users in" in access.explanation
    assert access.explanation.endswith(access.question)
    overload = _status(review, "GENOPS02-BP03")
    assert overload.status == "unknown" and "a queue alone is no throttle" in overload.explanation
    assert _status(review, "GENOPS04-BP02").status == "unknown"  # a data pipeline is not CI/CD
    wired = _review(text + "  C --> API\n", "wired.mmd", practices)
    assert _status(wired, "GENSEC01-BP01").status == "addressed"  # the authorizer is drawn
    throttled = _review(text.replace("SQS queue", "SQS queue, usage plan"), "t.mmd", practices)
    assert _status(throttled, "GENOPS02-BP03").status == "addressed"


def test_rule_labels_match_whole_words_unless_starred():
    from diagrams.review import label_pattern

    assert label_pattern("spot instance*").search("ec2 spot instances")
    assert not label_pattern("spot").search("spotlight board")
    assert label_pattern("throttl*").search("api throttling")
    assert not label_pattern("throttl*").search("unthrottled")
    assert label_pattern("ci/cd").search("github ci/cd")
    with pytest.raises(ValueError, match="only at its end"):
        parse_rules({"rules": {"X": {"addressed": [{"labels": ["a*b"]}]}}})
    with pytest.raises(ValueError, match="go together"):
        parse_rules(
            {"rules": {"X": {"addressed": [{"labels": ["a"]}], "weak": [{"labels": ["b"]}]}}}
        )


def test_report_lists_each_diagram_and_the_annotations_apart(practices):
    text = (
        "## Runtime\n```mermaid\ngraph LR\n  A[Amazon API Gateway] --> B[Amazon Bedrock]\n```\n"
        "## Data\n```mermaid\ngraph LR\n  B[Amazon Bedrock] --> S[Amazon S3]\n```\n"
    )
    report = render_markdown(_review(text, "two.md", practices))
    assert "## Diagrams in this file" in report
    assert "| Runtime | 2 |" in report and "| Data | 2 |" in report
    assert "| Amazon Bedrock | Amazon Bedrock | - | Runtime, Data |" in report
    drawio = (
        '<mxGraphModel><root><mxCell id="0"/><mxCell id="1" parent="0"/>'
        '<mxCell id="t" value="Owner: *team* &lt;b&gt;" style="text;" vertex="1" parent="1">'
        '<mxGeometry x="0" y="300" width="200" height="20" as="geometry"/></mxCell>'
        '<mxCell id="b" value="Bedrock" style="shape=mxgraph.aws4.bedrock;" vertex="1" '
        'parent="1"><mxGeometry x="0" y="0" width="78" height="78" as="geometry"/></mxCell>'
        "</root></mxGraphModel>"
    )
    report = render_markdown(_review(drawio, "n.drawio", practices))
    section = report.split("## Annotations", 1)[1]
    assert "| note | - | Owner: \\*team\\* &lt;b&gt; |" in section  # inert in markdown
