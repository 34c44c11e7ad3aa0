"""Outside checkers for a patched template: cfn-lint (in process) and checkov (its own venv)."""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
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


def scan(texts: list[str], suffix: str) -> Scan | None:
    """Start scanning the texts checkov has not seen; None when checkov is not installed."""
    exe = checkov_path()
    if exe is None:
        return None
    found = Scan(texts, suffix)
    if found.todo:
        found.run(exe)
    return found


_SCANNED: dict[tuple[str, str], Counter[str]] = {}
"""checkov's results by (suffix, SHA-256 of the text): a file reviewed again (the UI, MCP, a
re-run) is not scanned again."""
_SCANNED_MAX = 64


def _key(text: str, suffix: str) -> tuple[str, str]:
    return suffix, hashlib.sha256(text.encode("utf-8")).hexdigest()


_WORKER = """\
import json, os, sys, warnings
warnings.simplefilter("ignore")
try:
    from checkov.cloudformation.runner import Runner as Cfn
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform.runner import Runner as Tf
except Exception as exc:
    print(json.dumps({"error": f"cannot import checkov: {exc}"[:300]}), flush=True)
    sys.exit(1)
for line in sys.stdin:
    try:
        ask = json.loads(line)
        runner = Tf() if ask["framework"] == "terraform" else Cfn()
        only = RunnerFilter(framework=[ask["framework"]], show_progress_bar=False)
        reports = runner.run(root_folder=ask["dir"], runner_filter=only)
        reports = reports if isinstance(reports, list) else [reports]
        failed = [
            {"file_path": c.file_path, "check_id": c.check_id, "resource": c.resource}
            for report in reports for c in report.failed_checks
        ]
        answer = {"id": ask["id"], "results": {"failed_checks": failed}}
    except Exception as exc:
        answer = {"id": ask.get("id"), "error": f"{type(exc).__name__}: {exc}"[:300]}
    print(json.dumps(answer), flush=True)
"""
"""checkov's CloudFormation and Terraform runners, serving scans read from stdin, one JSON line
each, until stdin closes. Importing them is most of a checkov run (about 1.2 s of CPU here, and
2.3 s for the whole command line), so the process is started early and kept: a second file
costs only its scan. Each scan gets fresh runners, which keep state between runs."""


def _interpreter(exe: str) -> list[str] | None:
    """Return the command running the Python script ``exe`` (its ``#!`` line), or None."""
    try:
        with open(shutil.which(exe) or exe, "rb") as script:
            first = script.readline(300).decode("utf-8", "replace")
    except OSError:
        return None
    words = first[2:].split() if first.startswith("#!") else []
    return words if any(Path(w).name.startswith("python") for w in words) else None


class Worker:
    """A long-lived process running checkov's runners in checkov's own interpreter.

    Scans are answered in order and matched by id, so several may be waiting at once (from
    several threads too). A dead or failing worker is a fallback to the checkov command, not
    an error; one that does not answer within the timeout is killed. It is also killed at exit,
    and it ends by itself when this process does (its stdin closes).
    """

    def __init__(self, python: list[str]) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - checkov's own interpreter
            [*python, "-c", _WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        )
        self.owner = os.getpid()
        """The process that talks to the worker: a forked child has no reader thread."""
        self.answers: dict[int, dict] = {}
        self.failed: str | None = None
        """Why the worker can no longer scan (it died, failed to import, or hung)."""
        self.asked = 0
        self.ready = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                answer = json.loads(line)
            except json.JSONDecodeError:
                continue  # a stray line a check printed
            with self.ready:
                if isinstance(answer, dict) and isinstance(answer.get("id"), int):
                    self.answers[answer["id"]] = answer
                elif isinstance(answer, dict) and "error" in answer:
                    self.failed = str(answer["error"])
                self.ready.notify_all()
        with self.ready:
            self.failed = self.failed or "checkov's worker stopped"
            self.ready.notify_all()

    def ask(self, folder: str, framework: str) -> int | None:
        """Send a scan of ``folder``; return its id, or None when the worker cannot take it."""
        with self.ready:
            if self.failed or self.proc.stdin is None:
                return None
            self.asked += 1
            try:
                self.proc.stdin.write(
                    json.dumps({"id": self.asked, "dir": folder, "framework": framework}) + "\n"
                )
                self.proc.stdin.flush()
            except (OSError, ValueError):  # the process died (killed, out of memory)
                self.failed = "checkov's worker stopped"
                return None
            return self.asked

    def answer(self, asked: int, timeout: float) -> dict | None:
        """Wait for scan ``asked``; None when the worker failed or did not answer in time."""
        with self.ready:
            got = self.ready.wait_for(lambda: asked in self.answers or self.failed, timeout)
            if asked in self.answers:
                return self.answers.pop(asked)
            if not got:
                self.failed = f"checkov did not answer within {timeout:g} s"
        self.stop()
        return None

    def stop(self) -> None:
        """Kill the process (at exit, or once it failed)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


_WORKERS: dict[str, Worker] = {}
_WORKERS_LOCK = threading.Lock()


def warm() -> None:
    """Start checkov's worker now, so it imports itself while the review runs.

    Nothing happens when checkov is not installed, not a Python script, or already started.
    """
    exe = checkov_path()
    if exe is not None:
        _worker(exe)


def _worker(exe: str) -> Worker | None:
    """Return the live worker for ``exe``, started if needed; None when it cannot run."""
    with _WORKERS_LOCK:
        worker = _WORKERS.get(exe)
        if worker is not None and worker.owner != os.getpid():
            worker = None  # started before a fork: this process starts its own
        if worker is not None and not worker.failed:
            return worker
        if worker is not None and (worker.failed or "").startswith("cannot import"):
            return None  # this checkov has no runners to import: use its command
        python = _interpreter(exe)
        if python is None:
            return None
        worker = _WORKERS[exe] = Worker(python)
        return worker


@atexit.register
def stop_workers() -> None:
    """Kill checkov's workers (at exit; the bench times each file from a cold start)."""
    with _WORKERS_LOCK:
        workers = [w for w in _WORKERS.values() if w.owner == os.getpid()]
        _WORKERS.clear()
    for worker in workers:
        worker.stop()


class Scan:
    """One checkov run over several texts, read with :meth:`result`."""

    def __init__(self, texts: list[str], suffix: str) -> None:
        self.texts, self.suffix = texts, suffix
        self.keys = [_key(t, suffix) for t in texts]
        known = {k: _SCANNED[k] for k in self.keys if k in _SCANNED}
        self.todo = [k for k in dict.fromkeys(self.keys) if k not in known]
        self.found: dict[tuple[str, str], Counter[str]] | None = known
        self.proc: subprocess.Popen | None = None
        self.worker: tuple[Worker, int] | None = None
        self.exe = ""

    def run(self, exe: str) -> None:
        """Write the texts to scan and hand their folder to the worker (else the command)."""
        self.exe, self.framework = exe, "terraform" if self.suffix == ".tf" else "cloudformation"
        self.tmp = tempfile.TemporaryDirectory()
        by_key = dict(zip(self.keys, self.texts, strict=True))
        for n, key in enumerate(self.todo):
            folder = Path(self.tmp.name) / str(n)
            folder.mkdir()
            (folder / f"template{self.suffix}").write_text(by_key[key], encoding="utf-8")
        worker = _worker(exe)
        asked = worker.ask(self.tmp.name, self.framework) if worker else None
        if worker is not None and asked is not None:
            self.worker = (worker, asked)
        else:
            self._command()

    def _command(self) -> None:
        """Run the checkov command on the folder (no worker, or the worker failed)."""
        argv = ["-d", self.tmp.name, "--framework", self.framework, "-o", "json", "--quiet"]
        self.proc = subprocess.Popen(  # noqa: S603 - fixed executable, files in our own temp dir
            [self.exe, *argv, "--compact", "--skip-download"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        )

    def _output(self) -> str:
        """Return checkov's JSON report: the worker's answer, else the command's output."""
        if self.worker is not None:
            (worker, asked), self.worker = self.worker, None
            answer = worker.answer(asked, _TIMEOUT)
            if answer is not None and "error" not in answer:
                return json.dumps(answer)
            if answer is None and worker.failed and worker.failed.startswith("checkov did not"):
                return ""  # hung on this folder: the command would hang as well
            self._command()
        if self.proc is None:
            return ""
        proc, self.proc = self.proc, None
        try:
            out, _ = proc.communicate(timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            out = ""
        return out

    def result(self) -> list[Counter[str]] | None:
        """Wait for checkov; return the failed checks per text (None: unreadable output).

        Asking again gives the same answer.
        """
        if self.worker is not None or self.proc is not None:
            out = self._output()
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
