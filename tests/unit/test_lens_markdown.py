import json

import pytest

from corpus.errors import InputError
from corpus.loaders import lens_markdown
from corpus.sources import load_source


def test_genai_lens_matches_the_fact_index(shared_lens, tmp_path):
    corpus = load_source(str(shared_lens / "wa-references/lenses/generative-ai"), home=tmp_path)
    facts = json.loads((shared_lens / "genai_lens_index.json").read_text())
    expected = {
        bp["id"]: (bp["title"], bp["risk"], bp["url"], q["pillar"], q["question_id"])
        for q in facts["questions"]
        for bp in q["best_practices"]
    }
    got = {
        d.bp_id: (d.title, d.risk, d.url, d.pillar, d.question_id)
        for d in corpus.documents
        if d.bp_id
    }
    assert got == expected
    doc = corpus.best_practices()["GENSEC04-BP02"]
    headings = [s.heading for s in doc.sections]
    assert headings[:2] == ["Overview", "Desired outcome"]
    assert "Implementation steps" in headings
    assert doc.question_title == "Prompt security"
    assert all("](" not in s.text for s in doc.sections)  # links reduced to their text


def test_every_lens_and_the_framework_pillars_load(shared_lens, tmp_path):
    root = shared_lens / "wa-references"
    everything = load_source(str(root / "lenses"), home=tmp_path)
    lenses = {d.lens for d in everything.documents}
    assert len(lenses) == len(list((root / "lenses").iterdir()))
    assert all(d.sections for d in everything.documents)
    framework = load_source(str(root / "pillars"), home=tmp_path)
    bps = [d for d in framework.documents if d.bp_id]
    assert {d.lens for d in framework.documents} == {"framework"}
    assert len(bps) > 290
    sec = next(d for d in bps if d.bp_id == "SEC01-BP01")
    assert sec.pillar == "Security" and sec.question_id == "SEC01" and sec.risk == "High"


def test_a_folder_of_other_markdown_is_not_a_lens(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "readme.md").write_text("# Shopping list\n\n- eggs\n")
    assert not lens_markdown.sniff(folder)
    with pytest.raises(InputError, match="not a lens source"):
        load_source(str(folder), home=tmp_path)


def test_missing_and_empty_sources_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_source(str(tmp_path / "nope"), home=tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty"):
        load_source(str(tmp_path / "empty"), home=tmp_path)
    with pytest.raises(InputError, match="corpus fetch"):
        load_source("fetched", home=tmp_path)
