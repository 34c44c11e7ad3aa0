"""Evals and the user's data: ``eval run`` keeps out of the history; feedback becomes a suite.

Both go through the real CLI, ``LensAssistant`` and SQLite store on an index built with the
hash embedder, so only the embedding model is stood in for.
"""

from __future__ import annotations

import json

import pytest
import yaml

from agent import LensAssistant
from agent.config import Settings
from evals.suites import load_suite
from lenswise.cli import main
from tests.helpers import use_hash_embedder

FOLLOW_UP = ["Our agent loops forever calling tools, how do we bound it?", "what about cost?"]


@pytest.fixture
def lens(monkeypatch):
    use_hash_embedder(monkeypatch)
    lens = LensAssistant(Settings.from_env())
    yield lens
    lens.store.close()


def _history(lens):
    return [(t.id, t.title, t.updated_at) for t in lens.conversations.threads()]


def test_eval_run_leaves_the_users_threads_untouched(lens, tmp_path, capsys):
    lens.ask("How do I stop prompt injection?", thread_id="mine")
    before = _history(lens)
    suite = tmp_path / "suite.yaml"
    case = {"id": "follow", "question": FOLLOW_UP[1], "previous": FOLLOW_UP[:1]}
    suite.write_text(
        yaml.safe_dump(
            {
                "name": "iso",
                "kind": "answers",
                "cases": [
                    {
                        "id": "one",
                        "question": "What is the capital of Australia?",
                        "should_decline": True,
                    },
                    {**case, "must_state": ["cost"]},
                ],
            }
        )
    )
    for run in ("a", "b"):
        assert main(["eval", "run", str(suite), "--out", str(tmp_path / run), "--json"]) == 0
    runs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert _history(lens) == before
    assert [t.id for t in LensAssistant(Settings.from_env()).conversations.threads()] == ["mine"]
    # Each run starts from empty threads: the follow-up case gives the same answer both times.
    answers = [[c["response"] for c in r["cases"]] for r in runs]
    assert answers[0] == answers[1]


def test_exported_feedback_loads_and_runs(lens, tmp_path, capsys):
    first = lens.ask(FOLLOW_UP[0], thread_id="t")
    disliked = lens.ask(FOLLOW_UP[1], thread_id="t")
    lens.conversations.feedback("t", 0, 1, "clear")
    lens.conversations.feedback("t", 1, -1, "cites the wrong pillar: cost: ignore")
    assert main(["eval", "export-feedback"]) == 0
    printed = capsys.readouterr().out
    out = tmp_path / "feedback.yaml"
    assert main(["eval", "export-feedback", "--out", str(out)]) == 0
    assert out.read_text() == printed  # the same suite as the UI's download, to stdout or a file

    suite = load_suite(out)
    liked, down = suite.cases
    assert liked.expected_citations == tuple(c.page_id for c in first.citations)
    assert liked.previous == () and down.previous == (FOLLOW_UP[0],)
    assert down.disliked_answer == disliked.text
    assert yaml.safe_load(printed)["cases"][1]["note"].endswith(
        "cites the wrong pillar: cost: ignore"
    )

    assert main(["eval", "run", str(out), "--out", str(tmp_path / "r"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    by_id = {c["id"]: c["metrics"] for c in result["cases"]}
    assert by_id["feedback-t-0"]["citation_recall"] == 1.0
    # The follow-up replays its earlier turn, so the unchanged assistant repeats the disliked
    # answer, and the case says so.
    assert by_id["feedback-t-1"]["not_repeated"] == 0.0


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ({"id": "x", "question": "q", "comment": "c", "disliked_answer": "a"}, "comment"),
        ({"id": "x", "question": "q", "note": "only a note"}, "disliked_answer"),
    ],
)
def test_suite_schema_refuses_unknown_keys_and_cases_without_a_check(tmp_path, case, message):
    from corpus.errors import InputError

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "kind": "answers", "cases": [case]}))
    with pytest.raises(InputError, match=message):
        load_suite(path)


def test_export_feedback_refuses_a_bad_out_path(lens, tmp_path, capsys):
    assert main(["eval", "export-feedback", "--out", str(tmp_path)]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_eval_run_refuses_an_out_folder_that_would_overwrite_the_suite(tmp_path, capsys):
    folder = tmp_path / "out"
    folder.mkdir()
    suite = folder / "report.md"  # a suite file named like the report the run writes
    text = yaml.safe_dump(
        {"name": "s", "kind": "answers", "cases": [{"question": "q", "should_decline": True}]}
    )
    suite.write_text(text)
    assert main(["eval", "run", str(suite), "--out", str(folder)]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert suite.read_text() == text
    assert main(["eval", "run", str(suite), "--out", str(suite)]) == 2  # a file, not a folder
    err = capsys.readouterr().err
    assert err.startswith("lenswise: error: --out") and err.count("\n") == 1
