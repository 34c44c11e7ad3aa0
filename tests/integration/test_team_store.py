"""Team mode on a real PostgreSQL server: shared threads, owners, migrations, failures.

The same behaviour is asserted on both stores where it applies (SQLite, the default, and
PostgreSQL); the server is a throwaway one (see evals/pg_server.py), skipped with a reason if none.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from agent import LensAssistant, LenswiseError
from agent.config import Settings
from agent.identity import IdentityRequired, acting_as
from agent.pg_store import MIGRATIONS, PostgresStore, StoreUnavailable, lock_key
from agent.threads import MIGRATIONS as SQLITE_MIGRATIONS
from corpus.errors import InputError
from evals.pg_server import free_port
from lenswise.cli import main
from tests.helpers import CLI_WITH_HASH_EMBEDDER, REPO, use_hash_embedder


@pytest.fixture(params=["sqlite", "postgresql"])
def team_settings(request, tmp_path):
    """Team-mode settings on each store."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    return Settings(home=tmp_path / "home", state_url=url, team=True)


def test_users_see_only_their_own_threads_feedback_and_designs(team_settings, hash_index):
    lens = LensAssistant(team_settings, index=hash_index)
    alice, bob = lens.for_user("alice"), lens.for_user("bob")
    mine = alice.ask("How do I stop prompt injection?").thread_id
    alice.conversations.feedback(mine, 0, 1, "useful")
    bobs = bob.ask("How do I control model cost?").thread_id

    assert [t.id for t in alice.conversations.threads()] == [mine]
    assert [t.id for t in bob.conversations.threads()] == [bobs]
    assert [f.thread_id for f in alice.conversations.all_feedback()] == [mine]
    assert bob.conversations.all_feedback() == []
    # Bob holds Alice's thread id: every way in is refused as if it did not exist.
    refusals = [
        lambda: bob.ask("and what about logging?", thread_id=mine),
        lambda: bob.conversations.transcript(mine),
        lambda: bob.conversations.export_thread(mine),
        lambda: bob.conversations.rename_thread(mine, "mine now"),
        lambda: bob.conversations.delete_thread(mine),
        lambda: bob.conversations.detach_design(mine),
        lambda: bob.conversations.feedback(mine, 0, -1),
        lambda: bob.conversations.feedback_given(mine),
    ]
    for attempt in refusals:
        with pytest.raises(InputError, match=f"no thread {mine}"):
            attempt()
    turns = alice.conversations.transcript(mine)
    assert [t.question for t in turns] == ["How do I stop prompt injection?"]
    assert alice.conversations.feedback_given(mine)[0].score == 1
    # A request marked with its user (as the MCP server does) is held to the same rule.
    with acting_as("bob"), pytest.raises(InputError, match="no thread"):
        lens.conversations.transcript(mine)
    with acting_as("alice"):
        assert len(lens.conversations.transcript(mine)) == 1


def test_team_mode_refuses_a_request_without_an_identity(team_settings, hash_index):
    lens = LensAssistant(team_settings, index=hash_index)
    with pytest.raises(IdentityRequired, match="no user identity"):
        lens.ask("How do I stop prompt injection?")
    with pytest.raises(IdentityRequired):
        lens.conversations.threads()
    with pytest.raises(InputError):
        lens.for_user("  ")


def test_two_assistants_on_one_server_see_the_same_threads_at_once(pg_url, hash_index, tmp_path):
    settings = Settings(home=tmp_path / "a", state_url=pg_url, team=True)
    first = LensAssistant(settings, index=hash_index).for_user("carol")
    second = LensAssistant(settings.with_(home=tmp_path / "b"), index=hash_index).for_user("carol")
    thread = first.ask("How do I stop prompt injection?").thread_id
    assert [t.id for t in second.conversations.threads()] == [thread]
    second.ask("And how do I log the prompts?", thread_id=thread)
    questions = [t.question for t in first.conversations.transcript(thread)]
    assert questions == ["How do I stop prompt injection?", "And how do I log the prompts?"]


def test_migrations_are_versioned_and_run_once(pg_url, tmp_path):
    PostgresStore(pg_url).close()
    store = PostgresStore(pg_url)  # a second start (another replica) applies nothing again
    store.touch("t1", "first", "dave")
    store.close()
    with psycopg.connect(pg_url) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM lenswise_schema")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))


def test_replicas_starting_together_on_a_new_database_all_open_it(pg_url):
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: PostgresStore(pg_url), range(4)))
    for n, store in enumerate(stores):
        assert store.touch(f"t{n}", "a thread", "ivan")
    assert len(stores[0].threads("ivan")) == 4
    for store in stores:
        store.close()


def test_an_sqlite_file_from_before_owners_is_migrated_and_keeps_its_threads(tmp_path, hash_index):
    home = tmp_path / "home"
    home.mkdir()
    conn = sqlite3.connect(home / "state.sqlite")
    conn.executescript(SQLITE_MIGRATIONS[0])
    conn.execute("INSERT INTO lenswise_threads VALUES ('old', 'An old thread', 1.0, 2.0)")
    conn.commit()
    conn.close()
    lens = LensAssistant(Settings(home=home), index=hash_index)
    assert [t.title for t in lens.conversations.threads()] == ["An old thread"]
    conn = sqlite3.connect(home / "state.sqlite")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(SQLITE_MIGRATIONS)
    conn.close()


def test_a_server_that_is_down_fails_within_seconds_with_one_line(monkeypatch, capsys):
    url = f"postgresql://lenswise@127.0.0.1:{free_port()}/postgres"
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="cannot be reached .*Connection refused"):
        PostgresStore(url)
    assert time.monotonic() - started < 10
    monkeypatch.setenv("LENSWISE_STATE_URL", url)
    monkeypatch.setenv("LENSWISE_USER", "erin")
    assert main(["ask", "How do I stop prompt injection?"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lenswise: error: the state store postgresql://")
    assert "Traceback" not in err[0]


def test_a_server_restart_mid_session_loses_no_completed_turn(
    postgres_server, pg_url, hash_index, tmp_path
):
    lens = LensAssistant(Settings(home=tmp_path, state_url=pg_url), index=hash_index)
    lens = lens.for_user("frank")
    thread = lens.ask("How do I stop prompt injection?").thread_id
    postgres_server.restart()  # every pooled connection is cut
    lens.ask("And how do I log the prompts?", thread_id=thread)
    postgres_server.restart()
    assert [t.question for t in lens.conversations.transcript(thread)] == [
        "How do I stop prompt injection?",
        "And how do I log the prompts?",
    ]
    assert [t.id for t in lens.conversations.threads()] == [thread]


def test_a_turn_waits_for_the_thread_lock_held_by_another_replica(pg_url, hash_index, tmp_path):
    settings = Settings(home=tmp_path, state_url=pg_url, timeout_s=0.25)  # waits 2 x 0.25 s
    lens = LensAssistant(settings, index=hash_index).for_user("gina")
    with psycopg.connect(pg_url, autocommit=True) as other:  # the other replica's turn
        other.execute("SELECT pg_advisory_lock(%s)", (lock_key("busy"),))
        started = time.monotonic()
        with pytest.raises(LenswiseError, match="thread busy is still busy"):
            lens.ask("How do I stop prompt injection?", thread_id="busy")
        assert time.monotonic() - started < 5
    lens.ask("How do I stop prompt injection?", thread_id="busy")  # released with the session


@pytest.fixture
def replica_env(pg_url, tmp_path, monkeypatch):
    """Environment of lenswise processes acting for one user on the shared server."""
    use_hash_embedder(monkeypatch)
    home = tmp_path / "home"
    monkeypatch.setenv("LENSWISE_HOME", str(home))
    assert main(["index", "build"]) == 0
    monkeypatch.setenv("LENSWISE_STATE_URL", pg_url)
    monkeypatch.setenv("LENSWISE_USER", "hana")
    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_replica_processes_sharing_one_thread_each_land_their_turns(replica_env):
    replicas, asks = 3, 4
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLI_WITH_HASH_EMBEDDER, str(r), str(asks)],
            cwd=REPO,
            env=replica_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in range(replicas)
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * replicas, [e[-600:] for _, e in outputs]
    answered = [json.loads(line)["question"] for out, _ in outputs for line in out.splitlines()]
    lens = LensAssistant(Settings.from_env(env=replica_env))
    questions = [turn.question for turn in lens.conversations.transcript("C1")]
    assert sorted(questions) == sorted(answered) and len(questions) == replicas * asks
    for r in range(replicas):  # each replica's own turns keep their order
        mine = [q for q in questions if q.startswith(f"process {r} ")]
        assert mine == sorted(mine)


STUCK_TURN = textwrap.dedent(
    """
    import sys, time
    from lenswise.cli import main
    from index.store import LensIndex
    from tests.helpers import use_hash_embedder

    use_hash_embedder()
    search = LensIndex.search

    def slow_search(self, *args, **kwargs):  # the turn holds its lock while it searches
        print("in turn", flush=True)
        time.sleep(300)
        return search(self, *args, **kwargs)

    LensIndex.search = slow_search
    sys.exit(main(["ask", "a question that never finishes", "--thread", "shared"]))
    """
)


def test_a_replica_killed_mid_turn_frees_the_thread_and_loses_no_completed_turn(replica_env):
    assert main(["ask", "How do I stop prompt injection?", "--thread", "shared"]) == 0
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK_TURN],
        cwd=REPO,
        env=replica_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "in turn", proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    started = time.monotonic()
    assert main(["ask", "And how do I log the prompts?", "--thread", "shared"]) == 0
    assert time.monotonic() - started < 30  # the dead replica's lock went with its connection
    lens = LensAssistant(Settings.from_env(env=replica_env))
    assert [t.question for t in lens.conversations.transcript("shared")] == [
        "How do I stop prompt injection?",
        "And how do I log the prompts?",
    ]
