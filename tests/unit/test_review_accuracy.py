"""Review accuracy patterns (issue 24): part or whole deployment, controls read where they are
set, gaps the file shows, and the resource each gap points at. Fixtures: tests/fixtures/accuracy."""

from __future__ import annotations

import pytest

from corpus.loaders.builtin import digest_practices
from diagrams import parse_bytes, parse_file, review_architecture
from diagrams.model import Architecture, Component, Edge, Group
from tests.helpers import FIXTURES

ACCURACY = FIXTURES / "accuracy"
ACCOUNT_WIDE = ("GENSEC01-BP04", "GENSEC03-BP01", "GENOPS02-BP01")


@pytest.fixture(scope="module")
def practices():
    return digest_practices()


def _findings(name: str, practices) -> dict:
    if name == "tf-root.tf":  # the module with a provider: a root configuration
        text = (
            'provider "aws" {\n  region = "us-east-1"\n}\n'
            + (ACCURACY / "tf-module.tf").read_text()
        )
        arch = parse_bytes(text.encode(), name)
    else:
        arch = parse_file(ACCURACY / name)
    review = review_architecture(arch, practices)
    return {f.bp_id: f for f in review.findings}


@pytest.mark.parametrize(
    ("part", "whole", "why"),
    [
        ("tf-module.tf", "tf-root.tf", "Terraform module"),
        ("cfn-import.yaml", "cfn-whole.yaml", "imports values"),
    ],
)
def test_part_of_a_deployment_asks_instead_of_reporting(part, whole, why, practices):
    in_part, in_whole = _findings(part, practices), _findings(whole, practices)
    for bp in ACCOUNT_WIDE:
        assert in_whole[bp].status == "gap"
        assert in_part[bp].status == "unknown"
        assert why in in_part[bp].explanation and in_part[bp].explanation.endswith("?")
    # a control the file itself should carry is still a gap in a part
    assert in_part["GENSEC02-BP01"].status == "gap"


def test_parent_stack_is_a_part_and_full_access_is_a_gap(practices):
    found = _findings("cfn-nested.yaml", practices)
    assert "nested stacks" in found["GENSEC03-BP01"].explanation
    assert found["GENSEC03-BP01"].status == "unknown"
    access = found["GENSEC01-BP01"]
    assert access.status == "gap" and access.resource == ["ChatRole"]
    assert "Bedrock actions on any action or resource" in access.explanation


def test_public_vector_collection_with_all_actions_is_a_gap(practices):
    data = _findings("cfn-aoss-public.yaml", practices)["GENSEC01-BP03"]
    assert data.status == "gap"
    assert set(data.resource) == {"VectorAccess", "VectorNetwork"}
    assert "reachable from the public internet" in data.explanation


def test_module_arguments_and_sam_globals_count_as_controls(practices):
    found = _findings("tf-module-guardrail.tf", practices)
    assert found["GENSEC02-BP01"].status == "addressed"
    assert "module.assistant" in found["GENSEC02-BP01"].evidence
    assert found["GENOPS02-BP01"].status == "addressed"  # tracing set by a module argument
    traced = _findings("sam-globals-tracing.yaml", practices)["GENOPS03-BP02"]
    assert traced.status == "addressed" and "AskFunction" in traced.evidence


def test_gap_on_an_implicit_service_points_at_the_resources_to_edit(practices):
    endpoint = _findings("cfn-whole.yaml", practices)["GENSEC01-BP02"]
    assert endpoint.evidence == ["bedrock-api"]
    assert endpoint.resource == ["ChatRole", "ChatFunction"]


def test_complete_template_reports_missing_invocation_logging_and_throttling(practices):
    found = _findings("cfn-whole.yaml", practices)
    assert found["GENOPS02-BP02"].status == "gap"  # a whole stack could declare it
    assert found["GENOPS02-BP03"].status == "unknown"  # no entry point: nothing to throttle
    part = _findings("cfn-import.yaml", practices)
    assert (
        part["GENOPS02-BP02"].status == "unknown" and "imports" in part["GENOPS02-BP02"].explanation
    )


def _text_findings(text: str, name: str, practices) -> dict:
    review = review_architecture(parse_bytes(text.encode(), name), practices)
    return {f.bp_id: f for f in review.findings}


def test_root_file_that_uses_resources_of_other_files_is_a_part(practices):
    found = _findings("tf-file-of-root.tf", practices)
    for bp in ACCOUNT_WIDE:
        assert found[bp].status == "unknown"
        assert "aws_iam_role.agents" in found[bp].explanation
    # tracing is a setting of the state machine and agents declared right here
    assert found["GENOPS03-BP02"].status == "gap"
    assert found["GENOPS03-BP02"].resource == ["aws_sfn_state_machine.flow"]
    # a knowledge base has no tracing setting: a part that declares only that cannot show it
    text = (ACCURACY / "tf-file-of-root.tf").read_text()
    kb_only = text[text.index('resource "aws_opensearchserverless_collection"') :]
    kb_only += 'resource "aws_lambda_function" "x" {\n  role = aws_iam_role.elsewhere.arn\n}\n'
    assert _text_findings(kb_only, "kb.tf", practices)["GENOPS03-BP02"].status == "unknown"
    # the same file with its role declared too is a whole root configuration again
    text = (ACCURACY / "tf-file-of-root.tf").read_text()
    role = 'resource "aws_iam_role" "agents" {\n  name = "agents"\n}\n'
    whole = _text_findings(text.replace("templatefile(", "jsonencode(") + role, "w.tf", practices)
    assert all(whole[bp].status == "gap" for bp in ACCOUNT_WIDE)


def test_content_loaded_from_another_file_makes_a_part_and_is_not_judged(practices):
    text = (ACCURACY / "tf-file-of-root.tf").read_text()
    role = 'resource "aws_iam_role" "agents" {\n  name = "agents"\n}\n'
    found = _text_findings(text + role, "loads.tf", practices)
    assert "loads content from other files" in found["GENSEC03-BP01"].explanation
    # the workflow's states are in flow.asl.json: no timeout there is unknown, not a gap
    assert found["GENREL03-BP02"].status == "unknown"
    assert found["GENCOST05-BP01"].status == "unknown"
    loaded = 'templatefile("${path.module}/flow.asl.json", { planner = '
    inline = text.replace(
        loaded + "aws_bedrockagent_agent.planner.id })",
        'jsonencode({ StartAt = "Plan", States = { Plan = { Type = "Pass", End = true } } })',
    )
    shown = _text_findings(inline + role, "inline.tf", practices)
    assert shown["GENREL03-BP02"].status == "gap"


def test_agents_sharing_one_role_ttl_and_collection_scoped_role(practices):
    found = _findings("tf-file-of-root.tf", practices)
    shared = found["GENSEC05-BP01"]
    assert shared.status == "gap" and "execution role shared" in shared.explanation
    assert set(shared.evidence) == {
        "aws_bedrockagent_agent.planner",
        "aws_bedrockagent_agent.workers",
    }
    assert found["GENSUS02-BP01"].evidence == ["aws_dynamodb_table.sessions"]
    assert found["GENSUS02-BP01"].status == "addressed"
    scoped = found["GENSEC01-BP03"]
    assert scoped.status == "addressed" and scoped.evidence == ["aws_iam_policy.kb_reads_docs"]
    # a role per agent is not shared
    text = (ACCURACY / "tf-file-of-root.tf").read_text()
    planner, workers = text.split('resource "aws_bedrockagent_agent" "workers"')
    own = (
        planner.replace(
            "role_arn = aws_iam_role.agents.arn\n  foundation", "role_arn = r.p\n  foundation"
        )
        + 'resource "aws_bedrockagent_agent" "workers"'
        + workers.replace(
            "aws_iam_role.agents.arn\n  foundation", "aws_iam_role.w[each.key].arn\n  foundation", 1
        )
    )
    assert own.count("aws_iam_role.agents.arn") == 1  # only the state machine's role is left
    assert _text_findings(own, "own.tf", practices)["GENSEC05-BP01"].status == "unknown"


def test_cloudformation_ttl_and_definition_in_s3(practices):
    template = """
Resources:
  Sessions:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      TimeToLiveSpecification: {AttributeName: expires, Enabled: true}
  Flow:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/flow
      DefinitionS3Location: {Bucket: defs, Key: flow.asl.json}
  Agent:
    Type: AWS::Bedrock::Agent
    Properties:
      AgentName: helper
      FoundationModel: anthropic.claude-3-haiku-20240307-v1:0
"""
    found = _text_findings(template, "ttl.yaml", practices)
    assert found["GENSUS02-BP01"].status == "addressed"
    assert found["GENSUS02-BP01"].evidence == ["Sessions"]
    assert found["GENREL03-BP02"].status != "gap"


def test_single_internet_facing_server_shows_its_gaps(practices):
    found = _findings("mermaid-single-server.md", practices)
    assert found["GENSEC04-BP02"].status == "gap"  # internet -> IGW -> EC2 -> knowledge base
    assert found["GENREL02-BP01"].status == "gap" and found["GENREL02-BP01"].evidence == ["App"]
    assert found["GENSUS01-BP01"].status == "gap" and found["GENSUS01-BP01"].evidence == ["App"]
    # policy nodes are IAM, not the services they name; read-only access to the store is scoped
    assert found["GENSEC01-BP03"].status == "addressed"
    assert found["GENSEC01-BP03"].evidence == ["KbDocsPolicy"]
    assert found["GENPERF01-BP02"].status == "addressed"
    # two zones behind a load balancer: neither a single point of failure nor always on
    text = (ACCURACY / "mermaid-single-server.md").read_text()
    scaled = text.replace("IGW --> App", "IGW --> LB[Application Load Balancer]\n    LB --> App")
    again = _text_findings(scaled, "scaled.md", practices)
    assert again["GENREL02-BP01"].status == "unknown"
    assert again["GENSUS01-BP01"].status == "addressed"


def test_controls_off_the_model_path_earn_no_credit(practices):
    found = _findings("mermaid-admin-plane.md", practices)
    # the authorizer, WAF and fallback guard the admin site, not the calls to the model
    for bp in ("GENSEC01-BP01", "GENSEC04-BP02", "GENREL03-BP01", "GENOPS04-BP02"):
        assert found[bp].status == "unknown", bp
    assert "do not lead to the model" in found["GENSEC04-BP02"].explanation
    # once the admin API calls the model, the same controls sit on its path
    text = (ACCURACY / "mermaid-admin-plane.md").read_text()
    on_path = _text_findings(
        text.replace("Handlers --> Table", "Handlers --> Model"), "on.md", practices
    )
    assert on_path["GENSEC01-BP01"].status == "addressed"
    assert on_path["GENSEC01-BP01"].evidence == ["Api"]
    assert on_path["GENSEC04-BP02"].status == "addressed"
    assert on_path["GENSEC04-BP02"].evidence == ["Firewall"]


def test_function_that_embeds_and_calls_the_model_is_a_retrieval_step(practices):
    traced = _findings("sam-rag-function.yaml", practices)["GENOPS03-BP02"]
    assert traced.status == "addressed" and traced.evidence == ["AnswerEmbeddingsFunction"]


def test_cloudformation_agents_sharing_a_role_and_a_searching_function(practices):
    agent = """
  {name}:
    Type: AWS::Bedrock::Agent
    Properties:
      AgentName: {name}
      FoundationModel: anthropic.claude-3-haiku-20240307-v1:0
      AgentResourceRoleArn: !GetAtt {role}.Arn"""
    search = """
  Ask:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      Tracing: Active
      Policies:
        - Statement:
            - {Effect: Allow, Action: [bedrock:InvokeModel, bedrock:Retrieve], Resource: arn:x}
"""
    head = "Transform: AWS::Serverless-2016-10-31\nResources:"
    roles = "\n  One:\n    Type: AWS::IAM::Role\n  Two:\n    Type: AWS::IAM::Role"
    shared = head + agent.format(name="A", role="One") + agent.format(name="B", role="One")
    found = _text_findings(shared + roles, "shared.yaml", practices)
    assert found["GENSEC05-BP01"].status == "gap"
    assert set(found["GENSEC05-BP01"].evidence) == {"A", "B"}
    # no agent, no knowledge base declared: the permission to query one shows the retrieval
    traced = _text_findings(head + search, "search.yaml", practices)["GENOPS03-BP02"]
    assert traced.status == "addressed" and traced.evidence == ["Ask"]
    own = head + agent.format(name="A", role="One") + agent.format(name="B", role="Two")
    assert _text_findings(own + roles, "own.yaml", practices)["GENSEC05-BP01"].status != "gap"


def test_knowledge_base_role_on_its_own_collection_is_least_privilege(practices):
    scoped = _findings("cfn-kb-scoped.yaml", practices)["GENSEC01-BP03"]
    assert scoped.status == "addressed" and scoped.evidence == ["KbRole"]
    text = (ACCURACY / "cfn-kb-scoped.yaml").read_text()
    writes = text.replace("Action: aoss:APIAccessAll", "Action: [s3:GetObject, s3:PutObject]")
    assert _text_findings(writes, "w.yaml", practices)["GENSEC01-BP03"].status == "unknown"
    anywhere = text.replace("Resource: !GetAtt Collection.Arn", 'Resource: "*"')
    assert _text_findings(anywhere, "a.yaml", practices)["GENSEC01-BP03"].status != "addressed"


def test_lone_server_check_stops_on_looping_group_parents(practices):
    arch = Architecture(
        "loop.drawio",
        "drawio",
        components=[
            Component("vm", "EC2 app server", "ec2", group="a"),
            Component("llm", "Amazon Bedrock", "bedrock"),
        ],
        edges=[Edge("vm", "llm")],
        groups=[Group("a", "A", "cluster", parent="b"), Group("b", "B", "cluster", parent="a")],
    )
    found = {f.bp_id: f for f in review_architecture(arch, practices).findings}
    assert found["GENSUS01-BP01"].status == "gap"  # always on, yet in no subnet
    assert found["GENREL02-BP01"].status == "unknown"  # no single network path drawn


@pytest.mark.parametrize(
    ("name", "stage"),
    [
        ("cfn-waf-static-site.yaml", "ApiStage"),
        ("tf-waf-static-site.tf", "aws_api_gateway_stage.prod"),
    ],
)
def test_web_acl_on_a_static_site_leaves_the_model_api_unfiltered(name, stage, practices):
    found = _findings(name, practices)
    # the web ACL guards the site's distribution; the API into the model has none
    filtering = found["GENSEC04-BP02"]
    assert filtering.status == "gap"
    assert filtering.evidence == [stage] and filtering.resource == [stage]
    # throttling goes on the same stage, not on the distribution or every piece of the API
    assert found["GENOPS02-BP03"].status == "gap"
    assert found["GENOPS02-BP03"].resource == [stage]


def test_web_acl_on_the_model_api_stage_and_a_public_route_elsewhere(practices):
    found = _findings("cfn-waf-api-stage.yaml", practices)
    filtering = found["GENSEC04-BP02"]
    assert filtering.status == "addressed"
    assert set(filtering.evidence) == {"ApiAcl", "ApiAclAssociation"}
    # /health is public but runs a function that never calls the model: /ask is signed
    access = found["GENSEC01-BP01"]
    assert access.status == "addressed" and "HealthMethod" not in access.evidence
    assert "AskMethod" in access.evidence


def test_authorizer_on_another_route_leaves_the_model_route_open(practices):
    text = (ACCURACY / "sam-auth-other-route.yaml").read_text()
    access = _text_findings(text, "auth.yaml", practices)["GENSEC01-BP01"]
    assert access.status == "gap" and access.resource == ["Api"]
    assert "no authentication on this route" in access.explanation
    # the same authorizer on the chat route guards the model
    guarded = text.replace(
        "            Path: /chat\n",
        "            Path: /chat\n            Auth:\n              Authorizer: Admins\n",
    )
    assert _text_findings(guarded, "auth.yaml", practices)["GENSEC01-BP01"].status == "addressed"


def test_function_url_counts_only_in_front_of_a_model_caller(practices):
    text = (ACCURACY / "cfn-waf-api-stage.yaml").read_text()
    url = (
        "  {0}Url:\n    Type: AWS::Lambda::Url\n    Properties:\n"
        "      AuthType: NONE\n      TargetFunctionArn: !GetAtt {0}.Arn\n"
    )
    public_health = _text_findings(text + url.format("HealthFunction"), "u.yaml", practices)
    assert public_health["GENSEC01-BP01"].status == "addressed"
    public_ask = _text_findings(text + url.format("AskFunction"), "u.yaml", practices)
    assert public_ask["GENSEC01-BP01"].status == "gap"
    assert public_ask["GENSEC01-BP01"].resource == ["AskFunctionUrl"]


def test_function_given_a_model_id_is_on_the_model_path(practices):
    # the function's role comes from another stack; its model id shows that it calls the model
    text = (ACCURACY / "cfn-waf-static-site.yaml").read_text()
    text = text.replace(
        "      Role: !GetAtt AskRole.Arn\n",
        "      Role: !ImportValue shared-ask-role\n"
        "      Environment:\n        Variables:\n"
        "          MODEL_ID: anthropic.claude-3-haiku-20240307-v1:0\n",
    )
    filtering = _text_findings(text, "id.yaml", practices)["GENSEC04-BP02"]
    assert filtering.status == "gap" and filtering.resource == ["ApiStage"]
    unnamed = text.replace("anthropic.claude-3-haiku-20240307-v1:0", "a-model")
    assert _text_findings(unnamed, "id.yaml", practices)["GENSEC04-BP02"].status == "unknown"
