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
    scan = start_scan(texts, suffix)
    return None if scan is None else scan.result()


def start_scan(texts: list[str], suffix: str) -> Scan | None:
    """Start checkov on the texts not scanned before, in the background; None without checkov."""
    exe = checkov_path()
    return None if exe is None else Scan(exe, texts, suffix)


_SCANNED: dict[tuple[str, str], Counter[str]] = {}
"""checkov's results by (suffix, SHA-256 of the text): a file reviewed again (the UI, MCP, a
re-run) is not scanned again."""
_SCANNED_MAX = 64


class Scan:
    """One checkov run over several texts, started at once and read with :meth:`result`.

    The review and the re-reviews of the fixes run in this process meanwhile: checkov's
    start-up takes seconds, so overlapping the two halves the wait on a two-core machine.
    """

    def __init__(self, exe: str, texts: list[str], suffix: str) -> None:
        self.texts, self.suffix = texts, suffix
        self.keys = [(suffix, hashlib.sha256(t.encode("utf-8")).hexdigest()) for t in texts]
        self.todo = list(dict.fromkeys(k for k in self.keys if k not in _SCANNED))
        self.proc: subprocess.Popen | None = None
        self.tmp = tempfile.TemporaryDirectory()
        if not self.todo:
            return
        framework = "terraform" if suffix == ".tf" else "cloudformation"
        by_key = dict(zip(self.keys, texts, strict=True))
        for n, key in enumerate(self.todo):
            folder = Path(self.tmp.name) / str(n)
            folder.mkdir()
            (folder / f"template{suffix}").write_text(by_key[key], encoding="utf-8")
        self.proc = subprocess.Popen(  # noqa: S603 - fixed executable, files in our own temp dir
            [exe, "-d", self.tmp.name, "--framework", framework, "-o", "json", "--quiet"]
            + ["--compact", "--skip-download"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        )

    def cancel(self) -> None:
        """Stop the run (its results are no longer needed)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        self.tmp.cleanup()

    def result(self) -> list[Counter[str]] | None:
        """Wait for checkov; return the failed checks per text (None: unreadable output)."""
        if self.proc is not None:
            try:
                out, _ = self.proc.communicate(timeout=_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.cancel()
                return None
            found = _failures(out, len(self.todo))
            if found is None:
                return None
            for key, failures in zip(self.todo, found, strict=True):
                _SCANNED[key] = failures
                while len(_SCANNED) > _SCANNED_MAX:
                    _SCANNED.pop(next(iter(_SCANNED)))
        self.tmp.cleanup()
        return [Counter(_SCANNED[key]) for key in self.keys]


def _failures(stdout: str, count: int) -> list[Counter[str]] | None:
    """Read checkov's JSON report of ``count`` folders named 0, 1, ..."""
    found: list[Counter[str]] = [Counter() for _ in range(count)]
    try:
        report = json.loads(stdout or "{}")
    except json.JSONDecodeError:
        return None
    for item in report if isinstance(report, list) else [report]:
        failed = (
            (item.get("results") or {}).get("failed_checks", []) if isinstance(item, dict) else []
        )
        for check in failed:
            folder = Path(str(check.get("file_path", ""))).parent.name
            if folder.isdigit() and int(folder) < count:
                found[int(folder)][f"{check['check_id']} {check['resource']}"] += 1
    return found
