"""The MCP HTTP server in team mode: bearer tokens name users, threads stay their own, /healthz.

A real ``lenswise mcp --http`` process on loopback over the throwaway PostgreSQL server
(evals/pg_server.py), driven by the MCP SDK's own HTTP client.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import textwrap
import time

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from evals.pg_server import free_port
from lenswise.cli import main
from tests.helpers import REPO, use_hash_embedder

SERVER = textwrap.dedent(
    """
    import sys
    from lenswise.cli import main
    from tests.helpers import use_hash_embedder

    use_hash_embedder()
    sys.exit(main(["mcp", "--http", "--port", sys.argv[1]]))
    """
)
ALICE, BOB = secrets.token_urlsafe(24), secrets.token_urlsafe(24)


@pytest.fixture
def team_server(pg_url, tmp_path, monkeypatch):
    """A team-mode MCP HTTP server with a token for alice and one for bob; yields its URL."""
    use_hash_embedder(monkeypatch)
    monkeypatch.setenv("LENSWISE_HOME", str(tmp_path / "home"))
    assert main(["index", "build"]) == 0
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LENSWISE_STATE_URL": pg_url,
        "LENSWISE_MCP_TOKENS": f"{ALICE}=alice,{BOB}=bob",
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not become healthy"
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _ask(base: str, token: str, arguments: dict):
    async def go():
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        async with http, Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
            return await client.call_tool("ask_lens", arguments)

    return anyio.run(go)


def test_tokens_name_users_and_one_user_cannot_reach_anothers_thread(team_server):
    health = httpx.get(f"{team_server}/healthz", timeout=5).json()
    assert health["ready"] and health["store"]["detail"].startswith("postgresql://")
    for headers in ({}, {"Authorization": "Bearer not-a-token-we-know"}, {"Authorization": ALICE}):
        refused = httpx.post(f"{team_server}/mcp", json={}, headers=headers, timeout=5)
        assert refused.status_code == 401
        assert "bearer token" in refused.json()["error"]

    first = _ask(team_server, ALICE, {"question": "How do I stop prompt injection?"})
    assert not first.is_error, first
    thread = first.structured_content["thread_id"]
    stolen = _ask(team_server, BOB, {"question": "What did you tell her?", "thread_id": thread})
    assert stolen.is_error and f"no thread {thread}" in stolen.content[0].text
    follow_up = _ask(team_server, ALICE, {"question": "And logging?", "thread_id": thread})
    assert not follow_up.is_error and follow_up.structured_content["thread_id"] == thread


def test_http_beyond_loopback_or_in_team_mode_needs_tokens(monkeypatch, capsys):
    assert main(["mcp", "--http", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "lenswise: error: refusing to serve MCP on 0.0.0.0 without authentication: set "
        "LENSWISE_MCP_TOKENS (token=user pairs), or bind to 127.0.0.1"
    ]
    monkeypatch.setenv("LENSWISE_TEAM", "1")
    assert main(["mcp", "--http"]) == 2
    assert "team mode: the MCP HTTP server needs LENSWISE_MCP_TOKENS" in capsys.readouterr().err
    monkeypatch.setenv("LENSWISE_MCP_TOKENS", "short=alice")
    assert main(["mcp", "--http"]) == 2
    assert "at least 16 characters" in capsys.readouterr().err
