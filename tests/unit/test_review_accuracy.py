"""Review accuracy patterns (issue 24): part or whole deployment, controls read where they are
set, gaps the file shows, and the resource each gap points at. Fixtures: tests/fixtures/accuracy."""

from __future__ import annotations

import pytest

from corpus.loaders.builtin import digest_practices
from diagrams import parse_bytes, parse_file, review_architecture
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
