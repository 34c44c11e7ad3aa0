"""The structured lens JSON loader (older edition of the lens, Framework pillars)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from corpus.errors import InputError
from corpus.loaders import custom_lens, docs_pages, wa_json

RECORDS = [
    {
        "id": "GENZZZSEC01-BP01",
        "title": "Lock the pantry",
        "title_full": "GENZZZSEC01-BP01 Lock the pantry",
        "href": "https://example.test/pantry.html",
        "description": "Pantries hold snacks that squirrels covet.",
        "desired_outcome": ["Only the cook opens the pantry."],
        "benefits": "Fewer missing biscuits.",
        "implementation_guidance": ["Fit a latch.", "Hide the key under the mat."],
        "resources": ["GENZZZREL02-BP01: https://example.test/count.html"],
        "pillar": "SECURITY",
        "area": ["Pantry safety"],
        "relatedIds": ["GENZZZREL02-BP01", "GENZZZSEC01-BP01"],
        "risk": "HIGH",
        "lens": "GENERATIVE_AI",
    },
    {
        "id": "ZZZREL02-BP01",
        "title": "Count the biscuits",
        "title_full": "ZZZREL02-BP01 Count the biscuits",
        "href": "https://example.test/count.html",
        "description": "Counting reveals theft early.",
        "pillar": "RELIABILITY",
        "area": ["Stock keeping", "Biscuit audits"],
        "relatedIds": [],
        "risk": "LOW",
        "lens": "FRAMEWORK",
    },
]


@pytest.fixture
def lens_file(tmp_path):
    path = tmp_path / "lens.json"
    path.write_text(json.dumps(RECORDS, indent=1))
    return path


def test_records_become_best_practice_documents(lens_file):
    corpus = wa_json.load(lens_file)
    first, second = corpus.documents
    assert first.doc_id == first.bp_id == "GENZZZSEC01-BP01"
    assert first.lens == "generative-ai"
    assert first.pillar == "Security"
    assert first.risk == "High"
    assert first.question_id == "GENZZZSEC01"
    assert first.question_title == "Pantry safety"
    assert first.url == "https://example.test/pantry.html"
    assert first.source == str(lens_file)
    assert first.related == ("GENZZZREL02-BP01",)  # its own id is dropped
    assert [s.heading for s in first.sections] == [
        "Overview",
        "Desired outcome",
        "Benefits",
        "Implementation steps",
        "Resources",
    ]
    steps = dict((s.heading, s.text) for s in first.sections)["Implementation steps"]
    assert steps == "- Fit a latch.\n- Hide the key under the mat."
    assert second.lens == "framework"
    assert second.pillar == "Reliability" and second.risk == "Low"
    assert second.question_title == "Biscuit audits"  # the most specific area


def test_folder_loads_arrays_and_ignores_the_schema(tmp_path, lens_file):
    (tmp_path / "schema.json").write_text(json.dumps({"$schema": "x", "type": "array"}))
    corpus = wa_json.load(tmp_path)
    assert sorted(corpus.best_practices()) == ["GENZZZSEC01-BP01", "ZZZREL02-BP01"]
    assert wa_json.sniff(tmp_path)


def test_sniff_claims_practice_arrays_only(tmp_path, lens_file):
    assert wa_json.sniff(lens_file)
    custom = tmp_path / "custom.json"
    custom.write_text(json.dumps({"schemaVersion": "2021-11-01", "name": "x", "pillars": []}))
    assert not wa_json.sniff(custom)
    numbers = tmp_path / "numbers.json"
    numbers.write_text("[1, 2, 3]")
    assert not wa_json.sniff(numbers)
    assert not wa_json.sniff(tmp_path / "missing.json")
    assert not custom_lens.sniff(lens_file)
    assert not docs_pages.sniff(lens_file)


def test_malformed_json_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[\n  {"id": "GENZZZSEC01-BP01",\n   "pillar": "SECURITY",, }\n]')
    with pytest.raises(InputError, match=r"bad\.json:3:\d+: malformed JSON"):
        wa_json.load(bad)


def test_record_without_pillar_is_rejected(tmp_path):
    bad = tmp_path / "odd.json"
    bad.write_text(json.dumps([{"id": "GENZZZSEC01-BP01", "title": "x"}]))
    with pytest.raises(InputError, match="record 1 is not a best practice .missing pillar"):
        wa_json.load(bad)


def test_unknown_pillar_and_bad_id_are_rejected(tmp_path):
    bad = tmp_path / "odd.json"
    bad.write_text(json.dumps([{**RECORDS[0], "pillar": "HAPPINESS"}]))
    with pytest.raises(InputError, match="unknown pillar 'HAPPINESS'"):
        wa_json.load(bad)
    bad.write_text(json.dumps([{**RECORDS[0], "id": "NOT-AN-ID"}]))
    with pytest.raises(InputError, match="not a best-practice id"):
        wa_json.load(bad)


def test_older_generative_ai_edition(shared_lens):
    folder = shared_lens / "awslabs-mcp-genai-older" / "json" / "lens" / "generative-ai"
    corpus = wa_json.load(folder)
    practices = corpus.best_practices()
    assert len(practices) == 49
    assert Counter(d.pillar for d in practices.values()) == {
        "Operational Excellence": 10,
        "Security": 10,
        "Reliability": 10,
        "Performance Efficiency": 8,
        "Cost Optimization": 7,
        "Sustainability": 4,
    }
    sanitize = practices["GENSEC04-BP02"]
    assert sanitize.risk == "High"
    assert sanitize.question_title == "Prompt security"
    assert sanitize.url.endswith("/generative-ai-lens/gensec04-bp02.html")
    assert {d.lens for d in corpus.documents} == {"generative-ai"}
    assert all(d.text.strip() for d in corpus.documents)


def test_framework_pillars_in_the_same_schema(shared_lens):
    corpus = wa_json.load(shared_lens / "awslabs-mcp-genai-older" / "json")
    assert len(corpus.best_practices()) == 307
    assert {d.lens for d in corpus.documents} == {"framework"}
    assert corpus.best_practices()["SEC01-BP01"].pillar == "Security"
