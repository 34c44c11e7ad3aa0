"""Remediation templates added for issue 24 and the fast verification path, with real checkers.

Each test plans the fixes of a fixture with the real cfn-lint and checkov, so a template that
breaks either, or no longer closes its gap on re-review, fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.loaders.builtin import digest_practices
from diagrams import parse_bytes, review_architecture
from diagrams.cloudformation import load_template
from diagrams.fixes import checks, plan_fixes, tf_patch
from diagrams.fixes.library import remedies
from diagrams.limits import Budget, Limits
from tests.helpers import FIXTURES


@pytest.fixture(scope="module")
def practices():
    return digest_practices()


def _plan(name: str, practices, text: str | None = None):
    text = text if text is not None else (FIXTURES / name).read_text()
    review = review_architecture(parse_bytes(text.encode(), Path(name).name), practices)
    return review, plan_fixes(text, Path(name).name, review, practices)


def _statuses(text: str, name: str, practices) -> dict[str, str]:
    review = review_architecture(parse_bytes(text.encode(), name), practices)
    return {f.bp_id: f.status for f in review.findings}


@pytest.fixture(scope="module")
def mixed(practices):
    return _plan("fixes/mixed-policy-sam.yaml", practices)


def test_mixed_statement_is_split_and_open_http_route_requires_iam(mixed, practices):
    review, plan = mixed
    (finding,) = [f for f in review.findings if f.bp_id == "GENSEC01-BP01"]
    assert finding.status == "gap"
    fix = plan.fixes["GENSEC01-BP01"]
    assert fix.verified, fix.steps
    assert fix.params == ["BedrockModelId"]
    doc = load_template(fix.patched, Budget(Limits()))
    statements = doc["Resources"]["SummaryFunction"]["Properties"]["Policies"][0]["Statement"]
    assert [s["Action"] for s in statements] == [["s3:GetObject"], ["bedrock:InvokeModel"]]
    assert statements[0]["Resource"] == "*"  # the bucket read keeps its scope
    assert "${BedrockModelId}" in statements[1]["Resource"]["Fn::Sub"]
    auth = doc["Globals"]["HttpApi"]["Auth"]
    assert auth == {"EnableIamAuthorizer": True, "DefaultAuthorizer": "AWS_IAM"}
    assert (
        _statuses(fix.patched, "mixed-policy-sam.yaml", practices)["GENSEC01-BP01"] == "addressed"
    )
    assert "  # Documents to summarise; read by the function.\n" in fix.patched


def test_input_checks_get_waf_on_a_rest_stage_and_a_guardrail_on_an_http_api(mixed, practices):
    text = (FIXTURES / "fixes" / "api-stage.yaml").read_text()
    _, plan = _plan("fixes/api-stage.yaml", practices, text)
    waf = plan.fixes["GENSEC04-BP02"]
    assert waf.verified, waf.steps
    resources = load_template(waf.patched, Budget(Limits()))["Resources"]
    (association,) = [r for r in resources.values() if r["Type"] == "AWS::WAFv2::WebACLAssociation"]
    assert association["DependsOn"] == "AnswerStage"
    assert "/stages/${AnswerStage}" in association["Properties"]["ResourceArn"]["Fn::Sub"]
    rules = resources["LensWebAcl"]["Properties"]["Rules"]
    assert {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in rules} >= {
        "AWSManagedRulesKnownBadInputsRuleSet"
    }
    assert _statuses(waf.patched, "api-stage.yaml", practices)["GENSEC04-BP02"] == "addressed"
    _, http = mixed  # an HTTP API cannot take a web ACL: the guardrail checks the input
    guard = http.fixes["GENSEC04-BP02"]
    assert guard.verified and "LensGuardrail" in guard.resources
    assert "LensWebAcl" not in guard.patched


def test_guardrail_variables_get_a_customer_managed_key(mixed, practices):
    _, plan = _plan("accuracy/cfn-whole.yaml", practices)
    fix = plan.fixes["GENSEC02-BP01"]
    assert fix.verified, fix.steps  # checkov CKV_AWS_173 would refuse plain variables
    resources = load_template(fix.patched, Budget(Limits()))["Resources"]
    function = resources["ChatFunction"]["Properties"]
    assert function["KmsKeyArn"] == {"Fn::GetAtt": ["LensEnvironmentKey", "Arn"]}
    assert resources["LensEnvironmentKey"]["Properties"]["EnableKeyRotation"] is True
    grant = resources["ChatRole"]["Properties"]["Policies"][-1]["PolicyDocument"]["Statement"]
    assert grant == [
        {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": {"Fn::GetAtt": ["LensEnvironmentKey", "Arn"]},
        }
    ]
    _, sam = mixed  # a SAM function without its own role gets a policy template instead
    policies = load_template(sam.fixes["GENSEC02-BP01"].patched, Budget(Limits()))["Resources"][
        "SummaryFunction"
    ]["Properties"]["Policies"]
    assert policies[-1] == {"KMSDecryptPolicy": {"KeyId": {"Ref": "LensEnvironmentKey"}}}


def test_model_metric_alarms_close_the_model_monitoring_gap_in_json(practices):
    text = (FIXTURES / "fixes" / "chat-cdk.json").read_text()
    assert _statuses(text, "chat-cdk.json", practices)["GENOPS02-BP02"] == "gap"
    _, plan = _plan("fixes/chat-cdk.json", practices, text)
    fix = plan.fixes["GENOPS02-BP02"]
    assert fix.verified, fix.steps
    resources = json.loads(fix.patched)["Resources"]
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert {a["MetricName"] for a in alarms} == {
        "InvocationThrottles",
        "InvocationServerErrors",
        "InvocationLatency",
    }
    assert all(a["Namespace"] == "AWS/Bedrock" for a in alarms)
    latency = next(a for a in alarms if a["MetricName"] == "InvocationLatency")
    assert latency["Threshold"] == {"Ref": "ModelLatencyAlarmMilliseconds"}
    assert _statuses(fix.patched, "chat-cdk.json", practices)["GENOPS02-BP02"] == "addressed"


def test_terraform_monitoring_falls_back_to_alarms_without_functions(practices):
    _, plan = _plan("fixes/agents.tf", practices)
    fix = plan.fixes["GENOPS02-BP01"]  # no function to trace on the agent path
    assert fix.verified, fix.steps
    assert "aws_cloudwatch_metric_alarm.lens_model_throttles" in fix.resources
    assert '  namespace           = "AWS/Bedrock"\n' in fix.patched
    assert fix.params == ["model_latency_alarm_milliseconds"]


def test_checkov_runs_once_per_file_and_not_again_for_the_same_file(practices, monkeypatch):
    runs = []
    run = checks.Scan.run

    def counting(scan, exe):
        runs.append(len(scan.todo))
        return run(scan, exe)

    monkeypatch.setattr(checks.Scan, "run", counting)
    text = (FIXTURES / "fixes" / "chat-sam.yaml").read_text() + "# scanned once\n"
    _, plan = _plan("chat-sam.yaml", practices, text)
    assert runs == [2]  # the file and all its fixes at once
    assert plan.fixes["GENSEC01-BP02"].verified and plan.patched != text
    _, again = _plan("chat-sam.yaml", practices, text)
    assert runs == [2] and again.patched == plan.patched  # both results cached


def test_data_kept_forever_is_a_gap_in_a_whole_stack_and_a_question_in_a_part(practices):
    whole = _statuses((FIXTURES / "fixes/chat-sam.yaml").read_text(), "chat-sam.yaml", practices)
    assert whole["GENSUS02-BP01"] == "gap"  # a table with no TTL, nothing expires
    ttl = (FIXTURES / "accuracy/sam-ttl.yaml").read_text()
    assert _statuses(ttl, "sam-ttl.yaml", practices)["GENSUS02-BP01"] == "addressed"
    without = ttl.replace("        Enabled: true\n", "        Enabled: false\n")
    assert _statuses(without, "sam-ttl.yaml", practices)["GENSUS02-BP01"] == "gap"
    imported = "          AUDIT: !ImportValue audit-bucket-name\n"
    part = without.replace(
        "          SESSIONS: !Ref Sessions\n", f"          SESSIONS: !Ref Sessions\n{imported}"
    )
    assert part != without
    assert _statuses(part, "sam-ttl.yaml", practices)["GENSUS02-BP01"] == "unknown"


def test_log_retention_fix_declares_function_log_groups_with_a_key(practices):
    _, plan = _plan("fixes/chat-sam.yaml", practices)
    fix = plan.fixes["GENSUS02-BP01"]
    assert fix.verified, fix.steps  # checkov asks for a key and a year's retention
    resources = load_template(fix.patched, Budget(Limits()))["Resources"]
    group = resources["ChatFunctionLogGroup"]["Properties"]
    assert group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${ChatFunction}"}
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert group["KmsKeyId"] == {"Fn::GetAtt": ["LensLogKey", "Arn"]}
    assert fix.params == ["ExpiryAttributeName", "LogRetentionDays"]  # no bucket: no lifecycle
    ttl = resources["History"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": {"Ref": "ExpiryAttributeName"}, "Enabled": True}
    after = _statuses(fix.patched, "chat-sam.yaml", practices)
    assert after["GENSUS02-BP01"] == "addressed"


@pytest.fixture(scope="module")
def retention_tf(practices):
    return _plan("fixes/retention.tf", practices)


def test_terraform_retention_fix_expires_items_objects_and_function_logs(retention_tf, practices):
    review, plan = retention_tf
    assert {f.bp_id: f.status for f in review.findings}["GENSUS02-BP01"] == "gap"
    fix = plan.fixes["GENSUS02-BP01"]
    assert fix.verified, fix.steps  # checkov asks for a key, a year's retention, upload aborts
    assert fix.params == ["expiry_attribute_name", "object_expiration_days", "log_retention_days"]
    table = fix.patched.split('resource "aws_dynamodb_table" "turns" {')[1].split("\n}\n")[0]
    assert "  ttl {\n    attribute_name = var.expiry_attribute_name\n" in table
    assert 'resource "aws_s3_bucket_lifecycle_configuration" "papers_lens_expiry"' in fix.patched
    assert "      days = var.object_expiration_days\n" in fix.patched
    group = fix.patched.split('resource "aws_cloudwatch_log_group" "reply_lens_logs" {')[1]
    assert '"/aws/lambda/${aws_lambda_function.reply.function_name}"' in group.split("}\n")[0]
    assert "kms_key_id        = aws_kms_key.lens_logs.arn" in group.split("}\n")[0]
    assert (
        'variable "object_expiration_days" {' in fix.patched and "default     = 365" in fix.patched
    )
    after = _statuses(fix.patched, "retention.tf", practices)
    assert after["GENSUS02-BP01"] == "addressed"
    before = {f.bp_id: f.status for f in review.findings}
    assert not [b for b, s in before.items() if s == "addressed" and after[b] == "gap"]


def test_terraform_web_acl_on_the_rest_stage_comes_before_the_guardrail(retention_tf, practices):
    _, plan = retention_tf
    waf = plan.fixes["GENSEC04-BP02"]
    assert waf.verified, waf.steps
    assert "aws_wafv2_web_acl.lens" in waf.resources
    assert "aws_bedrock_guardrail.lens" not in waf.resources
    association = waf.patched.split('resource "aws_wafv2_web_acl_association" "live_lens_waf" {')[1]
    assert "resource_arn = aws_api_gateway_stage.live.arn" in association.split("}\n")[0]
    for group in ("AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAnonymousIpList"):
        assert f'name        = "{group}"' in waf.patched  # checkov CKV2_AWS_77 wants both
    assert _statuses(waf.patched, "retention.tf", practices)["GENSEC04-BP02"] == "addressed"
    # both fixes share the log key: the file with every fix declares it once
    assert plan.patched.count('resource "aws_kms_key" "lens_logs"') == 1
    assert {"GENSEC04-BP02", "GENSUS02-BP01"} <= set(plan.closed)


def test_terraform_without_a_rest_stage_checks_input_with_the_guardrail(practices):
    text = (FIXTURES / "fixes" / "retention.tf").read_text()
    start = text.index('resource "aws_api_gateway_stage" "live" {')
    no_stage = text[:start] + text[text.index("}\n", start) + 2 :]
    _, plan = _plan("retention.tf", practices, no_stage)
    fix = plan.fixes["GENSEC04-BP02"]
    assert fix.verified, fix.steps
    assert "aws_bedrock_guardrail.lens" in fix.resources
    assert "aws_wafv2_web_acl" not in fix.patched


def test_terraform_retention_fix_keeps_declared_log_groups_and_ttl(practices):
    text = (FIXTURES / "fixes" / "retention.tf").read_text()
    declared = text + (
        '\nresource "aws_cloudwatch_log_group" "reply" {\n  name = "/aws/lambda/reply"\n}\n'
    )
    declared = declared.replace(
        '  hash_key     = "session"\n',
        '  hash_key     = "session"\n'
        '  ttl {\n    attribute_name = "gone_at"\n    enabled = false\n  }\n',
    )
    patch = tf_patch.apply_terraform(declared, remedies("terraform")["GENSUS02-BP01"], [])
    assert patch.text.count('resource "aws_cloudwatch_log_group"') == 1  # no second group
    assert patch.text.count("  ttl {") == 1  # the team's own ttl block is left as it is
    assert patch.params == ["object_expiration_days"]  # only the bucket needed a new value
    assert "aws_s3_bucket.papers" in patch.changed


@pytest.mark.parametrize(
    ("name", "bp_ids"),
    [
        ("fixes/workflow-json-string.yaml", ["GENREL03-BP02", "GENCOST05-BP01"]),
        ("fixes/full-access-sam.json", ["GENSEC01-BP01"]),
        ("fixes/aoss-public.yaml", ["GENSEC01-BP03"]),
        ("fixes/agent-broad.yaml", ["GENSEC05-BP01", "GENSEC01-BP01"]),
        ("fixes/rest-deployment.yaml", ["GENOPS02-BP03", "GENSEC04-BP02"]),
        ("fixes/open-access.tf", ["GENSEC01-BP01"]),
        ("fixes/agent-flow.tf", ["GENREL03-BP02", "GENCOST05-BP01", "GENSEC01-BP03"]),
    ],
)
def test_access_and_timeout_fixes_pass_cfn_lint_and_checkov(name, bp_ids, practices):
    _, plan = _plan(name, practices)
    for bp_id in bp_ids:
        fix = plan.fixes[bp_id]
        assert fix.verified, fix.steps
        assert bp_id in plan.closed
