"""A throwaway PostgreSQL server for the team-mode tests and ``bench --team`` (Debian's package).

``initdb`` in a fresh temporary folder, the server on a free loopback port, stopped and removed
at the end. PostgreSQL refuses to run as root (CI runs as root), so there the server runs as
``nobody`` through ``runuser``. When no server can be started, the tests that need one are
skipped with one line saying why (``make postgres`` installs the package).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

START_WAIT_S = 30


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def free_port() -> int:
    """Return a loopback port nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    """One PostgreSQL server in a temporary folder: start, restart, stop."""

    def __init__(self) -> None:
        """Create the cluster (``initdb``); raise RuntimeError saying why it cannot be."""
        bin_dir = _bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (make postgres installs it)")
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="lenswise-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql://lenswise@127.0.0.1:{self.port}/postgres"
        self._as: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise RuntimeError("running as root and runuser is missing: cannot drop to nobody")
            self._as = [runuser, "-u", "nobody", "--"]
            os.chown(self.root, *_nobody())
        self._run("initdb", "-D", str(self.data), "-U", "lenswise", "--auth=trust", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"{tool} failed: {last[0]}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            str(START_WAIT_S),
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` ends every session at once, like a restart does)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        """Stop and start the server again: every open connection is cut."""
        self.stop()
        self.start()

    def remove(self) -> None:
        """Stop the server if it runs and delete its folder."""
        try:
            self.stop("immediate")
        except RuntimeError:
            pass  # not running
        shutil.rmtree(self.root, ignore_errors=True)


def _nobody() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid
