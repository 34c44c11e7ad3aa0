"""The MCP server on a new home, and what a client reads when a call goes wrong.

The index build starts with the server; the official MCP client sees the tools that need no
index answer at once, and the others report the build's progress and then a clear tool error
instead of a silent wait. Errors are one line, without echoed input or pydantic URLs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import anyio
import pytest
from mcp import Client, MCPError

from agent.config import Settings
from lenswise.mcp.server import build_server
from tests.helpers import REPO, HashEmbedder, use_hash_embedder


class GatedEmbedder(HashEmbedder):
    """The hash embedder that stops after its first batch until the test opens the gate."""

    def __init__(self, gate: threading.Event, name: str) -> None:
        super().__init__(name=name)
        self.gate = gate

    def encode(self, texts):
        if self.calls:
            assert self.gate.wait(60), "the test never opened the gate"
        return super().encode(texts)


@pytest.fixture
def fresh_home(monkeypatch, tmp_path):
    """A home with no index whose build stalls after one batch until ``gate.set()``."""
    import index.build
    import lenswise.mcp.warmup

    use_hash_embedder(monkeypatch)
    gate = threading.Event()
    monkeypatch.setattr(index.build, "load_embedder", lambda spec: GatedEmbedder(gate, spec))
    monkeypatch.setattr(lenswise.mcp.warmup, "WAIT_S", 2.5)
    monkeypatch.setattr(lenswise.mcp.warmup, "TICK_S", 0.2)
    yield tmp_path / "home", gate
    gate.set()


def test_a_new_home_builds_at_start_and_calls_hear_progress_not_silence(fresh_home, tmp_path):
    from agent import LensAssistant

    home, gate = fresh_home
    server = build_server(LensAssistant(Settings(home=home)), [tmp_path], warm=True)
    progress: list[tuple[float, float | None, str | None]] = []
    logged: list[str] = []

    async def on_progress(done, total, message):
        progress.append((done, total, message))

    async def on_log(params):
        logged.append(str(params.data))

    async def go():
        async with Client(server, logging_callback=on_log, log_level="info") as client:
            with anyio.fail_after(10):
                listed = await client.call_tool("list_best_practices", {"risk": "high"})
                page = await client.call_tool("get_best_practice", {"id": "GENSEC04-BP02"})
                busy = await client.call_tool(
                    "search_lens", {"query": "prompt injection"}, progress_callback=on_progress
                )
            gate.set()
            with anyio.fail_after(60):
                while True:
                    hits = await client.call_tool("search_lens", {"query": "prompt injection"})
                    if not hits.is_error:
                        return listed, page, busy, hits

    listed, page, busy, hits = anyio.run(go)
    assert not listed.is_error and listed.structured_content["count"] > 0
    assert page.structured_content["id"] == "GENSEC04-BP02"
    assert busy.is_error
    message = busy.content[0].text
    assert "index being built" in message and "% done" in message
    assert "lenswise index build" in message
    done, total, text = progress[-1]
    assert 0 < done < total and "chunks embedded" in text
    assert logged and "building the lens index" in logged[0]
    assert hits.structured_content["hits"]


def test_without_warm_up_the_first_call_builds_and_answers(monkeypatch, tmp_path):
    from agent import LensAssistant

    use_hash_embedder(monkeypatch)
    server = build_server(LensAssistant(Settings(home=tmp_path / "home")), [tmp_path])

    async def go():
        async with Client(server) as client:
            return await client.call_tool("search_lens", {"query": "guardrails", "k": 2})

    assert len(anyio.run(go).structured_content["hits"]) == 2


def test_ask_lens_tells_the_client_how_the_turn_goes_then_answers(monkeypatch, tmp_path):
    """The tool reads the typed stream: each status event reaches the client as a log line."""
    from agent import LensAssistant

    use_hash_embedder(monkeypatch)
    lens = LensAssistant(Settings(home=tmp_path / "home"))
    server = build_server(lens, [tmp_path])
    logged: list[str] = []

    async def on_log(params):
        logged.append(str(params.data))

    async def go():
        async with Client(server, logging_callback=on_log, log_level="info") as client:
            return await client.call_tool("ask_lens", {"question": "How do I use guardrails?"})

    reply = anyio.run(go)
    assert not reply.is_error and reply.structured_content["citations"]
    statuses = [line.removeprefix("lenswise: ") for line in logged if line.startswith("lenswise: ")]
    expected = [e.text for e in lens.stream("How do I use guardrails?") if e.type == "status"]
    assert statuses and statuses == expected


# --- schemas, annotations, server info, prompt --------------------------------------------


@pytest.fixture
def hash_server(monkeypatch, tmp_path):
    from agent import LensAssistant

    use_hash_embedder(monkeypatch)
    settings = Settings(home=tmp_path / "home", max_upload_bytes=4096)
    return build_server(LensAssistant(settings), [tmp_path])


def run_client(server, body):
    async def go():
        async with Client(server) as client:
            return await body(client)

    return anyio.run(go)


def test_filters_are_enums_read_only_tools_say_so_and_the_server_names_its_version(hash_server):
    async def body(client):
        return client.server_info, {t.name: t for t in (await client.list_tools()).tools}

    info, tools = run_client(hash_server, body)
    assert info.version and info.version != ""
    search = tools["search_lens"].input_schema["properties"]["pillar"]
    listed = tools["list_best_practices"].input_schema["properties"]
    assert "security" in str(search) and "cost-optimization" in str(search)
    assert {"high", "medium", "low"} <= set(str(listed["risk"]).replace("'", " ").split())
    assert "enum" in str(listed["pillar"]) and "enum" in str(listed["risk"])
    read_only = {n for n, t in tools.items() if t.annotations and t.annotations.read_only_hint}
    assert read_only == {
        "search_lens",
        "get_best_practice",
        "list_best_practices",
        "review_architecture",
        "suggest_fix",
    }


def test_prompt_argument_is_described_and_a_missing_one_is_one_line(hash_server):
    async def body(client):
        prompts = (await client.list_prompts()).prompts
        with pytest.raises(MCPError) as missing:
            await client.get_prompt("review-architecture", {})
        return prompts, missing.value

    prompts, missing = run_client(hash_server, body)
    (argument,) = prompts[0].arguments
    assert argument.required and "file path" in argument.description
    assert "architecture" in missing.message and "\n" not in missing.message
    assert "Traceback" not in missing.message


def test_bad_arguments_are_one_short_line_without_urls_or_echoed_input(hash_server):
    huge = "x" * 8000

    async def body(client):
        return [
            await client.call_tool("list_best_practices", {"pillar": huge}),
            await client.call_tool("search_lens", {"query": "guardrails", "k": 500}),
            await client.call_tool("review_architecture", {"content": 42}),
            await client.call_tool("get_best_practice", {"id": huge}),
        ]

    for result in run_client(hash_server, body):
        text = result.content[0].text
        assert result.is_error and ("invalid arguments for" in text or "no lens page" in text)
        assert "pydantic" not in text and "http" not in text and "x" * 100 not in text
        assert "\n" not in text and len(text) < 400


def test_the_cli_cuts_an_echoed_filter_short(monkeypatch, tmp_path, capsys):
    from lenswise.cli import main

    use_hash_embedder(monkeypatch)
    monkeypatch.setenv("LENSWISE_HOME", str(tmp_path / "home"))
    assert main(["search", "guardrails", "--pillar", "p" * 8000]) == 2
    err = capsys.readouterr().err
    assert "unknown pillar" in err and len(err) < 300


def test_a_parser_failure_gives_its_reason(hash_server, monkeypatch):
    import agent.api

    def broken(*args, **kwargs):
        raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")

    monkeypatch.setattr("diagrams.parse_bytes", broken)

    async def body(client):
        return await client.call_tool("review_architecture", {"content": "flowchart LR\n a-->b"})

    result = run_client(hash_server, body)
    assert result.is_error and agent.api
    assert "could not read its input" in result.content[0].text
    assert "4300 digits" in result.content[0].text


# --- review_architecture: compact, gaps first, filters ------------------------------------

MERMAID = """flowchart LR
  u[Users] --> api[Amazon API Gateway]
  api --> fn[AWS Lambda]
  fn --> br[Amazon Bedrock]
  fn --> s3[Amazon S3]
"""


def test_review_is_compact_gaps_first_with_a_status_filter_and_detail(hash_server):
    async def body(client):
        call = client.call_tool
        return (
            await call("review_architecture", {"content": MERMAID}),
            await call("review_architecture", {"content": MERMAID, "status": "all"}),
            await call("review_architecture", {"content": MERMAID, "status": "unknown"}),
            await call("review_architecture", {"content": MERMAID, "detail": True}),
        )

    gaps, every, unknown, detailed = (r.structured_content for r in run_client(hash_server, body))
    coverage = gaps["coverage"]
    assert gaps["status"] == "gap" and len(gaps["findings"]) == coverage["gap"] > 0
    assert {f["status"] for f in gaps["findings"]} == {"gap"}
    ranks = {"High": 0, "Medium": 1, "Low": 2}
    risks = [ranks.get(f["risk"], 3) for f in gaps["findings"]]
    assert risks == sorted(risks)
    assert "components" not in gaps and "evidence" not in gaps["findings"][0]
    statuses = [f["status"] for f in every["findings"]]
    assert len(statuses) == coverage["total"]
    assert statuses == sorted(statuses, key=["gap", "unknown", "addressed"].index)
    assert {f["status"] for f in unknown["findings"]} == {"unknown"}
    assert detailed["components"] and "evidence" in detailed["findings"][0]
    assert len(str(gaps)) < min(len(str(every)), len(str(detailed)))


def test_pasted_content_over_the_cap_is_a_tool_error(hash_server):
    async def body(client):
        return await client.call_tool("review_architecture", {"content": MERMAID * 200})

    result = run_client(hash_server, body)
    assert result.is_error and "LENSWISE_MAX_UPLOAD_BYTES" in result.content[0].text


# --- roots ------------------------------------------------------------------------------


def test_a_hard_link_to_a_file_outside_the_roots_is_refused(hash_server, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside.mmd"
    outside.write_text(MERMAID, encoding="utf-8")
    os.link(outside, tmp_path / "linked.mmd")
    (tmp_path / "own.mmd").write_text(MERMAID, encoding="utf-8")

    async def body(client):
        return (
            await client.call_tool("review_architecture", {"path": "linked.mmd"}),
            await client.call_tool("review_architecture", {"path": "own.mmd"}),
        )

    try:
        linked, own = run_client(hash_server, body)
    finally:
        outside.unlink()
    assert linked.is_error and "other hard links" in linked.content[0].text
    assert not own.is_error


# --- over stdio, as a host runs it ----------------------------------------------------------

SERVE_WITH_HASH_EMBEDDER = """
import sys
from tests.helpers import use_hash_embedder
use_hash_embedder()
from lenswise.cli import main
sys.exit(main(["mcp", *sys.argv[1:]]))
"""
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}


def test_every_stdio_line_gets_an_answer_even_unreadable_ones(tmp_path):
    env = {**os.environ, "LENSWISE_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)}
    lines = [
        json.dumps(INITIALIZE),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        "this is not json",
        '{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": '
        '"get_best_practice", "arguments": {"id": "\\ud800"}}}',
        '{"jsonrpc": "2.0", "id": 3}',
        json.dumps({"jsonrpc": "2.0", "id": 4, "method": "ping"}),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE_WITH_HASH_EMBEDDER, "--root", str(tmp_path)],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        proc.stdin.write(("\n".join(lines) + "\n").encode())
        proc.stdin.flush()
        replies = {}
        while 4 not in replies:
            reply = json.loads(proc.stdout.readline())
            replies[reply.get("id", "none")] = reply
            if reply.get("id") is None:
                replies["null"] = reply
    finally:
        proc.kill()
        proc.wait()
    assert replies["null"]["error"]["code"] == -32700
    assert replies[2]["error"]["code"] == -32600 and "surrogate" in replies[2]["error"]["message"]
    assert replies[3]["error"]["code"] == -32600
    assert replies[4]["result"] == {}
