"""Answers on the real index: corrections, follow-ups, parts, length, comparisons, paraphrases."""

import re

from agent.citations import verify
from corpus.text import sentences


def test_an_id_the_lens_does_not_have_is_corrected_first(real_lens):
    answer = real_lens.ask("What does GENREL09-BP01 say about retries?")
    assert answer.text.startswith("The lens has no GENREL09-BP01:")
    assert "removed citation" not in answer.text and answer.citations
    assert answer.routing["answer"] == "correction"


def test_a_follow_up_answers_the_new_part_without_repeating(real_lens):
    first = real_lens.ask("How should we monitor our model's responses in production?", "m")
    follow = real_lens.ask("and how do we keep that cheap?", "m")
    assert any(c.pillar == "Cost Optimization" for c in follow.citations)
    earlier = {s.strip() for s in sentences(re.sub(r"\s?\[[^\]]+\]", "", first.text))}
    again = [s for s in sentences(re.sub(r"\s?\[[^\]]+\]", "", follow.text)) if s in earlier]
    assert [s for s in again if len(s.split()) > 8] == []


def test_each_part_of_a_question_gets_its_own_practice(real_lens):
    answer = real_lens.ask(
        "How should we right-size the model to cut inference cost, and how do we keep Bedrock "
        "traffic private?"
    )
    cited = [c.bp_id for c in answer.citations]
    assert "GENCOST01-BP01" in cited and "GENSEC01-BP02" in cited
    assert len(answer.routing["parts"]) == 2


def test_answers_are_short_and_never_repeat_a_sentence(real_lens):
    for question in (
        "How should we monitor our model's responses in production?",
        "How do I stop prompt injection?",
        "our LLM bill tripled last month. where do we start?",
    ):
        answer = real_lens.ask(question)
        said = [s for s in sentences(answer.text) if len(s.split()) > 4]
        assert len(said) == len(set(said)), question
        assert len(answer.text.split()) <= 250, question


def test_a_comparison_shows_the_options_side_by_side(real_lens):
    answer = real_lens.ask(
        "what's the difference between bedrock guardrails and just filtering in my lambda?"
    )
    assert answer.routing["answer"] == "compare"
    assert len({c.page_id for c in answer.citations}) >= 2
    assert answer.text.startswith("The lens treats these as separate choices:")


def test_a_faithful_paraphrase_of_the_cited_practice_is_supported(real_lens):
    from agent.tools import passage

    chunks = real_lens.index.chunks_of("GENSEC04-BP02")
    passages = {c.chunk_id: passage(c, 1.0, "q") for c in chunks}
    claim = (
        "Check and clean what users type before the foundation model receives it, so that "
        "injected instructions are caught early [GENSEC04-BP02]."
    )
    result = verify(claim, passages, real_lens.index.page_urls, real_lens.index.embedder.encode)
    assert result.ok and result.unsupported == []
