"""CLI details users hit: ``--version``, ``ask --thread`` ids as MCP takes them, ``ui --host``."""

from __future__ import annotations

import re
from importlib.metadata import version

import anyio
import pytest
from mcp import Client

import lenswise.cli.foreground as foreground
from agent.config import Settings
from lenswise.cli import main
from tests.helpers import use_hash_embedder

IDS = [
    "t1",
    "a" * 64,
    "a" * 65,
    "release-2.1_notes",
    "has space",
    "ünïcode",
    "semi;colon",
    "",
    "../up",
    "x/y",
    "0123456789abcdef0123456789abcdef",
]


def test_version_prints_the_installed_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"lenswise {version('lenswise')}"


def _mcp_thread_schema(tmp_path) -> dict:
    from agent import LensAssistant
    from lenswise.mcp.server import build_server

    server = build_server(LensAssistant(Settings(home=tmp_path / "home")), [tmp_path])

    async def go():
        async with Client(server) as client:
            return (await client.list_tools()).tools

    (ask,) = [t for t in anyio.run(go) if t.name == "ask_lens"]
    schema = ask.input_schema["properties"]["thread_id"]
    return next((s for s in schema.get("anyOf", [schema]) if s.get("type") == "string"), schema)


def test_ask_thread_accepts_exactly_the_ids_mcp_accepts(tmp_path, monkeypatch, capsys):
    use_hash_embedder(monkeypatch)
    schema = _mcp_thread_schema(tmp_path)
    for ident in IDS:
        by_mcp = bool(re.search(schema["pattern"], ident)) and len(ident) <= schema["maxLength"]
        code = main(["ask", "What is prompt injection?", "--thread", ident, "--json"])
        out, err = capsys.readouterr()
        assert (code == 0) == by_mcp, (ident, err)
        if not by_mcp:
            assert code == 2 and err.count("\n") == 1 and "thread id" in err


@pytest.mark.parametrize(
    ("host", "listens", "warned"),
    [
        ("127.0.0.1", "127.0.0.1", False),
        ("localhost", "localhost", False),
        ("::1", "::1", False),
        ("0.0.0.0", "0.0.0.0", True),
        ("[::]", "::", True),
        ("ui.internal", "ui.internal", True),
        ("lenswise_ui", "lenswise_ui", True),
    ],
)
def test_ui_host_is_passed_to_streamlit_with_a_warning_off_loopback(
    host, listens, warned, monkeypatch, capsys
):
    commands = []
    monkeypatch.setattr(foreground, "run_foreground", lambda cmd, env: commands.append(cmd) or 0)
    assert main(["ui", "--host", host, "--port", "8600"]) == 0
    (command,) = commands
    assert command[command.index("--server.address") + 1] == listens
    err = capsys.readouterr().err
    assert ("warning: the UI listens on" in err) == warned
    assert ":8600 (Ctrl+C to stop)" in err


@pytest.mark.parametrize("host", ["", "bad host", "a..b", "x" * 300, "host;rm"])
def test_ui_refuses_a_host_that_is_no_address(host, capsys):
    assert main(["ui", "--host", host]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lenswise: error:") and err.count("\n") == 1
