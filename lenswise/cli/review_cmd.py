"""``lenswise review``: lens review of an architecture diagram or IaC template."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from agent.config import Settings
from corpus.errors import InputError
from corpus.outputs import check_output, write_atomic
from lenswise.cli import add_common, review_ci, review_fix, wa_tool_cmd

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
TOP_GAPS = 5


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``review`` command."""
    parser = sub.add_parser(
        "review", help="review a diagram (draw.io, Mermaid, image) or IaC template against the lens"
    )
    add_common(parser)
    parser.add_argument(
        "file",
        type=Path,
        help=".drawio/.xml/.drawio.png/.drawio.svg, .mmd/.md, "
        "CloudFormation/SAM .yaml/.json, Terraform .tf, an image, or a folder of designs",
    )
    parser.add_argument(
        "--model",
        help="multimodal chat model for plain images, e.g. "
        "bedrock_converse:<model-id> (env LENSWISE_MODEL)",
    )
    parser.add_argument("--json", action="store_true", help="print the review as JSON")
    parser.add_argument("--report", type=Path, help="write a markdown report to this file")
    wa_tool_cmd.add_arguments(parser)
    review_ci.add_arguments(parser)
    review_fix.add_arguments(parser)
    parser.set_defaults(handler=run)


def _clean(text: str) -> str:
    return _UNSAFE.sub(" ", text)


def summary(review) -> str:
    """Return the short human summary printed without ``--json``."""
    arch, cov = review.architecture, review.coverage
    mapped = sum(1 for c in arch.components if c.service)
    lines = [
        _clean(
            f"{arch.file}: {arch.format}, {len(arch.components)} components "
            f"({mapped} on AWS services), {len(arch.edges)} connections"
        ),
        "services: " + (", ".join(arch.services) or "none recognised"),
    ]
    if arch.annotations:
        lines.append(
            f"annotations: {len(arch.annotations)} (legends, titles, step badges, notes; "
            "not counted as components)"
        )
    for part in review.diagrams:
        cov_part = part.coverage
        lines.append(
            _clean(
                f"diagram '{part.name}': {len(part.components)} components, "
                f"{cov_part['addressed']} addressed, {cov_part['gap']} gaps"
            )
        )
    lines += [
        f"coverage: {cov['addressed']} addressed, {cov['gap']} gaps, {cov['unknown']} unknown "
        f"of {cov['total']} best practices (unknown ones need answers from the team)"
        + (" for all diagrams together" if review.diagrams else ""),
    ]
    for pillar, counts in cov["by_pillar"].items():
        lines.append(
            f"  {pillar:24} {counts['addressed']:2} addressed {counts['gap']:2} gaps "
            f"{counts['unknown']:2} unknown"
        )
    gaps = review.by_risk("gap")
    if gaps:
        lines.append("top gaps:")
        for finding in gaps[:TOP_GAPS]:
            lines.append(
                _clean(f"  [{finding.risk}] {finding.bp_id} {finding.title}: {finding.explanation}")
            )
        if len(gaps) > TOP_GAPS:
            lines.append(f"  ... and {len(gaps) - TOP_GAPS} more (see --report or --json)")
    lines += [_clean(f"warning: {w}") for w in review.warnings[:5]]
    return "\n".join(lines)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Parse the file, review it, print the result and optionally write the report."""
    from agent import LensAssistant
    from diagrams import render_markdown

    if review_ci.wanted(args):  # folders, baselines, gates and CI formats (issue 25)
        return review_ci.run(args, settings)
    wa_tool_cmd.check(args)
    if args.report:
        check_output(args.report, "--report", args.file)
    review_fix.check(args)
    review_fix.warm(args)
    lens = LensAssistant(settings, model=args.model)
    review = lens.review(args.file)
    fixes = review_fix.plan(args, lens, review) if review_fix.wanted(args) else None
    if args.report:
        try:
            write_atomic(args.report, render_markdown(review))
        except OSError as exc:
            raise InputError(f"cannot write report {args.report}: {exc.strerror or exc}") from None
    if args.wa_tool:
        return wa_tool_cmd.run(args, settings, lens, review)
    if fixes is not None:
        review_fix.write(args, fixes)
    if args.json:
        json.dump(review.to_dict(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    elif fixes is None or not args.fix:
        print(summary(review))
        if args.report:
            print(f"report written to {args.report}")
    return 0
