"""Outside checkers for a patched template: cfn-lint (in process) and checkov (its own venv)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from functools import lru_cache
from pathlib import Path

CHECKOV_ENV = "LENSWISE_CHECKOV"
"""Environment variable naming the checkov executable (default: ``.venv-tools/bin/checkov``)."""
_TIMEOUT = 120


def cfn_lint_errors(text: str) -> Counter[str]:
    """Return cfn-lint's errors (rule id and message, without line numbers) for ``text``."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(text, config=ManualArgs(regions=["us-east-1"]))
    return Counter(f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E"))


@lru_cache(maxsize=1)
def checkov_path() -> str | None:
    """Return the checkov executable, or None when it is not installed."""
    named = os.environ.get(CHECKOV_ENV)
    if named:
        return named if shutil.which(named) else None
    local = Path(__file__).resolve().parents[2] / ".venv-tools" / "bin" / "checkov"
    return str(local) if local.exists() else shutil.which("checkov")


def checkov_failures(texts: list[str], suffix: str) -> list[Counter[str]] | None:
    """Return checkov's failed checks (check id and resource) per text, None without checkov.

    All texts are scanned in one checkov run (its start-up dominates the time).

    Args:
        texts: file contents to scan.
        suffix: ``.yaml``, ``.json`` or ``.tf``: tells checkov the framework.
    """
    exe = checkov_path()
    if exe is None:
        return None
    framework = "terraform" if suffix == ".tf" else "cloudformation"
    found: list[Counter[str]] = [Counter() for _ in texts]
    with tempfile.TemporaryDirectory() as tmp:
        for n, text in enumerate(texts):
            folder = Path(tmp) / str(n)
            folder.mkdir()
            (folder / f"template{suffix}").write_text(text, encoding="utf-8")
        proc = subprocess.run(  # noqa: S603 - fixed executable, files in our own temp dir
            [exe, "-d", tmp, "--framework", framework, "-o", "json", "--quiet", "--compact"]
            + ["--skip-download"],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
            check=False,
        )
    try:
        report = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        return None
    for item in report if isinstance(report, list) else [report]:
        failed = (
            (item.get("results") or {}).get("failed_checks", []) if isinstance(item, dict) else []
        )
        for check in failed:
            folder = Path(str(check.get("file_path", ""))).parent.name
            if folder.isdigit() and int(folder) < len(texts):
                found[int(folder)][f"{check['check_id']} {check['resource']}"] += 1
    return found
