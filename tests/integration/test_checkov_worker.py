"""checkov's long-lived worker (its runners imported once) finds what the checkov command finds."""

from __future__ import annotations

import importlib.util
import stat
import sys
from pathlib import Path

import pytest

from diagrams.fixes import checks
from tests.helpers import FIXTURES, SHARED


def _templates() -> dict[str, list[str]]:
    """Return the CloudFormation/SAM and Terraform texts of the fixtures and ../shared."""
    by_suffix: dict[str, list[str]] = {".tf": [], ".yaml": [], ".json": []}
    for folder in (FIXTURES / "fixes", FIXTURES / "accuracy", SHARED / "diagrams"):
        for path in sorted(folder.glob("*")):
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix == ".tf":
                by_suffix[".tf"].append(text)
            elif path.suffix in (".yaml", ".yml", ".json") and "Resources" in text:
                by_suffix[".json" if text.lstrip().startswith("{") else ".yaml"].append(text)
    return by_suffix


@pytest.fixture
def fresh(monkeypatch):
    """Forget earlier scans, so each scan below runs."""
    monkeypatch.setattr(checks, "_SCANNED", {})
    if checks.checkov_path() is None:
        pytest.skip("checkov is not installed (make tools)")


def _scan(texts: list[str], suffix: str, monkeypatch) -> list:
    monkeypatch.setattr(checks, "_SCANNED", {})
    found = checks.checkov_failures(texts, suffix)
    assert found is not None
    return found


def test_worker_finds_the_same_failed_checks_as_the_command(fresh, monkeypatch):
    templates = _templates()
    assert len(templates[".tf"]) >= 2 and len(templates[".yaml"]) >= 2 and templates[".json"]
    for suffix, texts in templates.items():
        worker = _scan(texts, suffix, monkeypatch)
        again = _scan(list(reversed(texts)), suffix, monkeypatch)  # the same process, reused
        with monkeypatch.context() as no_worker:
            no_worker.setattr(checks, "_worker", lambda exe: None)
            command = _scan(texts, suffix, monkeypatch)
        assert worker == command, suffix
        assert list(reversed(again)) == worker, suffix
        assert sum(sum(c.values()) for c in command) > 0  # the files do fail some checks


def test_checkov_without_importable_runners_falls_back_to_its_command(
    fresh, monkeypatch, tmp_path: Path
):
    if importlib.util.find_spec("checkov") is not None:
        pytest.skip("this Python can import checkov")
    real = checks.checkov_path()
    fake = tmp_path / "checkov"  # a Python without checkov, handing over to the real command
    fake.write_text(
        f"#!{sys.executable}\nimport os, sys\nos.execv({real!r}, [{real!r}, *sys.argv[1:]])\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv(checks.CHECKOV_ENV, str(fake))
    checks.checkov_path.cache_clear()
    try:
        text = (FIXTURES / "fixes" / "open-access.tf").read_text()
        found = _scan([text], ".tf", monkeypatch)
        assert sum(found[0].values()) > 0
        assert checks._WORKERS[str(fake)].failed.startswith("cannot import checkov")
        assert checks._worker(str(fake)) is None  # the command from now on, no new worker
    finally:
        monkeypatch.setenv(checks.CHECKOV_ENV, real or "")
        checks.checkov_path.cache_clear()
