"""Concurrent CLI processes asking on one thread: every turn lands, none is lost."""

from __future__ import annotations

import json
import subprocess
import sys

from agent import LensAssistant
from tests.helpers import CLI_WITH_HASH_EMBEDDER, REPO


def test_concurrent_cli_asks_on_one_thread_each_land_as_a_turn(hash_home):
    processes, asks = 4, 5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLI_WITH_HASH_EMBEDDER, str(p), str(asks)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(processes)
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * processes, outputs
    answered = [json.loads(line) for out, _ in outputs for line in out.splitlines()]
    assert len(answered) == processes * asks
    turns = LensAssistant().conversations.transcript("C1")
    questions = [turn.question for turn in turns]
    assert len(turns) == processes * asks
    assert sorted(questions) == sorted(a["question"] for a in answered)
    for p in range(processes):  # each process's own questions keep their order
        mine = [q for q in questions if q.startswith(f"process {p} ")]
        assert mine == sorted(mine)
