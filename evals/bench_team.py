"""``lenswise bench --team``: a load run of MCP HTTP replicas sharing one state store.

Two replica processes of ``lenswise mcp --http`` share one PostgreSQL server (a throwaway one,
unless ``LENSWISE_STATE_URL`` names one), each serving simulated users: MCP SDK clients with a
bearer token each, for a bounded time, mixing new questions, follow-ups on their own threads and
reviews of a small design. The same run then goes to one replica on SQLite. Printed: p50/p95
latency per kind, throughput, errors, and lost turns (answered turns missing from the thread's
stored transcript afterwards).
"""

from __future__ import annotations

import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx

from agent.config import Settings
from evals.metrics import percentile
from evals.pg_server import Postgres, free_port
from evals.suites import load_suite

KINDS = ("ask", "follow_up", "review")
MIX = (0.4, 0.4, 0.2)
"""Share of each kind of request: new questions, follow-ups, reviews."""
START_WAIT_S = 180.0
DESIGN = """flowchart LR
  user[Users] --> api[API Gateway]
  api --> fn[Lambda]
  fn --> llm[Amazon Bedrock]
  fn --> kb[Bedrock Knowledge Bases]
  kb --> vec[OpenSearch Serverless]
"""


@dataclass
class Load:
    """What one configuration of the run measured."""

    label: str
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: list[str] = field(default_factory=list)
    turns: dict[tuple[str, str], int] = field(default_factory=dict)
    """Answered turns per (user, thread), to compare with the stored transcripts."""
    seconds: float = 0.0
    lost: int = 0

    def row(self) -> dict:
        """Return the figures of this configuration."""
        done = sum(len(v) for v in self.latencies.values())
        row: dict = {"config": self.label, "requests": done, "errors": len(self.errors)}
        row["throughput_rps"] = round(done / self.seconds, 2) if self.seconds else 0.0
        for kind, values in self.latencies.items():
            for q in (50, 95):
                value = percentile(values, q)
                row[f"{kind}_p{q}_ms"] = None if value is None else round(value * 1000)
        row["lost_turns"] = self.lost
        row["first_errors"] = sorted(set(self.errors))[:3]
        return row


def run_team_bench(
    settings: Settings,
    *,
    seconds: float,
    users: int,
    replicas: int,
    think_s: float,
    log: Callable[[str], None],
) -> list[dict]:
    """Run the load on PostgreSQL with ``replicas`` replicas, then on SQLite with one."""
    from index.build import open_index

    log("opening (or building) the lens index")
    open_index(settings)
    rows = []
    with _shared_home(settings.home) as home, _postgres(settings.state_url, log) as url:
        label = f"postgresql, {replicas} replicas x {users} users"
        env = {"LENSWISE_STATE_URL": url}
        rows.append(_run(label, home, env, replicas, users, seconds, think_s, log).row())
    with _shared_home(settings.home) as home:
        label = f"sqlite, 1 replica x {users * replicas} users"
        env = {"LENSWISE_TEAM": "1"}
        rows.append(_run(label, home, env, 1, users * replicas, seconds, think_s, log).row())
    return rows


def render(rows: list[dict], seconds: float, think_s: float) -> str:
    """Return the rows as a text table."""
    lines = [f"team load: {seconds:.0f} s per configuration, {think_s:g} s think time per user"]
    for row in rows:
        lines.append(f"{row['config']}:")
        lines.append(
            f"  {row['requests']} requests, {row['throughput_rps']} req/s, "
            f"{row['errors']} errors, {row['lost_turns']} lost turns"
        )
        for kind in KINDS:
            lines.append(
                f"  {kind:<10} p50 {row[f'{kind}_p50_ms']} ms   p95 {row[f'{kind}_p95_ms']} ms"
            )
        for error in row["first_errors"]:
            lines.append(f"  error: {error}")
    return "\n".join(lines)


@contextmanager
def _postgres(url: str | None, log: Callable[[str], None]) -> Iterator[str]:
    if url:
        yield url
        return
    log("starting a throwaway PostgreSQL server")
    server = Postgres()
    try:
        server.start()
        yield server.url
    finally:
        server.remove()


@contextmanager
def _shared_home(home: Path) -> Iterator[Path]:
    """A fresh LENSWISE_HOME that shares ``home``'s built indexes and encoders, not its state."""
    with tempfile.TemporaryDirectory(prefix="lenswise-team-") as tmp:
        fresh = Path(tmp)
        for name in ("indexes", "onnx"):
            if (home / name).exists():
                (fresh / name).symlink_to(home / name)
        yield fresh


def _run(
    label: str,
    home: Path,
    env: dict[str, str],
    replicas: int,
    users: int,
    seconds: float,
    think_s: float,
    log: Callable[[str], None],
) -> Load:
    tokens = {f"user{n:03d}": secrets.token_urlsafe(24) for n in range(replicas * users)}
    env = {
        **os.environ,
        **env,
        "LENSWISE_HOME": str(home),
        "LENSWISE_MCP_TOKENS": ",".join(f"{t}={u}" for u, t in tokens.items()),
    }
    env.pop("LENSWISE_MODEL", None)
    ports = [free_port() for _ in range(replicas)]
    log(f"{label}: starting {replicas} replica(s)")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "lenswise.cli", "mcp", "--http", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    load = Load(label)
    try:
        for proc, port in zip(procs, ports, strict=True):
            _wait_healthy(proc, port)
        log(f"{label}: {replicas * users} users for {seconds:.0f} s")
        questions = [case.question for case in load_suite("answers").cases]
        started = time.monotonic()
        anyio.run(_drive, load, tokens, ports, questions, started + seconds, think_s)
        load.seconds = time.monotonic() - started
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
    log(f"{label}: counting stored turns")
    load.lost = _lost_turns(load, home, env)
    return load


def _wait_healthy(proc: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"a replica exited: {said[-300:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"a replica on port {port} was not ready within {START_WAIT_S:.0f} s")


async def _drive(load, tokens, ports, questions, deadline, think_s) -> None:
    async with anyio.create_task_group() as group:
        for n, (user, token) in enumerate(tokens.items()):
            port = ports[n % len(ports)]
            group.start_soon(_user, load, user, token, port, questions, deadline, think_s, n)


async def _user(load, user, token, port, questions, deadline, think_s, seed) -> None:
    """One simulated architect: asks, follows up on their own threads, reviews a design."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from mcp.types import TextContent

    rng = random.Random(seed)
    threads: list[str] = []
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    url = f"http://127.0.0.1:{port}/mcp"
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        await anyio.sleep(rng.random() * think_s)  # users do not all start in step
        while time.monotonic() < deadline:
            kind = rng.choices(KINDS, MIX)[0]
            if kind == "follow_up" and not threads:
                kind = "ask"
            if kind == "review":
                tool, args = "review_architecture", {"content": DESIGN, "format": "mermaid"}
            else:
                args = {"question": rng.choice(questions)}
                if kind == "follow_up":
                    args["thread_id"] = rng.choice(threads)
                tool = "ask_lens"
            started = time.perf_counter()
            try:
                result = await client.call_tool(tool, args)
            except Exception as exc:  # noqa: BLE001 - counted and shown as an error
                load.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            else:
                if result.is_error:
                    block = result.content[0]
                    said = block.text if isinstance(block, TextContent) else repr(block)
                    load.errors.append(said[:200])
                else:
                    load.latencies[kind].append(time.perf_counter() - started)
                    if tool == "ask_lens":
                        thread = result.structured_content["thread_id"]
                        if thread not in threads:
                            threads.append(thread)
                        key = (user, thread)
                        load.turns[key] = load.turns.get(key, 0) + 1
            await anyio.sleep(think_s)


def _lost_turns(load: Load, home: Path, env: dict[str, str]) -> int:
    """Count answered turns that the store does not hold afterwards."""
    from agent import LensAssistant

    settings = Settings.from_env(env=env).with_(home=home)
    lens = LensAssistant(settings)
    lost = 0
    for (user, thread), answered in load.turns.items():
        stored = len(lens.for_user(user).conversations.transcript(thread))
        lost += max(0, answered - stored)
    lens.store.close()
    return lost
