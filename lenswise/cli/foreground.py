"""Run a server child process in the foreground: pass stop signals on, return once it stopped.

``lenswise ui`` runs Streamlit as a child. Stopping ``lenswise`` (Ctrl+C, ``kill``, a process
manager's SIGTERM) must stop the child too, or it keeps running and holding its port.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Mapping, Sequence

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GRACE_S = 10.0
"""How long the child may take to stop after a forwarded signal before it is killed."""


def run_foreground(command: Sequence[str], env: Mapping[str, str], grace_s: float = GRACE_S) -> int:
    """Run ``command`` until it exits; forward SIGTERM/SIGINT/SIGHUP to it meanwhile.

    Args:
        command: the child's command line.
        env: the child's environment.
        grace_s: seconds the child gets to stop after a forwarded signal; then it is killed.

    Returns:
        The child's exit code (128 + signal number when a signal ended it).
    """
    started: list[subprocess.Popen] = []
    stop_asked: list[tuple[float, int]] = []

    def forward(signum: int, frame: object) -> None:
        stop_asked.append((time.monotonic(), signum))
        if started and started[0].poll() is None:
            started[0].send_signal(signum)

    # Handlers first, so that a signal arriving while the child starts is not lost.
    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        started.append(subprocess.Popen(list(command), env=dict(env)))
        child = started[0]
        if stop_asked:
            child.send_signal(stop_asked[0][1])
        while True:
            try:
                code = child.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if stop_asked and time.monotonic() - stop_asked[0][0] > grace_s:
                    child.kill()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code
