"""The ``lenswise`` command line: one entry point, one small module per command group.

Each command module exposes ``register(subparsers)``, which adds its sub-command and sets
``handler(args, settings) -> int`` on the parser. Heavy imports happen inside handlers so
``lenswise --help`` stays instant.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable
from importlib import import_module
from typing import NoReturn, TypeVar

from agent.config import Settings
from corpus.errors import InputError, LenswiseError, check_int

DESCRIPTION = (
    "lenswise: answers and architecture reviews grounded in the AWS Well-Architected "
    "Generative AI Lens."
)
COMMAND_MODULES = (
    "lenswise.cli.corpus_cmd",
    "lenswise.cli.index_cmd",
    "lenswise.cli.search_cmd",
    "lenswise.cli.ask_cmd",
    "lenswise.cli.review_cmd",
    "lenswise.cli.ui_cmd",
    "lenswise.cli.mcp_cmd",
    "lenswise.cli.eval_cmd",
    "lenswise.cli.bench_cmd",
    "lenswise.cli.serve_cmd",
)
T = TypeVar("T")


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:  # noqa: D102
        self.exit(2, f"lenswise: error: {message} (see '{self.prog} --help')\n")


def checked(check: Callable[[str], T]) -> Callable[[str], T]:
    """Return an argparse ``type`` running ``check``: its InputError becomes a usage error."""

    def parse(text: str) -> T:
        try:
            return check(text)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """Return an argparse ``type`` accepting whole numbers in ``[minimum, maximum]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise InputError(f"'{text}' is not a whole number") from None
        return check_int(value, "the value", minimum=minimum, maximum=maximum)

    return checked(parse)


def add_common(parser: argparse.ArgumentParser) -> None:
    """Add the options every command takes."""
    parser.add_argument(
        "--source",
        help="corpus source: builtin (default), fetched, or a path to lens files "
        "(env LENSWISE_CORPUS)",
    )


def installed_version() -> str:
    """Return the installed lenswise version ("unknown" when run from an uninstalled tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lenswise")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """Build the full parser with every command group registered."""
    parser = _Parser(prog="lenswise", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"lenswise {installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (0 ok, 2 bad input, 1 anything else)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed on one line
        return int(exc.code or 0)
    try:
        settings = Settings.from_env(source=getattr(args, "source", None))
        code = int(args.handler(args, settings) or 0)
        sys.stdout.flush()  # a full output device fails here, inside the handler's care
        return code
    except InputError as exc:
        print(f"lenswise: error: {exc}", file=sys.stderr)
        return 2
    except LenswiseError as exc:
        print(f"lenswise: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lenswise: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        if exc.errno not in _DEVICE_FULL:
            return _unexpected(exc)
        _silence_stdout()
        where = exc.filename or "the output"
        print(f"lenswise: error: no space left writing {where}: free some space", file=sys.stderr)
        return 1
    except Exception as exc:  # last resort: one line unless debugging is asked for
        return _unexpected(exc)


_DEVICE_FULL = (errno.ENOSPC, errno.EDQUOT)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so output still buffered cannot fail again at exit."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):  # stdout without a descriptor (a test's capture)
        pass


def _unexpected(exc: Exception) -> int:
    """Report an error nobody foresaw on one line (a traceback with LENSWISE_DEBUG set)."""
    if os.environ.get("LENSWISE_DEBUG"):
        raise exc
    print(f"lenswise: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
