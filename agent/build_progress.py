"""Progress of an index build as people read it: chunks embedded, percent done and time left.

One :class:`BuildMeter` is fed by ``index.build``'s progress callback (``meter.update``) and
read by whoever shows the wait: the CLI's bar or plain lines, the MCP server's progress
notifications and "index being built" errors, and the UI's first-start panel.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

BAR_WIDTH = 30


class BuildMeter:
    """Thread-safe record of how many chunks of a build are embedded, with an ETA."""

    def __init__(self, clock=time.monotonic) -> None:
        """Start an empty meter; ``clock`` returns seconds (monotonic)."""
        self._clock = clock
        self._lock = threading.Lock()
        self._started: float | None = None
        self.done = 0
        self.total = 0

    def update(self, done: int, total: int) -> None:
        """Record that ``done`` of ``total`` chunks are embedded (the ``index.build`` callback)."""
        with self._lock:
            if self._started is None:
                self._started = self._clock()
            self.done, self.total = done, total

    @property
    def fraction(self) -> float:
        """Share of the chunks embedded so far (0.0 before the first batch)."""
        with self._lock:
            return self.done / self.total if self.total else 0.0

    @property
    def percent(self) -> int:
        """Whole percent of the chunks embedded."""
        return int(self.fraction * 100)

    def eta_seconds(self) -> float | None:
        """Return the seconds left at the rate so far, or None before anything is embedded."""
        with self._lock:
            if self._started is None or not self.done or not self.total:
                return None
            elapsed = self._clock() - self._started
            return elapsed * (self.total - self.done) / self.done

    def summary(self) -> str:
        """Return e.g. ``"320/1234 chunks embedded (25%), about 42 s left"``."""
        eta = self.eta_seconds()
        left = f", about {eta:.0f} s left" if eta is not None else ""
        return f"{self.done}/{self.total} chunks embedded ({self.percent}%){left}"


class TerminalProgress:
    """Show a meter on a stream: a redrawn bar on a terminal, a plain line per 10% otherwise."""

    def __init__(self, stream: TextIO | None = None, meter: BuildMeter | None = None) -> None:
        """Write to ``stream`` (stderr by default); ``meter`` records the counts."""
        self.stream = stream or sys.stderr
        self.meter = meter or BuildMeter()
        self.tty = self.stream.isatty()
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        """Record a batch and show it (usable as the ``progress`` callback of ``open_index``)."""
        self.meter.update(done, total)
        if self.tty:
            filled = int(BAR_WIDTH * self.meter.fraction)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            end = "\n" if done >= total else ""
            self.stream.write(f"\r[{bar}] {self.meter.summary()}\x1b[K{end}")
        else:
            tenth = int(self.meter.fraction * 10)
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            self.stream.write(self.meter.summary() + "\n")
        self.stream.flush()
