"""State files whose content is damaged: checkpoint blobs, lock paths, changed table shapes.

A sound SQLite file can still hold bytes lenswise cannot read. Each damage is made by hand in
a real state file, then the real agent is asked again: the damaged thread is set aside (kept)
with one notice, and every other thread keeps its history.
"""

from __future__ import annotations

import os
import sqlite3

import pytest

from agent import LensAssistant, LenswiseError
from agent.config import Settings
from agent.threads import ThreadStore

DAMAGE = {
    "random blob": "UPDATE checkpoints SET checkpoint = randomblob(64)",
    "empty blob": "UPDATE checkpoints SET checkpoint = x''",
    "typed pickle": "UPDATE checkpoints SET type = 'pickle'",
    "garbage JSON": "UPDATE checkpoints SET type = 'json', checkpoint = CAST('{oops' AS BLOB)",
    "JSON that is no checkpoint": "UPDATE checkpoints SET type = 'json', checkpoint = '[1, 2]'",
    "typed bytes": "UPDATE checkpoints SET type = 'bytes'",
    "garbage metadata": "UPDATE checkpoints SET metadata = CAST('{not json' AS BLOB)",
}


def _two_threads(tmp_path, hash_index) -> Settings:
    settings = Settings(home=tmp_path / "home")
    lens = LensAssistant(settings, index=hash_index)
    lens.ask("How do I stop prompt injection?", thread_id="t1")
    lens.ask("How do I cache prompts?", thread_id="t2")
    lens.store.close()
    return settings


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_thread_with_an_unreadable_checkpoint_is_set_aside_and_others_keep_working(
    hash_index, tmp_path, damage
):
    settings = _two_threads(tmp_path, hash_index)
    with sqlite3.connect(settings.state_db) as conn:
        conn.execute(DAMAGE[damage] + " WHERE thread_id = 't1'")
    told: list[str] = []
    lens = LensAssistant(settings, index=hash_index, notify=told.append)
    assert lens.conversations.transcript("t1") == []  # opening the thread sets it aside
    assert lens.ask("What about guardrails?", thread_id="t1").citations
    assert (
        len(told) == 1
        and "thread t1" in told[0]
        and "set it aside as thread t1.damaged-" in told[0]
    )
    assert [a.question for a in lens.conversations.transcript("t1")] == ["What about guardrails?"]
    assert [a.question for a in lens.conversations.transcript("t2")] == ["How do I cache prompts?"]
    lens.ask("And the cost?", thread_id="t2")
    assert len(lens.conversations.transcript("t2")) == 2 and len(told) == 1
    with sqlite3.connect(settings.state_db) as conn:  # the damaged rows are kept
        kept = conn.execute("SELECT COUNT(*) FROM checkpoints WHERE thread_id LIKE 't1.damaged-%'")
        assert kept.fetchone()[0] > 0


def test_a_table_of_another_shape_moves_the_file_aside_on_the_next_run(hash_index, tmp_path):
    settings = _two_threads(tmp_path, hash_index)
    with sqlite3.connect(settings.state_db) as conn:
        conn.execute("ALTER TABLE lenswise_threads RENAME COLUMN title TO name")
    told: list[str] = []
    lens = LensAssistant(settings, index=hash_index, notify=told.append)
    assert lens.conversations.threads() == []
    assert len(told) == 1 and "table lenswise_threads has columns id, name" in told[0]
    assert lens.ask("How do I stop prompt injection?", thread_id="t3").citations
    assert [t.id for t in lens.conversations.threads()] == ["t3"]
    assert any(".damaged-" in p.name for p in settings.home.iterdir())


@pytest.mark.parametrize("shape", ["locks is a file", "lock is a folder", "lock is a symlink"])
def test_a_lock_path_in_the_way_is_one_clear_line(tmp_path, shape):
    home = tmp_path / "home"
    locks = home / "locks"
    home.mkdir()
    if shape == "locks is a file":
        locks.write_text("x")
    elif shape == "lock is a folder":
        (locks / "state.lock").mkdir(parents=True)
    else:
        locks.mkdir()
        os.symlink(tmp_path / "elsewhere", locks / "state.lock")
    with pytest.raises(LenswiseError, match="cannot use the lock file .*state.lock"):
        ThreadStore(home / "state.sqlite")
    assert not (tmp_path / "elsewhere").exists()  # a symlink is never followed
