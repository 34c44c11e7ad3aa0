"""The optional LLM judge through the real Bedrock client stack, against the local fake server."""

from __future__ import annotations

import pytest

import evals.runner as runner
from agent.config import Settings
from corpus.errors import InputError
from evals.judge import load_judge, parse_verdict
from evals.runner import run_suite
from evals.suites import load_suite
from lenswise.cli import main
from tests.evals_fakes import FakeAssistant, answer, citation, hit, write_suite
from tests.fake_bedrock import (
    FakeBedrock,
    fake_bedrock_fixture,  # noqa: F401  (provides the fake_bedrock fixture)
    text_reply,
    throttling_error,
)

SPEC = "bedrock_converse:anthropic.claude-3-haiku-20240307-v1:0"
SUITE = {
    "kind": "answers",
    "cases": [
        {
            "id": "inj",
            "question": "How do we stop prompt injection?",
            "expected_citations": ["GENSEC04-BP02"],
        },
        {"id": "pasta", "question": "Pasta?", "should_decline": True},
    ],
}
ANSWERS = {
    "How do we stop prompt injection?": answer(
        "Validate user input before it reaches the model [GENSEC04-BP02].",
        citations=[citation("GENSEC04-BP02")],
        hits=[hit("GENSEC04-BP02", 1, "Inspect prompts for injection attempts.")],
    ),
    "Pasta?": answer("Outside the lens.", declined=True),
}


def test_parse_verdict_maps_1_to_5_onto_0_to_1():
    assert parse_verdict('{"score": 5, "reason": "ok"}').score == 1.0
    assert parse_verdict('Sure: {"score": 2, "reason": "thin"} done').score == 0.25
    assert parse_verdict('{"score": 9}').score == 1.0
    assert parse_verdict("no idea").score is None


def test_judge_scores_answers_through_bedrock(tmp_path, fake_bedrock: FakeBedrock):
    fake_bedrock.enqueue(
        text_reply('{"score": 5, "reason": "every claim is in the passage"}', usage=(300, 20)),
        text_reply('{"score": 4, "reason": "answers most of it"}', usage=(100, 10)),
    )
    judge = load_judge(SPEC, Settings())
    suite = load_suite(write_suite(tmp_path, SUITE))
    result = run_suite(
        suite,
        Settings(home=tmp_path / "h"),
        progress=False,
        judge=judge,
        target=FakeAssistant(answers=ANSWERS),
    )
    assert result.metrics["judge_faithfulness"] == 1.0
    assert result.metrics["judge_relevance"] == 0.75
    assert (result.metrics["judge_input_tokens"], result.metrics["judge_output_tokens"]) == (
        400,
        30,
    )
    assert result.metrics["judge_estimated_cost_usd"] > 0
    assert result.cases[0]["judge"] == {
        "judge_faithfulness": "every claim is in the passage",
        "judge_relevance": "answers most of it",
    }
    assert len(fake_bedrock.requests) == 2  # the declined answer is not judged
    faith, relevance = (r.body for r in fake_bedrock.requests)
    assert "Inspect prompts for injection attempts." in faith["messages"][0]["content"][0]["text"]
    assert "supported" in faith["system"][0]["text"]
    assert "How do we stop prompt injection?" in relevance["messages"][0]["content"][0]["text"]


def test_judge_errors_leave_the_metric_empty_and_say_why(tmp_path, fake_bedrock: FakeBedrock):
    fake_bedrock.enqueue(throttling_error(), text_reply("I would rather not grade this."))
    judge = load_judge(SPEC, Settings(), max_attempts=1)
    suite = load_suite(write_suite(tmp_path, SUITE))
    result = run_suite(
        suite,
        Settings(home=tmp_path / "h"),
        progress=False,
        judge=judge,
        target=FakeAssistant(answers=ANSWERS),
    )
    assert result.metrics["judge_faithfulness"] is None
    assert result.metrics["judge_relevance"] is None
    reasons = result.cases[0]["judge"]
    assert reasons["judge_faithfulness"].startswith("judge error:")
    assert "throttl" in reasons["judge_faithfulness"].lower()
    assert reasons["judge_relevance"].startswith("unreadable judge reply")


def test_judge_flag_is_checked(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "open_target", lambda s: FakeAssistant())
    assert main(["eval", "run", "retrieval", "--judge", SPEC]) == 2
    assert "--judge applies to answer suites only" in capsys.readouterr().err
    with pytest.raises(InputError, match="needs a chat model"):
        load_judge("extractive", Settings())
