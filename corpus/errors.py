"""Exceptions shared by every layer; the CLI maps them to exit codes."""


class LenswiseError(Exception):
    """Something went wrong that is not the user's input (exit code 1)."""


class InputError(LenswiseError):
    """The user's input is unusable: unreadable file, unknown format, bad flag (exit code 2).

    The message is one line, written for the user, naming what to fix.
    """
