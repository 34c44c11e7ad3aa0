"""Exceptions shared by every layer (the CLI maps them to exit codes) and argument checks."""

from __future__ import annotations

import math
from typing import Any


class LenswiseError(Exception):
    """Something went wrong that is not the user's input (exit code 1)."""


class InputError(LenswiseError):
    """The user's input is unusable: unreadable file, unknown format, bad flag (exit code 2).

    The message is one line, written for the user, naming what to fix.
    """


class SchemaError(InputError, ValueError):
    """A data file (suite, rule table, digest) does not follow its schema.

    Also a ``ValueError``, as pydantic's own ``ValidationError`` is, so a caller that checks
    values keeps working.
    """


def require(ok: bool, name: str, expected: str, value: Any) -> None:
    """Raise ``InputError("<name> must be <expected>, not <value>")`` unless ``ok``."""
    if not ok:
        raise InputError(f"{name} must be {expected}, not {shown(value)}")


def shown(value: Any) -> str:
    """Return a short description of a rejected value for an error message."""
    return f"{type(value).__name__} {cut(repr(value))}"


def cut(text: str, limit: int = 40) -> str:
    """Return ``text`` cut to ``limit`` characters (``...`` marks a cut) for an error line."""
    return f"{text[:limit]}{'...' if len(text) > limit else ''}"


def check_utf8(value: str, name: str) -> None:
    """Raise InputError when ``value`` holds lone surrogates, so it cannot be UTF-8 text.

    Python turns invalid UTF-8 bytes in arguments and lone surrogate escapes into such
    characters; every later write (database, JSON, terminal) would fail on them.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"{name} is not valid UTF-8 text (a broken character at position {exc.start})"
        ) from None


def check_text(value: Any, name: str, *, max_chars: int | None = None) -> str:
    """Return ``value`` stripped if it is non-empty UTF-8 text within ``max_chars``; else raise."""
    if not isinstance(value, str):
        raise InputError(f"{name} must be text, not {shown(value)}")
    check_utf8(value, name)
    if not value.strip():
        raise InputError(f"{name} must not be empty")
    if max_chars is not None and len(value) > max_chars:
        raise InputError(f"{name} is too long ({len(value)} characters; the limit is {max_chars})")
    return value.strip()


def check_int(value: Any, name: str, *, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` when it is a whole number in ``[minimum, maximum]``, else InputError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be a whole number, not {shown(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        bounds = (
            f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        )
        raise InputError(f"{name} must be {bounds}, not {value}")
    return value


def check_number(value: Any, name: str, *, above: float, maximum: float) -> float:
    """Return ``value`` as a float when it is a number in ``(above, maximum]``, else InputError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise InputError(f"{name} must be a number, not {shown(value)}")
    if not above < value <= maximum:
        raise InputError(f"{name} must be more than {above:g} and at most {maximum:g}, not {value}")
    return float(value)
