"""The agent over the real Bedrock client stack: ChatBedrockConverse -> boto3 -> 127.0.0.1."""

import dataclasses

import pytest

from agent import LensAssistant
from agent.config import Settings
from agent.models import ModelError
from tests.fake_bedrock import access_denied_error, fake_bedrock_fixture, text_reply, tool_reply

fake_bedrock = fake_bedrock_fixture
MODEL = "bedrock_converse:anthropic.claude-3-haiku-20240307-v1:0"
GOOD = (
    "Check and sanitise user input before the model sees it, and test your guardrail "
    "against a curated set of prompt injection attempts [GENSEC04-BP02]."
)


def test_ask_streams_through_bedrock_with_a_tool_round_trip(fake_bedrock, hash_index, tmp_path):
    fake_bedrock.enqueue(
        tool_reply(("get_best_practice", {"practice_id": "GENSEC04-BP02"})),
        text_reply(GOOD, usage=(900, 60)),
    )
    lens = LensAssistant(Settings(home=tmp_path, model=MODEL), index=hash_index)
    events = list(lens.stream("How do I stop prompt injection?"))
    kinds = [e.type for e in events]
    tokens = [e.text for e in events if e.type == "token"]
    assert len(tokens) > 3 and "".join(tokens).strip() == GOOD
    assert kinds.index("token") < kinds.index("final") and kinds[-1] == "final"
    answer = events[-1].answer
    assert [c.bp_id for c in answer.citations] == ["GENSEC04-BP02"] and not answer.warnings
    assert answer.usage["input_tokens"] >= 900 and answer.usage["output_tokens"] >= 60
    first, second = fake_bedrock.requests[0], fake_bedrock.requests[-1]
    assert first.operation == "converse-stream"
    assert "untrusted_question" in first.body["messages"][0]["content"][0]["text"]
    assert "square brackets" in first.body["system"][0]["text"]
    results = [
        block["toolResult"]
        for m in second.body["messages"]
        for block in m["content"]
        if "toolResult" in block
    ]
    assert results and 'id="GENSEC04-BP02"' in results[0]["content"][0]["text"]


def test_bedrock_error_is_one_clear_line_and_the_thread_survives(
    fake_bedrock, hash_index, tmp_path
):
    fake_bedrock.enqueue(
        tool_reply(("get_best_practice", {"practice_id": "GENSEC04-BP02"})),
        text_reply(GOOD),
        access_denied_error(),
    )
    lens = LensAssistant(Settings(home=tmp_path, model=MODEL), index=hash_index)
    lens.ask("How do I stop prompt injection?", thread_id="t")
    with pytest.raises(ModelError) as caught:
        lens.ask("what about cost?", thread_id="t")
    message = str(caught.value)
    assert "\n" not in message and "access" in message.lower()
    assert len(lens.conversations.transcript("t")) == 1


def _few_examples(lens: str):
    """The lens's example questions about GENSEC02 and every 25th other one (about 140).

    Each question is one Titan request, and the full set (some 2,400) would take minutes.
    """
    from corpus.examples import load_examples

    full = load_examples(lens)
    few = tuple(
        e
        for i, e in enumerate(full.examples)
        if i % 25 == 0 or any(label.startswith("GENSEC02") for label in e.labels)
    )
    return dataclasses.replace(full, examples=few, digest=f"{full.digest}-few")


def test_titan_embeddings_build_and_query_an_index(fake_bedrock, tmp_path, monkeypatch):
    from corpus.chunking import chunk_documents
    from corpus.sources import load_source
    from index.build import ensure_index
    from index.embeddings import load_embedder
    from index.store import load_index

    monkeypatch.setattr("index.build.load_examples", _few_examples)
    model = "bedrock:amazon.titan-embed-text-v2:0"
    corpus = load_source("builtin", home=tmp_path)
    chunks = [c for c in chunk_documents(corpus.documents) if c.question_id == "GENSEC02"]
    embedder = load_embedder(model)
    report = ensure_index(
        chunks, home=tmp_path, model=model, embedder=lambda: embedder, source="builtin"
    )
    index = load_index(report.path, model, lambda: embedder)
    assert index.manifest["model"] == model
    assert index.manifest["dim"] == 32 and report.embedded == report.chunks == len(chunks)
    questions = len(_few_examples("generative-ai").examples)
    assert len(fake_bedrock.requests) == len(chunks) + questions  # one Titan call per text
    assert index.manifest["router"]["keys"] > 0  # the router was fitted on Titan vectors
    calls = len(fake_bedrock.requests)
    hits = index.search("guardrails for harmful responses", k=3, mode="dense")
    assert hits and len(fake_bedrock.requests) == calls + 1
    assert fake_bedrock.requests[-1].model_id == "amazon.titan-embed-text-v2:0"
    assert fake_bedrock.requests[-1].body["inputText"] == "guardrails for harmful responses"
