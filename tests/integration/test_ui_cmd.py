"""`lenswise ui` runs Streamlit in the foreground: stopping lenswise stops Streamlit too."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _port_is_free(port: int) -> bool:
    """True when nothing listens on ``port`` and a new server could bind it (as Streamlit does)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_healthy(port: int, proc: subprocess.Popen, limit_s: float = 180) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the UI did not come up")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_lenswise_ui_stops_streamlit_and_frees_the_port(real_home, signum):
    port = _free_port()
    env = {**os.environ, "LENSWISE_HOME": str(real_home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lenswise.cli", "ui", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    streamlit: list[int] = []
    try:
        _wait_healthy(port, proc)
        streamlit = _children(proc.pid)
        assert len(streamlit) == 1
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == 0
        assert not _alive(streamlit[0]), "Streamlit outlived lenswise ui"
        assert _port_is_free(port)
    finally:
        for pid in [proc.pid, *streamlit]:  # leave nothing running if the test failed
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait()


CHILD = textwrap.dedent(
    """
    import signal, sys, time
    def stop(signum, frame):
        open(sys.argv[1], "w").write(str(signum))
        sys.exit(3)
    if sys.argv[2] == "obey":
        signal.signal(signal.SIGTERM, stop)
    else:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("ready", flush=True)
    while True:
        time.sleep(0.05)
    """
)


def _parent(tmp_path: Path, mode: str, grace_s: float) -> subprocess.Popen:
    code = textwrap.dedent(
        f"""
        import os, sys
        from lenswise.cli.foreground import run_foreground
        child = [sys.executable, "-c", {CHILD!r}, {str(tmp_path / "got")!r}, {mode!r}]
        sys.exit(run_foreground(child, os.environ, grace_s={grace_s}))
        """
    )
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_the_signal_reaches_the_child_and_its_exit_code_comes_back(tmp_path):
    parent = _parent(tmp_path, "obey", grace_s=30)
    assert parent.stdout.readline().strip() == "ready"
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=30) == 3
    assert (tmp_path / "got").read_text() == str(int(signal.SIGTERM))


def test_a_child_that_ignores_the_signal_is_killed_after_the_grace_period(tmp_path):
    parent = _parent(tmp_path, "ignore", grace_s=0.5)
    assert parent.stdout.readline().strip() == "ready"
    child = _children(parent.pid)[0]
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=30) == 128 + signal.SIGKILL
    assert not _alive(child)
