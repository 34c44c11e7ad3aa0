"""MCP over stdio where every request line gets a reply, even one that cannot be read.

The SDK's stdio transport hands a line it cannot parse to the server as an exception, and
the server drops it: a client that sent malformed JSON, or a request holding a lone
surrogate (valid to Python's JSON reader, refused by the SDK's), waits for ever. Here such
a line is answered with a JSON-RPC error, carrying the request's id when it can be found.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

import anyio
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError


def error_reply(exc: Exception) -> JSONRPCError | None:
    """Return the JSON-RPC error answering the line behind ``exc`` (None for a notification)."""
    raw = _line_of(exc)
    try:
        message = json.loads(raw) if isinstance(raw, str) else raw
    except (ValueError, RecursionError):
        message = None
    if not isinstance(message, dict):
        return _error(None, PARSE_ERROR, "parse error: the line is not a JSON-RPC message")
    if "method" in message and "id" not in message:
        return None  # a notification gets no reply, even a bad one
    ident = _request_id(message.get("id"))
    if _has_lone_surrogate(message):
        reason = "the request holds a lone surrogate escape, which is not valid Unicode"
    else:
        reason = "the message does not follow JSON-RPC 2.0 and the MCP schema"
    return _error(ident, INVALID_REQUEST, f"invalid request: {reason}")


def _line_of(exc: Exception) -> Any:
    if isinstance(exc, ValidationError) and exc.errors():
        return exc.errors()[0].get("input")
    return None


def _request_id(value: Any) -> str | int | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    if isinstance(value, str) and _has_lone_surrogate(value):
        return None
    return value


def _has_lone_surrogate(value: Any) -> bool:
    """Whether any string in ``value`` (keys included) cannot be encoded as UTF-8."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _error(ident: str | int | None, code: int, message: str) -> JSONRPCError:
    return JSONRPCError(jsonrpc="2.0", id=ident, error=ErrorData(code=code, message=message))


class AnsweringReadStream:
    """A transport's read stream that answers unreadable lines instead of passing them on."""

    def __init__(self, inner: Any, write_stream: Any) -> None:
        """Read from ``inner``; send replies to unreadable lines on ``write_stream``."""
        self._inner = inner
        self._write = write_stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # e.g. last_context, read by the dispatcher

    async def receive(self) -> SessionMessage:
        """Return the next readable message, answering each unreadable one on the way."""
        while True:
            item = await self._inner.receive()
            if not isinstance(item, Exception):
                return item
            reply = error_reply(item)
            if reply is not None:
                await self._write.send(SessionMessage(reply))

    def __aiter__(self) -> AnsweringReadStream:
        return self

    async def __anext__(self) -> SessionMessage:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        """Close the wrapped stream."""
        await self._inner.aclose()

    async def __aenter__(self) -> AnsweringReadStream:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        return await self._inner.__aexit__(exc_type, exc_val, exc_tb)
