"""`lenswise index` and `lenswise search` from the command line: contracts and bad input."""

import json
import shutil
from pathlib import Path

import pytest

from lenswise.cli import main
from tests.helpers import use_hash_embedder


@pytest.fixture
def hash_cli(monkeypatch, tmp_path):
    """Run CLI commands with the hash embedder standing in for the model (fast)."""
    use_hash_embedder(monkeypatch)
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


@pytest.mark.parametrize("content", [b"[]", b'"a string"', bytes(range(256))])
def test_damaged_manifest_is_one_line_exit_2_and_every_command_recovers(hash_cli, capsys, content):
    assert main(["index", "build", "--json"]) == 0
    path = Path(json.loads(capsys.readouterr().out)["path"])
    (path / "manifest.json").write_bytes(content)
    assert main(["search", "guardrails", "--index", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path / "manifest.json") in err and "index build --force" in err
    assert len(err.strip().splitlines()) == 1 and "unexpected" not in err
    for argv in (["search", "guardrails"], ["index", "info"], ["index", "build", "--force"]):
        (path / "manifest.json").write_bytes(content)
        assert main(argv) == 0, capsys.readouterr().err
        assert "unexpected" not in capsys.readouterr().err
    assert main(["search", "guardrails", "--index", str(path), "--json"]) == 0


def test_damaged_chunk_line_is_named_and_repaired_by_a_build(hash_cli, capsys):
    assert main(["index", "build", "--json"]) == 0
    path = Path(json.loads(capsys.readouterr().out)["path"])
    lines = (path / "chunks.jsonl").read_text().splitlines()
    (path / "chunks.jsonl").write_text("\n".join(["[1, 2]", *lines[1:]]) + "\n")
    assert main(["index", "info", "--index", str(path)]) == 2
    assert "chunks.jsonl line 1 is damaged" in capsys.readouterr().err
    assert main(["index", "build"]) == 0
    assert "the existing one is damaged" in capsys.readouterr().err
    assert main(["index", "info", "--index", str(path)]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["search", "x", "--per-doc", "-5"], "--per-doc"),
        (["search", "x", "--k", "-3"], "--k"),
        (["search", "x", "--k", "many"], "--k"),
        (["search", "x", "--lens", "nope"], "unknown lens 'nope'"),
        (["ui", "--port", "0"], "--port"),
        (["ui", "--port", "70000"], "--port"),
        (["mcp", "--port", "0"], "--port"),
        (["mcp", "--port", "http"], "--port"),
        (["review", "absent.yaml", "--wa-tool", "--workload", "ab"], "--workload"),
        (["review", "absent.yaml", "--wa-tool", "--review-owner", " x "], "--review-owner"),
    ],
)
def test_out_of_range_flags_are_usage_errors(hash_cli, capsys, argv, message):
    assert main(argv) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 1 and message in errors[0] and "unexpected" not in errors[0]
