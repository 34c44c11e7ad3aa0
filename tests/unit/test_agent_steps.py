"""Step selection and composition of extractive answers: which sentences an answer shows."""

from dataclasses import replace

from agent.extractive import compose_lens_answer
from agent.steps import DocGroup, Scoring, related_terms, score_steps
from agent.text import stems


def _page(key: str, *sections: tuple[str, str]) -> DocGroup:
    """A practice page whose passages are ``(section, text)`` pairs, in order."""
    group = DocGroup(key, f"Title of {key}", "Security", "High", "Q", 1.0)
    group.passages = [
        {"chunk_id": f"{key}#{i}", "section": section, "text": text}
        for i, (section, text) in enumerate(sections)
    ]
    return group


def _scoring(question: str) -> Scoring:
    return Scoring(question=question, weight=lambda stem: 1.0)


def _bullets(answer: str, key: str) -> list[str]:
    return [line for line in answer.splitlines() if line.startswith("- ") and f"[{key}]" in line]


def test_a_step_naming_the_questions_service_outranks_the_outcome_sentence():
    page = _page(
        "GENSEC04-BP02",
        ("Desired outcome", "Prompt attacks are caught before they reach the model."),
        ("Implementation steps", "Enable the prompt attack filter of Amazon Bedrock Guardrails."),
    )
    steps = score_steps([page], _scoring("how do we stop prompt attacks with Bedrock?"), "howto")
    best = max(steps, key=lambda s: s.score)
    assert best.section == "Implementation steps"


def test_a_step_in_the_lens_words_for_what_is_asked_outranks_an_unrelated_one():
    nearest = {
        "a#0": "Put a timeout on every tool call and send timed-out work to a dead-letter queue.",
        "b#0": "A tool that never answers is ended by its timeout; the work goes to a queue.",
        "c#0": "Tag every resource with its owner.",
    }
    similarity = {"a#0": 0.8, "b#0": 0.7, "c#0": 0.1}
    related = related_terms(similarity, nearest.get, lambda stem: 1.0)
    assert set(stems("timeout queue")) <= set(related) and "owner" not in related
    page = _page(
        "GENREL03-BP02",
        ("Implementation steps", "Record the owner of each workflow in the team runbook."),
        ("Implementation steps", "Give each function a timeout and a dead-letter queue."),
    )
    question = _scoring("what happens when the refunds API just hangs?")
    plain = max(score_steps([page], question, "howto"), key=lambda s: s.score)
    informed = replace(question, related=related)
    best = max(score_steps([page], informed, "howto"), key=lambda s: s.score)
    assert plain.sentence.startswith("Record") and best.sentence.startswith("Give each function")


def _long(text: str, tag: str) -> str:
    """A step of about forty words (lens steps are long), its detail words its own."""
    return f"{text}, " + " ".join(f"{tag}detail{i}" for i in range(36)) + "."


def test_each_part_of_a_two_part_question_gets_bullets_of_its_own_page():
    energy = _page(
        "GENSUS01-BP02",
        *(("Implementation steps", _long("Cut training energy", tag)) for tag in "abc"),
    )
    data = _page(
        "GENSEC06-BP01",
        *(("Implementation steps", _long("Filter junk records", tag)) for tag in "def"),
    )
    whole = _scoring("how do we cut training energy, and filter junk records?")
    parts = [
        (_scoring("how do we cut training energy"), "GENSUS01-BP02"),
        (_scoring("filter junk records"), "GENSEC06-BP01"),
    ]
    answer = compose_lens_answer([energy, data], "Source: test.", whole, "howto", parts)
    energy_bullets = _bullets(answer, "GENSUS01-BP02")
    data_bullets = _bullets(answer, "GENSEC06-BP01")
    assert all("energy" in b for b in energy_bullets) and all("junk" in b for b in data_bullets)
    # a second part adds room: each part shows as many of its steps as a one-part answer would
    alone = compose_lens_answer([energy], "Source: test.", _scoring("cut training energy"))
    assert len(data_bullets) >= 2
    assert len(energy_bullets) >= len(_bullets(alone, "GENSUS01-BP02"))


def test_a_comparison_puts_each_option_side_by_side_even_with_parts():
    guard = _page("GENSEC02-BP01", ("Implementation steps", "Screen responses with a guardrail."))
    judge = _page("GENSEC04-BP02", ("Implementation steps", "Ask a judge model to check prompts."))
    whole = _scoring("guardrail or judge model: which should screen prompts and responses?")
    parts = [(_scoring("guardrail for responses"), "GENSEC02-BP01")]
    answer = compose_lens_answer([guard, judge], "Source: test.", whole, "compare", parts)
    assert answer.startswith("The lens treats these as separate choices")
    assert _bullets(answer, "GENSEC02-BP01") and _bullets(answer, "GENSEC04-BP02")


def test_no_bullet_is_shown_twice_when_two_pages_say_the_same():
    text = "Enable model invocation logging and send the logs to Amazon S3."
    first = _page("GENOPS02-BP02", ("Implementation steps", text))
    second = _page("GENSEC01-BP04", ("Implementation steps", text))
    answer = compose_lens_answer([first, second], "Source: test.", _scoring("log model calls"))
    bullets = [line.rsplit(" [", 1)[0] for line in answer.splitlines() if line.startswith("- ")]
    assert bullets and len(bullets) == len(set(bullets))
