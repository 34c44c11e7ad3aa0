"""Write a run's report folder: ``report.md`` (tables), ``results.json`` (everything), PNG charts.

Charts use matplotlib's Agg backend (no display needed): recall@k curves per retrieval mode
and per-pillar bars for retrieval suites, metric bars for answer suites, per-file bars for
diagram suites.
"""

from __future__ import annotations

import json
from pathlib import Path

from corpus.errors import InputError
from corpus.outputs import write_atomic
from evals.metrics import RETRIEVAL_METRICS
from evals.runner import SuiteResult

RATIO_METRICS_ANSWERS = (
    "citation_validity",
    "lead_correct",
    "citation_precision",
    "citation_recall",
    "grounding_rate",
    "must_state",
    "must_not_state",
    "facts_stated",
    "multi_part_all_cited",
    "correct_declines",
    "answered_in_scope",
    "false_declines",
    "judge_faithfulness",
    "judge_relevance",
)
COUNT_METRICS_ANSWERS = ("repeated_sentences", "uncited_claims", "answer_words")
"""Per-answer counts (their means are shown, not charted with the ratios)."""
DETAIL_LABELS = {
    "facts_stated": "unstated",
    "repeated_sentences": "repeated",
    "uncited_claims": "uncited",
}
"""How the per-case details of the content metrics are labelled in the cases table."""
BY_TAG_METRICS = (
    "facts_stated",
    "lead_correct",
    "citation_precision",
    "citation_recall",
    "correct_declines",
    "false_declines",
    "must_not_state",
)
REVIEW_METRICS = ("service_precision", "service_recall", "finding_precision", "finding_recall")


def fmt(value: float | None, digits: int = 3) -> str:
    """Format a metric value for a table (``-`` when missing)."""
    if value is None:
        return "-"
    if float(value).is_integer() and abs(value) >= 10:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def write_report(result: SuiteResult, out_dir: str | Path) -> list[Path]:
    """Write ``report.md``, ``results.json`` and the charts into ``out_dir``; return the paths."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create report folder {out}: {exc}") from exc
    written = [write_atomic(out / "results.json", json.dumps(result.to_dict(), indent=2) + "\n")]
    charts = _charts(result, out)
    written.append(write_atomic(out / "report.md", render_markdown(result, charts)))
    return written + charts


# --- markdown ----------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines + [""]


def render_markdown(result: SuiteResult, charts: list[Path] | None = None) -> str:
    """Return the Markdown report of ``result``."""
    suite, run = result.suite, result.run
    lines = [
        f"# Eval report: {suite['name']} ({suite['kind']})",
        "",
        f"- suite: `{suite['path']}` ({suite['cases']} cases)",
        f"- source: `{run.get('source')}`, model: `{run.get('model')}`, "
        f"embeddings: `{run.get('embedding_model')}`",
        f"- started {run.get('started')}, took {fmt(run.get('seconds'), 1)} s",
    ]
    lines += [f"- skipped: {note}" for note in suite.get("skipped", [])]
    lines.append("")
    if result.thresholds:
        lines += ["## Thresholds", ""]
        rows = [
            [t["metric"], t["rule"], fmt(t["value"]), _verdict(t["passed"])]
            for t in result.thresholds
        ]
        lines += _table(["metric", "rule", "value", "result"], rows)
    body = {"retrieval": _retrieval_md, "answers": _answers_md, "diagrams": _diagrams_md}
    lines += body[result.kind](result)
    for chart in charts or []:
        lines += [f"![{chart.stem}]({chart.name})", ""]
    return "\n".join(lines)


def _verdict(passed: bool | None) -> str:
    return {True: "pass", False: "**FAIL**", None: "not measured"}[passed]


def _retrieval_md(result: SuiteResult) -> list[str]:
    modes = result.run.get("modes", [])
    lines = ["## Retrieval quality", ""]
    rows = [
        [m] + [fmt(result.metrics.get(f"{mode}.{m}")) for mode in modes]
        for m in (*RETRIEVAL_METRICS, "latency_p50_ms", "latency_p95_ms")
    ]
    lines += _table(["metric", *modes], rows)
    lines += [
        "Latencies are per search call in this run; modes run one after another and may reuse "
        "query embeddings cached by an earlier mode, so take latency figures from "
        "`lenswise bench`.",
        "",
        "## By pillar (recall@5 / MRR)",
        "",
    ]
    pillars = sorted({p for by in result.by_pillar.values() for p in by})
    counts = {p: sum(c["pillar"] == p for c in result.cases) for p in pillars}
    rows = [
        [f"{p} ({counts[p]})"]
        + [
            f"{fmt(result.by_pillar.get(mode, {}).get(p, {}).get('recall@5'), 2)} / "
            f"{fmt(result.by_pillar.get(mode, {}).get(p, {}).get('mrr'), 2)}"
            for mode in modes
        ]
        for p in pillars
    ]
    lines += _table(["pillar (cases)", *modes], rows)
    mode = "hybrid" if "hybrid" in modes else (modes[0] if modes else None)
    misses = [c for c in result.cases if mode and _rank(c, mode) is None]
    lines += [f"## Misses: no expected practice in the top 5 ({mode})", ""]
    if not misses:
        lines += ["None.", ""]
    else:
        rows = [
            [c["id"], ", ".join(c["expected"]), ", ".join(c["modes"][mode]["retrieved"][:3])]
            for c in misses
        ]
        lines += _table(["case", "expected", f"top 3 ({mode})"], rows)
    return lines


def _rank(case: dict, mode: str, within: int = 5) -> int | None:
    rank = case["modes"].get(mode, {}).get("first_relevant_rank")
    return rank if rank is not None and rank <= within else None


def _answers_md(result: SuiteResult) -> list[str]:
    m = result.metrics
    lines = ["## Answer quality", ""]
    rows = [[name, fmt(m.get(name))] for name in RATIO_METRICS_ANSWERS if name in m]
    rows += [
        [f"{name} (mean per answer)", fmt(m.get(name), 1)]
        for name in COUNT_METRICS_ANSWERS
        if name in m
    ]
    rows += [
        [
            "latency p50 / p95 (ms)",
            f"{fmt(m.get('latency_p50_ms'), 0)} / {fmt(m.get('latency_p95_ms'), 0)}",
        ],
        ["tokens in / out", f"{fmt(m.get('input_tokens'), 0)} / {fmt(m.get('output_tokens'), 0)}"],
        ["estimated cost (USD)", fmt(m.get("estimated_cost_usd"), 4)],
    ]
    lines += _table(["metric", "value"], rows)
    if result.by_tag:
        names = [n for n in BY_TAG_METRICS if any(n in v for v in result.by_tag.values())]
        lines += ["## By case type", ""]
        lines += _table(
            ["tag", *names],
            [[tag, *(fmt(v.get(n), 2) for n in names)] for tag, v in result.by_tag.items()],
        )
    lines += ["## Cases", ""]
    rows = []
    for c in result.cases:
        decl = f"{'yes' if c['declined'] else 'no'}" + (
            " (expected)" if c["should_decline"] else ""
        )
        rows.append(
            [
                c["id"],
                decl,
                ", ".join(c["citations"]) or "-",
                fmt(c["metrics"].get("citation_recall"), 2),
                fmt(c["metrics"].get("must_state"), 2),
                fmt(c["metrics"].get("facts_stated"), 2),
                "; ".join(
                    c["missing_facts"]
                    + [f"NOT: {f}" for f in c["forbidden_facts"]]
                    + [
                        f"{label}: {text}"
                        for name, label in DETAIL_LABELS.items()
                        for text in c.get("details", {}).get(name, [])
                    ]
                )
                or "-",
                fmt(c["latency_ms"], 0),
            ]
        )
    lines += _table(
        ["case", "declined", "cited", "cit. recall", "must state", "facts", "fact problems", "ms"],
        rows,
    )
    return lines


def _diagrams_md(result: SuiteResult) -> list[str]:
    m = result.metrics
    lines = ["## Review quality", ""]
    rows = [[name, fmt(m.get(name))] for name in REVIEW_METRICS]
    rows.append(
        [
            "latency p50 / p95 (ms)",
            f"{fmt(m.get('latency_p50_ms'), 0)} / {fmt(m.get('latency_p95_ms'), 0)}",
        ]
    )
    lines += _table(["metric", "value"], rows)
    lines += ["## Files", ""]
    rows = []
    for c in result.cases:
        wrong = [
            f"{bp}: {f['reported']} (want {f['expected']})"
            for bp, f in c["findings"].items()
            if not _finding_ok(f)
        ]
        rows.append(
            [
                c["id"],
                *(fmt(c["metrics"].get(n), 2) for n in REVIEW_METRICS),
                ", ".join(c["missing_services"]) or "-",
                ", ".join(c["unexpected_services"]) or "-",
                "; ".join(wrong) or ("ERROR " + c["error"] if c.get("error") else "-"),
            ]
        )
    lines += _table(
        ["case", "svc P", "svc R", "find P", "find R", "missing", "unexpected", "finding problems"],
        rows,
    )
    return lines


def _finding_ok(finding: dict) -> bool:
    if finding["expected"] == "not addressed":
        return finding["reported"] != "addressed"
    return finding["reported"] == finding["expected"]


# --- charts ------------------------------------------------------------------------------


def _charts(result: SuiteResult, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    draw = {"retrieval": _retrieval_charts, "answers": _answers_chart, "diagrams": _diagram_chart}
    paths = draw[result.kind](result, out, plt)
    plt.close("all")
    return paths


def _retrieval_charts(result: SuiteResult, out: Path, plt) -> list[Path]:
    paths = []
    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, curve in result.curves.items():
        ks = sorted(curve, key=int)
        ax.plot([int(k) for k in ks], [curve[k] for k in ks], marker="o", label=mode)
    ax.set(xlabel="k", ylabel="recall@k", ylim=(0, 1.02), title=f"{result.suite['name']}: recall@k")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    paths.append(out / "recall_at_k.png")
    fig.savefig(paths[-1], dpi=110)

    pillars = sorted({p for by in result.by_pillar.values() for p in by})
    modes = list(result.by_pillar)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    width = 0.8 / max(len(modes), 1)
    for ax, metric in zip(axes, ("recall@5", "mrr"), strict=True):
        for i, mode in enumerate(modes):
            values = [result.by_pillar[mode].get(p, {}).get(metric, 0) for p in pillars]
            ax.bar([x + i * width for x in range(len(pillars))], values, width, label=mode)
        ax.set_xticks([x + width * (len(modes) - 1) / 2 for x in range(len(pillars))])
        ax.set_xticklabels([p.replace(" ", "\n", 1) for p in pillars], fontsize=8)
        ax.set(title=f"{metric} by pillar", ylim=(0, 1.2))
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(ncols=max(len(modes), 1), loc="upper center", fontsize=8)
    fig.tight_layout()
    paths.append(out / "pillars.png")
    fig.savefig(paths[-1], dpi=110)
    return paths


def _answers_chart(result: SuiteResult, out: Path, plt) -> list[Path]:
    names = [n for n in RATIO_METRICS_ANSWERS if result.metrics.get(n) is not None]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.barh(names, [result.metrics[n] for n in names], color="tab:blue")
    ax.set(xlim=(0, 1.02), title=f"{result.suite['name']}: answer metrics")
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    path = out / "answers.png"
    fig.savefig(path, dpi=110)
    return [path]


def _diagram_chart(result: SuiteResult, out: Path, plt) -> list[Path]:
    ids = [c["id"] for c in result.cases]
    fig, ax = plt.subplots(figsize=(max(7, len(ids) * 0.9), 4.5))
    width = 0.8 / len(REVIEW_METRICS)
    for i, name in enumerate(REVIEW_METRICS):
        values = [c["metrics"].get(name) or 0 for c in result.cases]
        ax.bar([x + i * width for x in range(len(ids))], values, width, label=name)
    ax.set_xticks([x + width * 1.5 for x in range(len(ids))])
    ax.set_xticklabels(ids, rotation=35, ha="right", fontsize=8)
    ax.set(ylim=(0, 1.2), title=f"{result.suite['name']}: per-file review quality")
    ax.legend(fontsize=8, ncols=len(REVIEW_METRICS), loc="upper center")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path = out / "diagrams.png"
    fig.savefig(path, dpi=110)
    return [path]
