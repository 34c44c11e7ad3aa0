"""The JSON Schemas in docs/schemas: generated from the types, and true of real CLI output."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from agent.contracts import CONTRACTS, render, stale
from agent.contracts import main as contracts_main
from lenswise.cli import main
from tests.helpers import FIXTURES, REPO, use_hash_embedder
from tests.samples import mxfile, rag_page

SCHEMAS = REPO / "docs" / "schemas"
MERMAID = "```mermaid\nflowchart LR\n  U[User] --> L[AWS Lambda]\n  L --> B[Amazon Bedrock]\n```\n"


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _cli(argv: list[str], capsys) -> list[dict]:
    """Run the CLI in process; return each JSON document it printed (one per line)."""
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, out.err
    return [json.loads(line) for line in out.out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """One LENSWISE_HOME for the module, so the hash-embedder index is built once."""
    return tmp_path_factory.mktemp("contracts-home")


@pytest.fixture
def cli(home, monkeypatch):
    use_hash_embedder(monkeypatch)
    monkeypatch.setenv("LENSWISE_HOME", str(home))


def test_stored_schemas_are_generated_from_the_types(tmp_path):
    assert stale(SCHEMAS) == []
    assert contracts_main(["--write", str(tmp_path)]) == 0
    for contract in CONTRACTS:
        written = (tmp_path / f"{contract.name}.json").read_text(encoding="utf-8")
        assert written == (SCHEMAS / f"{contract.name}.json").read_text(encoding="utf-8")
    (tmp_path / "ask.json").write_text("{}")
    assert contracts_main(["--check", str(tmp_path)]) == 1
    assert stale(tmp_path) == [tmp_path / "ask.json"]


def test_schemas_are_draft_2020_12_and_close_every_object():
    for contract in CONTRACTS:
        schema = json.loads(render(contract))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)
        for name, shape in schema.get("$defs", {}).items():
            assert shape.get("additionalProperties") is False, name


def test_search_output_validates(cli, capsys, tmp_path):
    validator = _validator("search")
    docs = _cli(["search", "keep bedrock traffic off the internet", "--json", "--k", "3"], capsys)
    queries = tmp_path / "q.txt"
    queries.write_text("prompt caching\nGENSEC02-BP01\n")
    docs += _cli(["search", "--queries", str(queries), "--json"], capsys)
    assert len(docs) == 3 and all(doc["hits"] for doc in docs)
    for doc in docs:
        validator.validate(doc)


def test_ask_output_validates(cli, capsys):
    validator = _validator("ask")
    for question in ("How do I stop prompt injection?", "What is a good pizza recipe?"):
        (doc,) = _cli(["ask", question, "--json"], capsys)
        assert doc["citations"] or doc["declined"]
        validator.validate(doc)
    assert doc["declined"] and doc["routing"]["kind"] == "out_of_scope"


@pytest.fixture
def designs(tmp_path):
    """A folder with a draw.io diagram, a Mermaid page, a template and a broken file."""
    folder = tmp_path / "designs"
    folder.mkdir()
    (folder / "rag.drawio").write_text(mxfile(rag_page(), rag_page(), names=("a", "b")))
    (folder / "flow.md").write_text("# Flow\n\n" + MERMAID)
    (folder / "stack.yaml").write_text((FIXTURES / "accuracy" / "cfn-whole.yaml").read_text())
    (folder / "broken.drawio").write_text("<mxfile><diagram>")
    return folder


def test_review_outputs_validate(cli, capsys, designs, tmp_path):
    validator = _validator("review")
    (one,) = _cli(["review", str(designs / "rag.drawio"), "--json"], capsys)
    assert one["diagrams"] and one["components"] and one["edges"]
    (iac,) = _cli(["review", str(designs / "stack.yaml"), "--json"], capsys)
    assert iac["format"] == "cloudformation" and iac["coverage"]["by_pillar"]
    (folder,) = _cli(["review", str(designs), "--json"], capsys)
    stack = next(d for d in folder["designs"] if d["path"] == "stack.yaml")
    assert all("location" in c for c in stack["components"])
    assert any(f["locations"] for f in stack["findings"])
    assert [e["path"] for e in folder["errors"]] == ["broken.drawio"]
    assert folder["combined"]["components"][0]["files"]
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"designs": [], "combined": folder["combined"], "errors": []}))
    (changed,) = _cli(["review", str(designs), "--baseline", str(empty), "--json"], capsys)
    assert changed["changes"]["new_gaps"] and changed["changes"]["components_added"]
    for doc in (one, iac, folder, changed):
        validator.validate(doc)


def _without(doc: dict, *path) -> dict:
    """Return a copy of ``doc`` with the key at ``path`` removed."""
    broken = copy.deepcopy(doc)
    parent = broken
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    return broken


def test_a_wrong_output_fails_validation(cli, capsys, designs):
    (review,) = _cli(["review", str(designs / "rag.drawio"), "--json"], capsys)
    (search,) = _cli(["search", "prompt caching", "--json", "--k", "2"], capsys)
    (ask,) = _cli(["ask", "How do I stop prompt injection?", "--json"], capsys)
    for name, doc in (("review", review), ("search", search), ("ask", ask)):
        _validator(name).validate(doc)  # the real output is valid ...
    bad_status = copy.deepcopy(review)
    bad_status["findings"][0]["status"] = "fine"
    undeclared = copy.deepcopy(search)
    undeclared["hits"][0]["secret"] = 1
    wrong = [
        ("review", _without(review, "coverage")),
        ("review", _without(review, "findings", 0, "status")),
        ("review", _without(review, "components", 0, "service")),
        ("review", bad_status),
        ("search", _without(search, "hits", 0, "url")),
        ("search", undeclared),
        ("ask", _without(ask, "citations", 0, "quote")),
        ("ask", _without(ask, "routing", "kind")),
    ]
    for name, doc in wrong:  # ... and each damage to it is caught
        with pytest.raises(jsonschema.ValidationError):
            _validator(name).validate(doc)
