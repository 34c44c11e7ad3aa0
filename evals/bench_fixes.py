"""Figures for review fixes (issue 24) over real templates and the test fixtures.

For each CloudFormation/SAM or Terraform file: gaps, gaps with a verified fix, verified fixes
that fail an independent re-check (re-review, the cfn-lint command, checkov), gaps closed with
every fix applied, and cfn-lint errors and checkov failed checks before and after. With
``--labels``, status accuracy against hand labels. Run ``python -m evals.bench_fixes``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from corpus.errors import InputError, LenswiseError
from corpus.loaders.builtin import digest_practices
from diagrams import parse_bytes, review_architecture
from diagrams.fixes import checks, plan_fixes

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "diagrams"
FIXTURES = [ROOT / "tests" / "fixtures" / "fixes", ROOT / "tests" / "fixtures" / "accuracy"]
LABELS = ROOT / "evals" / "labels" / "review-status.yaml"


def iac_files(folders: list[Path]) -> list[Path]:
    """Return the CloudFormation/SAM and Terraform files of ``folders``."""
    found = []
    for folder in folders:
        for path in sorted(folder.glob("*")):
            if path.suffix in (".tf", ".json") or path.suffix in (".yaml", ".yml"):
                text = path.read_text(encoding="utf-8", errors="replace")
                if path.suffix == ".tf" or "Resources" in text:
                    found.append(path)
    return found


def _statuses(text: str, name: str, practices) -> dict[str, str]:
    review = review_architecture(parse_bytes(text.encode(), name), practices)
    return {f.bp_id: f.status for f in review.findings}


def _lint_errors(text: str, suffix: str) -> int:
    """Count cfn-lint errors with the cfn-lint command (not the in-process API the engine uses)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"t{suffix}"
        path.write_text(text, encoding="utf-8")
        proc = subprocess.run(  # noqa: S603 - our own interpreter and temp file
            [sys.executable, "-m", "cfnlint", "--format", "parseable", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
    return sum(":E" in line for line in proc.stdout.splitlines())


def file_figures(path: Path, practices) -> dict:
    """Plan the fixes of one file and re-check every verified one independently."""
    text = path.read_text(encoding="utf-8")
    start, cpu = time.perf_counter(), _cpu()
    try:
        review = review_architecture(parse_bytes(text.encode(), path.name), practices)
    except InputError as exc:
        return {"file": path.name, "error": str(exc)}
    plan = plan_fixes(text, path.name, review, practices)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    before = {f.bp_id: f.status for f in review.findings}
    cfn = review.architecture.format == "cloudformation"
    suffix = ".tf" if path.suffix == ".tf" else ".json" if text.lstrip()[:1] == "{" else ".yaml"
    verified = [f for f in plan.fixes.values() if f.verified]
    scans = checks.checkov_failures([text, plan.patched, *(f.patched for f in verified)], suffix)
    if scans is None:
        raise LenswiseError("the fix figures need checkov: run make tools or set LENSWISE_CHECKOV")
    failing = 0
    lint_before = _lint_errors(text, suffix) if cfn else None
    for fix, scan in zip(verified, scans[2:], strict=True):
        after = _statuses(fix.patched, path.name, practices)
        broken = any(s == "addressed" and after[b] == "gap" for b, s in before.items())
        lint_worse = lint_before is not None and _lint_errors(fix.patched, suffix) > lint_before
        if after[fix.bp_id] != "addressed" or broken or lint_worse or scan - scans[0]:
            failing += 1
    after_all = _statuses(plan.patched, path.name, practices)
    gaps = [b for b, s in before.items() if s == "gap"]
    return {
        "file": path.name,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "gaps": len(gaps),
        "verified": sum(plan.fixes[b].verified for b in gaps if b in plan.fixes),
        "failing_recheck": failing,
        "closed_all": sum(after_all[b] == "addressed" for b in gaps),
        "checkov_before": sum(scans[0].values()),
        "checkov_after": sum(scans[1].values()),
        "lint_before": lint_before,
        "lint_after": _lint_errors(plan.patched, suffix) if cfn else None,
    }


def review_fix_times(folder: Path = SHARED) -> dict:
    """Time review plus verified fixes of each CloudFormation/Terraform file in ``folder``.

    Each file is reviewed and its fixes planned and verified (re-review, cfn-lint, checkov) in
    this process, as ``review FILE --fix`` does once started: checkov's worker is started
    with the review and stopped after each file, so every file pays for its import (a
    long-lived server pays it once). The first CloudFormation file also pays for loading
    cfn-lint's rules. ``seconds`` is the wall time, ``cpu_seconds`` adds
    this process's CPU time and checkov's: on a shared machine (see the load averages) the
    wall time grows with the other jobs, the CPU time does not.
    """
    practices = digest_practices()
    load_before = round(os.getloadavg()[0], 2)
    rows = []
    for path in iac_files([folder]):
        text = path.read_text(encoding="utf-8")
        checks.stop_workers()  # each file starts checkov cold, as one `review --fix` does
        start, cpu = time.perf_counter(), _cpu()
        try:
            checks.warm()
            review = review_architecture(parse_bytes(text.encode(), path.name), practices)
            plan = plan_fixes(text, path.name, review, practices)
        except InputError as exc:
            rows.append({"file": path.name, "error": str(exc)[:200]})
            continue
        seconds = time.perf_counter() - start
        checks.stop_workers()  # a finished child: its CPU time is counted
        rows.append(
            {
                "file": path.name,
                "seconds": round(seconds, 2),
                "cpu_seconds": round(_cpu() - cpu, 2),
                "verified": sum(f.verified for f in plan.fixes.values()),
            }
        )
    good = [r for r in rows if "error" not in r]
    walls, cpus = [r["seconds"] for r in good], [r["cpu_seconds"] for r in good]
    return {
        "files": rows,
        "p50_s": statistics.median(walls) if walls else None,
        "max_s": max(walls, default=None),
        "cpu_p50_s": statistics.median(cpus) if cpus else None,
        "cpu_max_s": max(cpus, default=None),
        "load_before": load_before,
        "load_after": round(os.getloadavg()[0], 2),
    }


def _cpu() -> float:
    """Return the CPU seconds of this process and its finished children (checkov)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def label_figures(labels: Path, folder: Path, practices) -> dict:
    """Return status accuracy, gap precision and addressed precision against hand labels."""
    agree = total = gap_hits = gaps = ok_hits = oks = 0
    for entry in yaml.safe_load(labels.read_text(encoding="utf-8"))["files"]:
        path = folder / entry["file"]
        review = review_architecture(parse_bytes(path.read_bytes(), path.name), practices)
        for finding in review.findings:
            truth = (entry.get("labels") or {}).get(finding.bp_id, "unknown")
            total += 1
            agree += truth == finding.status
            if finding.status == "gap":
                gaps, gap_hits = gaps + 1, gap_hits + (truth == "gap")
            if finding.status == "addressed":
                oks, ok_hits = oks + 1, ok_hits + (truth == "addressed")
    return {
        "statuses": total,
        "accuracy": round(agree / total, 3) if total else None,
        "gap_precision": round(gap_hits / gaps, 3) if gaps else None,
        "addressed_precision": round(ok_hits / oks, 3) if oks else None,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the fix figures for the shared templates and the fixtures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[SHARED, *FIXTURES])
    args = parser.parse_args(argv)
    practices = digest_practices()
    keys = ("gaps", "verified", "failing_recheck", "closed_all", "checkov_before", "checkov_after")
    rows = []
    for path in iac_files(args.folders):
        rows.append(file_figures(path, practices))
        print(" ".join(f"{k}={v}" for k, v in rows[-1].items()), flush=True)
    good = [r for r in rows if "error" not in r]
    totals = {k: sum(r[k] for r in good) for k in keys}
    for k in ("lint_before", "lint_after"):
        totals[k] = sum(r[k] for r in good if r[k] is not None)
    share = totals["verified"] / totals["gaps"] if totals["gaps"] else 0.0
    print("total", " ".join(f"{k}={v}" for k, v in totals.items()), f"verified_share={share:.2f}")
    for key in ("seconds", "cpu_seconds"):
        values = sorted(r[key] for r in good)
        if values:
            print(f"{key} per template: median {statistics.median(values)}, max {values[-1]}")
    if SHARED.exists():
        print("labels", label_figures(LABELS, SHARED, practices))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
