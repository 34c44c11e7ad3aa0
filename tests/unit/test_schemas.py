"""File schemas (rules, suites, digest): bad entries are one InputError line naming the place."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from corpus.errors import InputError, LenswiseError, SchemaError
from corpus.loaders.builtin import BUILTIN_DIR, check, load, read_digest
from diagrams.matchers import Labels, Services
from diagrams.rules import load_rules, parse_rules
from evals.suites import load_suite
from lenswise.cli import main
from tests.evals_fakes import write_suite

DIGEST = BUILTIN_DIR / "generative-ai"
CASE = {"question": "q", "expected": ["GENSEC01-BP01"]}


def _one_line(error: pytest.ExceptionInfo, *needles: str) -> str:
    text = str(error.value)
    assert isinstance(error.value, InputError) and "\n" not in text, text
    for needle in needles:
        assert needle in text, text
    return text


def test_matchers_are_one_model_per_kind():
    book = parse_rules(
        {
            "sets": {"models": ["bedrock", "sagemaker"]},
            "rules": {
                "X": {"addressed": [{"services": ["@models", "lambda"]}, {"labels": ["Eval*"]}]}
            },
        }
    )
    services, labels = book.get("X").addressed
    assert services == Services(services=frozenset({"bedrock", "sagemaker", "lambda"}))
    assert isinstance(labels, Labels) and labels.labels == ("eval*",)


@pytest.mark.parametrize(
    ("matcher", "needles"),
    [
        ({"colour": "red"}, ("'addressed[0]' is not a matcher", "services, facts", "colour")),
        ({"services": ["s3"], "labels": ["a"]}, ("'addressed[0]' is not a matcher",)),
        ({"services": ["@nope"]}, ("'addressed[0].services' names an unknown set @nope",)),
        ({"groups": {"moat": 1}}, ("'addressed[0].groups' holds unknown group kinds ['moat']",)),
        ({"groups": {"vpc": "many"}}, ("'addressed[0].groups.vpc' should be a valid integer",)),
        ({"edges": [["s3"]]}, ("'addressed[0].edges' must be a list of [service or @set",)),
    ],
)
def test_a_bad_matcher_names_its_rule_and_place(tmp_path, matcher, needles):
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": {"GENX01-BP01": {"addressed": [matcher]}}}))
    with pytest.raises(SchemaError) as error:
        load_rules(path)
    _one_line(error, f"{path}: rule GENX01-BP01: ", *needles)
    assert isinstance(error.value, ValueError)  # as the hand-written checks raised


def test_rule_table_errors_are_input_errors(tmp_path):
    with pytest.raises(InputError) as error:
        parse_rules({"rules": {"X": {"absent": "never"}}})
    _one_line(error, "rule X: 'absent' should be 'gap', 'gap-in-iac' or 'unknown'", "never")
    with pytest.raises(InputError) as error:
        parse_rules({"rules": ["X"]})
    _one_line(error, "rule table: 'rules' should be a valid dictionary")
    path = tmp_path / "broken.yaml"
    path.write_text("rules: [\n")
    with pytest.raises(InputError) as error:
        load_rules(path)
    _one_line(error, "cannot read rule table")


@pytest.mark.parametrize(
    ("suite", "needles"),
    [
        ({"kind": "chat", "cases": [CASE]}, ("'kind' must be one of", "(got 'chat')")),
        ({"cases": [CASE]}, ("'kind' is missing",)),
        ({"kind": "retrieval", "k": "ten", "cases": [CASE]}, ("'k' should be a valid integer",)),
        ({"kind": "retrieval", "base_dir": ".", "cases": [CASE]}, ("unknown suite keys",)),
        (
            {"kind": "answers", "examples": {"lens": "generative-ai", "split": "prod"}},
            ("'examples.split' should be 'dev' or 'test' (got str 'prod')",),
        ),
        (
            {"kind": "retrieval", "cases": [{**CASE, "tags": "x"}]},
            ("case 1 (case-1): 'tags' should be a valid list (got str 'x')",),
        ),
        (
            {"kind": "retrieval", "cases": [{**CASE, "expectd": []}]},
            ("case 1 (case-1): unknown case keys ['expectd']",),
        ),
        (
            {"kind": "answers", "cases": [{"id": "a", "question": "q", "must_state": "x"}]},
            ("case 1 (a): 'must_state' must be a list",),
        ),
        (
            {"kind": "diagrams", "cases": [{"id": "d", "file": 3, "services": ["s3"]}]},
            ("case 1 (d): 'file' should be a valid string (got int 3)",),
        ),
    ],
)
def test_a_suite_field_of_the_wrong_type_names_the_case_and_field(tmp_path, suite, needles):
    path = write_suite(tmp_path, suite)
    with pytest.raises(InputError) as error:
        load_suite(path)
    _one_line(error, f"suite {path}: ", *needles)


def _broken_digest(tmp_path, edit) -> str:
    folder = tmp_path / "digest"
    shutil.copytree(DIGEST, folder)
    data = yaml.safe_load((folder / "security.yaml").read_text())
    edit(data["questions"][0]["best_practices"][0])
    (folder / "security.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return str(folder)


def test_a_digest_entry_missing_a_field_is_one_line_naming_it(tmp_path, capsys):
    folder = _broken_digest(tmp_path, lambda bp: bp.pop("title"))
    with pytest.raises(InputError) as error:
        load(tmp_path / "digest")
    _one_line(error, f"digest {folder} is invalid: GENSEC01-BP01: missing title")
    assert main(["corpus", "info", "--source", folder]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GENSEC01-BP01: missing title" in err[0], err


def test_digest_check_words_type_and_key_problems():
    front, pillars = read_digest(DIGEST)
    bp = pillars[0]["questions"][0]["best_practices"][0]
    bp["steps"] = ["fine", 3]
    bp["colour"] = "red"
    pillars[1]["questions"][0]["best_practices"] = [None]
    problems = check(front, pillars)
    assert f"{bp['id']}: steps[1] should be a valid string (got int 3)" in problems
    assert f"{bp['id']}: unknown key colour" in problems
    question = pillars[1]["questions"][0]["id"]
    assert f"question {question}: best_practices[0] should be a valid dictionary" in " ".join(
        problems
    )


def test_a_custom_lens_question_that_is_no_object_is_bad_input(tmp_path, capsys):
    lens = {
        "schemaVersion": "2021-11-01",
        "name": "Mine",
        "pillars": [{"id": "p", "name": "Security", "questions": ["what?"]}],
    }
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(lens))
    assert main(["corpus", "info", "--source", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "question 1 of pillar 'Security' is not an object" in err[0], err
    lens["pillars"][0]["questions"] = [{"id": "q", "title": "Q?", "riskRules": "x"}]
    path.write_text(json.dumps(lens))
    assert main(["corpus", "info", "--source", str(path)]) == 2
    assert "'riskRules' is not a list of objects" in capsys.readouterr().err


def test_model_errors_are_lenswise_errors_with_exit_code_1(monkeypatch, capsys):
    from agent.models import ModelError
    from lenswise.cli import ask_cmd

    assert issubclass(ModelError, LenswiseError) and not issubclass(ModelError, InputError)

    def fail(args, settings):
        raise ModelError("the model endpoint refused the call (AccessDenied)")

    monkeypatch.setattr(ask_cmd, "run", fail)
    assert main(["ask", "how do I stop prompt injection?"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["lenswise: error: the model endpoint refused the call (AccessDenied)"]
