"""Scripted-model suites: the generative path runs through the real client stack to 127.0.0.1."""

from __future__ import annotations

import os

import pytest

from agent import LensAssistant
from agent.config import Settings
from corpus.errors import InputError
from evals.runner import run_suite
from evals.scripted_bedrock import Script, pointed_at
from evals.suites import load_suite
from tests.evals_fakes import write_suite

INVENTED = "Most teams cut their bill by ninety percent within a week."
SUITE = {
    "kind": "answers",
    "scripted_model": "anthropic.claude-3-haiku-20240307-v1:0",
    "thresholds": {"uncited_claims": {"max": 0}},
    "cases": [
        {
            "id": "clean",
            "question": "how do we record who calls our bedrock models?",
            "expected_citations": ["GENSEC01-BP04"],
            "facts": ["Enable model invocation logging."],
            "model_turns": [
                {"tool": "get_best_practice", "args": {"practice_id": "GENSEC01-BP04"}},
                {"text": "Enable Bedrock model invocation logging [GENSEC01-BP04]."},
            ],
        },
        {
            "id": "invented",
            "question": "we resend one long system prompt on every call. how do we pay less?",
            "expected_citations": ["GENCOST03-BP03"],
            "model_turns": [
                {"tool": "get_best_practice", "args": {"practice_id": "GENCOST03-BP03"}},
                {"text": f"Cache the repeated prompt at a lower rate [GENCOST03-BP03]. {INVENTED}"},
            ],
        },
    ],
}


def test_scripted_suite_answers_through_the_local_converse_endpoint(hash_index, tmp_path):
    suite = load_suite(write_suite(tmp_path, SUITE))
    endpoint_before = os.environ.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
    opened: list[Settings] = []

    def opener(settings: Settings) -> LensAssistant:
        opened.append(settings)
        assert os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"].startswith("http://127.0.0.1:")
        return LensAssistant(settings, index=hash_index)

    result = run_suite(suite, Settings(home=tmp_path / "home"), opener=opener, progress=False)
    assert opened[0].model == "bedrock_converse:anthropic.claude-3-haiku-20240307-v1:0"
    assert result.run["model"] == opened[0].model
    assert os.environ.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME") == endpoint_before  # restored
    clean, invented = result.cases
    assert clean["citations"] == ["GENSEC01-BP04"] and clean["usage"]["output_tokens"] > 0
    assert clean["metrics"]["uncited_claims"] == 0.0 and clean["metrics"]["facts_stated"] == 1.0
    # whatever the answer path does with the invented sentence, the metric sees it exactly
    response = invented["response"]
    shown = "ninety percent" in response and "unverified" not in response.lower()
    assert invented["metrics"]["uncited_claims"] == float(shown)
    assert result.metrics["uncited_claims"] == float(shown) / 2


def test_script_matches_the_latest_question_and_repeats_its_last_text():
    script = Script(
        {
            "first question": [{"tool": "search_lens", "args": {"query": "x"}}, {"text": "A"}],
            "second question": [{"text": "B"}],
        }
    )
    body = {
        "messages": [
            {"role": "user", "content": [{"text": "Answer: <q>first question</q>"}]},
            {"role": "assistant", "content": [{"text": "A"}]},
            {"role": "user", "content": [{"text": "Answer: <q>second  question</q>"}]},
        ]
    }
    assert script.question_of(body) == "second question"
    first = {"messages": body["messages"][:1]}
    assert [script.next_turn(first) for _ in range(3)] == [
        {"tool": "search_lens", "args": {"query": "x"}},
        {"text": "A"},
        {"text": "A"},  # asked to fix its draft, the scripted model says the same again
    ]
    assert "no scripted answer" in script.next_turn({"messages": []})["text"]


def test_pointed_at_restores_the_aws_chain(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "someone")
    monkeypatch.delenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", raising=False)
    with pointed_at("http://127.0.0.1:9"):
        assert "AWS_PROFILE" not in os.environ
        assert os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] == "http://127.0.0.1:9"
    assert os.environ["AWS_PROFILE"] == "someone"
    assert "AWS_ENDPOINT_URL_BEDROCK_RUNTIME" not in os.environ


def test_model_turns_only_in_scripted_suites(tmp_path):
    unscripted = {k: v for k, v in SUITE.items() if k != "scripted_model"}
    with pytest.raises(InputError, match="'model_turns' belong to every case"):
        load_suite(write_suite(tmp_path, unscripted))
    bad = {**SUITE, "cases": [{**SUITE["cases"][0], "model_turns": [{"say": "x"}]}]}
    with pytest.raises(InputError, match="model_turns"):
        load_suite(write_suite(tmp_path, bad))


def test_faithfulness_suite_loads_with_a_script_per_case():
    suite = load_suite("faithfulness")
    assert suite.scripted_model and len(suite.cases) >= 5
    assert all(c.model_turns and c.facts for c in suite.cases)
