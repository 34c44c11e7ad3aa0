"""``lenswise serve-check``: is this replica ready to serve (state store reachable, index built)?"""

from __future__ import annotations

import argparse
import json

from agent.config import Settings
from lenswise.cli import add_common


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``serve-check`` command."""
    parser = sub.add_parser(
        "serve-check",
        help="say whether the state store and the lens index are ready (exit 0) or not (1)",
    )
    add_common(parser)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Check the store (opening it applies pending schema versions) and the index; print both."""
    from agent import LensAssistant
    from agent.health import HealthCheck

    report = HealthCheck(LensAssistant(settings))()
    if args.json:
        print(json.dumps(report))
    else:
        mode = "team mode" if settings.team_mode else "single-user mode"
        for part in ("store", "index"):
            state = "ready" if report[part]["ready"] else "NOT READY"
            print(f"{part}: {state}: {report[part]['detail']}")
        print(f"{'ready' if report['ready'] else 'not ready'} ({mode})")
    return 0 if report["ready"] else 1
