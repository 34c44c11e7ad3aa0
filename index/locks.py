"""Exclusive file locks that work across processes (``flock``), with an optional wait limit.

Index builds, conversation turns and opening the state database each hold one, so that
concurrent ``lenswise`` processes (and threads of one process: every lock opens its own file
description) take turns instead of overwriting each other. The kernel drops a lock when its
holder dies, so a killed process never leaves a stale one behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corpus.errors import LenswiseError

POLL_S = 0.02


@contextmanager
def file_lock(path: Path, wait_s: float | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block.

    Args:
        path: the lock file.
        wait_s: give up after this many seconds with :class:`TimeoutError` (0: do not
            wait at all); None waits as long as it takes.

    Raises:
        LenswiseError: the lock file cannot be made: its folder is a file, or the lock path is
            a folder or a symlink (never followed: it could point anywhere).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise LenswiseError(
            f"cannot use the lock file {path} ({exc.strerror or exc}): lenswise keeps only "
            f"its own lock files in {path.parent}; move whatever is in the way elsewhere"
        ) from None
    try:
        if wait_s is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise TimeoutError(f"{path} is held by another process") from None
                    time.sleep(POLL_S)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock
