"""Conversation threads under concurrency and damage: no lost turns, no hidden data loss."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from agent import LensAssistant, LenswiseError
from agent.config import Settings
from agent.threads import BUSY_TIMEOUT_S, ThreadStore
from lenswise.cli import main
from tests.helpers import HOLD_LOCK


def test_concurrent_asks_from_threads_of_one_process_are_all_kept(hash_index, tmp_path):
    lens = LensAssistant(Settings(home=tmp_path), index=hash_index)
    questions = [f"question {n} about prompt injection" for n in range(12)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda q: lens.ask(q, thread_id="shared"), questions))
    assert sorted(a.question for a in lens.conversations.transcript("shared")) == sorted(questions)


def test_a_busy_thread_fails_with_a_clear_line_when_the_wait_runs_out(hash_index, tmp_path):
    lens = LensAssistant(Settings(home=tmp_path, timeout_s=1), index=hash_index)
    with lens.store.turn("busy", wait_s=1):  # another turn is running on it
        with pytest.raises(LenswiseError, match="thread busy is still busy"):
            lens.ask("how do I use guardrails?", thread_id="busy")
        lens.ask("how do I use guardrails?", thread_id="other")  # other threads go on
    assert lens.ask("how do I use guardrails?", thread_id="busy").citations


# --- a damaged or locked state file --------------------------------------------------------


def _history(tmp_path, hash_index) -> Settings:
    settings = Settings(home=tmp_path / "home")
    lens = LensAssistant(settings, index=hash_index)
    lens.ask("How do I stop prompt injection?", thread_id="t1")
    lens.store.close()
    return settings


def _garble(path):
    with open(path, "r+b") as f:
        f.write(b"this is not sqlite at all")


def _truncate(path):
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)


def _empty(path):
    path.write_bytes(b"")


def _folder(path):
    path.unlink()
    path.mkdir()
    (path / "something").write_text("kept")


@pytest.mark.parametrize("damage", [_garble, _truncate, _empty, _folder])
def test_a_damaged_state_file_is_moved_aside_once_and_a_new_one_started(
    hash_index, tmp_path, damage
):
    settings = _history(tmp_path, hash_index)
    for suffix in ("-wal", "-shm"):
        settings.state_db.with_name(settings.state_db.name + suffix).unlink(missing_ok=True)
    before = settings.state_db.read_bytes() if settings.state_db.is_file() else None
    damage(settings.state_db)
    told: list[str] = []
    lens = LensAssistant(settings, index=hash_index, notify=told.append)
    assert lens.conversations.threads() == []  # a new, empty history
    assert len(told) == 1 and "was damaged" in told[0] and "moved it to" in told[0]
    aside = [p for p in settings.home.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1 and str(aside[0]) in told[0]
    if before is not None and damage is not _empty:
        assert aside[0].stat().st_size > 0  # the damaged data is kept, not deleted
    assert lens.ask("how do I use guardrails?", thread_id="t2").citations
    again: list[str] = []
    restarted = LensAssistant(settings, index=hash_index, notify=again.append)
    assert [t.id for t in restarted.conversations.threads()] == ["t2"] and again == []  # told once


def test_a_damaged_state_file_without_notify_is_a_warning(hash_index, tmp_path):
    settings = _history(tmp_path, hash_index)
    (settings.home / "state.sqlite-wal").unlink(missing_ok=True)
    _garble(settings.state_db)
    with pytest.warns(RuntimeWarning, match="was damaged"):
        assert LensAssistant(settings, index=hash_index).conversations.threads() == []


def test_a_state_file_locked_by_another_program_fails_fast_with_a_clear_line(
    hash_index, tmp_path, capsys
):
    settings = _history(tmp_path, hash_index)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(settings.state_db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(LenswiseError, match="locked by another program") as caught:
            LensAssistant(settings, index=hash_index).conversations.threads()
        assert time.monotonic() - started < BUSY_TIMEOUT_S + 10  # not the old 30 s wait
        assert str(settings.state_db) in str(caught.value)
        assert not [p for p in settings.home.iterdir() if ".damaged-" in p.name]  # not damage
    finally:
        holder.kill()
        holder.wait()
    assert [t.id for t in LensAssistant(settings, index=hash_index).conversations.threads()] == [
        "t1"
    ]


def test_cli_reports_a_locked_state_file_in_one_line(hash_home, capsys):
    state_db = Settings.from_env().state_db
    ThreadStore(state_db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(state_db)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["ask", "how do I use guardrails?", "--thread", "C1"]) == 1
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("lenswise: error: conversation history") and "locked" in err[-1]
    assert not any("unexpected" in line for line in err)
