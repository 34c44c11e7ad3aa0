"""The Well-Architected Tool custom-lens loader, including risk derivation from riskRules."""

from __future__ import annotations

import json

import pytest

from corpus.errors import InputError
from corpus.loaders import custom_lens, docs_pages, wa_json
from corpus.loaders.custom_lens import _evaluate, choice_risk


def _lens() -> dict:
    return {
        "schemaVersion": "2021-11-01",
        "name": "Bakery Ovens Lens v0.1",
        "description": "How to run ovens that never burn bread.",
        "pillars": [
            {
                "id": "ovenRel",
                "name": "Reliablity",  # misspelt on purpose: still the Reliability pillar
                "questions": [
                    {
                        "id": "OVEN1",
                        "title": "How do you keep the ovens hot?",
                        "description": "Cold ovens make flat loaves.",
                        "choices": [
                            {
                                "id": "OVEN1_gas",
                                "title": "Keep a spare gas bottle",
                                "helpfulResource": {
                                    "displayText": "A spare bottle avoids downtime.",
                                    "url": "https://example.test/gas",
                                },
                                "improvementPlan": {"displayText": "Buy a second bottle."},
                            },
                            {
                                "id": "thermo",
                                "title": "Watch the thermometer",
                                "helpfulResource": {"displayText": "Heat drifts."},
                                "improvementPlan": {
                                    "displayText": "Mount a dial.",
                                    "url": "https://example.test/dial",
                                },
                            },
                            {
                                "id": "timer",
                                "title": "Set a timer",
                                "helpfulResource": {"displayText": "Timers help."},
                                "improvementPlan": {"displayText": "Buy a timer."},
                            },
                            {
                                "id": "OVEN1_no",
                                "title": "None of these",
                                "helpfulResource": {"displayText": "Nothing in place."},
                                "improvementPlan": {"displayText": "Start somewhere."},
                            },
                        ],
                        "riskRules": [
                            {"condition": "OVEN1_gas && thermo", "risk": "NO_RISK"},
                            {"condition": "OVEN1_gas && !thermo", "risk": "MEDIUM_RISK"},
                            {"condition": "default", "risk": "HIGH_RISK"},
                        ],
                    }
                ],
            },
            {
                "id": "crumbs",
                "name": "Crumb management",
                "questions": [
                    {
                        "id": "CRUMB1",
                        "title": "How do you sweep?",
                        "choices": [
                            {
                                "id": "broom",
                                "title": "Own a broom",
                                "helpfulResource": {"displayText": "Brooms sweep."},
                                "improvementPlan": {"displayText": "Buy one."},
                            }
                        ],
                        "riskRules": [{"condition": "(broom", "risk": "HIGH_RISK"}],
                    }
                ],
            },
        ],
    }


@pytest.fixture
def lens_file(tmp_path):
    path = tmp_path / "ovens.json"
    path.write_text(json.dumps(_lens(), indent=2))
    return path


def test_choices_become_best_practices(lens_file):
    corpus = custom_lens.load(lens_file)
    practices = corpus.best_practices()
    assert sorted(practices) == ["CRUMB1-broom", "OVEN1-thermo", "OVEN1-timer", "OVEN1_gas"]
    assert corpus.name == "Bakery Ovens Lens v0.1"
    gas = practices["OVEN1_gas"]  # the choice id already names its question
    assert gas.lens == "bakery-ovens-lens-v0-1"
    assert gas.pillar == "Reliability"
    assert gas.question_id == "OVEN1"
    assert gas.question_title == "How do you keep the ovens hot?"
    assert gas.url == "https://example.test/gas"
    assert [s.heading for s in gas.sections] == ["Overview", "Implementation guidance", "Resources"]
    assert practices["OVEN1-thermo"].url == "https://example.test/dial"  # improvement plan URL
    assert practices["CRUMB1-broom"].pillar == "Crumb management"  # not a Framework pillar


def test_risk_is_what_the_rules_give_without_the_choice(lens_file):
    practices = custom_lens.load(lens_file).best_practices()
    assert practices["OVEN1_gas"].risk == "High"  # without gas: default rule
    assert practices["OVEN1-thermo"].risk == "Medium"  # gas && !thermo
    assert practices["OVEN1-timer"].risk is None  # gas && thermo still hold: no risk
    assert practices["CRUMB1-broom"].risk is None  # unreadable rule: not derivable


def test_none_of_these_is_not_a_practice_but_questions_and_lens_are_documents(lens_file):
    corpus = custom_lens.load(lens_file)
    ids = [d.doc_id for d in corpus.documents]
    assert "OVEN1-OVEN1_no" not in ids and "OVEN1_no" not in ids
    assert ids[0] == "bakery-ovens-lens-v0-1"
    question = next(d for d in corpus.documents if d.doc_id == "OVEN1")
    assert question.bp_id is None and question.question_id == "OVEN1"
    assert question.sections[0].heading == "Question"


@pytest.mark.parametrize(
    ("condition", "selected", "expected"),
    [
        ("a && b", {"a", "b"}, True),
        ("a && b", {"a"}, False),
        ("a || b && c", {"a"}, True),  # && binds tighter than ||
        ("(a || b) && c", {"a"}, False),
        ("!a || !b", {"a", "b"}, False),
        ("(!a) && (!b)", set(), True),
        ("((!x || !y) && !z)", {"x", "y"}, False),
        ("a-1.b && c_2", {"a-1.b", "c_2"}, True),
    ],
)
def test_condition_evaluation(condition, selected, expected):
    assert _evaluate(condition, selected) is expected


@pytest.mark.parametrize("condition", ["a &&", "(a", "a b", "&& a", "a )"])
def test_malformed_conditions_raise(condition):
    with pytest.raises(ValueError):
        _evaluate(condition, {"a"})


def test_rules_are_tried_in_order_with_default_last():
    rules = [
        {"condition": "default", "risk": "HIGH_RISK"},
        {"condition": "a", "risk": "NO_RISK"},
        {"condition": "b", "risk": "MEDIUM_RISK"},
    ]
    assert choice_risk(rules, {"a", "b"}) is None
    assert choice_risk(rules, {"b"}) == "Medium"
    assert choice_risk(rules, set()) == "High"


def test_sniff_and_malformed_json(tmp_path, lens_file):
    assert custom_lens.sniff(lens_file)
    assert not wa_json.sniff(lens_file)
    assert not docs_pages.sniff(lens_file)
    bad = tmp_path / "broken.json"
    bad.write_text('{"schemaVersion": "2021-11-01",\n "name": "x",\n "pillars": [ }')
    assert custom_lens.sniff(bad)
    with pytest.raises(InputError, match=r"broken\.json:3:\d+: malformed JSON"):
        custom_lens.load(bad)


def test_json_that_is_no_custom_lens_is_rejected(tmp_path):
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"schemaVersion": "2021-11-01", "name": "x", "pillars": "none"}))
    with pytest.raises(InputError, match="not a Well-Architected custom lens"):
        custom_lens.load(odd)


def test_folder_with_lens_subfolders(tmp_path, lens_file):
    sub = tmp_path / "more"
    sub.mkdir()
    other = _lens()
    other["name"] = "Second Oven Lens"
    (sub / "second.json").write_text(json.dumps(other))
    (tmp_path / "README").write_text("not json")
    corpus = custom_lens.load(tmp_path)
    assert {d.lens for d in corpus.documents} == {"bakery-ovens-lens-v0-1", "second-oven-lens"}


def test_all_shared_examples_load(shared_lens):
    files = sorted((shared_lens / "custom-lens-examples").glob("*/*.json"))
    assert len(files) == 22
    for file in files:
        assert custom_lens.sniff(file), file
        assert not wa_json.sniff(file) and not docs_pages.sniff(file), file
        corpus = custom_lens.load(file)
        practices = [d for d in corpus.documents if d.bp_id]
        assert practices, file
        assert len({d.bp_id for d in practices}) == len(practices), f"duplicate ids in {file}"
        assert {d.risk for d in practices} <= {"High", "Medium", "Low", None}
        assert all(d.question_id and d.question_title and d.pillar for d in practices), file
    orr = custom_lens.load(shared_lens / "custom-lens-examples" / "ORR-Lens").best_practices()
    # "a && b" is no risk, exactly one of them is medium: dropping either choice is Medium.
    diagram = [d for d in orr.values() if d.question_id.endswith("architecture_diagram")]
    assert diagram and {d.risk for d in diagram} == {"Medium"}
