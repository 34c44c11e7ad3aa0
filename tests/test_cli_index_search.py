"""`lenswise index` and `lenswise search` from the command line: contracts and bad input."""

import json
import shutil

import pytest

from agent.cli import main
from tests.helpers import HashEmbedder


@pytest.fixture
def hash_cli(monkeypatch, tmp_path):
    """Run CLI commands with the hash embedder standing in for the model (fast)."""
    monkeypatch.setattr("index.build.load_embedder", lambda spec: HashEmbedder(name=spec))
    monkeypatch.setenv("LENSWISE_HOME", str(tmp_path / "home"))
    return tmp_path


def test_build_then_reuse(hash_cli, capsys):
    assert main(["index", "build", "--json"]) == 0
    out = capsys.readouterr()
    first = json.loads(out.out)
    assert first["reused"] is False and first["embedded"] == first["chunks"] > 300
    assert out.err.startswith("building the index for source 'builtin'")
    assert main(["index", "build", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["reused"] is True and again["path"] == first["path"]
    assert main(["index", "info", "--json"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["source"] == "builtin" and manifest["edition"] == "2025-11"


def test_search_json_and_batch(hash_cli, capsys, tmp_path):
    assert main(["search", "GENSEC02-BP01", "--json", "--k", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query"] == "GENSEC02-BP01" and out["hits"][0]["bp_id"] == "GENSEC02-BP01"
    queries = tmp_path / "q.txt"
    queries.write_text("prompt caching\n\nvector store latency\nGENCOST05-BP01\n")
    assert main(["search", "--queries", str(queries), "--json", "--k", "2"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["query"] for line in lines] == [
        "prompt caching",
        "vector store latency",
        "GENCOST05-BP01",
    ]
    assert [len(line["hits"]) for line in lines] == [2, 2, 1]  # an id lookup: that page only


@pytest.mark.parametrize(
    "argv, message",
    [
        (["search", ""], "empty query"),
        (["search", "x", "--pillar", "speed"], "unknown pillar"),
        (["search", "x", "--source", "/no/such/folder"], "source not found"),
        (["search", "--queries", "/no/such/file"], "cannot read queries"),
        (["search", "x", "--k", "0"], "at least 1"),
        (["search", "x", "--mode", "fuzzy"], "invalid choice"),
        (["index", "info", "--index", "/no/such/dir"], "not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(hash_cli, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_foreign_or_corrupt_index_dirs_are_refused_and_left_intact(hash_cli, capsys, monkeypatch):
    assert main(["index", "build", "--json"]) == 0
    path = json.loads(capsys.readouterr().out)["path"]
    monkeypatch.setenv("LENSWISE_EMBEDDING_MODEL", "some-other-model")
    assert main(["search", "guardrails", "--index", path]) == 2
    assert "built with embedding model" in capsys.readouterr().err
    monkeypatch.delenv("LENSWISE_EMBEDDING_MODEL")
    copy = hash_cli / "copy"
    shutil.copytree(path, copy)
    (copy / "dense.faiss").write_bytes(b"\x00garbage")
    assert main(["search", "guardrails", "--index", str(copy)]) == 2
    assert "damaged" in capsys.readouterr().err
    assert main(["search", "guardrails", "--index", path, "--json"]) == 0  # original untouched
