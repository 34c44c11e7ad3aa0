"""Files lenswise writes for the user: refuse a path that would destroy input, write atomically."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from corpus.errors import InputError


def check_output(path: Path, flag: str, *inputs: Path) -> Path:
    """Return ``path`` when writing to it cannot destroy an input or block, else InputError.

    Refused: a path that is one of ``inputs`` (same file, also through a symbolic or hard link)
    and an existing path that is not a regular file (a folder, a FIFO, a device).

    Args:
        path: the output path the user gave.
        flag: the option that named it, for the error message (``--report``).
        inputs: the files the command reads.
    """
    try:
        found = path.stat()
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise InputError(f"{flag} {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(found.st_mode):
        raise InputError(f"{flag} {path} is not a regular file; give a file path to write")
    for source in inputs:
        try:
            same = os.path.samestat(found, source.stat())
        except OSError:
            continue
        if same:
            raise InputError(f"{flag} {path} is the input file {source}; give another path")
    return path


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to a hidden temporary file beside ``path``, then rename it into place.

    The file keeps the mode it had (a template patched in place stays as readable as it was);
    a new file gets the usual mode under the process's umask, not the temporary file's 0600.
    """
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, _mode_for(path))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def _mode_for(path: Path) -> int:
    """Return the permission bits ``path`` has, or those a new file would get."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
