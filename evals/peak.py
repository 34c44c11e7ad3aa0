"""Peak resident memory of a process, as the benchmarks report it (megabytes)."""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def rusage_mb(usage: resource.struct_rusage) -> float:
    """Return ``ru_maxrss`` in MB (kilobytes on Linux, bytes on macOS)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return round(usage.ru_maxrss * scale / 2**20, 1)


def own_peak_mb() -> float | None:
    """Return this process's peak resident memory since it started its program (Linux).

    ``ru_maxrss`` of a reaped child also counts what its parent held when it forked, so a
    child of a large process looks large; ``VmHWM`` is the peak of the program's own address
    space. None where ``/proc`` is not available.
    """
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii", errors="ignore")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None
