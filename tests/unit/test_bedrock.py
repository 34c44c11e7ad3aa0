"""The Bedrock path through the real stack: ChatBedrockConverse -> boto3 -> HTTP -> 127.0.0.1."""

from __future__ import annotations

import json
import socket

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool

from agent.config import Settings
from agent.models import (
    describe_model_error,
    estimate_cost,
    is_retryable,
    load_chat_model,
    parse_spec,
    usage_from,
)
from corpus.errors import InputError
from tests.fake_bedrock import (
    FakeBedrock,
    RawReply,
    access_denied_error,
    fake_bedrock_fixture,  # noqa: F401  (provides the fake_bedrock fixture)
    not_found_error,
    text_reply,
    throttling_error,
    tool_reply,
    unknown_model_error,
)

MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
SPEC = f"bedrock_converse:{MODEL_ID}"


@tool
def search_lens(query: str) -> str:
    """Search the Generative AI Lens for best practices.

    Args:
        query: What to look for, in plain words.
    """
    return f"GENSEC04-BP02 matches {query}"


def load(**kwargs) -> BaseChatModel:
    """Load the model under test with no retries unless asked: error tests stay instant."""
    return load_chat_model(SPEC, Settings(), **{"max_attempts": 1, **kwargs})


def failure(call) -> BaseException:
    with pytest.raises(Exception) as caught:
        call()
    return caught.value


# --- answers -------------------------------------------------------------------------


def test_plain_answer_sends_system_prompt_and_messages(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.enqueue(text_reply("Use input validation (GENSEC04-BP02).", usage=(31, 9)))
    model = load(temperature=0.0, max_tokens=256)

    answer = model.invoke(
        [
            SystemMessage("Answer from the lens only."),
            HumanMessage("How do I stop prompt injection?"),
        ]
    )

    assert answer.content == "Use input validation (GENSEC04-BP02)."
    assert usage_from(answer) == {"input_tokens": 31, "output_tokens": 9, "total_tokens": 40}
    request = fake_bedrock.last
    assert (request.operation, request.model_id) == ("converse", MODEL_ID)
    assert request.body["system"] == [{"text": "Answer from the lens only."}]
    assert request.body["messages"] == [
        {"role": "user", "content": [{"text": "How do I stop prompt injection?"}]}
    ]
    assert request.body["inferenceConfig"] == {"temperature": 0.0, "maxTokens": 256}
    # Signed by boto3 with the fake credentials for the chain's Region.
    assert request.headers["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDLENSWISETEST/"
    )
    assert "/us-east-1/bedrock/aws4_request" in request.headers["authorization"]


def test_settings_region_wins_over_the_chain(fake_bedrock: FakeBedrock) -> None:
    model = load_chat_model(SPEC, Settings(region="eu-west-1"), max_attempts=1)
    assert model.invoke("hi").content == "OK"
    assert "/eu-west-1/bedrock/aws4_request" in fake_bedrock.last.headers["authorization"]


def test_streaming_arrives_token_by_token_with_usage(fake_bedrock: FakeBedrock) -> None:
    text = "Encrypt prompts at rest and in transit with KMS keys."
    fake_bedrock.enqueue(text_reply(text, usage=(20, 11), pause_after=2))
    stream = load().stream("How should prompts be stored?")

    first = next(chunk for chunk in stream if chunk.text)
    # The server is still holding the rest of the answer: this token came through live.
    assert first.text == "Encrypt" and fake_bedrock.held.wait(1)
    fake_bedrock.resume()
    chunks = [first, *stream]

    assert not fake_bedrock.hold_timed_out
    assert fake_bedrock.last.operation == "converse-stream"
    assert len([c for c in chunks if c.text]) == len(text.split())
    assert "".join(c.text for c in chunks) == text
    merged = sum(chunks[1:], chunks[0])
    assert usage_from(merged) == {"input_tokens": 20, "output_tokens": 11, "total_tokens": 31}


def test_tool_use_round_trip(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.enqueue(
        tool_reply(("search_lens", {"query": "prompt injection"}), text="Let me check the lens."),
        text_reply("Validate and sanitise inputs (GENSEC04-BP02)."),
    )
    model = load().bind_tools([search_lens])
    history = [SystemMessage("Cite best practices."), HumanMessage("Prompt injection?")]

    ask = model.invoke(history)
    assert [(c["name"], c["args"]) for c in ask.tool_calls] == [
        ("search_lens", {"query": "prompt injection"})
    ]
    tools = fake_bedrock.last.body["toolConfig"]["tools"]
    assert tools[0]["toolSpec"]["name"] == "search_lens"
    assert "query" in tools[0]["toolSpec"]["inputSchema"]["json"]["properties"]

    call = ask.tool_calls[0]
    result = ToolMessage(search_lens.invoke(call["args"]), tool_call_id=call["id"])
    final = model.invoke([*history, ask, result])

    assert final.content == "Validate and sanitise inputs (GENSEC04-BP02)."
    sent = fake_bedrock.last.body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert {
        "toolUse": {
            "toolUseId": call["id"],
            "name": "search_lens",
            "input": {"query": "prompt injection"},
        }
    } in sent[1]["content"]
    assert sent[2]["content"] == [
        {
            "toolResult": {
                "toolUseId": call["id"],
                "status": "success",
                "content": [{"text": "GENSEC04-BP02 matches prompt injection"}],
            }
        }
    ]


def test_streamed_parallel_tool_calls_assemble(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.enqueue(
        tool_reply(("search_lens", {"query": "guardrails"}), ("search_lens", {"query": "KMS"}))
    )
    chunks = list(load().bind_tools([search_lens]).stream("Guardrails and encryption?"))
    merged = sum(chunks[1:], chunks[0])

    assert [c["args"] for c in merged.tool_calls] == [{"query": "guardrails"}, {"query": "KMS"}]
    assert len({c["id"] for c in merged.tool_calls}) == 2
    assert merged.response_metadata["stopReason"] == "tool_use"


# --- errors --------------------------------------------------------------------------


def test_throttling_is_retried_then_succeeds(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.enqueue(throttling_error(), text_reply("Recovered."))
    assert load(max_attempts=2).invoke("hi").content == "Recovered."
    assert len(fake_bedrock.requests) == 2
    assert fake_bedrock.requests[0].body == fake_bedrock.requests[1].body


def test_persistent_throttling_gives_the_clear_line(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.enqueue(throttling_error(), throttling_error(), text_reply("never reached"))
    error = failure(lambda: load(max_attempts=2).invoke("hi"))

    assert len(fake_bedrock.requests) == 2
    assert describe_model_error(error, SPEC) == (
        f"Bedrock is throttling requests for {MODEL_ID} (ThrottlingException) after 1 retry; "
        "try again shortly or request a quota increase"
    )
    assert is_retryable(error)


def test_streaming_request_throttled_too(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.enqueue(throttling_error())
    error = failure(lambda: list(load().stream("hi")))
    assert "(ThrottlingException) after 0 retries" in describe_model_error(error, SPEC)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            access_denied_error(),
            f"No access to model {MODEL_ID} (AccessDeniedException): "
            "enable model access in the Bedrock console or check IAM bedrock:InvokeModel",
        ),
        (
            unknown_model_error(),
            f"Unknown model id {MODEL_ID} (ValidationException: "
            "The provided model identifier is invalid.)",
        ),
        (
            not_found_error("This model version has reached the end of its life."),
            f"Model {MODEL_ID} not found in this Region (ResourceNotFoundException): "
            "This model version has reached the end of its life.",
        ),
        (
            unknown_model_error(
                f"Invocation of model ID {MODEL_ID} with on-demand throughput isn't supported."
            ),
            f"Model {MODEL_ID} cannot be called on demand (ValidationException): "
            f"use an inference profile id such as us.{MODEL_ID}",
        ),
    ],
)
def test_client_errors_give_clear_lines(fake_bedrock: FakeBedrock, reply, expected) -> None:
    fake_bedrock.enqueue(reply)
    error = failure(lambda: load(max_attempts=3).invoke("hi"))

    line = describe_model_error(error, SPEC)
    assert line.startswith(expected) and "\n" not in line
    assert len(fake_bedrock.requests) == 1  # not retried
    assert not is_retryable(error)


def test_malformed_json_body(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.enqueue(RawReply(b'{"output": {"message": '))
    error = failure(lambda: load().invoke("hi"))
    assert describe_model_error(error, SPEC) == (
        f"Bedrock sent a malformed response for {MODEL_ID} "
        "(the Converse response has no output); try again"
    )


def test_stream_frame_with_wrong_crc(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.enqueue(text_reply("one two three", corrupt_frame=2))
    error = failure(lambda: list(load(read_timeout=5).stream("hi")))

    line = describe_model_error(error, SPEC)
    assert line.startswith(f"Bedrock sent a malformed response for {MODEL_ID} (ChecksumMismatch")
    assert "\n" not in line


def test_error_mid_stream_keeps_the_conversation(fake_bedrock: FakeBedrock) -> None:
    model = load()
    history = [
        HumanMessage("What is GENSEC04?"),
        AIMessage("Prompt security."),
        HumanMessage("And?"),
    ]
    fake_bedrock.enqueue(
        text_reply("Half an", stream_exception=(2, "modelStreamErrorException", "Model crashed.")),
        text_reply("Whole answer."),
    )
    error = failure(lambda: list(model.stream(history)))
    assert describe_model_error(error, SPEC) == (
        f"Bedrock failed while answering with {MODEL_ID} (ModelStreamErrorException): "
        "Model crashed.; try again"
    )
    # The same model object carries on with the whole thread.
    assert "".join(c.text for c in model.stream(history)) == "Whole answer."
    assert fake_bedrock.requests[0].body["messages"] == fake_bedrock.requests[1].body["messages"]
    assert len(fake_bedrock.requests[1].body["messages"]) == 3


def test_read_timeout_does_not_hang(fake_bedrock: FakeBedrock) -> None:
    fake_bedrock.enqueue(text_reply("slow answer", pause_after=2))
    error = failure(lambda: list(load(read_timeout=0.3).stream("hi")))
    assert describe_model_error(error, SPEC) == (
        f"Bedrock did not answer in time for {MODEL_ID} (read timeout); try again"
    )


def test_unreachable_endpoint(fake_bedrock: FakeBedrock, monkeypatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f"http://127.0.0.1:{port}")
    error = failure(lambda: load().invoke("hi"))
    assert describe_model_error(error, SPEC).startswith("Cannot reach Bedrock: ")


def test_missing_region(fake_bedrock: FakeBedrock, monkeypatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    with pytest.raises(InputError) as caught:
        load()
    assert str(caught.value) == (
        f"cannot set up model {SPEC!r}: No AWS Region set for Bedrock: set LENSWISE_REGION "
        "or AWS_REGION (or region in your AWS config profile)"
    )
    assert describe_model_error(caught.value, SPEC) == str(caught.value)


def test_missing_credentials(fake_bedrock: FakeBedrock, monkeypatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    error = failure(lambda: load().invoke("hi"))
    assert describe_model_error(error, SPEC).startswith("No AWS credentials found for Bedrock:")
    assert fake_bedrock.requests == []  # nothing unsigned was sent


# --- specs ---------------------------------------------------------------------------


def test_init_chat_model_spec_reaches_the_same_endpoint(fake_bedrock: FakeBedrock) -> None:
    from langchain.chat_models import init_chat_model
    from langchain_aws import ChatBedrockConverse

    model = init_chat_model(SPEC)
    assert isinstance(model, ChatBedrockConverse) and model.model_id == MODEL_ID
    assert model.invoke("hi").content == "OK"
    assert fake_bedrock.last.model_id == MODEL_ID


def test_loaded_model_carries_retry_and_timeout_config(fake_bedrock: FakeBedrock) -> None:
    model = load_chat_model(SPEC, Settings(timeout_s=42.0), max_attempts=5, retry_mode="adaptive")
    config = model.client.meta.config
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 5}
    assert (config.connect_timeout, config.read_timeout) == (5.0, 42.0)
    assert load_chat_model(MODEL_ID, Settings()).model_id == MODEL_ID  # bare Bedrock id


def test_bedrock_invoke_model_provider_gets_the_same_config(fake_bedrock: FakeBedrock) -> None:
    from langchain_aws import ChatBedrock

    model = load_chat_model(f"bedrock:{MODEL_ID}", Settings(region="us-west-2"), max_attempts=2)
    assert isinstance(model, ChatBedrock)
    assert model.client.meta.region_name == "us-west-2"
    assert model.client.meta.config.retries["total_max_attempts"] == 2


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "names no chat model"),
        ("extractive", "names no chat model"),
        ("bedrock_converse:", "has no model id"),
        ("nosuchprovider:model-x", "unknown model provider"),
        ("mystery-model", "unknown model provider"),
        ("openai:gpt-4o", "needs the langchain-openai package: pip install langchain-openai"),
    ],
)
def test_bad_specs_are_input_errors(spec: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_chat_model(spec, Settings())


def test_parse_spec() -> None:
    assert parse_spec(SPEC) == ("bedrock_converse", MODEL_ID)
    assert parse_spec(f"us.{MODEL_ID}") == ("bedrock_converse", f"us.{MODEL_ID}")
    assert parse_spec("anthropic:claude-sonnet-4-5") == ("anthropic", "claude-sonnet-4-5")
    assert parse_spec("gpt-4o") == (None, "gpt-4o")


# --- usage and cost ------------------------------------------------------------------


def test_unexpected_errors_still_give_one_line() -> None:
    error = RuntimeError("socket exploded\nwith a long traceback-ish tail")
    assert describe_model_error(error, SPEC) == (
        f"Model {MODEL_ID} failed (RuntimeError: socket exploded)"
    )
    assert not is_retryable(error)


def test_usage_and_cost() -> None:
    usage = {"input_tokens": 2000, "output_tokens": 1000, "total_tokens": 3000}
    assert usage_from(AIMessage("x", usage_metadata=usage)) == usage
    assert usage_from(AIMessage("no usage")) == {
        "input_tokens": 0,
        "output_tokens": 0,
        "total_tokens": 0,
    }
    assert estimate_cost(SPEC, usage) == pytest.approx(2 * 0.00025 + 0.00125)
    assert estimate_cost(f"us.{MODEL_ID}", usage) == estimate_cost(MODEL_ID, usage)
    assert estimate_cost("amazon.nova-2-lite-v1:0", usage) is None
    assert json.dumps(usage_from(AIMessage("x", usage_metadata=usage)))  # JSON-ready
