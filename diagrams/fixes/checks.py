"""Outside checkers for a patched template: cfn-lint (in process) and checkov (its own venv)."""

from __future__ import annotations

import hashlib
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


@lru_cache(maxsize=1)
def _lint_runner():
    """Return a cfn-lint runner; loading its rules takes over a second, so it is made once."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=["us-east-1"]))


@lru_cache(maxsize=64)
def _lint(text: str) -> tuple[str, ...]:
    from cfnlint.decode.decode import decode_str

    template, matches = decode_str(text)
    if not matches and template is not None:
        matches = list(_lint_runner().validate_template(template))
    return tuple(f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E"))


def cfn_lint_errors(text: str) -> Counter[str]:
    """Return cfn-lint's errors (rule id and message, without line numbers) for ``text``."""
    return Counter(_lint(text))


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
    keys = [(suffix, hashlib.sha256(text.encode("utf-8")).hexdigest()) for text in texts]
    todo = [n for n, key in enumerate(keys) if key not in _SCANNED]
    found = _run_checkov(exe, [texts[n] for n in todo], suffix) if todo else []
    if found is None:
        return None
    for n, failures in zip(todo, found, strict=True):
        _SCANNED[keys[n]] = failures
        while len(_SCANNED) > _SCANNED_MAX:
            _SCANNED.pop(next(iter(_SCANNED)))
    return [Counter(_SCANNED[key]) for key in keys]


_SCANNED: dict[tuple[str, str], Counter[str]] = {}
"""checkov's results by (suffix, SHA-256 of the text): a file reviewed again (the UI, MCP, a
re-run) is not scanned again."""
_SCANNED_MAX = 64


def _run_checkov(exe: str, texts: list[str], suffix: str) -> list[Counter[str]] | None:
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
