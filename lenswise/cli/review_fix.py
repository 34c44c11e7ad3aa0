"""``lenswise review --fix/--fix-out/--in-place``: verified fixes for a review's gaps."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from corpus.errors import InputError
from corpus.outputs import check_output, write_atomic


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the fix options to ``review``."""
    group = parser.add_argument_group("fixes (CloudFormation/SAM)")
    group.add_argument("--fix", action="store_true", help="print one diff of all verified fixes")
    group.add_argument("--fix-out", type=Path, help="write the file with every verified fix")
    group.add_argument(
        "--in-place", action="store_true", help="apply every verified fix to FILE itself"
    )


def wanted(args: argparse.Namespace) -> bool:
    """Return True when any fix option is given (``--json`` then carries the fixes too)."""
    return bool(args.fix or args.fix_out or args.in_place)


def check(args: argparse.Namespace) -> None:
    """Refuse, before any review, a ``--fix-out`` that is the input itself or no regular file."""
    if args.fix_out:
        check_output(args.fix_out, "--fix-out", args.file)


def warm(args: argparse.Namespace) -> None:
    """Start checkov's import (over a second of CPU) when fixes of a template are wanted.

    It then runs beside loading the lens and reviewing the file instead of after them.
    """
    if wanted(args) and Path(args.file).suffix.lower() in _TEMPLATES:
        from diagrams.fixes.checks import warm as start_checkov

        start_checkov()


_TEMPLATES = (".tf", ".hcl", ".json", ".yaml", ".yml", ".template")
"""Suffixes of the files fixes may patch (CloudFormation/SAM and Terraform)."""


def plan(args: argparse.Namespace, lens, review):
    """Plan and verify the fixes of ``review`` for ``args.file``."""
    from agent.fixes import attach_fixes, file_text

    return attach_fixes(lens, review, file_text(args.file), str(args.file))


def write(args: argparse.Namespace, fixes) -> None:
    """Print the diff and write the patched file where asked."""
    targets = [p for p in (args.fix_out, args.file if args.in_place else None) if p]
    for path in targets:
        try:
            write_atomic(path, fixes.patched)
        except OSError as exc:
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    if args.fix and not args.json:
        sys.stdout.write(fixes.diff() or "no verified fix to offer\n")
