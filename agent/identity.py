"""Who is asking: the acting user of a request, and the MCP bearer tokens that name one.

In team mode every thread, feedback record and attached design belongs to one user, and a
request without an identity is refused, never served as a shared anonymous user. The user comes
from the surface: the UI reads a header set by the trusted proxy (or Streamlit's own login), the
MCP HTTP server maps a bearer token, the command line reads ``LENSWISE_USER``. A server that
shares one assistant between requests marks each request with :func:`acting_as`.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from corpus.errors import InputError

MAX_USER_CHARS = 200

_current: ContextVar[str | None] = ContextVar("lenswise_user", default=None)


class IdentityRequired(InputError):
    """Team mode and no user identity came with the request."""


@contextmanager
def acting_as(user: str) -> Iterator[None]:
    """Mark the work inside the block (and the tasks it starts) as done for ``user``."""
    token = _current.set(check_user(user))
    try:
        yield
    finally:
        _current.reset(token)


def current() -> str | None:
    """Return the user set by :func:`acting_as` around this call, if any."""
    return _current.get()


def check_user(user: str) -> str:
    """Return ``user`` stripped when it is a usable identity (InputError otherwise)."""
    if not isinstance(user, str) or not user.strip():
        raise InputError("a user identity must be non-empty text")
    if len(user) > MAX_USER_CHARS or not user.isprintable():
        raise InputError("a user identity must be one printable line of at most 200 characters")
    return user.strip()


def owner(team: bool, *candidates: str | None) -> str:
    """Return whose threads a request may touch: the first identity given, else ``""``.

    ``""`` is the single owner of a one-person install. In team mode an identity is required.

    Raises:
        IdentityRequired: team mode and none of ``candidates`` is set.
    """
    user = next((c for c in candidates if c), None)
    if user is not None:
        return check_user(user)
    if team:
        raise IdentityRequired(
            "team mode: this request carries no user identity (sign in through the proxy, "
            "send a bearer token, or set LENSWISE_USER), so it is refused"
        )
    return ""


def parse_tokens(text: str | None) -> dict[str, str]:
    """Parse ``LENSWISE_MCP_TOKENS`` (``token=user`` pairs separated by commas) into a mapping.

    Raises:
        InputError: a pair is malformed, a token repeats or is shorter than 16 characters.
    """
    tokens: dict[str, str] = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        token, sep, user = pair.strip().partition("=")
        if not sep or not token.strip() or not user.strip():
            raise InputError("LENSWISE_MCP_TOKENS must be token=user pairs separated by commas")
        if len(token.strip()) < 16:
            raise InputError("LENSWISE_MCP_TOKENS: every token needs at least 16 characters")
        if token.strip() in tokens:
            raise InputError("LENSWISE_MCP_TOKENS: a token appears twice")
        tokens[token.strip()] = check_user(user)
    return tokens


def user_of_token(tokens: Mapping[str, str], presented: str) -> str | None:
    """Return the user of ``presented`` (compared in constant time), or None if unknown."""
    found = None
    for token, user in tokens.items():
        if hmac.compare_digest(token.encode(), presented.encode()):
            found = user
    return found


def header_user(headers: Mapping[str, str], name: str) -> str | None:
    """Return the identity in header ``name`` (any case) of ``headers``, or None if absent."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted and value and value.strip():
            return value.strip()
    return None
