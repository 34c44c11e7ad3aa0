"""Compare two eval runs: per-metric deltas and the cases whose scores changed.

``lenswise eval compare A B`` takes two report folders (or their ``results.json``) of the
same suite kind, A being the baseline. Case scores are "higher is better" except the counts
of :data:`LOWER_IS_BETTER`, and answer length, which is neither; a changed case is
``better``, ``worse``, ``mixed`` or (only its length changed) ``changed``.
"""

from __future__ import annotations

import json
from pathlib import Path

from corpus.errors import InputError
from evals.report import fmt
from evals.runner import SuiteResult

EPSILON = 1e-9
LOWER_IS_BETTER = frozenset({"false_declines", "repeated_sentences", "uncited_claims"})
UNRANKED = frozenset({"answer_words"})
"""Per-case metrics for which neither direction is better."""


def load_result(path: str | Path) -> SuiteResult:
    """Load a run from a report folder or a ``results.json`` file."""
    path = Path(path)
    file = path / "results.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        return SuiteResult.from_dict(data)
    except FileNotFoundError as exc:
        raise InputError(
            f"no eval results at {path} (give a report folder or results.json)"
        ) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"{file} is not an eval results file: {exc}") from exc


def _case_scores(result: SuiteResult) -> dict[tuple[str, str], dict]:
    """Return (case id, mode or '') -> case record with ``metrics`` for every case of a run."""
    out: dict[tuple[str, str], dict] = {}
    for case in result.cases:
        if "modes" in case:
            for mode, rec in case["modes"].items():
                out[(case["id"], mode)] = rec
        else:
            out[(case["id"], "")] = case
    return out


def _summary(result: SuiteResult) -> dict:
    return {
        "suite": result.suite.get("name"),
        "kind": result.kind,
        "source": result.run.get("source"),
        "model": result.run.get("model"),
        "started": result.run.get("started"),
    }


def compare(a: SuiteResult, b: SuiteResult) -> dict:
    """Return the comparison of run ``b`` against baseline ``a``.

    Keys: ``a`` / ``b`` (run summaries), ``metrics`` (metric, a, b, delta for every metric
    either run has), ``changed_cases`` (id, mode, per-metric ``[a, b]`` changes, verdict and
    the top results of both runs where known), ``only_in_a`` / ``only_in_b`` (case ids).
    """
    if a.kind != b.kind:
        raise InputError(f"cannot compare a {a.kind} run with a {b.kind} run")
    metrics = []
    for name in dict.fromkeys([*a.metrics, *b.metrics]):
        va, vb = a.metrics.get(name), b.metrics.get(name)
        delta = vb - va if va is not None and vb is not None else None
        metrics.append({"metric": name, "a": va, "b": vb, "delta": delta})
    sa, sb = _case_scores(a), _case_scores(b)
    changed = []
    for key in [k for k in sa if k in sb]:
        ra, rb = sa[key], sb[key]
        diffs = {
            m: [ra["metrics"].get(m), rb["metrics"].get(m)]
            for m in dict.fromkeys([*ra.get("metrics", {}), *rb.get("metrics", {})])
            if _differs(ra["metrics"].get(m), rb["metrics"].get(m))
        }
        if not diffs:
            continue
        signs = {
            ((y or 0) < (x or 0)) if m in LOWER_IS_BETTER else ((y or 0) > (x or 0))
            for m, (x, y) in diffs.items()
            if m not in UNRANKED
        }
        entry = {
            "id": key[0],
            "mode": key[1] or None,
            "changes": diffs,
            "verdict": _verdict(signs),
        }
        if "retrieved" in ra:
            entry["a_top"], entry["b_top"] = ra["retrieved"][:3], rb["retrieved"][:3]
        changed.append(entry)
    ids_a = {k[0] for k in sa}
    ids_b = {k[0] for k in sb}
    return {
        "a": _summary(a),
        "b": _summary(b),
        "metrics": metrics,
        "changed_cases": changed,
        "only_in_a": sorted(ids_a - ids_b),
        "only_in_b": sorted(ids_b - ids_a),
    }


def _verdict(signs: set[bool]) -> str:
    """Return ``better``/``worse`` for one direction, ``mixed`` for both, else ``changed``."""
    if len(signs) > 1:
        return "mixed"
    return ("better" if signs.pop() else "worse") if signs else "changed"


def _differs(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return (x is None) != (y is None)
    return abs(x - y) > EPSILON


def render_text(diff: dict) -> str:
    """Return the comparison as aligned plain text."""
    a, b = diff["a"], diff["b"]
    lines = [
        f"A: {a['suite']} ({a['source']}, {a['model']}, {a['started']})",
        f"B: {b['suite']} ({b['source']}, {b['model']}, {b['started']})",
        "",
        f"{'metric':32} {'A':>10} {'B':>10} {'delta':>10}",
    ]
    for m in diff["metrics"]:
        delta = "-" if m["delta"] is None else f"{m['delta']:+.3f}"
        lines.append(f"{m['metric']:32} {fmt(m['a']):>10} {fmt(m['b']):>10} {delta:>10}")
    lines += ["", f"cases that changed: {len(diff['changed_cases'])}"]
    for case in diff["changed_cases"]:
        mode = f"[{case['mode']}] " if case["mode"] else ""
        changes = ", ".join(
            f"{m} {fmt(x, 2)} -> {fmt(y, 2)}" for m, (x, y) in case["changes"].items()
        )
        lines.append(f"  {mode}{case['id']} ({case['verdict']}): {changes}")
        if "a_top" in case:
            lines.append(f"      top 3: {', '.join(case['a_top'])} -> {', '.join(case['b_top'])}")
    for side in ("only_in_a", "only_in_b"):
        if diff[side]:
            lines.append(f"{side.replace('_', ' ')}: {', '.join(diff[side])}")
    return "\n".join(lines)
