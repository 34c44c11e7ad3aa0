"""The WA Tool client against a misbehaving service: junk replies, endless pages, lost writes.

The real boto3 client talks to the local fake service, which is told to send a broken body,
repeat a page token or fail a write it has applied.
"""

from __future__ import annotations

import json

import pytest

from agent.config import Settings
from tests.fake_wellarchitected import FRAMEWORK, build_genai_lens, serve
from watool import GENAI_LENS, WaExportError, WaTool, export_review, plan_export
from watool.client import shape_problem

TEMPLATE = b"""Resources:
  Docs:
    Type: AWS::S3::Bucket
  Chat:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Policies:
        - Statement:
            - Effect: Allow
              Action: bedrock:InvokeModel
              Resource: "*"
"""
"""A small SAM design: its review has gaps and addressed practices on several questions."""


@pytest.fixture(scope="module")
def lens(tmp_path_factory):
    from agent import LensAssistant

    return LensAssistant(Settings(home=tmp_path_factory.mktemp("wa-hostile-home")))


@pytest.fixture(scope="module")
def review(lens):
    return lens.review(TEMPLATE, filename="chat.yaml")


@pytest.fixture
def wa(lens, monkeypatch):
    yield from serve([build_genai_lens(lens.catalog())[0], FRAMEWORK], monkeypatch, page_size=7)


def _export(lens, review):
    """Export with no retries (each scripted reply is seen once); return the raised error."""
    settings = Settings.from_env()
    plan = plan_export(review, lens.catalog().best_practices(), workload="pdf chat")
    with pytest.raises(WaExportError) as caught:
        export_review(plan, settings, tool=WaTool(settings, max_attempts=1))
    return caught.value


JUNK = [b"", b"null", b"[]", b'"text"', b"{not json", b"{}", b'{"x": 1}']


@pytest.mark.parametrize(
    ("operation", "body"),
    [("ListWorkloads", junk) for junk in JUNK]
    + [
        ("ListWorkloads", b'{"WorkloadSummaries": {"a": 1}}'),
        ("ListWorkloads", b'{"WorkloadSummaries": [1, 2]}'),
        ("ListWorkloads", b'{"WorkloadSummaries": [{"WorkloadName": 7}]}'),
        ("ListWorkloads", b'{"WorkloadSummaries": [], "NextToken": 5}'),
    ]
    + [("GetAnswer", junk) for junk in JUNK]
    + [
        ("GetAnswer", b'{"Answer": null}'),
        ("GetAnswer", b'{"Answer": "yes"}'),
        ("GetAnswer", b'{"Answer": {"Choices": "all", "Notes": 3}}'),
        ("GetAnswer", b'{"Answer": {"SelectedChoices": [{"x": 1}], "Choices": [1]}}'),
    ],
)
def test_a_reply_of_the_wrong_shape_is_one_line_naming_the_operation(
    wa, lens, review, operation, body
):
    wa.misreply(operation, body, apply=False)
    error = _export(lens, review)
    assert operation in str(error) and "\n" not in str(error)
    assert not error.result.maybe_written  # a read: nothing can have been written by it


@pytest.mark.parametrize("body", [b"", b"null", b'{"WorkloadId": 5}', b"{}", b"{oops"])
def test_a_created_workload_with_an_unreadable_reply_may_exist(wa, lens, review, body):
    wa.misreply("CreateWorkload", body)
    error = _export(lens, review)
    assert "CreateWorkload" in str(error) and "may have been applied" in str(error)
    assert error.result.maybe_written and len(wa.workloads) == 1  # it was created
    assert "may have been written" in error.result.render()


def test_an_update_applied_but_answered_with_a_500_may_have_been_written(wa, lens, review):
    wa.misreply("UpdateAnswer", b'{"Message": "internal failure"}', status=500)
    error = _export(lens, review)
    assert "UpdateAnswer" in str(error) and "may have been applied" in str(error)
    result = error.result
    assert result.maybe_written and result.to_dict()["maybe_written"] is True
    (workload,) = wa.workloads.values()
    assert len(workload.answers[GENAI_LENS]) == 1  # the service did write it
    report = result.render()
    assert "nothing else was written" in report and "may have been written" in report


def test_a_refused_write_is_not_reported_as_maybe_written(wa, lens, review):
    wa.fail("UpdateAnswer", "AccessDeniedException")
    error = _export(lens, review)
    assert not error.result.maybe_written and "may have been" not in str(error)
    assert "nothing was written" in error.result.render()


def test_a_repeating_next_token_stops_paging(wa, lens, review):
    page = b'{"WorkloadSummaries": [], "NextToken": "again"}'
    wa.misreply("ListWorkloads", page, apply=False, times=50)
    error = _export(lens, review)
    assert "same NextToken twice for ListWorkloads" in str(error)
    assert len(wa.calls("ListWorkloads")) == 2


def test_the_cli_says_one_line_and_exits_1(wa, capsys, tmp_path):
    from lenswise.cli import main

    design = tmp_path / "chat.yaml"
    design.write_bytes(TEMPLATE)
    wa.misreply("GetAnswer", b'{"Answer": 3}', apply=False)
    code = main(["review", str(design), "--wa-tool", "--workload", "pdf chat", "--json"])
    out, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and "unexpected" not in err
    assert err.startswith("lenswise: error: the Well-Architected Tool sent GetAnswer a reply")
    assert json.loads(out)["error"].startswith("the Well-Architected Tool sent GetAnswer")


@pytest.mark.parametrize(
    ("operation", "reply", "problem"),
    [
        ("GetAnswer", {"Answer": {"Notes": "n", "Choices": []}}, ""),
        ("GetAnswer", {"Answer": {"Notes": None}}, ""),
        ("GetAnswer", {}, "'Answer' is missing"),
        ("GetAnswer", {"Answer": []}, "'Answer' is list, not dict"),
        ("CreateMilestone", {"MilestoneNumber": True}, "'MilestoneNumber' is bool, not int"),
        ("ListAnswers", {"AnswerSummaries": [{"QuestionId": 1}]}, "'AnswerSummaries.QuestionId'"),
        (
            "GetWorkload",
            {"Workload": {"WorkloadId": "w", "WorkloadName": "n", "Lenses": "x"}},
            "Lenses",
        ),
        ("UpdateAnswer", {}, ""),
        ("UpdateAnswer", None, "the reply is NoneType, not an object"),
    ],
)
def test_reply_shapes(operation, reply, problem):
    found = shape_problem(operation, reply)
    assert (problem in found and found) if problem else found == ""
