"""checkov's worker process: a hung or dead worker ends in a short error, never a hang."""

from __future__ import annotations

import sys
import time

from diagrams.fixes import checks


def test_worker_that_does_not_answer_is_killed_after_the_timeout(tmp_path):
    hung = checks.Worker([sys.executable, "-c", "import time; time.sleep(60)"])
    asked = hung.ask(str(tmp_path), "terraform")
    assert asked == 1
    start = time.monotonic()
    assert hung.answer(asked, timeout=0.5) is None
    assert time.monotonic() - start < 5
    assert hung.failed == "checkov did not answer within 0.5 s"
    assert hung.proc.poll() is not None  # killed
    assert hung.ask(str(tmp_path), "terraform") is None  # and not asked again


def test_worker_that_stops_is_an_answer_of_none_not_a_wait(tmp_path):
    dead = checks.Worker([sys.executable, "-c", "pass"])
    asked = dead.ask(str(tmp_path), "cloudformation")
    start = time.monotonic()
    assert asked is None or dead.answer(asked, timeout=30) is None
    assert time.monotonic() - start < 5
    assert dead.failed == "checkov's worker stopped"
