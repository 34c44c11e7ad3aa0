"""A base install (no extra) answers, searches and reviews.

Each command runs in a new interpreter where every module that only an extra installs is
unimportable, as it is after ``pip install lenswise``: a base path that reaches the UI, the
MCP SDK, AWS or the eval libraries fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from corpus.extras import EXTRAS
from tests.helpers import FIXTURES, REPO

WITHOUT_EXTRAS = textwrap.dedent(
    """
    import sys
    from corpus.extras import EXTRAS

    for name in {name for modules in EXTRAS.values() for name in modules}:
        sys.modules[name] = None  # what `import name` reads as "not installed"
    from lenswise.cli import main

    sys.exit(main(sys.argv[1:]))
    """
)
COMMANDS = [
    ["ask", "How do we evaluate a model before release?", "--json"],
    ["search", "prompt injection guardrails", "--json"],
    ["review", str(FIXTURES / "fixes" / "chat-sam.yaml"), "--json"],
]


def test_every_extra_library_is_blocked():
    blocked = {name for modules in EXTRAS.values() for name in modules}
    assert {"streamlit", "pandas", "mcp", "boto3", "langchain_aws", "ranx", "matplotlib"} <= blocked


@pytest.mark.parametrize("argv", COMMANDS, ids=[argv[0] for argv in COMMANDS])
def test_a_base_install_runs_the_command(argv, real_home, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS, *argv],
        cwd=REPO,
        env={**os.environ, "LENSWISE_HOME": str(real_home), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout), proc.stdout[:500]
