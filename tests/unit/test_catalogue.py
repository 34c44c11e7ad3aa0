"""Whole lists of the lens, pages named by their title, and when a design intent holds."""

import re
from dataclasses import replace

import pytest

from agent.catalogue import compose_list, requested
from agent.design import refers_to_own_design
from agent.extractive import NO_DESIGN_TEXT
from corpus.vocabulary import PRACTICE_IN_TEXT, pillar_of
from index.titles import TitleNames


def _cited(text: str) -> set[str]:
    return {i.strip() for marker in re.findall(r"\[([^\]]+)\]", text) for i in marker.split(",")}


def test_a_pillar_list_names_every_practice_of_that_pillar_and_no_other(hash_index):
    practices = {c.bp_id for c in hash_index.chunks if c.bp_id}
    for question, pillars in (
        ("give me every security best practice in the lens with its id", {"Security"}),
        ("list all the reliability practices", {"Reliability"}),
        ("what are all the cost optimization best practices?", {"Cost Optimization"}),
        ("list every security and reliability practice", {"Security", "Reliability"}),
    ):
        collection = requested(question, hash_index.chunks)
        assert collection is not None, question
        text = compose_list(collection, "Source: test")
        wanted = {p for p in practices if pillar_of(p) in pillars}
        assert set(PRACTICE_IN_TEXT.findall(text)) == wanted, question
        assert _cited(text) == wanted and f"The lens has {len(wanted)} best practices" in text


def test_the_scenario_list_is_every_scenario_page_each_cited(hash_index):
    scenarios = {c.page_id for c in hash_index.chunks if c.title.startswith("Scenario")}
    collection = requested("which example scenarios does the lens walk through?", hash_index.chunks)
    assert collection is not None and len(scenarios) > 2
    text = compose_list(collection, "Source: test")
    assert _cited(text) == scenarios
    assert text.count("\n- ") == len(scenarios)


def test_a_risk_level_keeps_the_practices_of_that_level(hash_index):
    high = {c.bp_id for c in hash_index.chunks if c.bp_id and c.risk == "High"}
    listed = requested("what are the high-risk practices?", hash_index.chunks)
    assert listed is not None and set(listed.pages) == high
    assert all(item.detail == "High risk" for item in listed.items)


def test_pillars_and_questions_are_lists_too(hash_index):
    pillars = requested("which pillars does the lens have?", hash_index.chunks)
    assert pillars is not None and len(pillars.items) == 6
    questions = {c.question_id for c in hash_index.chunks if c.pillar == "Sustainability"}
    listed = requested("list all the sustainability questions", hash_index.chunks)
    assert listed is not None and set(listed.pages) == questions


@pytest.mark.parametrize(
    "question",
    [
        "which practices cover prompt caching?",  # a topic: the practices that fit, not all
        "which best practices does our chatbot need for guardrails?",  # the asker's workload
        "We answer questions from our wiki. What do we need?",
        "how do we stop prompt injection?",
    ],
)
def test_a_question_that_restricts_the_list_gets_no_whole_list(hash_index, question):
    assert requested(question, hash_index.chunks) is None


def test_a_list_answer_cites_the_whole_list(hash_index, tmp_path):
    from agent import LensAssistant
    from agent.config import Settings

    lens = LensAssistant(Settings(home=tmp_path), index=hash_index)
    answer = lens.ask("give me every security best practice in the genai lens with its id")
    security = {c.bp_id for c in hash_index.chunks if c.bp_id and c.pillar == "Security"}
    assert {c.page_id for c in answer.citations} == security
    assert not answer.warnings and "unverified" not in answer.text


def test_a_page_named_by_its_title_words_leads():
    names = TitleNames(
        [
            ("data-architecture", "Data architecture for generative AI"),
            ("lifecycle", "The generative AI lifecycle"),
            ("agentic-ai", "Agentic AI"),
            ("GENOPS04-BP02", "Automate the lifecycle of generative AI workloads"),
        ],
        ["generative ai"],
    )
    assert names.named("what topics does the data architecture section go through?") == [
        "data-architecture"
    ]
    assert names.named("what are the stages of the gen ai lifecycle?") == ["lifecycle"]
    assert names.named("what does the agentic ai intro cover?") == ["agentic-ai"]
    # a single distinctive word names the page only next to the lens's own name
    assert names.named("what do lifecycle configuration scripts do?") == []
    assert names.named("how do we recover an agentic workflow?") == []
    assert names.named("how do we automate our workloads' lifecycle?") == ["GENOPS04-BP02"]


def test_title_naming_reorders_the_calibrated_ranking(hash_index):
    question = "what topics does the data architecture section of the lens go through?"
    ranked = hash_index.rank_pages(question)
    assert ranked[0].page_id == "data-architecture"
    assert ranked[0].probability == max(s.probability for s in ranked)
    assert hash_index.rank_pages("prompt injection in user input")[0].page_id != "data-architecture"


def test_the_design_intent_holds_only_for_the_askers_own_design():
    for own in (
        "what should we fix first in our architecture?",
        "Which single gap in the attached design should go into this sprint?",
        "Rank the issues you found in our design by urgency.",
        "diagram attached. top 3 risks pls",
        "From the design I uploaded, which gaps come first?",
    ):
        assert refers_to_own_design(own), own
    for lens in (
        "list the design principles",
        "list the design principles of the generative ai lens",
        "what topics does the data architecture section of the lens go through?",
        "which example scenarios does the lens walk through?",
    ):
        assert not refers_to_own_design(lens), lens


def test_no_design_note_on_a_lens_question_but_one_on_a_question_about_our_design(
    hash_index, tmp_path, monkeypatch
):
    """Whatever the intent model says (here: always "prioritize"), the note needs a design."""
    from agent import LensAssistant
    from agent.config import Settings

    scope = hash_index.scope
    monkeypatch.setattr(
        hash_index, "scope", lambda q: replace(scope(q), in_scope=True, intent="prioritize")
    )
    lens = LensAssistant(Settings(home=tmp_path), index=hash_index)
    assert NO_DESIGN_TEXT not in lens.ask("list the design principles").text
    assert lens.ask("what should we fix first in our architecture?").text.startswith(NO_DESIGN_TEXT)
