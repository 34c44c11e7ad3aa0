"""The MCP server over streamable HTTP: bearer tokens that name users, and ``/healthz``.

On loopback the server may run open, as a developer's local tool. Bound to anything else, or in
team mode, every request needs ``Authorization: Bearer <token>`` with a token from
``LENSWISE_MCP_TOKENS``; the token's user is the acting user of the request, so each client sees
only its own threads. Such a server is stateless (no MCP session to pin to one replica), so any
replica behind a load balancer can answer any request.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping
from typing import Any

import anyio

from agent.identity import acting_as, parse_tokens, user_of_token
from corpus.errors import InputError

HEALTH_PATH = "/healthz"
Send = Callable[[dict], Any]


def is_loopback(host: str) -> bool:
    """Return True when ``host`` is a loopback address or ``localhost``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tokens_for(host: str, tokens_text: str | None, team: bool) -> dict[str, str]:
    """Return the token -> user map the server at ``host`` must enforce (empty: none).

    Raises:
        InputError: tokens are needed (beyond loopback, or team mode) and none are set, or
            ``LENSWISE_MCP_TOKENS`` is malformed.
    """
    tokens = parse_tokens(tokens_text)
    if not tokens and not is_loopback(host):
        raise InputError(
            f"refusing to serve MCP on {host} without authentication: set LENSWISE_MCP_TOKENS "
            "(token=user pairs), or bind to 127.0.0.1"
        )
    if not tokens and team:
        raise InputError(
            "team mode: the MCP HTTP server needs LENSWISE_MCP_TOKENS (token=user pairs) "
            "to know who each client is"
        )
    return tokens


class TokenGate:
    """ASGI wrapper: answers ``/healthz``; lets a request through only with a known token."""

    def __init__(
        self, app: Any, tokens: Mapping[str, str], health: Callable[[], Mapping[str, Any]]
    ) -> None:
        """Guard ``app`` with ``tokens`` (none: open) and answer health checks with ``health``."""
        self._app = app
        self._tokens = dict(tokens)
        self._health = health

    async def __call__(self, scope: dict, receive: Callable, send: Send) -> None:
        """Serve one ASGI connection."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if scope["path"] == HEALTH_PATH:
            report = dict(await anyio.to_thread.run_sync(self._health))  # it does I/O
            await _json(send, 200 if report.get("ready") else 503, report)
            return
        if not self._tokens:
            await self._app(scope, receive, send)
            return
        user = self._user(scope)
        if user is None:
            await _json(
                send,
                401,
                {"error": "a valid bearer token is required (Authorization: Bearer <token>)"},
                [(b"www-authenticate", b'Bearer realm="lenswise"')],
            )
            return
        with acting_as(user):
            await self._app(scope, receive, send)

    def _user(self, scope: dict) -> str | None:
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    return user_of_token(self._tokens, token.strip())
        return None


async def _json(
    send: Send, status: int, body: Mapping[str, Any], extra: list | None = None
) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": data})


def serve(
    server: Any,
    health: Callable[[], Mapping[str, Any]],
    *,
    host: str,
    port: int,
    tokens: Mapping[str, str],
    body_limit: int,
) -> None:
    """Serve ``server`` (an ``MCPServer``) on ``host:port`` until stopped.

    ``body_limit`` is the largest request body the transport reads, so that an upload over the
    documented cap reaches the tool (a tool error) instead of ending as a 413.

    With tokens the transport is stateless: every request stands alone and carries its user.
    """
    import uvicorn

    app = server.streamable_http_app(
        host=host, stateless_http=bool(tokens), max_request_body_size=body_limit
    )
    gate = TokenGate(app, tokens, health)
    uvicorn.Server(uvicorn.Config(gate, host=host, port=port, log_level="warning")).run()
