"""Hostile command-line input: broken UTF-8, endless or huge ``--queries`` files, odd homes."""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import Settings
from corpus.errors import InputError
from lenswise.cli import main, search_cmd
from tests.helpers import REPO, use_hash_embedder


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
        (["ask", "guardrails?", "--thread", "t\udcfe"], "a thread id is 1-64 letters"),
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


def _built(capsys) -> Path:
    assert main(["index", "build", "--json"]) == 0
    return Path(json.loads(capsys.readouterr().out)["path"])


def _router_list(path: Path) -> None:
    manifest = json.loads((path / "manifest.json").read_text())
    (path / "manifest.json").write_text(json.dumps({**manifest, "router": [1, 2]}))


def _router_text(path: Path) -> None:
    manifest = json.loads((path / "manifest.json").read_text())
    (path / "manifest.json").write_text(json.dumps({**manifest, "router": "fitted"}))


def _truncated_arrays(path: Path) -> None:
    arrays = path / "router.npz"
    arrays.write_bytes(arrays.read_bytes()[:100])


@pytest.mark.parametrize("damage", [_router_list, _router_text, _truncated_arrays])
def test_a_plain_build_and_every_command_repair_a_damaged_index(hash_cli, capsys, damage):
    path = _built(capsys)
    damage(path)
    assert main(["index", "build"]) == 0
    assert "the existing one is damaged" in capsys.readouterr().err
    damage(path)
    assert main(["search", "guardrails", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["hits"] and "unexpected" not in err
    assert main(["index", "info", "--index", str(path)]) == 0


def test_a_full_disk_during_a_build_is_one_line_and_keeps_the_old_index(
    hash_cli, capsys, monkeypatch
):
    import index.build

    path = _built(capsys)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(args[0]))

    monkeypatch.setattr(index.build.np, "save", full)
    assert main(["index", "build", "--force"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("lenswise: error: cannot write the index in")
    assert "No space left on device" in err[-1] and "unexpected" not in err[-1]
    monkeypatch.undo()
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]
    assert main(["index", "info", "--index", str(path)]) == 0  # the old index is intact


def test_output_to_a_full_device_is_one_line_and_exit_1(tmp_path):
    diagram = tmp_path / "a.mmd"
    diagram.write_text("graph LR\nA[Users] --> B[Lambda]\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "LENSWISE_HOME": str(tmp_path / "home")}
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "lenswise.cli", "review", str(diagram)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "lenswise: error: no space left writing the output: free some space"
    ]


def test_templates_with_odd_scalars_are_answered_about_through_ask_diagram(hash_cli, capsys):
    from evals import hostile_files as more

    files = {
        "int.yaml": more.cloudformation_scalar("1" * 5_000),
        "int.json": more.cloudformation_scalar("1" * 5_000, json_syntax=True),
        "lone.json": more.cloudformation_scalar('"\\ud800"', json_syntax=True),
        "date.yaml": more.cloudformation_scalar("2024-13-45"),
        "datekey.yaml": more.cloudformation_scalar("2024-02-31", as_key=True),
    }
    for name, data in files.items():
        path = hash_cli / name
        path.write_bytes(data)
        code = main(["ask", "Is this design secure?", "--diagram", str(path), "--json"])
        out, err = capsys.readouterr()
        assert code == 0, f"{name}: {err}"
        assert json.loads(out)["answer"] and "unexpected" not in err
