"""Content metrics: facts stated (checked on hand-labelled pairs), parts cited, repeats, length."""

from __future__ import annotations

import pytest

from evals.cases import AnswerCase
from evals.content import (
    FACT_THRESHOLD,
    AnswerWords,
    FactsStated,
    MultiPartAllCited,
    RepeatedSentences,
    UncitedClaims,
    answer_sentences,
)
from evals.metrics import AnswerSample

# Hand-checked: each fact was read against the answer and labelled stated (True) or not.
# The answers are written the way lenswise answers look (bullets, markers, a footer); the
# facts are written the way suite facts are (plain statements, other words).
TOKENS_ANSWER = """The lens covers this in **GENCOST03-BP02** (Control model response length).

- Cap how many tokens the model may write by setting the maximum length parameter on each request. [GENCOST03-BP02]
- When the caller only needs a decision, have the model answer with a short key such as True or False. [GENCOST03-BP02]
- Cache the parts of the prompt that repeat on every call so they are billed at a lower rate. [GENCOST03-BP03]
- Test the shorter responses to confirm they still meet the workload's needs. [GENCOST03-BP02]

_Source: Generative AI Lens, 2025-11 edition (builtin corpus)._"""  # noqa: E501
TOKENS_PAIRS = [
    ("Set a hard limit on response length with the maximum-tokens setting.", True),
    ("Ask the model for a minimal, keyed response format when full text is not needed.", True),
    ("Cached prompt sections are billed at a reduced rate.", True),
    ("Check that shorter answers still satisfy the workload requirements.", True),
    ("Shorten prompts to send fewer input tokens.", False),
    ("Choose the cheapest model that still meets the quality bar.", False),
    ("Use batch inference when answers are not needed in real time.", False),
    ("Put a guardrail on model responses.", False),
    ("Monitor cache hit and miss rates.", False),
    ("Limit prompt size and request rates.", False),
]
UNKNOWN_ANSWER = """GENREL07-BP02 is not a practice in the lens; its reliability questions end at GENREL06.
The closest match is GENREL03-BP01: sort failures into categories with a severity each, and retry with exponential backoff. [GENREL03-BP01]
Keep fallback prompt templates ready for when a prompt fails. [GENREL03-BP01]"""  # noqa: E501
UNKNOWN_PAIRS = [
    ("The lens has no practice with the id GENREL07-BP02.", True),
    ("The reliability practices only go up to GENREL06.", True),
    ("Classify the kinds of failure and give each a severity level.", True),
    ("Keep fallback prompt templates to use when a prompt fails.", True),
    ("Use circuit breakers and track how often recovery succeeds.", False),
    ("Set timeouts at both the function and the workflow level.", False),
    ("The lens has no practice GENSUS04-BP01.", False),
]

HOSTING_ANSWER = """The lens addresses this mainly in **GENPERF03-BP01** (Use managed solutions for model hosting, customization, and data access where appropriate).

**GENPERF03-BP01 · Use managed solutions** (Performance Efficiency, Medium risk)
- Prefer managed options that match the control you need: Amazon Bedrock for fully managed access, SageMaker AI endpoints when you need more control, and Amazon SageMaker HyperPod for long-running training. [GENPERF03-BP01]
- Decide how much control the team needs over hosting; use API-based models on Amazon Bedrock where full management is acceptable, and bring your own weights into Bedrock with Custom Model Import rather than maintaining the hosting yourself. [GENPERF03-BP01]
- With Slurm orchestration on HyperPod, use managed cluster provisioning and lifecycle configurations that set up the SageMaker AI distributed training libraries, and rely on the managed resiliency that detects and replaces failed hardware. [GENPERF03-BP01]"""  # noqa: E501
"""A real extractive answer of lenswise (built-in digest) to an everyday compare question."""
HOSTING_PAIRS = [
    ("Decide how much control your team needs over the hosting.", True),
    ("Use a fully managed API service like Bedrock when you need no control.", True),
    ("Use SageMaker AI endpoints for managed hosting with more control.", True),
    ("Run large model training on SageMaker HyperPod.", True),
    ("Turn on model invocation logging and send the logs to S3.", False),
    ("Load test the endpoint at configurable request rates.", False),
    ("Use spot instances with checkpoints to cut training cost.", False),
]


@pytest.fixture(scope="module")
def facts_metric() -> FactsStated:
    """The metric with the project's real default embedder (MiniLM, loaded once)."""
    from index.embeddings import load_embedder

    return FactsStated(load_embedder("all-MiniLM-L6-v2").encode)


def _case(**fields) -> AnswerCase:
    return AnswerCase(id=fields.pop("id", "c"), question=fields.pop("question", "q"), **fields)


def _sample(response: str, **fields) -> AnswerSample:
    return AnswerSample(user_input="q", response=response, **fields)


@pytest.mark.parametrize(
    ("answer", "pairs"),
    [
        (TOKENS_ANSWER, TOKENS_PAIRS),
        (UNKNOWN_ANSWER, UNKNOWN_PAIRS),
        (HOSTING_ANSWER, HOSTING_PAIRS),
    ],
)
def test_facts_stated_separates_hand_checked_pairs(facts_metric, answer, pairs):
    facts = [fact for fact, _ in pairs]
    scores = facts_metric.scores(facts, answer)
    stated = [s for s, (_, label) in zip(scores, pairs, strict=True) if label]
    absent = [s for s, (_, label) in zip(scores, pairs, strict=True) if not label]
    assert max(absent) < FACT_THRESHOLD  # never credits a fact the answer does not make
    assert sum(s >= FACT_THRESHOLD for s in stated) >= 0.75 * len(stated)
    assert sum(stated) / len(stated) > sum(absent) / len(absent) + 0.15


def test_facts_stated_is_the_share_and_all_missing_when_declined(facts_metric):
    stated = (TOKENS_PAIRS[0][0], TOKENS_PAIRS[2][0], TOKENS_PAIRS[3][0])
    facts = (*stated, "Put a guardrail on model responses.")
    case = _case(id="tokens", facts=facts)
    assert facts_metric(case, _sample(TOKENS_ANSWER)) == pytest.approx(0.75)
    assert facts_metric.found["tokens"] == ["Put a guardrail on model responses."]
    assert facts_metric(case, _sample(TOKENS_ANSWER, declined=True)) == 0.0
    assert facts_metric(_case(), _sample(TOKENS_ANSWER)) is None  # no facts to check


def test_a_fact_naming_an_id_needs_that_id(facts_metric):
    facts = ["The lens has no practice with the id GENREL07-BP02."]
    assert facts_metric.stated(facts, UNKNOWN_ANSWER) == [True]
    swapped = UNKNOWN_ANSWER.replace("GENREL07-BP02", "GENREL08-BP02")
    assert facts_metric.stated(facts, swapped) == [False]


def test_multi_part_all_cited_needs_every_expected_page():
    metric = MultiPartAllCited()
    case = _case(expected_citations=("GENSEC04-BP02", "GENSEC02-BP01"), tags=("multi",))
    assert metric(case, _sample("a", cited_ids=["GENSEC02-BP01", "GENSEC04-BP02"])) == 1.0
    assert metric(case, _sample("a", cited_ids=["GENSEC04-BP02", "GENSEC01-BP01"])) == 0.0
    plain_case = _case(expected_citations=("GENSEC04-BP02",), tags=("compare",))
    assert metric(plain_case, _sample("a", cited_ids=[])) is None


def test_repeated_sentences_within_the_answer_and_from_the_previous_turn():
    previous = "**GENCOST03-BP02 · Title**\n- Cap the response length. [GENCOST03-BP02]"
    answer = (
        "**GENCOST03-BP02 · Title**\n"  # the same heading again is layout, not a repeat
        "- cap the RESPONSE length [GENCOST03-BP02]\n"  # said in the previous turn
        "- Trim the prompt. [GENCOST03-BP01]\n"
        "- Trim the prompt! [GENCOST03-BP01]\n"  # said twice here
        "- Cache repeated prompt parts. [GENCOST03-BP03]"
    )
    metric = RepeatedSentences()
    assert metric(_case(), _sample(answer, previous_response=previous)) == 2.0
    assert metric.found["c"] == [
        "cap the RESPONSE length [GENCOST03-BP02]",
        "Trim the prompt! [GENCOST03-BP01]",
    ]
    assert metric(_case(), _sample(answer)) == 1.0
    assert metric(_case(), _sample("Cache it. Trim it.", previous_response=previous)) == 0.0


def test_uncited_claims_count_generated_statements_without_citation():
    answer = (
        "## Answer\n"
        "Screen user input with a guardrail [GENSEC04-BP02].\n"
        "Always use the largest model available for safety.\n"  # invented, uncited
        "There is no GENSEC04-BP05; the nearest practice is GENSEC04-BP02.\n"  # names ids
        "Rotate keys every day (unverified).\n"  # visibly marked
        "See the lens for details."  # uncited too
    )
    metric = UncitedClaims()
    assert metric(_case(), _sample(answer, model="bedrock_converse:m")) == 2.0
    assert metric.found["c"] == [
        "Always use the largest model available for safety.",
        "See the lens for details.",
    ]
    assert metric(_case(), _sample(answer, model="extractive")) is None
    assert metric(_case(), _sample(answer, model="bedrock_converse:m", declined=True)) is None


def test_answer_words_leave_out_markers_and_markdown():
    metric = AnswerWords()
    answer = "**Use** a guardrail [GENSEC02-BP01]. Test it. [GENSEC04-BP02, GENSEC02-BP01]"
    assert metric(_case(), _sample(answer)) == 5.0
    assert metric(_case(), _sample(answer, declined=True)) is None


def test_answer_sentences_drop_headings_labels_and_footnotes():
    assert answer_sentences(TOKENS_ANSWER) == [
        "The lens covers this in **GENCOST03-BP02** (Control model response length).",
        *[line[2:] for line in TOKENS_ANSWER.splitlines() if line.startswith("- ")],
    ]
