"""``lenswise bench``: timings (index, search, ask, diagrams) and retrieval quality."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from agent.config import Settings
from corpus.extras import require_extra
from lenswise.cli import add_common, whole_number


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` command."""
    parser = sub.add_parser(
        "bench", help="benchmark index build, search, ask and diagram parsing on this machine"
    )
    add_common(parser)
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the figures as JSON")
    shape.add_argument(
        "--markdown",
        action="store_true",
        help="print the figures as Markdown tables headed by machine, date and command "
        "(docs/benchmarks.md)",
    )
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
    parser.add_argument(
        "--fixes",
        action="store_true",
        help="only the review + verified fixes rows: each CloudFormation/Terraform file of "
        "../shared/diagrams reviewed and its fixes verified (cfn-lint, checkov)",
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


def _print_subset(
    args: argparse.Namespace,
    title: str,
    figures: Any,
    markdown: Callable[[], list[str]],
    text: Callable[[], str],
) -> int:
    """Print a subset's figures as JSON, Markdown (heading, machine, date, command) or text."""
    from evals.bench import machine
    from evals.bench_markdown import header

    if args.json:
        print(json.dumps(figures))
    elif args.markdown:
        command = ["lenswise", *sys.argv[1:]]
        print("\n".join([f"## {title}", "", *header(machine(), command), *markdown()]))
    else:
        print(text())
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the benchmark and print its figures."""
    from evals import bench_markdown
    from evals.bench import render_text, run_bench, to_json

    interactive = sys.stderr.isatty()

    def log(step: str) -> None:
        print(f"bench: {step}", file=sys.stderr, flush=True)

    if args.team:
        require_extra("mcp", "lenswise bench --team")
        from evals.bench_team import render, run_team_bench

        rows = run_team_bench(
            settings,
            seconds=args.seconds,
            users=args.users,
            replicas=args.replicas,
            think_s=args.think,
            log=log,
        )
        return _print_subset(
            args,
            "Team load",
            rows,
            lambda: bench_markdown.team_markdown(rows, args.seconds, args.think),
            lambda: render(rows, args.seconds, args.think),
        )
    if args.hostile:
        from evals.bench_hostile import render_rows, run_hostile

        hostile = run_hostile(log=log)
        return _print_subset(
            args,
            "Hostile inputs",
            hostile,
            lambda: bench_markdown.hostile_markdown(hostile),
            lambda: "\n".join(render_rows(hostile)),
        )
    if args.fixes:
        from evals.bench import review_fix_figures, review_fix_lines

        fix = review_fix_figures(log)
        return _print_subset(
            args,
            "Review plus fixes",
            fix,
            lambda: bench_markdown.review_fix_markdown(fix),
            lambda: "\n".join(review_fix_lines(fix)),
        )
    if args.repo:
        from evals.bench_repo import render_repo, run_repo_bench

        repo = run_repo_bench(log=log)
        return _print_subset(
            args,
            "Repository review",
            repo,
            lambda: bench_markdown.repo_markdown(repo),
            lambda: "\n".join(render_repo(repo)),
        )
    require_extra("eval", "lenswise bench")
    figures = run_bench(settings, progress=interactive, log=log)
    if args.markdown:
        print(bench_markdown.render_markdown(figures, ["lenswise", *sys.argv[1:]]), end="")
    else:
        print(to_json(figures) if args.json else render_text(figures))
    return 0
