"""Fixes for review gaps: patching keeps formatting, verification re-reviews, lints and scans."""

from __future__ import annotations

import json

import pytest

from corpus.loaders.builtin import digest_practices
from diagrams import parse_bytes, render_markdown, review_architecture
from diagrams.cloudformation import load_template
from diagrams.fixes import checks, engine, plan_fixes
from diagrams.fixes.library import remedies
from diagrams.limits import Budget, Limits
from lenswise.cli import main
from tests.helpers import FIXTURES

FIXES = FIXTURES / "fixes"


@pytest.fixture(scope="module")
def practices():
    return digest_practices()


def _plan(text: str, name: str, practices):
    review = review_architecture(parse_bytes(text.encode(), name), practices)
    return review, plan_fixes(text, name, review, practices)


def _statuses(text: str, name: str, practices) -> dict[str, str]:
    review = review_architecture(parse_bytes(text.encode(), name), practices)
    return {f.bp_id: f.status for f in review.findings}


@pytest.fixture(scope="module")
def sam_plan(practices):
    text = (FIXES / "chat-sam.yaml").read_text()
    return text, *_plan(text, "chat-sam.yaml", practices)


def test_patched_template_rereviewed_closes_its_gaps(sam_plan, practices):
    text, review, plan = sam_plan
    gaps = {f.bp_id for f in review.by_status("gap")}
    assert {"GENSEC01-BP02", "GENSEC02-BP01", "GENSEC03-BP01"} <= gaps
    verified = {bp for bp, fix in plan.fixes.items() if fix.verified}
    assert {"GENSEC01-BP02", "GENSEC02-BP01", "GENSEC03-BP01"} <= verified
    before = _statuses(text, "chat-sam.yaml", practices)
    after = _statuses(plan.patched, "chat-sam.yaml", practices)
    for bp in verified:
        assert after[bp] == "addressed"
    assert not [b for b, s in before.items() if s == "addressed" and after[b] == "gap"]
    assert set(plan.closed) >= verified
    assert checks.cfn_lint_errors(plan.patched) - checks.cfn_lint_errors(text) == {}


def test_patch_wires_the_caller_and_asks_for_missing_facts(sam_plan):
    _, _, plan = sam_plan
    vpc = plan.fixes["GENSEC01-BP02"]
    assert vpc.params == [
        "BedrockEndpointVpcId",
        "BedrockEndpointSubnetIds",
        "BedrockEndpointSecurityGroupIds",
    ]
    assert "ChatFunction" in vpc.resources and "BedrockRuntimeEndpoint" in vpc.resources
    doc = load_template(vpc.patched, Budget(Limits()))
    function = doc["Resources"]["ChatFunction"]["Properties"]
    assert function["VpcConfig"]["SubnetIds"] == {"Ref": "BedrockEndpointSubnetIds"}
    assert doc["Resources"]["BedrockRuntimeEndpoint"]["Properties"]["PrivateDnsEnabled"] is True
    assert "123456789012" not in plan.patched  # no invented account ids
    assert vpc.to_dict()["diff"].startswith("--- a/chat-sam.yaml")


def test_throttling_fix_sets_stage_limits_from_parameters(practices):
    text = (FIXES / "api-stage.yaml").read_text()
    _, plan = _plan(text, "api-stage.yaml", practices)
    assert _statuses(text, "api-stage.yaml", practices)["GENOPS02-BP03"] == "gap"
    fix = plan.fixes["GENOPS02-BP03"]
    assert fix.verified and "GENOPS02-BP03" in fix.closes
    assert fix.params == ["ApiThrottlingRateLimit", "ApiThrottlingBurstLimit"]
    stage = load_template(fix.patched, Budget(Limits()))["Resources"]["AnswerStage"]
    (setting,) = stage["Properties"]["MethodSettings"]
    assert setting["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*"
    assert _statuses(fix.patched, "api-stage.yaml", practices)["GENOPS02-BP03"] == "addressed"
    assert "  # The one stage clients call.\n" in fix.patched


def test_throttling_fix_reaches_the_implicit_sam_api_through_globals(sam_plan):
    _, review, plan = sam_plan
    (finding,) = [f for f in review.findings if f.bp_id == "GENOPS02-BP03"]
    assert finding.status == "gap" and "ServerlessRestApi" in finding.evidence
    fix = plan.fixes["GENOPS02-BP03"]
    assert fix.verified and fix.resources == ["Globals.Api"]
    settings = load_template(fix.patched, Budget(Limits()))["Globals"]["Api"]["MethodSettings"]
    assert settings[0]["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}


def test_throttling_fix_for_implicit_http_api_in_json(practices):
    text = (FIXES / "http-api-sam.json").read_text()
    _, plan = _plan(text, "http-api-sam.json", practices)
    fix = plan.fixes["GENOPS02-BP03"]
    assert fix.verified and fix.resources == ["Globals.HttpApi"]
    route = json.loads(fix.patched)["Globals"]["HttpApi"]["DefaultRouteSettings"]
    assert route == {
        "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
        "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
    }
    assert _statuses(fix.patched, "http-api-sam.json", practices)["GENOPS02-BP03"] == "addressed"


def test_comment_and_sub_survive_the_round_trip(sam_plan):
    text, _, plan = sam_plan
    assert "  # History of each conversation, read back on every turn.\n" in plan.patched
    sub = '!Sub "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/${ModelId}"'
    assert plan.patched.count(sub) == text.count(sub) == 2
    unchanged = [line for line in plan.diff().splitlines() if line.startswith("-")]
    assert unchanged == ["--- a/chat-sam.yaml"]  # only additions


def test_cdk_json_is_patched_as_json_with_long_form_functions(practices):
    text = (FIXES / "chat-cdk.json").read_text()
    review, plan = _plan(text, "chat-cdk.json", practices)
    fix = plan.fixes["GENSEC01-BP02"]
    assert fix.verified, fix.steps
    doc = json.loads(fix.patched)
    config = doc["Resources"]["ChatFunction"]["Properties"]["VpcConfig"]
    assert config["SubnetIds"] == {"Ref": "BedrockEndpointSubnetIds"}
    endpoint = doc["Resources"]["BedrockRuntimeEndpoint"]["Properties"]
    assert endpoint["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.bedrock-runtime"}
    assert fix.patched.startswith('{\n "AWSTemplateFormatVersion"')  # its own indent


def test_fix_refused_when_it_would_break_cfn_lint(practices):
    doc = json.loads((FIXES / "chat-cdk.json").read_text())
    # CloudFormation allows 500 resources: 499 leave room for the one-resource endpoint fix,
    # not for the trail fix, which adds a trail and its key.
    for n in range(497):
        doc["Resources"][f"Topic{n}"] = {"Type": "AWS::SNS::Topic"}
    text = json.dumps(doc, indent=1)
    _, plan = _plan(text, "crowded.json", practices)
    trail = plan.fixes["GENSEC03-BP01"]
    assert not trail.verified and trail.diff == ""
    assert "cfn-lint reports a new error: E3010" in trail.steps
    assert "BedrockTrail" not in plan.patched
    assert plan.fixes["GENSEC01-BP02"].verified
    assert "BedrockRuntimeEndpoint" in plan.patched


def test_fix_clean_alone_but_not_beside_the_others_is_refused(practices):
    doc = json.loads((FIXES / "chat-cdk.json").read_text())
    # 498 resources: fixes adding up to two resources lint clean alone, not all together.
    for n in range(496):
        doc["Resources"][f"Topic{n}"] = {"Type": "AWS::SNS::Topic"}
    text = json.dumps(doc, indent=1)
    _, plan = _plan(text, "crowded.json", practices)
    beside = [f for f in plan.fixes.values() if "with the other fixes applied" in f.steps]
    assert beside and all("cfn-lint reports a new error: E3010" in f.steps for f in beside)
    for fix in beside:  # each was clean alone
        assert not fix.verified and fix.diff == ""
        assert not checks.cfn_lint_errors(fix.patched) - checks.cfn_lint_errors(text)
    verified = [f for f in plan.fixes.values() if f.verified]
    assert verified and plan.patched != text
    assert not checks.cfn_lint_errors(plan.patched) - checks.cfn_lint_errors(text)
    assert all(r in plan.patched for f in verified for r in f.resources)
    assert all(f.bp_id in plan.closed for f in verified)


def test_macro_template_gets_steps_only(practices):
    text = (
        (FIXES / "chat-sam.yaml")
        .read_text()
        .replace(
            "Transform: AWS::Serverless-2016-10-31", "Transform: [AWS::Serverless-2016-10-31, Echo]"
        )
    )
    _, plan = _plan(text, "macro.yaml", practices)
    assert plan.fixes and not any(f.verified for f in plan.fixes.values())
    assert all("transform/macro Echo" in f.steps for f in plan.fixes.values())
    assert plan.patched == text and plan.diff() == ""


def test_mermaid_fix_names_the_place_and_its_patch_closes_the_gap(practices):
    text = (
        "flowchart LR\n  user[User] --> api[Amazon API Gateway]\n  api --> fn[AWS Lambda]\n"
        "  fn --> llm[Amazon Bedrock]\n  subgraph vpc[VPC]\n    fn\n  end\n"
    )
    _, plan = _plan(text, "chat.mmd", practices)
    guard = plan.fixes["GENSEC02-BP01"]
    assert guard.steps == (
        "Add Amazon Bedrock Guardrails between AWS Lambda and Amazon Bedrock in group 'VPC'."
    )
    assert (
        guard.verified
        and _statuses(guard.patched, "chat.mmd", practices)["GENSEC02-BP01"] == "addressed"
    )
    assert plan.fixes["GENSEC04-BP02"].steps.startswith("Add AWS WAF between User and Amazon API")
    assert set(plan.closed) >= {"GENSEC02-BP01", "GENSEC04-BP02", "GENSEC01-BP02"}


def test_drawio_fix_is_steps_naming_the_components(practices):
    from tests.samples import mxfile, rag_page

    text = mxfile(rag_page())
    review = review_architecture(parse_bytes(text.encode(), "rag.drawio"), practices)
    plan = plan_fixes(text, "rag.drawio", review, practices)
    guard = plan.fixes["GENSEC02-BP01"]
    assert not guard.verified and guard.diff == ""
    assert guard.steps.startswith("Add Amazon Bedrock Guardrails between")


def test_gaps_name_the_resources_to_change(sam_plan):
    _, review, _ = sam_plan
    endpoint = next(f for f in review.findings if f.bp_id == "GENSEC01-BP02")
    assert endpoint.evidence == ["bedrock-api"]  # the implicit service...
    assert endpoint.to_dict()["resource"] == ["ChatFunction"]  # ...and the resource to edit


def test_report_has_a_fixes_section(sam_plan):
    _, review, plan = sam_plan
    for finding in review.findings:
        finding.fix = plan.fixes.get(finding.bp_id)
    report = render_markdown(review)
    section = report.split("## Fixes", 1)[1].split("\n## ", 1)[0]
    assert "### GENSEC01-BP02: verified patch" in section
    assert "+  BedrockRuntimeEndpoint:" in section and "```diff" in section
    assert "New parameters to fill in: BedrockEndpointVpcId" in section
    for finding in review.findings:
        finding.fix = None


def test_cli_fix_out_and_in_place(tmp_path, capsys):
    source = (FIXES / "chat-sam.yaml").read_text()
    path = tmp_path / "chat.yaml"
    path.write_text(source)
    path.chmod(0o640)
    out = tmp_path / "fixed.yaml"
    assert main(["review", str(path), "--fix", "--fix-out", str(path)]) == 2  # the input itself
    assert "--fix-out" in capsys.readouterr().err and path.read_text() == source
    assert main(["review", str(path), "--fix", "--fix-out", str(out)]) == 0
    diff = capsys.readouterr().out
    assert diff.startswith("--- a/chat.yaml") and "+  LensGuardrail:" in diff
    assert path.read_text() == source  # the input is never changed without --in-place
    assert "LensGuardrail" in out.read_text()
    assert main(["review", str(path), "--json", "--in-place"]) == 0
    finding = next(
        f for f in json.loads(capsys.readouterr().out)["findings"] if f["bp_id"] == "GENSEC02-BP01"
    )
    assert finding["fix"]["verified"] and "GENSEC02-BP01" in finding["fix"]["closes"]
    assert set(finding["fix"]) >= {"verified", "diff", "closes", "params", "notes"}
    assert path.read_text() == out.read_text()
    assert path.stat().st_mode & 0o777 == 0o640  # patched in place, its mode kept
    assert main(["review", str(path), "--json"]) == 0
    after = json.loads(capsys.readouterr().out)["findings"]
    assert next(f for f in after if f["bp_id"] == "GENSEC02-BP01")["status"] == "addressed"


def test_terraform_blocks_inserted_and_reviewed_again(practices):
    text = (FIXES / "agents.tf").read_text()
    review, plan = _plan(text, "agents.tf", practices)
    guard = plan.fixes["GENSEC02-BP01"]
    assert guard.verified, guard.steps
    assert 'resource "aws_bedrock_guardrail" "lens"' in guard.patched
    assert "    guardrail_identifier = aws_bedrock_guardrail.lens.guardrail_id\n" in guard.patched
    assert "# The agent answers questions about orders." in guard.patched
    vpc = plan.fixes["GENSEC01-BP02"]
    assert vpc.verified and 'variable "bedrock_endpoint_subnet_ids"' in vpc.patched
    after = _statuses(plan.patched, "agents.tf", practices)
    assert all(after[bp] == "addressed" for bp, fix in plan.fixes.items() if fix.verified)
    assert not [line for line in plan.diff().splitlines()[2:] if line.startswith("-")]


def test_terraform_throttling_on_http_api_stage_and_rest_stage(practices):
    text = (FIXES / "http-api.tf").read_text()
    _, plan = _plan(text, "http-api.tf", practices)
    fix = plan.fixes["GENOPS02-BP03"]
    assert fix.verified, fix.steps
    assert fix.params == ["api_throttling_rate_limit", "api_throttling_burst_limit"]
    assert "    throttling_rate_limit  = var.api_throttling_rate_limit\n" in fix.patched
    assert _statuses(fix.patched, "http-api.tf", practices)["GENOPS02-BP03"] == "addressed"
    rest = (FIXES / "api-stage.tf").read_text()
    _, plan = _plan(rest, "api-stage.tf", practices)
    refused = plan.fixes["GENOPS02-BP03"]  # method settings without caching: checkov objects
    assert not refused.verified and "checkov reports" in refused.steps
    assert "aws_api_gateway_method_settings.prod_lens_throttle" in refused.steps


def test_checkov_failure_refuses_a_patch(practices):
    from diagrams.fixes.engine import Fix, FixPlan, _apply, _screen, _Verifier

    text = (FIXES / "chat-sam.yaml").read_text()
    review = review_architecture(parse_bytes(text.encode(), "chat-sam.yaml"), practices)
    remedy = {"resources": {"Uploads": {"Type": "AWS::S3::Bucket"}}}  # no encryption, logging...
    patched = _apply("cloudformation", text, remedy, []).text
    fix = Fix("GENSEC02-BP01", True, "Add a guardrail.", "diff", patched=patched)
    plan = FixPlan("chat-sam.yaml", text, {}, text)
    _screen(plan, [(fix, remedy)], _Verifier(text, "chat-sam.yaml", review, practices))
    assert not fix.verified and fix.diff == "" and plan.patched == text
    assert "checkov reports CKV_AWS_" in fix.steps and "Uploads" in fix.steps


def test_suggest_fix_and_fix_questions(tmp_path):
    from agent import LensAssistant
    from agent.config import Settings
    from agent.fixes import asked_fix, render_fix, suggest_fix

    lens = LensAssistant(Settings(home=tmp_path, model="extractive", source="builtin"))
    data = (FIXES / "chat-sam.yaml").read_bytes()
    fix = suggest_fix(lens, data, "gensec01-bp02", filename="chat.yaml")
    assert fix["status"] == "gap" and fix["verified"] and fix["resource"] == ["ChatFunction"]
    assert "+  BedrockRuntimeEndpoint:" in fix["diff"]
    addressed = suggest_fix(lens, data, "GENOPS04-BP01", filename="chat.yaml")
    assert addressed["status"] == "addressed" and not addressed["verified"]
    text = render_fix(fix)
    assert text.startswith("Fix for GENSEC01-BP02 (gap; change ChatFunction), verified patch")
    assert "New parameters to fill in: BedrockEndpointVpcId" in text
    assert render_fix(addressed).startswith("Fix for GENOPS04-BP01 (addressed)")
    assert asked_fix("How do we fix GENSEC01-BP02?") == "GENSEC01-BP02"
    assert asked_fix("What does GENSEC01-BP02 ask for?") is None


def test_mcp_tools_suggest_fix_and_compact_review(tmp_path):
    from agent import LensAssistant
    from agent.config import Settings
    from lenswise.mcp.inputs import Roots
    from lenswise.mcp.server import LensTools

    (tmp_path / "chat.yaml").write_bytes((FIXES / "chat-sam.yaml").read_bytes())
    lens = LensAssistant(Settings(home=tmp_path / "home", model="extractive", source="builtin"))
    tools = LensTools(lens, Roots([tmp_path]))
    design, filename = tools.design("chat.yaml", None, None)
    fix = tools.suggest_fix(design, filename, "GENSEC02-BP01")
    assert fix["verified"] and "LensGuardrail" in fix["diff"] and fix["untrusted"]
    review = tools.review(design, filename, "gap", False, fixes=True)
    guard = next(f for f in review["findings"] if f["bp_id"] == "GENSEC02-BP01")
    assert guard["fix"] == {"verified": True, "closes": guard["fix"]["closes"], "params": []}
    assert "GENSEC02-BP01" in guard["fix"]["closes"]


def test_shared_remedy_is_judged_for_each_gap(practices, monkeypatch):
    """Tracing, offered first for a gap it leaves open, is still offered for one it closes."""
    text = (FIXES / "agent-flow.tf").read_text()
    text = text.replace("  tracing_configuration {\n    enabled = true\n  }\n", "")
    tracing = remedies("terraform")["GENOPS03-BP02"]
    shared = {"GENOPS02-BP02": tracing, "GENOPS03-BP02": tracing}
    monkeypatch.setattr(engine, "remedies", lambda fmt: shared)
    review, plan = _plan(text, "flow.tf", practices)
    gaps = [f.bp_id for f in review.by_risk("gap")]
    assert gaps.index("GENOPS02-BP02") < gaps.index("GENOPS03-BP02")
    assert not plan.fixes["GENOPS02-BP02"].verified
    assert "GENOPS02-BP02 is still gap" in plan.fixes["GENOPS02-BP02"].steps
    traced = plan.fixes["GENOPS03-BP02"]
    assert traced.verified, traced.steps
    assert "GENOPS03-BP02" in traced.closes and "GENOPS02-BP02" not in traced.closes
    assert "GENOPS03-BP02" in plan.closed
