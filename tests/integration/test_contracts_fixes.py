"""The fix shapes of the JSON contracts, on real output: they need cfn-lint and checkov."""

from __future__ import annotations

import json

import jsonschema
import pytest

from lenswise.cli import main
from tests.helpers import FIXTURES, REPO, use_hash_embedder

SCHEMAS = REPO / "docs" / "schemas"


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def test_review_fix_and_ask_fix_outputs_validate(tmp_path, monkeypatch, capsys):
    use_hash_embedder(monkeypatch)
    template = tmp_path / "chat.yaml"
    template.write_bytes((FIXTURES / "fixes" / "chat-sam.yaml").read_bytes())
    assert main(["review", str(template), "--fix", "--json"]) == 0
    review = json.loads(capsys.readouterr().out)
    fixes = [f["fix"] for f in review["findings"] if "fix" in f]
    assert any(fix["verified"] and fix["diff"] for fix in fixes)
    _validator("review").validate(review)

    question = "How do we fix GENSEC01-BP02?"
    assert main(["ask", question, "--diagram", str(template), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["fix"]["bp_id"] == "GENSEC01-BP02" and answer["fix"]["verified"]
    _validator("ask").validate(answer)
    del answer["fix"]["steps"]
    with pytest.raises(jsonschema.ValidationError, match="steps"):
        _validator("ask").validate(answer)
