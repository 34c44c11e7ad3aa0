"""Fix templates for workflow timeouts, managed Bedrock policies, public vector collections
and the Terraform log key: each patched file, reviewed again, shows its gap addressed.

The patches are applied directly (no cfn-lint or checkov: tests/integration covers those).
"""

from __future__ import annotations

import json

import pytest

from corpus.loaders.builtin import digest_practices
from diagrams import parse_bytes, review_architecture
from diagrams.cloudformation import load_template
from diagrams.fixes import cfn_patch, tf_patch
from diagrams.fixes.library import remedies
from diagrams.limits import Budget, Limits
from tests.helpers import FIXTURES


@pytest.fixture(scope="module")
def practices():
    return digest_practices()


def _statuses(text: str, name: str, practices) -> dict[str, str]:
    review = review_architecture(parse_bytes(text.encode(), name), practices)
    return {f.bp_id: f.status for f in review.findings}


def _patched(text: str, bp_id: str) -> cfn_patch.Patch:
    return cfn_patch.apply_remedy(cfn_patch.Document(text), remedies()[bp_id], [])


def _resources(text: str) -> dict:
    return load_template(text, Budget(Limits()))["Resources"]


def test_workflow_timeout_goes_into_a_definition_string_and_bounds_the_run(practices):
    text = (FIXTURES / "fixes" / "workflow-json-string.yaml").read_text()
    before = _statuses(text, "flow.yaml", practices)
    assert before["GENREL03-BP02"] == before["GENCOST05-BP01"] == "gap"
    patch = _patched(text, "GENREL03-BP02")
    assert patch.changed == ["AgentFlow"]
    definition = _resources(patch.text)["AgentFlow"]["Properties"]["DefinitionString"]["Fn::Sub"]
    assert json.loads(definition)["TimeoutSeconds"] == remedies()["WorkflowTimeoutSeconds"]
    assert "      # The states call the model once and stop.\n" in patch.text
    after = _statuses(patch.text, "flow.yaml", practices)
    assert after["GENREL03-BP02"] == after["GENCOST05-BP01"] == "addressed"


def test_workflow_timeout_goes_after_start_at_in_a_definition_map(practices):
    text = (
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Flow:\n"
        "    Type: AWS::Serverless::StateMachine\n"
        "    Properties:\n"
        "      Definition:\n"
        "        Comment: asks the agent\n"
        "        StartAt: Ask\n"
        "        States:\n"
        "          Ask:\n"
        "            Type: Task\n"
        "            Resource: !Sub 'arn:${AWS::Partition}:states:::bedrock:invokeModel'\n"
        "            End: true\n"
    )
    patch = _patched(text, "GENCOST05-BP01")
    definition = _resources(patch.text)["Flow"]["Properties"]["Definition"]
    assert list(definition) == ["Comment", "StartAt", "TimeoutSeconds", "States"]
    assert "!Sub 'arn:${AWS::Partition}:states:::bedrock:invokeModel'" in patch.text
    assert _statuses(patch.text, "flow.yaml", practices)["GENCOST05-BP01"] == "addressed"


def test_workflow_timeout_leaves_definitions_kept_in_other_files():
    text = (
        "Resources:\n  Flow:\n    Type: AWS::StepFunctions::StateMachine\n"
        "    Properties:\n      DefinitionS3Location: {Bucket: b, Key: flow.json}\n"
    )
    with pytest.raises(cfn_patch.Unpatchable):
        _patched(text, "GENREL03-BP02")


def test_bedrock_full_access_of_a_sam_function_becomes_model_invocation_in_json(practices):
    text = (FIXTURES / "fixes" / "full-access-sam.json").read_text()
    assert _statuses(text, "full.json", practices)["GENSEC01-BP01"] == "gap"
    patch = _patched(text, "GENSEC01-BP01")
    assert patch.params == ["BedrockModelId"]
    policies = json.loads(patch.text)["Resources"]["SummaryFunction"]["Properties"]["Policies"]
    assert policies[0] == "AWSLambdaBasicExecutionRole"
    assert "AmazonBedrockFullAccess" not in patch.text
    (statement,) = policies[1]["Statement"]
    assert statement["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    assert statement["Resource"]["Fn::Sub"].endswith("foundation-model/${BedrockModelId}")
    assert _statuses(patch.text, "full.json", practices)["GENSEC01-BP01"] == "addressed"


def test_bedrock_full_access_of_a_role_becomes_an_inline_policy(practices):
    text = (
        "Resources:\n"
        "  Ask:\n"
        "    Type: AWS::Lambda::Function\n"
        "    Properties:\n"
        "      Runtime: python3.12\n      Handler: app.handler\n"
        "      Code: {ZipFile: 'def handler(e, c): pass'}\n"
        "      Role: !GetAtt AskRole.Arn\n"
        "  AskRole:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      AssumeRolePolicyDocument:\n"
        "        Statement: [{Effect: Allow, Action: sts:AssumeRole,\n"
        "                     Principal: {Service: lambda.amazonaws.com}}]\n"
        "      ManagedPolicyArns:\n"
        "        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole  # logs\n"
        "        - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonBedrockFullAccess\n"
    )
    assert _statuses(text, "role.yaml", practices)["GENSEC01-BP01"] == "gap"
    patch = _patched(text, "GENSEC01-BP01")
    role = _resources(patch.text)["AskRole"]["Properties"]
    assert role["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    ]
    assert role["Policies"][0]["PolicyName"] == "BedrockModelAccess"
    assert "AWSLambdaBasicExecutionRole  # logs\n" in patch.text
    assert _statuses(patch.text, "role.yaml", practices)["GENSEC01-BP01"] == "addressed"


def test_public_collection_admits_bedrock_only_and_data_policy_loses_aoss_star(practices):
    text = (FIXTURES / "fixes" / "aoss-public.yaml").read_text()
    assert _statuses(text, "aoss.yaml", practices)["GENSEC01-BP03"] == "gap"
    patch = _patched(text, "GENSEC01-BP03")
    assert sorted(patch.changed) == ["VectorsAccess", "VectorsNetwork"]
    resources = _resources(patch.text)
    (network,) = json.loads(resources["VectorsNetwork"]["Properties"]["Policy"])
    assert network["AllowFromPublic"] is False
    assert network["SourceServices"] == ["bedrock.amazonaws.com"]
    (access,) = json.loads(resources["VectorsAccess"]["Properties"]["Policy"]["Fn::Sub"])
    permissions = {r["ResourceType"]: r["Permission"] for r in access["Rules"]}
    assert permissions == {k: list(v) for k, v in remedies()["AossPermissions"].items()}
    assert access["Principal"] == ["${ManualsRole.Arn}"]
    assert "      # Open for the demo.\n" in patch.text
    assert _statuses(patch.text, "aoss.yaml", practices)["GENSEC01-BP03"] == "addressed"


def test_data_policy_on_every_collection_is_not_scoped(practices):
    text = (FIXTURES / "fixes" / "aoss-public.yaml").read_text()
    patched = _patched(text, "GENSEC01-BP03").text.replace("collection/manuals", "collection/*")
    assert _statuses(patched, "aoss.yaml", practices)["GENSEC01-BP03"] != "addressed"


def _terraform(body: str) -> str:
    return 'provider "aws" {\n  region = "eu-west-1"\n}\n\n' + body


_TABLE = (
    'resource "aws_dynamodb_table" "turns" {\n  name     = "turns"\n  hash_key = "id"\n'
    '  attribute {\n    name = "id"\n    type = "S"\n  }\n}\n'
)


def test_terraform_retention_adds_the_log_key_only_for_log_groups_it_declares():
    remedy = remedies("terraform")["GENSUS02-BP01"]
    tables_only = tf_patch.apply_terraform(_terraform(_TABLE), remedy, [])
    assert "ttl {" in tables_only.text
    assert "aws_kms_key" not in tables_only.text and "lens_logs" not in tables_only.text
    function = (
        'resource "aws_lambda_function" "reply" {\n  function_name = "reply"\n'
        '  role          = "arn:aws:iam::123456789012:role/reply"\n}\n'
    )
    both = tf_patch.apply_terraform(_terraform(_TABLE + "\n" + function), remedy, [])
    assert 'resource "aws_kms_key" "lens_logs"' in both.text
    assert "kms_key_id        = aws_kms_key.lens_logs.arn" in both.text
    assert "aws_kms_key.lens_logs" in both.added


def test_terraform_bedrock_statements_and_full_access_narrow_to_the_model(practices):
    text = (FIXTURES / "fixes" / "open-access.tf").read_text()
    assert _statuses(text, "open.tf", practices)["GENSEC01-BP01"] == "gap"
    patch = tf_patch.apply_terraform(text, remedies("terraform")["GENSEC01-BP01"], [])
    assert patch.params == ["bedrock_model_id"]
    assert sorted(patch.changed) == [
        "aws_apigatewayv2_route.ask",
        "aws_iam_role_policy.ask_model",
        "aws_iam_role_policy_attachment.summarise_bedrock",
    ]
    assert '"*"' not in patch.text and "AmazonBedrockFullAccess" not in patch.text
    arn = '::foundation-model/${var.bedrock_model_id}" # any model, for now\n'
    assert arn in patch.text  # the comment after the value stays
    assert 'resource "aws_iam_role_policy" "summarise_bedrock" {' in patch.text
    assert 'authorization_type = "AWS_IAM"' in patch.text
    assert 'data "aws_region" "lens_models" {}' in patch.text
    assert _statuses(patch.text, "open.tf", practices)["GENSEC01-BP01"] == "addressed"


def test_terraform_statement_mixing_services_keeps_its_star():
    text = _terraform(
        'resource "aws_iam_policy" "mixed" {\n  policy = jsonencode({ Statement = [{\n'
        '    Effect = "Allow", Action = ["bedrock:InvokeModel", "s3:GetObject"], Resource = "*"\n'
        "  }] })\n}\n"
    )
    patch = tf_patch.apply_terraform(text, remedies("terraform")["GENSEC01-BP01"], [])
    assert patch.changed == [] and patch.text.strip() == text.strip()


def test_terraform_workflow_timeout_and_private_collection(practices):
    text = (FIXTURES / "fixes" / "agent-flow.tf").read_text()
    before = _statuses(text, "flow.tf", practices)
    assert before["GENREL03-BP02"] == before["GENSEC01-BP03"] == "gap"
    timed = tf_patch.apply_terraform(text, remedies("terraform")["GENCOST05-BP01"], [])
    assert timed.params == ["workflow_timeout_seconds"]
    opening = "  definition = jsonencode({\n    TimeoutSeconds = var.workflow_timeout_seconds\n"
    assert opening + '    Comment = "Ask the model' in timed.text
    after = _statuses(timed.text, "flow.tf", practices)
    assert after["GENREL03-BP02"] == after["GENCOST05-BP01"] == "addressed"
    private = tf_patch.apply_terraform(text, remedies("terraform")["GENSEC01-BP03"], [])
    assert 'AllowFromPublic = false\n    SourceServices = ["bedrock.amazonaws.com"]\n' in (
        private.text
    )
    assert "aoss:*" not in private.text and '"aoss:ReadDocument"' in private.text
    assert _statuses(private.text, "flow.tf", practices)["GENSEC01-BP03"] == "addressed"


def test_terraform_one_line_definition_gets_the_timeout_first():
    text = _terraform(
        'resource "aws_sfn_state_machine" "m" {\n  role_arn   = "r"\n'
        '  definition = jsonencode({ StartAt = "A", States = { A = { Type = "Succeed" } } })\n}\n'
    )
    patch = tf_patch.apply_terraform(text, remedies("terraform")["GENREL03-BP02"], [])
    assert "jsonencode({ TimeoutSeconds = var.workflow_timeout_seconds, StartAt" in patch.text


def test_agent_role_on_any_model_narrows_to_the_agent_model(practices):
    text = (FIXTURES / "fixes" / "agent-broad.yaml").read_text()
    assert _statuses(text, "agent.yaml", practices)["GENSEC05-BP01"] == "gap"
    patch = _patched(text, "GENSEC05-BP01")
    default = load_template(patch.text, Budget(Limits()))["Parameters"]["BedrockModelId"]
    assert default["Default"] == "anthropic.claude-3-haiku-20240307-v1:0"  # the agent's own
    after = _statuses(patch.text, "agent.yaml", practices)
    assert after["GENSEC05-BP01"] == after["GENSEC01-BP01"] == "addressed"


def test_model_parameter_has_no_default_when_the_template_names_two_models():
    text = (FIXTURES / "fixes" / "agent-broad.yaml").read_text()
    two = text.replace(
        'Resource: "*"',
        'Resource: "*"\n              - Effect: Allow\n                Action: bedrock:Converse\n'
        "                Resource: arn:aws:bedrock:us-east-1::"
        "foundation-model/amazon.nova-lite-v1:0",
    )
    patch = _patched(two, "GENSEC05-BP01")
    parameter = load_template(patch.text, Budget(Limits()))["Parameters"]["BedrockModelId"]
    assert "Default" not in parameter


def test_stage_of_a_rest_deployment_gets_throttling_and_the_web_acl(practices):
    text = (FIXTURES / "fixes" / "rest-deployment.yaml").read_text()
    before = _statuses(text, "rest.yaml", practices)
    assert before["GENOPS02-BP03"] == before["GENSEC04-BP02"] == "gap"
    throttled = _patched(text, "GENOPS02-BP03")
    assert throttled.changed == ["QuestionsDeployment"]
    (setting,) = _resources(throttled.text)["QuestionsDeployment"]["Properties"][
        "StageDescription"
    ]["MethodSettings"]
    assert setting["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert "      StageName: live  # the only stage\n" in throttled.text
    assert _statuses(throttled.text, "rest.yaml", practices)["GENOPS02-BP03"] == "addressed"
    waf = cfn_patch.apply_remedy(cfn_patch.Document(text), remedies()["GENSEC04-BP02"][0], [])
    association = _resources(waf.text)["QuestionsApiWebAclAssociation"]
    assert association["DependsOn"] == "QuestionsDeployment"
    assert association["Properties"]["ResourceArn"]["Fn::Sub"].endswith("/stages/live")
    assert _statuses(waf.text, "rest.yaml", practices)["GENSEC04-BP02"] == "addressed"
