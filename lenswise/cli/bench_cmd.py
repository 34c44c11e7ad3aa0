"""``lenswise bench``: timings (index, search, ask, diagrams) and retrieval quality."""

from __future__ import annotations

import argparse
import json
import sys

from agent.config import Settings
from lenswise.cli import add_common, whole_number


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` command."""
    parser = sub.add_parser(
        "bench", help="benchmark index build, search, ask and diagram parsing on this machine"
    )
    add_common(parser)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--hostile",
        action="store_true",
        help="only the hostile-input rows: worst-case files parsed in child processes",
    )
    parser.add_argument(
        "--repo",
        action="store_true",
        help="only the repository row: `review DIR` of 200 files, cold and with --cache",
    )
    team = parser.add_argument_group("team load (--team)")
    team.add_argument(
        "--team",
        action="store_true",
        help="load run of MCP HTTP replicas on one PostgreSQL (LENSWISE_STATE_URL, or a "
        "throwaway server), then one replica on SQLite",
    )
    team.add_argument(
        "--seconds", type=whole_number(5, 3600), default=120, help="length of each run (120)"
    )
    team.add_argument(
        "--users", type=whole_number(1, 500), default=25, help="users per replica (25)"
    )
    team.add_argument(
        "--replicas", type=whole_number(1, 8), default=2, help="PostgreSQL replicas (2)"
    )
    team.add_argument(
        "--think",
        type=whole_number(0, 600),
        default=1,
        help="seconds each simulated user waits between requests (1)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the benchmark and print its figures."""
    from evals.bench import render_text, run_bench, to_json

    interactive = sys.stderr.isatty()

    def log(step: str) -> None:
        print(f"bench: {step}", file=sys.stderr, flush=True)

    if args.team:
        from evals.bench_team import render, run_team_bench

        rows = run_team_bench(
            settings,
            seconds=args.seconds,
            users=args.users,
            replicas=args.replicas,
            think_s=args.think,
            log=log,
        )
        print(json.dumps(rows) if args.json else render(rows, args.seconds, args.think))
        return 0
    if args.hostile:
        from evals.bench_hostile import render_rows, run_hostile

        rows = run_hostile(log=log)
        print(json.dumps(rows) if args.json else "\n".join(render_rows(rows)))
        return 0
    if args.repo:
        from evals.bench_repo import render_repo, run_repo_bench

        repo = run_repo_bench(log=log)
        print(json.dumps(repo) if args.json else "\n".join(render_repo(repo)))
        return 0
    figures = run_bench(settings, progress=interactive, log=log)
    print(to_json(figures) if args.json else render_text(figures))
    return 0
