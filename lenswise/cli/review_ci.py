"""``lenswise review`` in CI: folders, baselines (``--baseline``/``--since``), a gate and SARIF."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.config import Settings
from corpus.errors import InputError

if TYPE_CHECKING:
    from diagrams.contracts import RepoReviewJSON, ReviewJSON

FORMATS = ("sarif", "pr-comment")
GATE_EXIT = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the folder, baseline, gate and output-format options to ``review``."""
    group = parser.add_argument_group("CI: folders, baselines and gates")
    what = group.add_mutually_exclusive_group()
    what.add_argument(
        "--baseline", type=Path, metavar="OLD.json", help="an earlier `review --json` output"
    )
    what.add_argument("--since", metavar="GIT_REF", help="compare with the same paths at a git ref")
    group.add_argument(
        "--fail-on",
        choices=("high", "medium", "low"),
        help="exit 3 when a new gap at or above this risk appears",
    )
    group.add_argument("--format", choices=FORMATS, help="print SARIF 2.1.0 or a PR comment")
    group.add_argument("--cache", type=Path, metavar="DIR", help="reuse parsed files from DIR")


def wanted(args: argparse.Namespace) -> bool:
    """Return True when the CI path handles the command (a folder or any CI option)."""
    options = (args.baseline, args.since, args.fail_on, args.format, args.cache)
    return args.file.is_dir() or any(o is not None for o in options)


def _review(tree, single: str | None, practices, cache: Path | None) -> ReviewJSON | RepoReviewJSON:
    """Return the ``--json`` document of a folder, or of one file when ``single`` names it."""
    from diagrams.discover import Design
    from diagrams.repo import Parser, review_dict, review_tree
    from diagrams.review import review_architecture

    parser = Parser(tree, cache)
    if single is None:
        return review_tree(tree, practices, parser).to_dict()
    arch = parser.parse(Design(single, (single,), single))
    return review_dict(review_architecture(arch, practices))


def _baseline(args: argparse.Namespace, root: Path, single, practices) -> dict | None:
    from diagrams.changes import designs_of
    from diagrams.discover import GitTree

    if args.baseline is not None:
        try:
            doc = json.loads(args.baseline.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"cannot read baseline {args.baseline}: {exc}") from None
        return designs_of(doc)
    if args.since is None:
        return None
    tree = GitTree(root, args.since)
    if single is not None and single not in tree.files():
        return {}  # the file is new since the ref
    return designs_of(_review(tree, single, practices, args.cache))


def _summary(doc: Mapping[str, Any]) -> str:
    lines = []
    for design in doc.get("designs", [doc]):
        cov = design["coverage"]
        lines.append(
            f"{design.get('path') or design['file']}: {design['format']}, "
            f"{len(design['components'])} components, {cov['addressed']} addressed, "
            f"{cov['gap']} gaps, {cov['unknown']} unknown"
        )
    if "combined" in doc:
        cov = doc["combined"]["coverage"]
        lines.append(
            f"combined ({len(doc['designs'])} designs, {len(doc['combined']['components'])} "
            f"components): {cov['addressed']} addressed, {cov['gap']} gaps, "
            f"{cov['unknown']} unknown"
        )
    lines += [f"error: {e['path']}: {e['error']}" for e in doc.get("errors", [])]
    return "\n".join(line.translate({c: " " for c in range(32)}) for line in lines)


def _prefix(root: Path) -> str:
    """Return the reviewed folder relative to the working directory, as a SARIF path prefix."""
    try:
        rel = root.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return ""
    return "" if rel == "." else rel + "/"


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Review a file or folder, compare with the baseline, print, and apply the gate."""
    from agent import LensAssistant
    from diagrams.changes import compare, designs_of
    from diagrams.ci_output import pr_comment, to_sarif
    from diagrams.discover import WorkTree

    if args.report or getattr(args, "wa_tool", None):
        raise InputError("--report and --wa-tool take one file without the CI options")
    if not args.file.exists():
        raise InputError(f"no such file or folder: {args.file}")
    practices = LensAssistant(settings).catalog().best_practices()
    folder = args.file.is_dir()
    root = args.file if folder else args.file.parent
    single = None if folder else args.file.name
    doc = _review(WorkTree(root), single, practices, args.cache)
    before = _baseline(args, root, single, practices)
    changes = compare(before, designs_of(doc))
    if before is not None:
        doc["changes"] = changes.to_dict()
    if args.format == "sarif":
        log = to_sarif(changes, metadata.version("lenswise"), _prefix(root))
        json.dump(log, sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.format == "pr-comment":
        sys.stdout.write(pr_comment(changes))
    elif args.json:
        json.dump(doc, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(_summary(doc))
        if before is not None:
            print(pr_comment(changes), end="")
    if args.fail_on:
        failing = changes.gate(args.fail_on)
        if failing:
            names = ", ".join(f"{g['bp_id']} ({g['file']})" for g in failing[:5])
            more = f" and {len(failing) - 5} more" if len(failing) > 5 else ""
            print(
                f"lenswise: {len(failing)} new gap(s) at or above {args.fail_on} risk: "
                f"{names}{more}",
                file=sys.stderr,
            )
            return GATE_EXIT
    return 0
