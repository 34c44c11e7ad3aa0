"""``lenswise corpus diff``: best practices compared by id between two sources."""

from __future__ import annotations

import importlib.util
import json

import pytest

from corpus.diff import KINDS, diff_corpora, render, similarity
from corpus.loaders import wa_json
from corpus.models import Corpus, Document, Section
from lenswise.cli import main

STORY = (
    "The baker wakes before dawn, lights the oven, weighs the flour and water, kneads the "
    "dough until it is smooth, lets it rest under a cloth, shapes the loaves, scores them "
    "with a sharp blade and bakes them until the crust sings when it cools on the rack."
)
OTHER = (
    "Bees visit the lavender in the afternoon, carry pollen back to the hive, fan the "
    "honey with their wings and guard the entrance against wasps until the evening, when "
    "the keeper lifts the lid, checks the frames for brood, adds a super if the colony is "
    "strong and closes the hive before the cold night air settles over the garden."
)


def _record(bp_id, title, pillar="SECURITY", risk="HIGH", text=STORY):
    return {
        "id": bp_id,
        "title": title,
        "pillar": pillar,
        "risk": risk,
        "description": text,
        "href": f"https://example.test/{bp_id.lower()}.html",
        "area": ["Bakery"],
        "relatedIds": [],
        "lens": "GENERATIVE_AI",
    }


OLD = [
    _record("GENSEC01-BP01", "Lock the flour store"),
    _record("GENSEC01-BP02", "Count the loaves", risk="MEDIUM"),
    _record("GENSEC01-BP03", "Sweep the floor."),
    _record("GENSEC02-BP01", "Label the jars"),
    _record("GENSEC03-BP01", "Feed the starter"),
    _record(
        "GENPERF04-BP01",
        "Test vector store features for latency and relevant performance",
        pillar="PERFORMANCE_EFFICIENCY",
    ),
    _record("GENCOST01-BP01", "Buy flour in bulk", pillar="COST_OPTIMIZATION"),
]
NEW = [
    _record("GENSEC01-BP01", "Lock the flour store"),  # unchanged
    _record("GENSEC01-BP02", "Count the loaves", risk="LOW"),  # re-risked
    _record("GENSEC01-BP03", "sweep  the FLOOR"),  # same title once normalised
    _record("GENSEC02-BP01", "Label every jar"),  # retitled
    _record("GENSEC03-BP01", "Feed the starter", text=OTHER),  # text changed
    _record(
        "GENPERF04-BP01",
        "Test vector embeddings for latency and relevant performance",
        pillar="PERFORMANCE_EFFICIENCY",
    ),  # the known drift
    _record("GENCOST02-BP01", "Buy flour in bulk", pillar="COST_OPTIMIZATION"),  # renumbered
    _record("GENSUS01-BP01", "Turn the oven off", pillar="SUSTAINABILITY", risk="LOW"),
]


@pytest.fixture
def sources(tmp_path):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(OLD))
    new.write_text(json.dumps(NEW))
    return old, new


def test_every_kind_of_change_is_found(sources):
    result = diff_corpora(wa_json.load(sources[0]), wa_json.load(sources[1])).to_dict()
    assert result["counts"] == {
        "added": 2,
        "removed": 1,
        "retitled": 2,
        "rerisked": 1,
        "moved": 0,
        "text_changed": 1,
        "unchanged": 2,
    }
    assert [e["bp_id"] for e in result["added"]] == ["GENCOST02-BP01", "GENSUS01-BP01"]
    assert result["added"][0]["note"] == "same title as GENCOST01-BP01 in OLD"
    assert result["added"][1] == {
        "bp_id": "GENSUS01-BP01",
        "title": "Turn the oven off",
        "pillar": "Sustainability",
        "question_id": "GENSUS01",
        "risk": "Low",
        "url": "https://example.test/gensus01-bp01.html",
        "note": None,
    }
    assert result["removed"][0]["bp_id"] == "GENCOST01-BP01"
    assert result["removed"][0]["note"] == "same title as GENCOST02-BP01 in NEW"
    retitled = {e["bp_id"]: e for e in result["retitled"]}
    assert retitled["GENSEC02-BP01"] == {
        "bp_id": "GENSEC02-BP01",
        "old_title": "Label the jars",
        "new_title": "Label every jar",
        "note": None,
    }
    assert retitled["GENPERF04-BP01"]["note"].startswith("known drift")
    assert result["rerisked"] == [
        {
            "bp_id": "GENSEC01-BP02",
            "title": "Count the loaves",
            "old_risk": "Medium",
            "new_risk": "Low",
        }
    ]
    changed = result["text_changed"]
    assert [e["bp_id"] for e in changed] == ["GENSEC03-BP01"]
    assert changed[0]["similarity"] < 0.2 and changed[0]["compared"] == "full"
    assert result["old"]["best_practices"] == 7 and result["new"]["best_practices"] == 8
    assert result["warnings"] == []


def test_json_shape_is_stable(sources):
    result = diff_corpora(wa_json.load(sources[0]), wa_json.load(sources[1])).to_dict()
    assert list(result) == ["old", "new", "threshold", "counts", *KINDS, "warnings"]
    assert set(result["old"]) == {"source", "name", "edition", "best_practices"}


def test_moved_practices(tmp_path):
    old = Corpus("a", [_doc("GENSEC01-BP01", question_id="GENSEC01", pillar="Security")])
    new = Corpus("b", [_doc("GENSEC01-BP01", question_id="GENSEC07", pillar="Reliability")])
    moved = diff_corpora(old, new).to_dict()["moved"]
    assert moved == [
        {
            "bp_id": "GENSEC01-BP01",
            "title": "Bake",
            "old_question_id": "GENSEC01",
            "new_question_id": "GENSEC07",
            "old_pillar": "Security",
            "new_pillar": "Reliability",
        }
    ]


def test_unknown_risk_is_not_a_risk_change():
    old = Corpus("a", [_doc("X01-BP01", risk=None)])
    new = Corpus("b", [_doc("X01-BP01", risk="High")])
    assert diff_corpora(old, new).to_dict()["counts"]["unchanged"] == 1


def test_similarity_full_and_excerpt():
    same = _doc("X01-BP01", text=STORY)
    assert similarity(same, same) == (1.0, "full")
    one_word = _doc("X01-BP01", text=STORY.replace("sharp", "keen"))
    score, compared = similarity(same, one_word)
    assert compared == "full" and 0.85 < score < 1.0
    excerpt = _doc("X01-BP01", text=" ".join(STORY.split()[:20]))
    assert similarity(excerpt, same) == (1.0, "excerpt")
    links = _doc("X01-BP01", text=STORY.replace("oven", "[oven](https://example.test/oven)"))
    assert similarity(links, same)[0] == 1.0
    resources_only = Document("l", "X01-BP01", "t", "", "s", (Section("Resources", OTHER),))
    assert similarity(resources_only, _doc("X01-BP01", text="")) == (1.0, "full")


def test_render_groups_by_kind(sources):
    text = render(diff_corpora(wa_json.load(sources[0]), wa_json.load(sources[1])))
    assert (
        "2 added, 1 removed, 2 retitled, 1 rerisked, 0 moved, 1 text changed, 2 unchanged" in text
    )
    for heading in ("Added (2)", "Removed (1)", "Retitled (2)", "Re-risked (1)", "Text changed (1"):
        assert heading in text
    assert "Moved" not in text
    assert "      old: Label the jars\n      new: Label every jar" in text
    assert "GENSEC01-BP02  Medium -> Low" in text


def test_cli_diff_text_json_and_threshold(sources, capsys):
    old, new = map(str, sources)
    assert main(["corpus", "diff", old, new]) == 0
    assert "Retitled (2)" in capsys.readouterr().out
    assert main(["corpus", "diff", old, new, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["added"] == 2 and data["threshold"] == 0.8
    assert main(["corpus", "diff", old, new, "--json", "--threshold", "0"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["text_changed"] == 0


def test_cli_info_counts(sources, capsys):
    assert main(["corpus", "info", "--source", str(sources[1])]) == 0
    out = capsys.readouterr().out
    assert "documents  8 (8 best practices, 6 questions, 0 other pages)" in out
    assert main(["corpus", "info", "--source", str(sources[1]), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["pillars"]["Security"] == {"questions": 3, "best_practices": 5}
    assert list(facts["pillars"]) == [
        "Security",
        "Performance Efficiency",
        "Cost Optimization",
        "Sustainability",
    ]


@pytest.mark.skipif(
    importlib.util.find_spec("corpus.loaders.lens_markdown") is None,
    reason="the crawl-layout markdown loader is not there yet",
)
def test_older_json_edition_against_current_markdown(shared_lens, capsys):
    old = shared_lens / "awslabs-mcp-genai-older" / "json" / "lens" / "generative-ai"
    new = shared_lens / "wa-references" / "lenses" / "generative-ai"
    assert main(["corpus", "diff", str(old), str(new), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    counts = result["counts"]
    assert (counts["added"], counts["removed"], counts["retitled"], counts["moved"]) == (2, 0, 7, 0)
    assert [e["bp_id"] for e in result["added"]] == ["GENCOST03-BP03", "GENCOST03-BP04"]
    drift = {e["bp_id"]: e for e in result["retitled"]}["GENPERF04-BP01"]
    assert drift["note"].startswith("known drift")
    # SOURCES.md: 17 practices differ in title or risk between the two copies.
    differing = {e["bp_id"] for e in result["retitled"] + result["rerisked"]}
    assert len(differing) == 17
    assert counts["rerisked"] == 14
    # The JSON edition summarises the pages: most texts are compared as excerpts, with a warning.
    assert result["warnings"] and "summary or excerpt" in result["warnings"][0]


def _doc(bp_id, *, question_id=None, pillar=None, risk="High", text=STORY):
    return Document(
        lens="l",
        doc_id=bp_id,
        title="Bake",
        url="",
        source="s",
        sections=(Section("Overview", text),) if text else (),
        pillar=pillar,
        question_id=question_id,
        bp_id=bp_id,
        risk=risk,
    )
