"""Hostile command-line input: broken UTF-8, endless or huge ``--queries`` files, odd homes."""

from __future__ import annotations

import io
import os

import pytest

from agent.cli import main, search_cmd
from agent.config import Settings
from corpus.errors import InputError
from tests.helpers import use_hash_embedder


@pytest.fixture
def hash_cli(monkeypatch, tmp_path):
    """Run CLI commands with the hash embedder standing in for the model (fast)."""
    use_hash_embedder(monkeypatch)
    monkeypatch.setenv("LENSWISE_HOME", str(tmp_path / "home"))
    return tmp_path


def _one_error(capsys, message: str) -> None:
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert "unexpected" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "bad \udcff bytes"], "question is not valid UTF-8"),
        (["ask", "a lone \ud800 surrogate"], "question is not valid UTF-8"),
        (["ask", "guardrails?", "--thread", "t\udcfe"], "thread_id is not valid UTF-8"),
        (["search", "q \udcfe"], "query is not valid UTF-8"),
    ],
)
def test_broken_utf8_arguments_are_one_line_and_exit_2(hash_cli, capsys, argv, message):
    assert main(argv) == 2
    _one_error(capsys, message)


def test_a_queries_file_that_is_no_regular_file_is_refused_before_it_is_opened(hash_cli, capsys):
    fifo = hash_cli / "queries.fifo"
    os.mkfifo(fifo)  # opening it for reading would block for ever
    for path in ("/dev/zero", "/dev/urandom", str(fifo), str(hash_cli)):
        assert main(["search", "--queries", path]) == 2
        _one_error(capsys, "is not a regular file")


def test_queries_files_are_capped_by_size_and_count(hash_cli, capsys, monkeypatch):
    monkeypatch.setattr(search_cmd, "MAX_QUERIES", 3)
    monkeypatch.setattr(search_cmd, "MAX_QUERIES_BYTES", 100)
    path = hash_cli / "q.txt"
    path.write_text("a\nb\n\nc\n")
    assert search_cmd.read_queries(path) == ["a", "b", "c"]
    path.write_text("a\nb\nc\nd\n")
    assert main(["search", "--queries", str(path)]) == 2
    _one_error(capsys, "holds 4 queries, more than the 3")
    path.write_text("x" * 101)
    assert main(["search", "--queries", str(path)]) == 2
    _one_error(capsys, "over the 0 KiB limit")
    path.write_bytes(b"caf\xe9\n")
    assert main(["search", "--queries", str(path)]) == 2
    _one_error(capsys, "is not UTF-8 text")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_batch_shows_progress_on_a_terminal_when_results_go_elsewhere(
    hash_cli, capsys, monkeypatch
):
    path = hash_cli / "q.txt"
    path.write_text("\n".join(f"guardrails {n}" for n in range(search_cmd.PROGRESS_FROM)))
    assert main(["search", "--queries", str(path), "--json"]) == 0
    assert "searched" not in capsys.readouterr().err  # not a terminal: no progress line
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["search", "--queries", str(path), "--json"]) == 0
    shown = terminal.getvalue()
    total = search_cmd.PROGRESS_FROM
    assert f"\rsearched 0/{total} queries" in shown
    assert shown.endswith(f"\rsearched {total}/{total} queries\n")
    assert len(capsys.readouterr().out.splitlines()) == total


@pytest.mark.parametrize(
    ("home", "message"),
    [
        ("/proc", "kernel pseudo-filesystem"),
        ("/proc/self/x", "kernel pseudo-filesystem"),
        ("/sys/kernel/lenswise", "kernel pseudo-filesystem"),
        ("/dev/lenswise", "kernel pseudo-filesystem"),
        ("~nosuchuser-lenswise/x", "names a user with no home folder"),
    ],
)
def test_homes_where_nothing_can_be_written_are_refused(home, message):
    with pytest.raises(InputError, match=message):
        Settings(home=home)


def test_a_default_home_under_a_system_home_is_refused_on_one_line(capsys, monkeypatch):
    monkeypatch.delenv("LENSWISE_HOME")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", "/sys")
    assert main(["search", "guardrails"]) == 2
    _one_error(capsys, "/sys/.cache/lenswise is inside /sys")
