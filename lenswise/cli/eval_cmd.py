"""``lenswise eval run|compare|export-feedback``: run a suite, compare runs, export feedback.

``eval run`` exits 0 when every suite threshold holds, 1 when one does not (each failure is
named on stderr) and 2 for a bad suite file or flag, so CI can gate on it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from agent.config import Settings
from corpus.errors import InputError
from corpus.outputs import check_output
from lenswise.cli import add_common

REPORT_FILES = ("results.json", "report.md")
"""Files ``eval run`` writes into its ``--out`` folder (charts besides)."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``eval`` command group."""
    parser = sub.add_parser("eval", help="run offline eval suites and compare runs")
    group = parser.add_subparsers(dest="eval_command", required=True)
    run = group.add_parser(
        "run", help="run a suite and write a report folder (exit 1 below its thresholds)"
    )
    add_common(run)
    run.add_argument(
        "suite",
        help="suite YAML file, or a built-in suite: retrieval, answers, diagrams "
        "(diagram files: env LENSWISE_DIAGRAMS_DIR overrides the suite's base_dir)",
    )
    run.add_argument(
        "--mode",
        choices=("bm25", "dense", "hybrid", "all"),
        default="all",
        help="retrieval suites: search mode to evaluate (default all, side by side)",
    )
    run.add_argument("--model", help="answer model, e.g. extractive or bedrock_converse:<id>")
    run.add_argument(
        "--judge",
        metavar="MODEL",
        help="answer suites: also score faithfulness and relevance with this chat model, "
        "e.g. bedrock_converse:<model-id>",
    )
    run.add_argument("--json", action="store_true", help="print the full results as JSON")
    run.add_argument(
        "--out", type=Path, help="report folder (default eval-reports/<suite>-<timestamp>)"
    )
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.set_defaults(handler=run_eval)
    compare = group.add_parser("compare", help="per-metric deltas and changed cases of two runs")
    compare.add_argument("a", type=Path, help="baseline report folder or results.json")
    compare.add_argument("b", type=Path, help="new report folder or results.json")
    compare.add_argument("--json", action="store_true", help="print the comparison as JSON")
    compare.set_defaults(handler=run_compare)
    export = group.add_parser(
        "export-feedback",
        help="write the thumbs up/down given in the UI as an answers suite (the UI's download)",
    )
    add_common(export)
    export.add_argument("--out", type=Path, help="suite file to write (default: stdout)")
    export.set_defaults(handler=run_export_feedback)


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Run the suite, write the report, print a summary and gate on the thresholds."""
    from evals.report import fmt, write_report
    from evals.runner import run_suite
    from evals.suites import load_suite

    suite = load_suite(args.suite, diagrams_dir=os.environ.get("LENSWISE_DIAGRAMS_DIR"))
    if suite.kind != "retrieval" and args.mode != "all":
        raise InputError("--mode applies to retrieval suites only")
    if args.judge and suite.kind != "answers":
        raise InputError("--judge applies to answer suites only")
    if args.model and suite.scripted_model:
        raise InputError(f"suite {suite.name} answers with its own scripted model; drop --model")
    modes = None if args.mode == "all" else [args.mode]
    settings = settings.with_(model=args.model)
    judge = None
    if args.judge:
        from evals.judge import load_judge

        judge = load_judge(args.judge, settings)
    show_progress = not args.no_progress and sys.stderr.isatty()
    for note in suite.skipped:
        print(f"lenswise: note: {note}", file=sys.stderr)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or Path("eval-reports") / f"{suite.name}-{stamp}"
    for name in REPORT_FILES:  # checked before the run: a bad folder costs no eval time
        check_output(out / name, "--out", Path(suite.path))
    result = run_suite(suite, settings, modes=modes, progress=show_progress, judge=judge)
    write_report(result, out)
    if args.json:
        print(json.dumps({**result.to_dict(), "report_dir": str(out)}, ensure_ascii=False))
    else:
        print(summary(result, fmt))
        print(f"report: {out / 'report.md'}")
    for failure in result.failures():
        print(
            f"lenswise: threshold not met: {failure['metric']} = {fmt(failure['value'])} "
            f"(needs {failure['rule']})",
            file=sys.stderr,
        )
    return 0 if result.passed else 1


def summary(result, fmt) -> str:
    """Return the short text summary of a run printed without ``--json``."""
    suite, run = result.suite, result.run
    lines = [
        f"{suite['name']} ({suite['kind']}): {suite['cases']} cases, source {run['source']}, "
        f"model {run['model']}, {run['seconds']:.1f}s"
    ]
    if result.kind == "retrieval":
        modes = run["modes"]
        lines.append(f"{'metric':16}" + "".join(f"{m:>10}" for m in modes))
        for metric in ("recall@1", "recall@3", "recall@5", "recall@10", "mrr", "ndcg@10"):
            values = "".join(f"{fmt(result.metrics.get(f'{m}.{metric}')):>10}" for m in modes)
            lines.append(f"{metric:16}{values}")
    else:
        for name, value in result.metrics.items():
            lines.append(f"{name:24}{fmt(value):>10}")
    for t in result.thresholds:
        verdict = {True: "pass", False: "FAIL", None: "not measured"}[t["passed"]]
        lines.append(f"threshold {t['metric']} {t['rule']}: {fmt(t['value'])} {verdict}")
    return "\n".join(lines)


def run_compare(args: argparse.Namespace, settings: Settings) -> int:
    """Print per-metric deltas and the cases that changed between two runs."""
    from evals.compare import compare, load_result, render_text

    diff = compare(load_result(args.a), load_result(args.b))
    print(json.dumps(diff, ensure_ascii=False) if args.json else render_text(diff))
    return 0


def run_export_feedback(args: argparse.Namespace, settings: Settings) -> int:
    """Write the stored feedback as an answers suite, to ``--out`` or stdout."""
    from agent import LensAssistant
    from corpus.outputs import write_atomic
    from evals.feedback import suite_yaml

    if args.out:
        check_output(args.out, "--out")
    lens = LensAssistant(settings, notify=lambda line: print(line, file=sys.stderr))
    suite = suite_yaml(lens.conversations)
    if not args.out:
        sys.stdout.write(suite)
        return 0
    try:
        write_atomic(args.out, suite)
    except OSError as exc:
        raise InputError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    count = len(lens.conversations.all_feedback())
    print(f"wrote {count} feedback cases to {args.out}", file=sys.stderr)
    return 0
