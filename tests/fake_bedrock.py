"""A scripted Bedrock Runtime server on 127.0.0.1 that speaks the real Converse wire formats.

``POST /model/{modelId}/converse`` answers JSON in the Converse response shape;
``POST /model/{modelId}/converse-stream`` answers AWS event-stream binary frames
(prelude, headers, JSON payload, CRC32s) sent as HTTP chunks, one frame per chunk.
Point boto3 at it with ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` (the :func:`fake_bedrock`
fixture does) and the real ``ChatBedrockConverse`` -> boto3 -> HTTP stack runs unchanged.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from itertools import count
from typing import Any
from urllib.parse import unquote

import pytest

from evals.loopback import LoopbackServer, owner_of
from evals.scripted_bedrock import encode_frame, event_frame

_IDS = count(1)


@dataclass
class Reply:
    """A model turn: Converse content blocks (``text`` / ``toolUse``), stop reason and usage."""

    content: list[dict[str, Any]]
    stop_reason: str = "end_turn"
    usage: tuple[int, int] | None = None
    text_chunks: list[str] | None = None
    corrupt_frame: int | None = None
    stream_exception: tuple[int, str, str] | None = None
    pause_after: int | None = None

    def usage_dict(self) -> dict[str, int]:
        """Return the ``usage`` object: scripted, else a deterministic count of words."""
        if self.usage is None:
            words = sum(len(block.get("text", "").split()) for block in self.content)
            self.usage = (12, words + 10 * sum("toolUse" in block for block in self.content))
        inp, out = self.usage
        return {"inputTokens": inp, "outputTokens": out, "totalTokens": inp + out}

    def converse_body(self) -> dict[str, Any]:
        """Return the JSON body of a ``Converse`` response."""
        return {
            "output": {"message": {"role": "assistant", "content": self.content}},
            "stopReason": self.stop_reason,
            "usage": self.usage_dict(),
            "metrics": {"latencyMs": 42},
        }

    def stream_events(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(event-type, payload)`` pairs of a ``ConverseStream`` response, in order."""
        yield "messageStart", {"role": "assistant"}
        for index, block in enumerate(self.content):
            if "toolUse" in block:
                tool = block["toolUse"]
                start = {"toolUse": {"toolUseId": tool["toolUseId"], "name": tool["name"]}}
                yield "contentBlockStart", {"contentBlockIndex": index, "start": start}
                for piece in _halves(json.dumps(tool["input"])):
                    delta = {"toolUse": {"input": piece}}
                    yield "contentBlockDelta", {"contentBlockIndex": index, "delta": delta}
            else:
                for piece in self.text_chunks or _word_pieces(block["text"]):
                    yield (
                        "contentBlockDelta",
                        {"contentBlockIndex": index, "delta": {"text": piece}},
                    )
            yield "contentBlockStop", {"contentBlockIndex": index}
        yield "messageStop", {"stopReason": self.stop_reason}
        yield "metadata", {"usage": self.usage_dict(), "metrics": {"latencyMs": 42}}


@dataclass
class ErrorReply:
    """An AWS error answer: HTTP status, ``x-amzn-ErrorType`` code and a JSON ``message``."""

    status: int
    code: str
    message: str


@dataclass
class RawReply:
    """Bytes sent as they are, for malformed responses."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"


@dataclass
class Recorded:
    """One request the server received."""

    operation: str
    """``converse`` or ``converse-stream``."""
    model_id: str
    """The model id from the path, URL-decoded."""
    body: dict[str, Any]
    """The JSON request body: ``messages``, ``system``, ``toolConfig``, ``inferenceConfig``..."""
    headers: dict[str, str] = field(default_factory=dict)
    """Request headers, lower-cased names (``authorization`` carries the SigV4 signature)."""


def text_reply(text: str, *, usage: tuple[int, int] | None = None, **kwargs: Any) -> Reply:
    """Script a plain text answer (streamed word by word unless ``text_chunks`` is given).

    Keyword arguments set the other :class:`Reply` fields: ``corrupt_frame`` (flip the
    CRC of that stream frame), ``stream_exception=(after, type, message)`` (an exception
    frame after that many frames), ``pause_after`` (hold the stream after that many frames).
    """
    return Reply(content=[{"text": text}], usage=usage, **kwargs)


def tool_reply(*calls: tuple[str, dict[str, Any]], text: str | None = None, **kwargs: Any) -> Reply:
    """Script a turn that asks for one or several tools: ``("name", {"arg": ...})`` each."""
    content: list[dict[str, Any]] = [{"text": text}] if text else []
    for name, args in calls:
        tool_id = f"tooluse_{next(_IDS):04d}"
        content.append({"toolUse": {"toolUseId": tool_id, "name": name, "input": args}})
    return Reply(content=content, stop_reason="tool_use", **kwargs)


def throttling_error(
    message: str = "Too many requests, please wait before trying again.",
) -> ErrorReply:
    """Script HTTP 429 ``ThrottlingException``."""
    return ErrorReply(429, "ThrottlingException", message)


def access_denied_error(
    message: str = "You don't have access to the model with the specified model ID.",
) -> ErrorReply:
    """Script HTTP 403 ``AccessDeniedException``."""
    return ErrorReply(403, "AccessDeniedException", message)


def unknown_model_error(message: str = "The provided model identifier is invalid.") -> ErrorReply:
    """Script HTTP 400 ``ValidationException`` as Bedrock sends it for an unknown model id."""
    return ErrorReply(400, "ValidationException", message)


def not_found_error(message: str = "Model not found.") -> ErrorReply:
    """Script HTTP 404 ``ResourceNotFoundException``."""
    return ErrorReply(404, "ResourceNotFoundException", message)


def exception_frame(exception_type: str, message: str) -> bytes:
    """Encode a ``:message-type exception`` frame (an error after the stream opened)."""
    headers = {":exception-type": exception_type, ":content-type": "application/json"}
    headers[":message-type"] = "exception"
    return encode_frame(headers, json.dumps({"message": message}).encode())


def stream_frames(reply: Reply) -> list[bytes]:
    """Return the event-stream frames of ``reply``, corrupted or cut off as scripted."""
    frames = [event_frame(kind, payload) for kind, payload in reply.stream_events()]
    if reply.stream_exception is not None:
        after, exception_type, message = reply.stream_exception
        frames = frames[:after] + [exception_frame(exception_type, message)]
    if reply.corrupt_frame is not None:
        bad = bytearray(frames[reply.corrupt_frame])
        bad[-1] ^= 0xFF
        frames[reply.corrupt_frame] = bytes(bad)
    return frames


def _word_pieces(text: str) -> list[str]:
    """Split text into word-sized deltas whose concatenation is the text."""
    pieces, start = [], 0
    for index in range(1, len(text)):
        if text[index] == " ":
            pieces.append(text[start:index])
            start = index
    return pieces + [text[start:]]


def _halves(text: str) -> list[str]:
    middle = len(text) // 2
    return [piece for piece in (text[:middle], text[middle:]) if piece]


EMBED_DIM = 32


def embed_text(text: str) -> list[float]:
    """Deterministic bag-of-words vector standing in for a Titan embedding."""
    vector = [0.0] * EMBED_DIM
    for word in text.lower().split():
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % EMBED_DIM] += 1.0
    return vector


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_POST(self) -> None:
        parts = self.path.split("?")[0].strip("/").split("/")
        if (
            len(parts) != 3
            or parts[0] != "model"
            or parts[2] not in ("converse", "converse-stream", "invoke")
        ):
            self._send_error(ErrorReply(404, "UnknownOperationException", f"no route {self.path}"))
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        record = Recorded(parts[2], unquote(parts[1]), json.loads(raw or b"{}"), headers)
        if record.operation == "invoke":  # Titan-style embeddings: InvokeModel with inputText
            owner_of(self, FakeBedrock).requests.append(record)
            body = {
                "embedding": embed_text(record.body.get("inputText", "")),
                "inputTextTokenCount": len(record.body.get("inputText", "").split()),
            }
            self._send(200, "application/json", json.dumps(body).encode())
            return
        reply = owner_of(self, FakeBedrock).take(record)
        if isinstance(reply, ErrorReply):
            self._send_error(reply)
        elif isinstance(reply, RawReply):
            self._send(reply.status, reply.content_type, reply.body)
        elif record.operation == "converse":
            self._send(200, "application/json", json.dumps(reply.converse_body()).encode())
        else:
            self._send_stream(stream_frames(reply), reply.pause_after)

    def _send_error(self, reply: ErrorReply) -> None:
        body = json.dumps({"message": reply.message}).encode()
        extra = {
            "x-amzn-ErrorType": f"{reply.code}:http://internal.amazon.com/coral/com.amazon.bedrock/"
        }
        self._send(reply.status, "application/json", body, extra)

    def _send(self, status: int, content_type: str, body: bytes, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", f"req-{next(_IDS):04d}")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_stream(self, frames: list[bytes], pause_after: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", f"req-{next(_IDS):04d}")
        self.end_headers()
        for index, frame in enumerate(frames):
            if index == pause_after:
                owner_of(self, FakeBedrock).hold()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


class FakeBedrock(LoopbackServer):
    """A local Bedrock Runtime endpoint answering scripted replies in order.

    Use as a context manager (``with FakeBedrock() as server``) or through the
    :func:`fake_bedrock` fixture. ``enqueue`` replies; ``requests`` holds every
    request body received; an empty queue answers ``"OK"``.
    """

    handler = _Handler

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._queue: deque[Reply | ErrorReply | RawReply] = deque()
        self._lock = threading.Lock()
        self._resume = threading.Event()
        self.held = threading.Event()
        """Set once a reply with ``pause_after`` has sent its first frames and is holding."""
        self.hold_timed_out = False
        """True if a held stream was never resumed within the hold limit."""

    def enqueue(self, *replies: Reply | ErrorReply | RawReply) -> FakeBedrock:
        """Append replies, answered one per request in order."""
        with self._lock:
            self._queue.extend(replies)
        return self

    def take(self, record: Recorded) -> Reply | ErrorReply | RawReply:
        """Record a request and pop its scripted reply."""
        with self._lock:
            self.requests.append(record)
            return self._queue.popleft() if self._queue else text_reply("OK")

    def hold(self, limit_s: float = 5.0) -> None:
        """Hold a stream (in the handler thread) until :meth:`resume` or ``limit_s`` passes."""
        self.held.set()
        self.hold_timed_out = not self._resume.wait(limit_s)

    def resume(self) -> None:
        """Let a held stream send the rest of its frames."""
        self._resume.set()

    @property
    def last(self) -> Recorded:
        """The most recent request."""
        return self.requests[-1]

    def stop(self) -> None:
        """Release a held stream first, then stop serving."""
        self._resume.set()
        super().stop()


def use_fake_aws_env(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    """Point the standard AWS chain at ``endpoint`` with fake credentials and no outside lookups."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ENDPOINT_URL",
        "LANGSMITH_GATEWAY",
        "LENSWISE_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/lenswise-test/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/lenswise-test/credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLENSWISETEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "lenswise-test-secret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", endpoint)


@pytest.fixture(name="fake_bedrock")
def fake_bedrock_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrock]:
    """Yield a running :class:`FakeBedrock` with the AWS environment pointed at it.

    Import ``fake_bedrock_fixture`` into a test module (or list this module in
    ``pytest_plugins``) and ask for ``fake_bedrock``.
    """
    with FakeBedrock() as server:
        use_fake_aws_env(monkeypatch, server.url)
        yield server
