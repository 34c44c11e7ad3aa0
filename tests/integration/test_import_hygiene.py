"""Each command imports only the heavy libraries it uses: a cold CLI call is limited by its work.

Every case runs the real command in a new interpreter and reads ``sys.modules`` at its end, so
a top-level import of a heavy library anywhere on a command's path fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers import REPO

RUN_AND_LIST = textwrap.dedent(
    """
    import json, sys
    from lenswise.cli import main
    try:
        code = main(sys.argv[2:])
    except SystemExit as exc:
        code = exc.code
    with open(sys.argv[1], "w") as out:
        json.dump({"code": code, "modules": sorted(sys.modules)}, out)
    """
)
REFERENCE_MODEL = ("sentence_transformers", "torch", "transformers", "sklearn")
"""The reference embedding stack: only building an index (or forcing it) may load it."""
FRONT_ENDS = ("streamlit", "matplotlib", "graphviz", "mcp", "playwright")
CLOUD = ("langchain_aws", "boto3", "botocore")
EVALS = ("ranx",)
AGENT = ("langgraph", "langchain", "langsmith")


def _loaded(home: Path, tmp_path: Path, *argv: str, env: dict | None = None) -> set[str]:
    listing = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, str(listing), *argv],
        cwd=REPO,
        env={**os.environ, "LENSWISE_HOME": str(home), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    result = json.loads(listing.read_text())
    assert result["code"] in (0, None), proc.stderr[-2000:]
    return {name.split(".")[0] for name in result["modules"]}


def _absent(loaded: set[str], *groups: tuple[str, ...]) -> None:
    unwanted = sorted(loaded & set().union(*groups))
    assert not unwanted, f"imported but not used: {unwanted}"


def test_help_imports_nothing_heavy(tmp_path):
    loaded = _loaded(tmp_path / "home", tmp_path, "--help")
    _absent(loaded, REFERENCE_MODEL, FRONT_ENDS, CLOUD, EVALS, AGENT, ("faiss", "bm25s", "numpy"))


def test_search_imports_no_agent_and_no_reference_model(real_home, tmp_path):
    loaded = _loaded(real_home, tmp_path, "search", "how do we evaluate a model?", "--json")
    _absent(loaded, REFERENCE_MODEL, FRONT_ENDS, CLOUD, EVALS, AGENT)
    assert {"faiss", "bm25s", "onnxruntime"} <= loaded  # the work itself


def test_offline_ask_imports_no_reference_model_ui_or_cloud(real_home, tmp_path):
    loaded = _loaded(real_home, tmp_path, "ask", "how do we evaluate a model?", "--json")
    _absent(loaded, REFERENCE_MODEL, FRONT_ENDS, CLOUD, EVALS)
    assert {"langgraph", "onnxruntime"} <= loaded  # the agent graph and the query encoder


def test_index_info_loads_no_encoder(real_home, tmp_path):
    loaded = _loaded(real_home, tmp_path, "index", "info")
    _absent(loaded, REFERENCE_MODEL, FRONT_ENDS, CLOUD, EVALS, AGENT, ("onnxruntime",))


def test_forced_reference_encoder_does_load_sentence_transformers(real_home, tmp_path):
    # The check above can fail: with the reference forced, the same command loads the stack.
    env = {"LENSWISE_QUERY_ENCODER": "sentence-transformers"}
    loaded = _loaded(real_home, tmp_path, "search", "guardrails", "--json", env=env)
    assert {"sentence_transformers", "torch"} <= loaded
    assert "onnxruntime" not in loaded
