"""The package layout's import rules (``[tool.importlinter]`` in pyproject.toml) hold.

Data flows one way (corpus -> index | diagrams -> agent -> evals | watool -> ui -> lenswise),
the CLI and MCP server sit on top, the UI never reaches corpus or index directly, and no
sibling modules import each other in a cycle. A broken rule fails here with import-linter's
own report, which names the offending import and its line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO

PACKAGES = ("corpus", "index", "diagrams", "agent", "evals", "watool", "ui", "lenswise")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the packages under ``root`` with ``root``'s pyproject.toml."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def test_import_contracts_are_kept():
    proc = lint_imports(REPO)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_a_forbidden_import_is_caught(tmp_path):
    """The check is live: the same contracts fail on a copy in which index imports the agent."""
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    bad = tmp_path / "index" / "search.py"
    bad.write_text(bad.read_text() + "\nfrom agent.api import LensAssistant  # noqa: E402\n")
    proc = lint_imports(tmp_path)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "index.search -> agent.api" in proc.stdout
