"""``lenswise bench --markdown``: the benchmark figures as Markdown tables for ``docs/``.

The text renderers print fixed-width columns for a terminal; a page in the repository wants
tables that read on a code host, headed by what any figure needs to be judged: the machine,
the date and the command that produced it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from evals.bench import QUALITY_METRICS, REVIEW_FIX_TARGET_S
from evals.bench_hostile import verdict
from evals.bench_team import KINDS


def header(machine: dict, command: Sequence[str], now: dt.datetime | None = None) -> list[str]:
    """Return the lines that open a figures page: machine, date (UTC) and command."""
    when = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"- machine: {machine.get('cpus')} CPUs, {machine.get('memory_gb')} GB RAM, "
        f"{machine.get('processor')}, {machine.get('platform')}, Python {machine.get('python')}",
        f"- date: {when}",
        f"- command: `{' '.join(command)}`",
        "",
    ]


def _cell(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.2f} {unit}" if unit == "s" else f"{value:.1f} {unit}"


def _target(limit: float | None, value: float | None, unit: str) -> str:
    if limit is None:
        return ""
    over = value is not None and value >= limit
    return f"< {limit:g} {unit}" + (" (over)" if over else "")


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]


def _timings(figures: dict) -> list[str]:
    """Return the table of timings and memory against their targets."""
    targets = figures["targets"]
    rows: list[Sequence[str]] = []

    def add(name: str, value: float | None, unit: str, key: str | None, error: str = "") -> None:
        limit = targets.get(key) if key else None
        note = f" (error: {error})" if error else ""
        rows.append((name + note, _cell(value, unit), _target(limit, value, unit)))

    for name, key, target in (
        ("`index build`, cold (new process)", "index_build_cold", "index_build_cold_s"),
        ("`index build`, nothing changed (new process)", "index_build_noop", "index_build_noop_s"),
        (
            f"`search --queries`, {figures['batch_search'].get('queries')} queries (new process)",
            "batch_search",
            "batch_search_60_s",
        ),
    ):
        fig = figures[key]
        add(name, fig.get("seconds"), "s", target, fig.get("error", ""))
    for command, key, target in (
        ("ask", "ask_cold", "ask_cold_s"),
        ("search", "search_cold", "search_cold_s"),
    ):
        for label, fig in figures[key].items():
            judged = label == "fast"  # the targets are for the fast path; the other is "before"
            encoder = fig.get("encoder", label)
            name = f"cold `{command}`, {encoder} (median of {fig.get('runs', '-')})"
            add(name, fig.get("seconds"), "s", target if judged else None, fig.get("error", ""))
            add(
                f"peak memory of that `{command}`",
                fig.get("peak_mb"),
                "MB",
                "cold_peak_mb" if judged else None,
            )
    add("open the index in process", figures.get("open_seconds"), "s", None)
    for mode, fig in figures["search"].items():
        add(f"warm search p50 / p95, {mode}", fig["p50_ms"], "ms", "search_p50_ms")
        rows[-1] = (
            rows[-1][0],
            f"{_cell(fig['p50_ms'], 'ms')} / {_cell(fig['p95_ms'], 'ms')}",
            rows[-1][2],
        )
    ask = figures["ask"]
    add("warm extractive `ask` p50", ask.get("p50_ms"), "ms", "ask_p50_ms", ask.get("error", ""))
    add("warm extractive `ask` p95", ask.get("p95_ms"), "ms", None)
    memory = figures["peak_memory_mb"]
    add("peak memory, bench process", memory["bench_process"], "MB", None)
    add("peak memory, largest child process", memory["largest_child"], "MB", None)
    return _table(("measurement", "value", "target"), rows)


def _quality(quality: dict) -> list[str]:
    modes = [k for k in quality if k != "cases"]
    rows = [
        (
            metric,
            *("-" if quality[m][metric] is None else f"{quality[m][metric]:.3f}" for m in modes),
        )
        for metric in QUALITY_METRICS
    ]
    return [
        f"Retrieval quality on the development suite ({quality['cases']} questions):",
        "",
        *_table(("metric", *modes), rows),
    ]


def _diagrams(figures: dict) -> list[str]:
    lines = ["Parse and review time of each diagram file:", ""]
    if "error" in figures:
        return [*lines, f"(not measured: {figures['error']})"]
    rows = []
    for r in figures.get("files", []):
        size = f"{r['bytes'] / 1024:.0f} KB" if "bytes" in r else "-"
        if "error" in r:
            rows.append((f"`{r['file']}`", size, f"error: {r['error']}", ""))
        else:
            rows.append((f"`{r['file']}`", size, f"{r['parse_ms']:.1f}", f"{r['review_ms']:.1f}"))
    return [*lines, *_table(("file", "size", "parse ms", "review ms"), rows)]


def review_fix_markdown(fix: dict) -> list[str]:
    """Return review plus verified fixes per template: p50 and max, then a table of files."""
    if not fix:
        return []
    if "error" in fix:
        return [f"Review plus verified fixes per template: not measured ({fix['error']})."]
    rows = [
        (f"`{r['file']}`", f"error: {r['error']}", "", "")
        if "error" in r
        else (f"`{r['file']}`", f"{r['seconds']:.2f} s", f"{r['cpu_seconds']:.2f} s", r["verified"])
        for r in fix["files"]
    ]
    return [
        f"Review plus verified fixes per template ({len(fix['files'])} CloudFormation/Terraform "
        f"files): p50 {_cell(fix['p50_s'], 's')}, max {_cell(fix['max_s'], 's')} "
        f"({_target(REVIEW_FIX_TARGET_S, fix['max_s'], 's')}); "
        f"CPU with checkov p50 {_cell(fix['cpu_p50_s'], 's')}, "
        f"max {_cell(fix['cpu_max_s'], 's')}; load average {fix['load_before']} before, "
        f"{fix['load_after']} after.",
        "",
        *_table(("file", "wall", "CPU with checkov", "verified fixes"), rows),
    ]


def hostile_markdown(rows: list[dict]) -> list[str]:
    """Return the hostile-input rows as a table (each file parsed in a child process)."""
    table = []
    for r in rows:
        size = (
            f"{r['bytes'] / 1024:.0f} KB" if r["bytes"] < 2**20 else f"{r['bytes'] / 2**20:.1f} MB"
        )
        detail = r.get("detail", "")
        if r["outcome"] == "parsed":
            detail = f"{r['components']} components, {r['edges']} edges"
        table.append(
            (
                r["case"],
                size,
                f"{r['seconds']:.2f}",
                f"{r['peak_mb']:.1f}",
                f"{r['outcome']}: {detail[:90]}",
                verdict(r) or "ok",
            )
        )
    return _table(("hostile input", "size", "parse s", "peak MB", "outcome", "target"), table)


def repo_markdown(figures: dict) -> list[str]:
    """Return the ``review DIR`` figures (cold and cached) as a table."""
    rows = [
        (run, f"{figures[f'{run}_s']:.2f} s", str(figures[f"{run}_parsed"]), target)
        for run, target in (("cold", "< 30 s"), ("cached", "< 5 s"))
    ]
    return [
        f"`review DIR` of {figures['files']} files ({figures['designs']} designs, "
        f"{figures['errors']} unreadable):",
        "",
        *_table(("run", "time", "files parsed", "target"), rows),
    ]


def team_markdown(rows: list[dict], seconds: float, think_s: float) -> list[str]:
    """Return the team-load rows as a table, one configuration a row."""
    head = (
        "configuration",
        "requests/s",
        *(f"{k} p50 / p95" for k in KINDS),
        "errors",
        "lost turns",
    )
    table = [
        (
            r["config"],
            str(r["throughput_rps"]),
            *(f"{r[f'{k}_p50_ms']} / {r[f'{k}_p95_ms']} ms" for k in KINDS),
            str(r["errors"]),
            str(r["lost_turns"]),
        )
        for r in rows
    ]
    return [
        f"Team load: {seconds:.0f} s per configuration, {think_s:g} s think time per user.",
        "",
        *_table(head, table),
    ]


def render_markdown(figures: dict, command: Sequence[str], now: dt.datetime | None = None) -> str:
    """Return every figure of :func:`evals.bench.run_bench` as one Markdown section."""
    lines = [
        f"## Figures: source `{figures['source']}`",
        "",
        *header(figures["machine"], command, now),
        *_timings(figures),
        "",
        *_quality(figures["quality"]),
        "",
        *_diagrams(figures["diagrams"]),
        "",
        *review_fix_markdown(figures.get("review_fix", {})),
        "",
        "Hostile inputs, each parsed in a child process:",
        "",
        *hostile_markdown(figures["hostile"]),
    ]
    return "\n".join(lines).rstrip() + "\n"
