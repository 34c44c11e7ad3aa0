"""The lens vocabulary (corpus.vocabulary) and sentence splitting (corpus.text), used everywhere.

Every part that recognises an id, names a pillar, orders by risk or splits a sentence goes
through these, so the cases here are what the loaders, the citation check, the evals, the
CLI, the UI and the report all agree on.
"""

from __future__ import annotations

import pytest

from agent.design import summarise
from corpus.chunking import chunk_document
from corpus.loaders.builtin import digest_practices
from corpus.models import Document, Section
from corpus.text import sentences, split_units
from corpus.vocabulary import (
    PRACTICE_IN_TEXT,
    is_page_id,
    is_practice_id,
    is_question_id,
    page_key,
    pillar_of,
    question_of,
    risk_rank,
)
from diagrams import parse_bytes, render_markdown, review_architecture
from evals.metrics import cited_sentences
from lenswise.cli.review_cmd import summary

PRACTICES = digest_practices()


@pytest.mark.parametrize(
    ("text", "practice", "question"),
    [
        ("GENSEC04-BP02", True, False),
        ("SEC01-BP01", True, False),
        ("MD_OPS01-BP03", True, False),
        ("X01-BP01", True, False),
        ("GENSEC04", False, True),
        ("GENSEC4-BP2", False, False),
        ("gensec04-bp02", False, False),
        ("GENSEC04-BP02 ", False, False),
        ("responsible-ai", False, False),
    ],
)
def test_id_grammar(text, practice, question):
    assert is_practice_id(text) is practice
    assert is_question_id(text) is question


def test_page_ids_are_practices_questions_or_slugs():
    assert all(map(is_page_id, ["GENSEC04-BP02", "GENSEC04", "responsible-ai", "agentic-ai"]))
    assert not any(map(is_page_id, ["Responsible AI", "gen sec", "-x", ""]))


def test_ids_in_prose_and_their_question():
    text = (
        "See GENSEC04-BP02, MD_OPS01-BP01 and (GENREL03-BP01); not GENSEC4-BP2 or XGENSEC04-BP021."
    )
    assert PRACTICE_IN_TEXT.findall(text) == ["GENSEC04-BP02", "MD_OPS01-BP01", "GENREL03-BP01"]
    assert question_of("GENSEC04-BP02") == "GENSEC04"
    assert question_of("MD_OPS01-BP03") == "MD_OPS01"


@pytest.mark.parametrize(
    ("identifier", "pillar"),
    [
        ("GENSEC04-BP02", "Security"),
        ("GENOPS01", "Operational Excellence"),
        ("GENREL06-BP01", "Reliability"),
        ("GENPERF04", "Performance Efficiency"),
        ("GENCOST03-BP04", "Cost Optimization"),
        ("GENSUS03", "Sustainability"),
        ("SEC01-BP01", "Security"),
        ("PERF02", "Performance Efficiency"),
        ("MD_OPS01-BP01", "Operational Excellence"),
        ("RAIDP01", None),
        (None, None),
    ],
)
def test_pillar_from_id_letters(identifier, pillar):
    assert pillar_of(identifier) == pillar


def test_page_key_of_practices_questions_and_general_pages():
    assert page_key("GENSEC04-BP02", "generative-ai/GENSEC04-BP02#3") == "GENSEC04-BP02"
    assert page_key(None, "generative-ai/GENSEC04#0") == "GENSEC04"
    assert page_key(None, "generative-ai/responsible-ai#2") == "responsible-ai"
    doc = Document(
        lens="generative-ai",
        doc_id="responsible-ai",
        title="Responsible AI",
        url="",
        source="builtin",
        sections=(Section("Overview", "A page. " * 40),),
    )
    assert {c.page_id for c in chunk_document(doc)} == {"responsible-ai"}


def test_risk_rank_orders_high_first_and_unknown_last():
    assert sorted(["Low", None, "High", "Medium", "odd"], key=risk_rank)[:3] == [
        "High",
        "Medium",
        "Low",
    ]


def test_sentences_do_not_end_at_abbreviations():
    text = "Filter inputs, e.g. Amazon Bedrock Guardrails. Log it, i.e. With CloudTrail. Done."
    assert sentences(text) == [
        "Filter inputs, e.g. Amazon Bedrock Guardrails.",
        "Log it, i.e. With CloudTrail.",
        "Done.",
    ]


def test_list_items_stay_whole_and_keep_their_marker_only_in_units():
    text = "Steps:\n- First. Then more.\n* Second one.\nA close. Another."
    assert split_units(text) == [
        "Steps:",
        "- First. Then more.",
        "* Second one.",
        "A close.",
        "Another.",
    ]
    assert sentences(text) == ["Steps:", "First. Then more.", "Second one.", "A close.", "Another."]


def test_the_evals_split_a_reply_as_the_answer_layer_does():
    reply = (
        "Add a guardrail, e.g. Amazon Bedrock Guardrails [GENSEC04-BP02]. Log it [GENOPS02-BP01]."
    )
    graded = [s for s, _ in cited_sentences(reply)]
    assert graded == sentences(reply)


def test_top_gaps_are_in_one_order_everywhere():
    """The CLI, the report and the design summary list gaps by risk, ties in lens order."""
    review = review_architecture(parse_bytes(b"graph LR\n  A[AWS Lambda]", "a.mmd"), PRACTICES)
    risks = ["Low", "High", "Medium", "High", "Low", "High"]
    for finding, risk in zip(review.findings, risks, strict=False):
        finding.status, finding.risk, finding.evidence = "gap", risk, []
    for finding in review.findings[len(risks) :]:
        finding.status = "unknown"
    lens = [f.bp_id for f in review.findings[: len(risks)]]
    expected = [lens[i] for i in (1, 3, 5, 2, 0, 4)]
    assert [f.bp_id for f in review.by_risk("gap")] == expected
    cli = [line.split()[1] for line in summary(review).splitlines() if line.startswith("  [")]
    assert cli == expected[: len(cli)] and len(cli) >= 5
    report = render_markdown(review).split("## Gaps", 1)[1]
    assert sorted(expected, key=report.index) == expected
    assert [g["bp_id"] for g in summarise(review)["gaps"]] == expected[
        : len(summarise(review)["gaps"])
    ]
