"""``lenswise review DIR`` in CI: discovery, git baselines, the gate, SARIF, CDK, pre-commit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from lenswise.cli import main
from tests.helpers import REPO, TESTS
from tests.samples import mxfile, rag_page

# The SARIF 2.1.0 JSON schema (release 2.1.0-rtm.5), vendored unchanged from the MIT-licensed
# npm package @microsoft/jest-sarif 1.0.0-beta.0 (lib/schemas/sarif-2.1.0-rtm.5.json).
SCHEMA = TESTS / "data" / "sarif-schema-2.1.0.json"
ROOT = REPO

APP_TF = """\
resource "aws_lambda_function" "chat" {
  function_name = "chat"
  role          = aws_iam_role.chat.arn
  vpc_config {
    subnet_ids         = [aws_subnet.private.id]
    security_group_ids = [aws_security_group.chat.id]
  }
}

resource "aws_iam_role" "chat" {
  name = "chat"
}

resource "aws_bedrockagent_knowledge_base" "docs" {
  name     = "docs"
  role_arn = aws_iam_role.chat.arn
}
"""
NETWORK_TF = """\
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "private" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.0.1.0/24"
}

resource "aws_security_group" "chat" {
  vpc_id = aws_vpc.main.id
}
"""
ENDPOINT_TF = """
resource "aws_vpc_endpoint" "bedrock" {
  vpc_id            = aws_vpc.main.id
  service_name      = "com.amazonaws.us-east-1.bedrock-runtime"
  vpc_endpoint_type = "Interface"
}
"""
LOGS_TF = """
resource "aws_cloudwatch_log_group" "chat" {
  name              = "/aws/lambda/chat"
  retention_in_days = 30
}
"""
SAM = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Ask:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
"""


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return proc.stdout


def _commit(repo: Path, message: str) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path):
    """A git repository whose first commit has a Bedrock VPC endpoint and whose second drops it."""
    root = tmp_path / "repo"
    (root / "infra").mkdir(parents=True)
    _git(root, "init", "-q")
    (root / "infra" / "app.tf").write_text(APP_TF)
    (root / "infra" / "network.tf").write_text(NETWORK_TF + ENDPOINT_TF)
    (root / "docs").mkdir()
    (root / "docs" / "rag.drawio").write_text(mxfile(rag_page()))
    _commit(root, "design with a VPC endpoint")
    (root / "infra" / "network.tf").write_text(NETWORK_TF)
    _commit(root, "drop the endpoint")
    return root


def _run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_since_reports_the_regression_with_file_and_line(repo, capsys):
    status_before = _git(repo, "status", "--porcelain")
    code, out, _ = _run(["review", str(repo), "--since", "HEAD~1", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    regressed = {r["bp_id"]: r for r in doc["changes"]["regressed"]}
    endpoint = regressed["GENSEC01-BP02"]
    assert endpoint["design"] == "infra" and endpoint["to"] == "gap"
    # the evidence that went away: the endpoint's block in the old network.tf
    line = (NETWORK_TF + ENDPOINT_TF).splitlines().index(ENDPOINT_TF.strip().splitlines()[0]) + 1
    assert (endpoint["file"], endpoint["line"]) == ("infra/network.tf", line)
    removed = {c["id"]: c for c in doc["changes"]["components_removed"]}
    assert removed["aws_vpc_endpoint.bedrock"]["file"] == "infra/network.tf"
    assert _git(repo, "status", "--porcelain") == status_before  # work tree untouched


def test_gate_exits_3_on_a_new_high_gap_and_0_when_a_control_is_added(repo, capsys):
    code, _, err = _run(["review", str(repo), "--since", "HEAD~1", "--fail-on", "high"], capsys)
    assert code == 3
    assert err.count("\n") == 1 and "GENSEC01-BP02" in err
    (repo / "infra" / "logs.tf").write_text(LOGS_TF)
    _commit(repo, "add a log group")
    code, out, err = _run(
        ["review", str(repo), "--since", "HEAD~1", "--fail-on", "high", "--json"], capsys
    )
    assert code == 0 and err == ""
    changes = json.loads(out)["changes"]
    assert changes["regressed"] == [] and changes["new_gaps"] == []
    assert [c["id"] for c in changes["components_added"]] == ["aws_cloudwatch_log_group.chat"]


def test_baseline_file_is_an_earlier_json_output(repo, tmp_path, capsys):
    _git(repo, "checkout", "-q", "HEAD~1")
    code, out, _ = _run(["review", str(repo), "--json"], capsys)
    baseline = tmp_path / "old.json"
    baseline.write_text(out)
    _git(repo, "checkout", "-q", "-")
    code, out, _ = _run(
        ["review", str(repo), "--baseline", str(baseline), "--format", "pr-comment"], capsys
    )
    assert code == 0
    assert out.index("**Regressed**") < out.index("Coverage:")
    assert "GENSEC01-BP02" in out and "infra/network.tf:" in out
    assert "**New gaps**" not in out  # the one new gap is the regression, listed once


def test_bad_baseline_and_bad_ref_are_one_line_exit_2(repo, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"nothing": 1}')
    code, _, err = _run(["review", str(repo), "--baseline", str(bad)], capsys)
    assert code == 2 and err.count("\n") == 1
    code, _, err = _run(["review", str(repo), "--since", "no-such-ref"], capsys)
    assert code == 2 and err.count("\n") == 1 and "no-such-ref" in err


def test_sarif_is_valid_and_points_at_lines(repo, capsys):
    code, out, _ = _run(["review", str(repo), "--since", "HEAD~1", "--format", "sarif"], capsys)
    assert code == 0
    log = json.loads(out)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    results = log["runs"][0]["results"]
    endpoint = next(r for r in results if r["ruleId"] == "GENSEC01-BP02")
    where = endpoint["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "infra/network.tf"
    assert where["region"]["startLine"] > 1 and endpoint["level"] == "error"
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["GENSEC01-BP02"]["helpUri"].endswith("gensec01-bp02.html")
    # fingerprints are stable across runs
    _, again, _ = _run(["review", str(repo), "--since", "HEAD~1", "--format", "sarif"], capsys)
    prints = [r["partialFingerprints"] for r in json.loads(again)["runs"][0]["results"]]
    assert prints == [r["partialFingerprints"] for r in results]


def test_folder_discovery_ignores_and_reports_bad_files(tmp_path, capsys):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "arch.drawio").write_text(mxfile(rag_page()))
    (tmp_path / "docs" / "notes.md").write_text("# Notes\nno diagram here\n")
    (tmp_path / "docs" / "flow.md").write_text(
        "# Flow\n\n```mermaid\nflowchart LR\n  U[User] --> L[AWS Lambda]\n"
        "  L --> B[Amazon Bedrock]\n```\n"
    )
    (tmp_path / "sam.yaml").write_text(SAM)
    (tmp_path / "config.yaml").write_text("name: not a template\nitems: [1, 2]\n")
    (tmp_path / "broken.drawio").write_text("<mxfile><diagram>")
    (tmp_path / "node_modules" / "pkg").mkdir(parents=True)
    (tmp_path / "node_modules" / "pkg" / "x.drawio").write_text(mxfile(rag_page()))
    (tmp_path / ".terraform" / "modules").mkdir(parents=True)
    (tmp_path / ".terraform" / "modules" / "m.tf").write_text(APP_TF)
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "legacy.drawio").write_text(mxfile(rag_page()))
    (tmp_path / ".lenswiseignore").write_text("old/\n")
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "out.drawio").write_text(mxfile(rag_page()))
    (tmp_path / ".gitignore").write_text("gen/\n")
    code, out, err = _run(["review", str(tmp_path), "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert [d["path"] for d in doc["designs"]] == ["docs/arch.drawio", "docs/flow.md", "sam.yaml"]
    assert [e["path"] for e in doc["errors"]] == ["broken.drawio"]
    assert "\n" not in doc["errors"][0]["error"]
    combined = {c["label"]: c for c in doc["combined"]["components"]}
    assert combined["Ask"]["files"] == ["sam.yaml"]
    assert combined["Ask"]["location"] == {"file": "sam.yaml", "line": 4}


def test_combined_view_merges_components_by_resource_and_name(tmp_path, capsys):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_text(APP_TF)
    code, out, _ = _run(["review", str(tmp_path), "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and [d["path"] for d in doc["designs"]] == ["a", "b"]
    chat = [c for c in doc["combined"]["components"] if c["label"] == "chat"]
    role = next(c for c in chat if c["id"].endswith("aws_iam_role.chat"))
    assert role["files"] == ["a/main.tf", "b/main.tf"]
    assert len(doc["combined"]["components"]) == len(doc["designs"][0]["components"])


def _cdk_assembly(root: Path) -> None:
    out = root / "cdk.out"
    out.mkdir(parents=True)
    manifest = {"version": "36.0.0", "artifacts": {"Tree": {"type": "cdk:tree"}}}
    for stack, body in (("ApiStack", SAM), ("DataStack", None)):
        template = f"{stack}.template.json"
        resources = (
            {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}}}
            if body is None
            else {"Ask": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "a.h"}}}
        )
        (out / template).write_text(json.dumps({"Resources": resources}, indent=1))
        manifest["artifacts"][stack] = {
            "type": "aws:cloudformation:stack",
            "environment": "aws://unknown-account/unknown-region",
            "properties": {"templateFile": template},
            "displayName": stack,
        }
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "asset.0123").mkdir()
    (out / "asset.0123" / "template.yaml").write_text(SAM)


def test_diagram_components_point_at_their_lines(tmp_path, capsys):
    (tmp_path / "flow.mmd").write_text(
        "flowchart LR\n  U[User] --> L[AWS Lambda]\n\n  L --> B[Amazon Bedrock]\n"
    )
    (tmp_path / "rag.drawio").write_text(mxfile(rag_page()).replace("><", ">\n<"))
    code, out, _ = _run(["review", str(tmp_path), "--json"], capsys)
    designs = {d["path"]: d for d in json.loads(out)["designs"]}
    assert code == 0
    mermaid = {c["label"]: c["location"]["line"] for c in designs["flow.mmd"]["components"]}
    assert mermaid == {"User": 2, "AWS Lambda": 2, "Amazon Bedrock": 4}
    lines = (tmp_path / "rag.drawio").read_text().splitlines()
    for comp in designs["rag.drawio"]["components"]:
        assert f'id="{comp["id"]}"' in lines[comp["location"]["line"] - 1]


def test_cdk_cloud_assembly_gives_one_design_per_stack(tmp_path, capsys):
    _cdk_assembly(tmp_path)
    code, out, _ = _run(["review", str(tmp_path), "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["errors"] == []
    assert [d["path"] for d in doc["designs"]] == ["cdk.out/ApiStack", "cdk.out/DataStack"]
    api, data = doc["designs"]
    assert api["services"] == ["lambda"] and data["services"] == ["s3"]
    where = {"file": "cdk.out/DataStack.template.json", "line": 3}
    assert data["components"][0]["location"] == where


def test_cache_skips_unchanged_files_and_gives_the_same_review(tmp_path):
    from agent import LensAssistant
    from diagrams.discover import WorkTree
    from diagrams.repo import Parser, review_tree

    shutil.copytree(ROOT.parent / "shared" / "diagrams", tmp_path / "repo")
    practices = LensAssistant().catalog().best_practices()
    tree = WorkTree(tmp_path / "repo")
    cold = Parser(tree, tmp_path / "cache")
    first = review_tree(tree, practices, cold).to_dict()
    warm = Parser(tree, tmp_path / "cache")
    second = review_tree(tree, practices, warm).to_dict()
    assert cold.parsed == len(first["designs"]) > 5 and warm.parsed == 0
    assert second == first


def test_pre_commit_runs_the_hook(repo, tmp_path):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "lenswise-review")
    # language: system runs the hook with this venv's lenswise, so pre-commit needs no network
    config = {"repos": [{"repo": "local", "hooks": [{**hook, "language": "system"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(json.dumps(config))
    bindir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
    }
    run = [str(bindir / "pre-commit"), "run", "--all-files"]

    def pre_commit():
        return subprocess.run(run, cwd=repo, capture_output=True, text=True, env=env, check=False)

    proc = pre_commit()
    assert proc.returncode == 0, proc.stdout + proc.stderr  # nothing new since HEAD
    (repo / "infra" / "network.tf").write_text(NETWORK_TF + ENDPOINT_TF)
    _commit(repo, "endpoint back")
    (repo / "infra" / "network.tf").write_text(NETWORK_TF)
    _git(repo, "add", "-A")
    proc = pre_commit()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "GENSEC01-BP02" in proc.stdout and "at or above high risk" in proc.stdout


def test_damaged_cache_entries_and_manifests_do_not_stop_the_review(tmp_path, capsys):
    (tmp_path / "app" / "cdk.out").mkdir(parents=True)
    (tmp_path / "app" / "cdk.out" / "manifest.json").write_text("{not json")
    (tmp_path / "sam.yaml").write_text(SAM)
    cache = tmp_path / "cache"
    args = ["review", str(tmp_path), "--json", "--cache", str(cache)]
    code, first, _ = _run(args, capsys)
    entries = list(cache.glob("*.json"))
    assert code == 0 and len(entries) == 1
    entries[0].write_text('{"file": "x"}')
    code, second, _ = _run(args, capsys)
    assert code == 0 and json.loads(second) == json.loads(first)
    assert json.loads(entries[0].read_text())["file"] == "sam.yaml"  # rewritten
    errors = json.loads(first)["errors"]
    assert (
        errors == [{"path": "app/cdk.out/manifest.json", "error": errors[0]["error"]}]
        and "not a CDK cloud assembly" in errors[0]["error"]
    )


def test_sarif_paths_start_at_the_working_directory(repo, capsys, monkeypatch):
    monkeypatch.chdir(repo)
    code, out, _ = _run(["review", "infra", "--since", "HEAD~1", "--format", "sarif"], capsys)
    results = json.loads(out)["runs"][0]["results"]
    endpoint = next(r for r in results if r["ruleId"] == "GENSEC01-BP02")
    uri = endpoint["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert code == 0 and uri == "infra/network.tf"
