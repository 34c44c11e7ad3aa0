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
    found = scan(texts, suffix)
    return None if found is None else found.result()


def scan(texts: list[str], suffix: str, ready: Checkov | None = None) -> Scan | None:
    """Start scanning the texts checkov has not seen; None when checkov is not installed.

    ``ready``: a checkov process started earlier, used if it has not scanned yet.
    """
    exe = checkov_path()
    if exe is None:
        return None
    found = Scan(texts, suffix)
    if found.todo:
        found.run(exe, ready.take() if ready else None)
    return found


_SCANNED: dict[tuple[str, str], Counter[str]] = {}
"""checkov's results by (suffix, SHA-256 of the text): a file reviewed again (the UI, MCP, a
re-run) is not scanned again."""
_SCANNED_MAX = 64


def _key(text: str, suffix: str) -> tuple[str, str]:
    return suffix, hashlib.sha256(text.encode("utf-8")).hexdigest()


_WORKER = """\
import json, sys, warnings
from checkov.main import Checkov
argv = json.loads(sys.stdin.readline() or "null")
if argv:
    sys.argv[1:] = argv
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=SyntaxWarning)
        sys.exit(Checkov(argv).run())
"""
"""What checkov's own ``checkov`` script runs, but with the command line read from stdin: the
process imports checkov (most of its start-up) before the files it will scan exist."""


def _interpreter(exe: str) -> list[str] | None:
    """Return the command running the Python script ``exe`` (its ``#!`` line), or None."""
    try:
        with open(shutil.which(exe) or exe, "rb") as script:
            first = script.readline(300).decode("utf-8", "replace")
    except OSError:
        return None
    words = first[2:].split() if first.startswith("#!") else []
    return words if any(Path(w).name.startswith("python") for w in words) else None


class Checkov:
    """A checkov process started before the files to scan are known.

    checkov spends most of its run importing itself (about 2.5 s of CPU here); a fix plan
    starts it first and hands it the original and the patched file once they exist, so on a
    two-core machine the import runs beside the review of the fixes. One process scans once:
    checkov keeps state from its first run, so a second scan needs a fresh process.
    """

    def __init__(self, exe: str) -> None:
        python = _interpreter(exe)
        self.proc: subprocess.Popen | None = None
        if python:  # a checkov that is no Python script is run as a plain command by scan()
            self.proc = subprocess.Popen(  # noqa: S603 - checkov's own interpreter
                [*python, "-c", _WORKER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
            )

    @classmethod
    def start(cls, text: str, suffix: str) -> Checkov | None:
        """Start checkov's import now, to scan ``text`` and its patched copies later.

        None when checkov is not installed, or when it has scanned ``text`` before: the
        copies of a file planned again are then scanned too, and no process is needed.
        """
        exe = checkov_path()
        return None if exe is None or _key(text, suffix) in _SCANNED else cls(exe)

    def take(self) -> subprocess.Popen | None:
        """Return the process for a scan (None once a scan took it)."""
        proc, self.proc = self.proc, None
        return proc

    def close(self) -> None:
        """Stop the process if no scan took it."""
        proc = self.take()
        if proc is not None:
            proc.kill()
            proc.communicate()


class Scan:
    """One checkov run over several texts, read with :meth:`result`."""

    def __init__(self, texts: list[str], suffix: str) -> None:
        self.texts, self.suffix = texts, suffix
        self.keys = [_key(t, suffix) for t in texts]
        known = {k: _SCANNED[k] for k in self.keys if k in _SCANNED}
        self.todo = [k for k in dict.fromkeys(self.keys) if k not in known]
        self.found: dict[tuple[str, str], Counter[str]] | None = known
        self.proc: subprocess.Popen | None = None

    def run(self, exe: str, ready: subprocess.Popen | None) -> None:
        """Write the texts to scan and hand their folder to ``ready`` (or a new checkov)."""
        framework = "terraform" if self.suffix == ".tf" else "cloudformation"
        self.tmp = tempfile.TemporaryDirectory()
        by_key = dict(zip(self.keys, self.texts, strict=True))
        for n, key in enumerate(self.todo):
            folder = Path(self.tmp.name) / str(n)
            folder.mkdir()
            (folder / f"template{self.suffix}").write_text(by_key[key], encoding="utf-8")
        argv = ["-d", self.tmp.name, "--framework", framework, "-o", "json", "--quiet"]
        argv += ["--compact", "--skip-download"]
        if ready is not None and ready.stdin is not None:
            try:
                ready.stdin.write(json.dumps(argv) + "\n")
                ready.stdin.flush()  # communicate() in result() closes it
                self.proc = ready
                return
            except OSError:  # the process died (killed, out of memory): start checkov itself
                ready.kill()
                ready.communicate()
        self.proc = subprocess.Popen(  # noqa: S603 - fixed executable, files in our own temp dir
            [exe, *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        )

    def result(self) -> list[Counter[str]] | None:
        """Wait for checkov; return the failed checks per text (None: unreadable output).

        Asking again gives the same answer.
        """
        if self.proc is not None:
            proc, self.proc = self.proc, None
            try:
                out, _ = proc.communicate(timeout=_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                out = ""
            self.tmp.cleanup()
            found = _failures(out, len(self.todo))
            if found is None:
                self.found = None
            elif self.found is not None:
                self.found |= dict(zip(self.todo, found, strict=True))
                _SCANNED.update(self.found)
                while len(_SCANNED) > _SCANNED_MAX:
                    _SCANNED.pop(next(iter(_SCANNED)))
        return None if self.found is None else [Counter(self.found[k]) for k in self.keys]


def _failures(stdout: str, count: int) -> list[Counter[str]] | None:
    """Read checkov's JSON report of ``count`` folders named 0, 1, ..."""
    found: list[Counter[str]] = [Counter() for _ in range(count)]
    try:
        report = json.loads(stdout)  # empty when checkov did not start: no report
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
