"""A command whose extra is missing says which one to install, on one line, with exit code 2.

Each case makes one module of the extra unimportable (``None`` in ``sys.modules``, as Python
itself reads it) and runs the real CLI entry point.
"""

from __future__ import annotations

import sys

import pytest

import lenswise.cli.foreground as foreground
from corpus.extras import EXTRAS, MissingExtra, require_extra
from lenswise.cli import main
from tests.helpers import FIXTURES, use_hash_embedder

BEDROCK = "bedrock_converse:anthropic.claude-3-haiku-20240307-v1:0"
TEMPLATE = FIXTURES / "fixes" / "chat-sam.yaml"
CASES = [
    ("streamlit", ["ui", "--port", "8601"], "lenswise ui", "ui"),
    ("altair", ["ui"], "lenswise ui", "ui"),
    ("pandas", ["ui"], "lenswise ui", "ui"),
    ("mcp", ["mcp"], "lenswise mcp", "mcp"),
    ("mcp", ["bench", "--team"], "lenswise bench --team", "mcp"),
    ("ranx", ["eval", "run", "retrieval"], "lenswise eval run", "eval"),
    ("matplotlib", ["eval", "run", "retrieval"], "lenswise eval run", "eval"),
    ("ranx", ["bench"], "lenswise bench", "eval"),
    ("langchain_aws", ["ask", "What is prompt injection?", "--model", BEDROCK], "model", "bedrock"),
    ("boto3", ["review", str(TEMPLATE), "--wa-tool"], "the WA Tool export", "bedrock"),
]


@pytest.fixture
def nothing_starts(monkeypatch):
    """Fail instead of starting a server, should the check let a command through."""

    def refuse(command, env):
        raise AssertionError(f"started {command} without its extra")

    monkeypatch.setattr(foreground, "run_foreground", refuse)
    use_hash_embedder(monkeypatch)


@pytest.mark.parametrize(("blocked", "argv", "feature", "extra"), CASES)
def test_a_missing_extra_is_one_line_naming_it(
    blocked, argv, feature, extra, monkeypatch, capsys, nothing_starts
):
    monkeypatch.setitem(sys.modules, blocked, None)
    assert main(argv) == 2
    err = capsys.readouterr().err
    *progress, line = err.splitlines()  # ask may say it builds the index before the model loads
    assert "Traceback" not in err and not any("error" in p for p in progress), err
    assert line.startswith(f"lenswise: error: {feature}")
    assert line.endswith(f"needs the '{extra}' extra: pip install 'lenswise[{extra}]'")


def test_the_check_passes_when_the_extra_is_there():
    for extra in EXTRAS:
        require_extra(extra, "a test")  # the dev install has every extra


def test_a_finder_that_refuses_the_module_counts_as_missing(monkeypatch):
    class Refuse:
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name == "ranx":
                raise ModuleNotFoundError(name)
            return None

    monkeypatch.delitem(sys.modules, "ranx", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Refuse(), *sys.meta_path])
    with pytest.raises(MissingExtra) as caught:
        require_extra("eval", "lenswise eval run")
    assert caught.value.extra == "eval"


def test_bedrock_embeddings_without_the_extra_name_it(monkeypatch, capsys):
    monkeypatch.setenv("LENSWISE_EMBEDDING_MODEL", "bedrock:amazon.titan-embed-text-v2:0")
    monkeypatch.setitem(sys.modules, "langchain_aws", None)
    assert main(["index", "build"]) == 2
    line = capsys.readouterr().err.splitlines()[-1]
    assert line == (
        "lenswise: error: the embedding model bedrock:amazon.titan-embed-text-v2:0 needs the "
        "'bedrock' extra: pip install 'lenswise[bedrock]'"
    )
