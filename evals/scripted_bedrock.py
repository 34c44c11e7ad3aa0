"""A scripted Bedrock Runtime endpoint on 127.0.0.1 for suites that test the generative path.

A suite with ``scripted_model`` gives each case the turns a model writes for its question
(``model_turns``: tool calls, then text). :class:`ScriptedBedrock` answers ``Converse`` and
``ConverseStream`` in the real wire formats (JSON; AWS event-stream frames with CRC32s), so
the run goes through the real ``ChatBedrockConverse`` -> boto3 -> HTTP client stack. Each
request is matched to a case by the latest scripted question it carries; the case's turns are
served in order and its last text turn repeats (a model that ignores a retry request).
:func:`pointed_at` points the standard AWS chain at the server for the duration of a run.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from itertools import count
from typing import Any

from evals.loopback import LoopbackServer, owner_of

_IDS = count(1)


def encode_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """Encode one AWS event-stream message (string headers only, as Bedrock sends)."""
    raw_headers = b""
    for name, value in headers.items():
        name_bytes, value_bytes = name.encode(), value.encode()
        raw_headers += struct.pack("!B", len(name_bytes)) + name_bytes
        raw_headers += struct.pack("!BH", 7, len(value_bytes)) + value_bytes
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack("!II", total, len(raw_headers))
    prelude += struct.pack("!I", zlib.crc32(prelude))
    message = prelude + raw_headers + payload
    return message + struct.pack("!I", zlib.crc32(message))


def event_frame(event_type: str, payload: dict[str, Any]) -> bytes:
    """Encode a ``:message-type event`` frame with a JSON payload."""
    headers = {":event-type": event_type, ":content-type": "application/json"}
    headers[":message-type"] = "event"
    return encode_frame(headers, json.dumps(payload).encode())


def content_of(turn: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the Converse content blocks of a scripted turn (``text`` or ``tool`` + ``args``)."""
    if "tool" in turn:
        tool_id = f"tooluse_{next(_IDS):04d}"
        call = {"toolUseId": tool_id, "name": turn["tool"], "input": dict(turn.get("args", {}))}
        return [{"toolUse": call}]
    return [{"text": str(turn["text"])}]


def _usage(content: list[dict[str, Any]]) -> dict[str, int]:
    words = sum(len(block.get("text", "").split()) for block in content)
    return {"inputTokens": 100, "outputTokens": words + 10, "totalTokens": 110 + words}


def stream_events(content: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield the ``(event type, payload)`` pairs of a ``ConverseStream`` answer, in order."""
    yield "messageStart", {"role": "assistant"}
    for index, block in enumerate(content):
        if "toolUse" in block:
            tool = block["toolUse"]
            start = {"toolUse": {"toolUseId": tool["toolUseId"], "name": tool["name"]}}
            yield "contentBlockStart", {"contentBlockIndex": index, "start": start}
            delta = {"toolUse": {"input": json.dumps(tool["input"])}}
        else:
            delta = {"text": block["text"]}
        yield "contentBlockDelta", {"contentBlockIndex": index, "delta": delta}
        yield "contentBlockStop", {"contentBlockIndex": index}
    stop = "tool_use" if any("toolUse" in block for block in content) else "end_turn"
    yield "messageStop", {"stopReason": stop}
    yield "metadata", {"usage": _usage(content), "metrics": {"latencyMs": 1}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the eval's output quiet."""

    def do_POST(self) -> None:
        operation = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if operation not in ("converse", "converse-stream"):
            self._send(404, b'{"message": "not a Converse operation"}')
            return
        content = content_of(
            owner_of(self, ScriptedBedrock).script.next_turn(json.loads(raw or b"{}"))
        )
        if operation == "converse":
            stop = "tool_use" if "toolUse" in content[0] else "end_turn"
            body = {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": stop,
                "usage": _usage(content),
                "metrics": {"latencyMs": 1},
            }
            self._send(200, json.dumps(body).encode())
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for kind, payload in stream_events(content):
            frame = event_frame(kind, payload)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
        self.wfile.write(b"0\r\n\r\n")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Script:
    """The scripted turns of each question, served in order per question."""

    def __init__(self, turns: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Keep ``question -> turns``; longer questions are matched first."""
        self.turns = {" ".join(q.split()): list(t) for q, t in turns.items() if t}
        self.served: dict[str, int] = {}
        self._lock = threading.Lock()

    def question_of(self, body: Mapping[str, Any]) -> str | None:
        """Return the scripted question the request is about: the latest one it carries."""
        for message in reversed(body.get("messages", [])):
            text = " ".join(
                " ".join(str(block.get("text", "")).split()) for block in message["content"]
            )
            found = [q for q in self.turns if q in text]
            if message.get("role") == "user" and found:
                return max(found, key=len)
        return None

    def next_turn(self, body: Mapping[str, Any]) -> Mapping[str, Any]:
        """Return the next turn for the request's question (its last text turn once used up)."""
        question = self.question_of(body)
        if question is None:
            return {"text": "I have no scripted answer for this question."}
        with self._lock:
            served = self.served.get(question, 0)
            self.served[question] = served + 1
        turns = self.turns[question]
        if served < len(turns):
            return turns[served]
        return next((t for t in reversed(turns) if "text" in t), turns[-1])


class ScriptedBedrock(LoopbackServer):
    """A local Bedrock Runtime endpoint answering a :class:`Script` (a context manager)."""

    handler = _Handler
    poll_s = 0.05

    def __init__(self, turns: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Prepare the server for ``question -> turns``; :meth:`start` listens."""
        self.script = Script(turns)


_AWS_CHAIN = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_ENDPOINT_URL",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "LENSWISE_REGION",
)
"""Settings that would send the scripted run elsewhere or to real credentials: unset for it."""


@contextmanager
def pointed_at(url: str) -> Iterator[None]:
    """Point the AWS chain at ``url`` with placeholder credentials, restoring it afterwards."""
    scripted = {
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": url,
        "AWS_ACCESS_KEY_ID": "SCRIPTED",
        "AWS_SECRET_ACCESS_KEY": "scripted",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    saved = {name: os.environ.get(name) for name in (*scripted, *_AWS_CHAIN)}
    for name in _AWS_CHAIN:
        os.environ.pop(name, None)
    os.environ.update(scripted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
