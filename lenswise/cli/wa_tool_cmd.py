"""``lenswise review FILE --wa-tool``: the review command's export to the Well-Architected Tool."""

from __future__ import annotations

import argparse
import json
import sys

from agent.config import Settings
from corpus.errors import InputError
from lenswise.cli import checked

EXPORT_FLAGS = ("workload", "dry_run", "overwrite", "review_owner")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the export options to the ``review`` parser."""
    group = parser.add_argument_group("export to the AWS Well-Architected Tool")
    group.add_argument(
        "--wa-tool",
        action="store_true",
        help="write the review into a Well-Architected Tool workload (Generative AI Lens)",
    )
    group.add_argument(
        "--workload",
        metavar="NAME|ID",
        type=checked(_workload),
        help="workload name (created if absent) or id; default: named after the file",
    )
    group.add_argument(
        "--dry-run", action="store_true", help="print what would be written; call no AWS API"
    )
    group.add_argument(
        "--overwrite",
        action="store_true",
        help="also add lenswise's answer to questions a person already answered",
    )
    group.add_argument(
        "--review-owner",
        type=checked(_review_owner),
        help="review owner of a new workload (default: you)",
    )


def _workload(text: str) -> str:
    from watool.plan import check_workload

    return check_workload(text)


def _review_owner(text: str) -> str:
    from watool.plan import check_review_owner

    return check_review_owner(text)


def check(args: argparse.Namespace) -> None:
    """Refuse export options given without ``--wa-tool`` (before any work is done)."""
    given = [f"--{name.replace('_', '-')}" for name in EXPORT_FLAGS if getattr(args, name)]
    if given and not args.wa_tool:
        raise InputError(f"{', '.join(given)} only applies with --wa-tool")


def run(args: argparse.Namespace, settings: Settings, lens, review) -> int:
    """Plan the export, then print it (dry run) or carry it out and print what was written."""
    from watool import WaExportError, export_review, plan_export

    plan = plan_export(
        review, lens.catalog().best_practices(), args.workload, overwrite=args.overwrite
    )
    if args.dry_run:
        _print(args, plan)
        return 0
    try:
        result = export_review(plan, settings, review_owner=args.review_owner)
    except WaExportError as exc:
        _print(args, exc.result)
        raise
    _print(args, result)
    return 0


def _print(args: argparse.Namespace, outcome) -> None:
    if args.json:
        json.dump(outcome.to_dict(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(outcome.render())
    sys.stdout.flush()
