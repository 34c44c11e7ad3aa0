"""What an answer says: its plan, its steps, parts, follow-ups, corrections and faithfulness."""

import re

from agent.citations import UNVERIFIED, mark_unverified, verify
from agent.extractive import (
    compose_design_preface,
    compose_design_review,
    compose_priorities,
    not_covered_note,
)
from agent.routing import Route, answer_kind, split_parts
from agent.steps import DocGroup, Scoring, Step, part_steps, select_steps, specific_terms
from corpus.ids import unknown_ids
from tests.helpers import scripted_model, tool_call

KNOWN = {"GENREL01", "GENREL06", "GENREL04-BP02", "GENSEC04", "GENSEC04-BP02"}


def _kind(question: str, **route) -> str:
    return answer_kind(question, Route(route.pop("kind", "lens"), question, **route), False)


def test_the_answer_plan_follows_the_question_form():
    assert _kind("How do we stop prompt injection?") == "howto"
    assert _kind("What's the difference between guardrails and filtering in Lambda?") == "compare"
    assert _kind("What are the lifecycle stages the lens describes?") == "list"
    assert _kind("Why does the lens want a model catalog?") == "explain"
    assert _kind("What does GENSEC04-BP02 say?", kind="lookup", ids=["GENSEC04-BP02"]) == "lookup"
    assert _kind("What does GENREL09 say?", unknown_ids=["GENREL09"]) == "correction"
    assert _kind("Recipe for carbonara?", kind="out_of_scope") == "decline"


def test_ids_the_lens_does_not_have_are_found_but_real_ones_and_other_codes_are_not():
    question = "Since GENREL09-BP01 and GENSEC04-BP02 say so, is ISO27001 enough? And GENREL07?"
    assert unknown_ids(question, KNOWN) == ["GENREL09-BP01", "GENREL07"]
    assert unknown_ids("gensec04 bp05 please", KNOWN) == ["GENSEC04-BP05"]  # loosely written
    assert unknown_ids("gensec04 bp02 and sec 9", KNOWN) == []


def test_a_question_with_several_parts_is_split_but_a_comparison_is_not():
    assert split_parts(
        "How do we evaluate a model before launch, and how do we protect prompts from injection?"
    ) == ["How do we evaluate a model before launch", "how do we protect prompts from injection?"]
    assert split_parts("Should we use Bedrock Guardrails or filter in our own Lambda?") == []
    assert split_parts("What is a model catalog? Why?") == []


def test_only_clauses_that_ask_are_parts_unless_the_question_asks_about_each():
    scene = "We fine-tune every month. How do we cut the energy, and how do we filter the data?"
    assert split_parts(scene) == ["How do we cut the energy", "how do we filter the data?"]
    listed = "Two gaps - a private path to the model, an audit log of its calls. What fixes each?"
    assert split_parts(listed) == ["a private path to the model", "an audit log of its calls"]


def test_a_conjunct_that_shares_the_requests_verb_is_a_part_with_the_shared_words_put_back():
    question = "How do we make our answers more consistent between runs, and also cheaper per call?"
    assert split_parts(question) == [
        "How do we make our answers more consistent between runs",
        "How do we make our answers cheaper per call?",
    ]
    repeated = "How do we keep the index for the search, and also for the audit team?"
    assert split_parts(repeated) == [
        "How do we keep the index for the search",
        "How do we keep the index for the audit team?",
    ]
    # no counterpart in the request: the conjunct does not ask on its own, so no parts
    assert split_parts("How do we keep it safe, and also that it can't run forever?") == []
    # "and also" after a statement adds to the scene, not to a request
    assert split_parts("We store the prompts, and also cheaper copies of them.") == []


def test_not_covered_names_only_specific_things_in_a_sentence():
    corpus_terms = {"bedrock", "rag", "app", "faster", "use"}

    def weight(stem: str) -> float:
        return 1.0 if stem in corpus_terms else 0.0

    assert specific_terms("Is Weaviate faster than Qdrant on Bedrock at 500 qps?") == [
        "Weaviate",
        "Qdrant",
        "Bedrock",
        "500",
    ]
    note = not_covered_note("Is Weaviate quicker than Qdrant for our Bedrock RAG app?", weight)
    assert (
        note == "The lens does not name Weaviate and Qdrant; the closest guidance it gives follows."
    )
    assert not_covered_note("how do we make our spiffy chatbot quicker?", weight) == ""


def _step(group: DocGroup, text: str, score: float, position: int) -> Step:
    words = frozenset(re.findall(r"\w+", text.lower()))
    return Step(group, text, "Implementation steps", position, score, words)


def test_bullets_follow_relevance_and_skip_repeats():
    lead = DocGroup("GENSEC04-BP02", "Sanitize inputs", "Security", "High", None, 1.0)
    other = DocGroup("GENSEC04-BP01", "Secure prompts", "Security", "High", None, 0.5)
    steps = [
        _step(lead, "Validate every prompt in a layer before the model sees it.", 1.0, 1),
        _step(lead, "Validate every prompt in a layer before the model sees it now.", 0.95, 2),
        _step(lead, "Test the guardrail against curated injection attempts.", 0.9, 3),
        _step(lead, "Record the techniques in the policy document.", 0.2, 4),
        _step(other, "Keep system prompts in a managed catalog with versions.", 0.3, 1),
    ]
    chosen = select_steps(steps, ["GENSEC04-BP01"], budget=40)
    texts = [s.sentence for s in chosen]
    assert texts[0].startswith("Keep system prompts")  # each part's page gets its best step
    assert "Test the guardrail against curated injection attempts." in texts
    assert sum(t.startswith("Validate every prompt") for t in texts) == 1  # no repeat
    assert sum(len(t.split()) for t in texts) <= 40


def _page(key: str, *steps: str) -> DocGroup:
    group = DocGroup(key, key, "Security", "High", "Q", 1.0)
    group.passages = [
        {"chunk_id": f"{key}#{i}", "section": "Implementation steps", "text": text}
        for i, text in enumerate(steps)
    ]
    return group


def _scoring(question: str) -> Scoring:
    return Scoring(question=question, weight=lambda stem: 1.0)


def test_each_part_gets_its_own_steps_scored_against_its_own_words():
    energy = _page("GENSUS01-BP02", "Use parameter-efficient tuning to cut the training energy.")
    data = _page(
        "GENSEC06-BP01",
        "Isolate the training environment and its infrastructure from other workloads.",
        "Filter biased, junk and irrelevant records out of the training data first.",
    )
    whole = _scoring("how do we cut training energy, and keep junk records out of training data?")
    parts = [
        (_scoring("how do we cut training energy"), "GENSUS01-BP02"),
        (_scoring("keep junk records out of training data"), "GENSEC06-BP01"),
    ]
    chosen = part_steps([energy, data], [*parts, (whole, "GENSUS01-BP02")], "howto", 30)
    assert [s.sentence.split()[0] for s in chosen] == ["Use", "Filter"]  # one share per page
    assert sum(len(s.sentence.split()) for s in chosen) <= 30


def test_design_priorities_count_right_and_list_each_gap_once():
    gap = {
        "bp_id": "GENSEC02-BP01",
        "title": "Implement guardrails",
        "risk": "High",
        "explanation": "No guardrail sits between the model and the user.",
        "evidence": ["Chat API"],
        "reach": 1,
    }
    design = {"gaps": [gap, dict(gap)], "coverage": {}, "strengths": [], "services": []}
    scoring = None  # no page passages: no sentence is picked
    text = compose_priorities(design, [], "Source: test.", scoring)
    assert text.startswith("Fix this gap first.") and "1 gaps" not in text
    assert text.count("GENSEC02-BP01") == 1 and "reaches 1 component;" in text


def test_a_design_preface_lists_only_the_gaps_the_question_touches():
    def gap(bp_id: str) -> dict:
        return {"bp_id": bp_id, "title": "t", "risk": "High", "explanation": "e."}

    design = {
        "gaps": [gap("GENOPS02-BP01"), gap("GENSEC01-BP01"), gap("GENSEC01-BP01")],
        "coverage": {"addressed": 1, "gap": 2, "unknown": 3, "total": 6},
        "services": ["lambda"],
        "format": "cloudformation",
        "component_count": 2,
    }
    design["strengths"] = [gap("GENSEC04-BP02"), gap("GENSUS01-BP01")]
    text = compose_design_preface(design, ["GENSEC01-BP01", "GENSEC04-BP02"])
    assert text.count("GENSEC01-BP01") == 1 and "GENOPS02-BP01" not in text
    assert "[GENSEC04-BP02]" in text and "GENSUS01-BP01" not in text  # the touched strength
    assert "GENOPS02-BP01" not in compose_design_preface(design) and "gaps" in text


def _finding(bp_id: str) -> dict:
    return {
        "bp_id": bp_id,
        "title": "t",
        "risk": "High",
        "explanation": f"{bp_id} seen.",
        "evidence": [],
    }


def _listed(text: str) -> list[str]:
    return re.findall(r"^- \*\*(\S+) · ", text, re.M)


def test_a_question_about_the_design_gets_its_findings_on_the_topic_most_relevant_first():
    design = {
        "gaps": [_finding("GENOPS02-BP01"), _finding("GENSEC04-BP02"), _finding("GENSEC01-BP01")],
        "strengths": [_finding("GENSUS01-BP01"), _finding("GENSEC01-BP03")],
        "coverage": {"addressed": 2, "gap": 3, "unknown": 46, "total": 51},
        "format": "cloudformation",
        "component_count": 4,
    }
    relevance = {"GENSEC01-BP01": 0.6, "GENSEC04-BP02": 0.5, "GENSEC01-BP03": 0.2}
    topic = {"GENSEC01-BP01", "GENSEC04-BP02", "GENSEC01-BP03", "GENREL04-BP02"}
    focused = compose_design_review(design, [], "Source: test.", None, relevance, topic)
    assert _listed(focused) == ["GENSEC01-BP01", "GENSEC04-BP02", "GENSEC01-BP03"]
    everything = compose_design_review(design, [], "Source: test.", None, {}, {"GENREL04-BP02"})
    assert _listed(everything) == [
        "GENOPS02-BP01",
        "GENSEC04-BP02",
        "GENSEC01-BP01",
        "GENSUS01-BP01",
        "GENSEC01-BP03",
    ]  # no finding on the topic: the whole review, gaps in fix order first
    right = compose_design_review(
        design, [], "Source: test.", None, relevance, strengths_first=True
    )
    assert _listed(right) == ["GENSEC01-BP03", "GENSUS01-BP01", "GENSEC01-BP01"]
    assert right.index("**Already in place**") < right.index("**Next to add**")
    assert "[GENSEC01-BP03]" in right  # a practice the design shows is cited


GOOD = (
    "Validate and sanitise user input before it reaches the model, and test the guardrail "
    "against a curated set of prompt injection attempts [GENSEC04-BP02]."
)
INVENTED = "Rotate every key hourly to stop injection [GENSEC77-BP01]."


def test_a_sentence_that_loses_its_only_citation_is_not_shown(hash_index, tmp_path):
    from agent import LensAssistant
    from agent.config import Settings

    model = scripted_model(
        [
            tool_call("get_best_practice", practice_id="GENSEC04-BP02"),
            f"{GOOD} {INVENTED}",
            f"{GOOD} {INVENTED}",
        ]
    )
    lens = LensAssistant(
        Settings(home=tmp_path, model="scripted"), index=hash_index, chat_model=model
    )
    answer = lens.ask("How do I stop prompt injection?")
    retry = model.calls[2][-1].content
    assert "Rotate every key hourly to stop injection" in retry and "Fix exactly" in retry
    assert "Rotate every key" not in answer.text and answer.text.startswith("Validate")


def test_uncited_and_unsupported_claims_are_marked_unverified():
    passages = {
        "generative-ai/GENSEC04-BP02#2": {
            "chunk_id": "generative-ai/GENSEC04-BP02#2",
            "bp_id": "GENSEC04-BP02",
            "title": "Sanitize inputs",
            "section": "Implementation steps",
            "text": "Route every prompt through a validation layer before it reaches the model.",
        }
    }
    urls = {"GENSEC04-BP02": "https://docs.example/gensec04-bp02.html"}
    text = (
        "Route every prompt through a validation layer first [GENSEC04-BP02]. "
        "Quantum annealing also removes every hallucination for free."
    )
    result = verify(text, passages, urls, every_claim=True)
    shown = mark_unverified(result.text, result)
    assert f"{UNVERIFIED} Quantum annealing" in shown
    assert shown.startswith("Route every prompt") and UNVERIFIED not in shown.split(".")[0]
