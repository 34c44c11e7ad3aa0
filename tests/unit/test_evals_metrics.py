"""Metric values on tiny cases computed by hand (they fail if the metric code is wrong)."""

from __future__ import annotations

import math

import pytest

from evals.cases import AnswerCase, DiagramCase, Fact, RetrievalCase
from evals.metrics import (
    AnnotationRecall,
    AnsweredInScope,
    AnswerSample,
    CitationPrecision,
    CitationRecall,
    CitationValidity,
    CorrectDecline,
    FindingPrecision,
    FindingRecall,
    GroundingRate,
    MustNotState,
    MustState,
    ReviewSample,
    ServicePrecision,
    ServiceRecall,
    answer_totals,
    cited_sentences,
    means,
    means_by,
    percentile,
    retrieval_scores,
    run_for,
)


def _case(cid: str, *expected: str, pillar: str = "Security") -> RetrievalCase:
    return RetrievalCase(cid, f"question {cid}", tuple(expected), pillar)


def test_retrieval_scores_match_hand_computed_values():
    cases = [
        _case("a", "GENSEC01-BP01", "GENSEC01-BP02"),
        _case("b", "GENREL03-BP02", pillar="Reliability"),
        _case("c", "GENCOST05-BP01", pillar="Cost Optimization"),
    ]
    rankings = {
        # primary at 1, secondary at 3: recall@1 = 1/2, recall@3 = 1, MRR 1,
        # nDCG = (2/log2 2 + 1/log2 4) / (2/log2 2 + 1/log2 3)
        "a": ["GENSEC01-BP01", "page-x", "GENSEC01-BP02"],
        # only relevant at rank 3: MRR 1/3, nDCG = (1/log2 4) / 1 = 0.5
        "b": ["GENOPS01-BP01", "GENOPS01-BP02", "GENREL03-BP02"],
        "c": [],  # nothing retrieved: every metric 0
    }
    scores = retrieval_scores(cases, rankings, ["recall@1", "recall@3", "mrr", "ndcg@10"])
    ndcg_a = (2 + 1 / math.log2(4)) / (2 + 1 / math.log2(3))
    assert scores["a"] == pytest.approx(
        {"recall@1": 0.5, "recall@3": 1.0, "mrr": 1.0, "ndcg@10": ndcg_a}
    )
    assert scores["b"] == pytest.approx(
        {"recall@1": 0.0, "recall@3": 1.0, "mrr": 1 / 3, "ndcg@10": 0.5}
    )
    assert scores["c"] == {"recall@1": 0.0, "recall@3": 0.0, "mrr": 0.0, "ndcg@10": 0.0}
    assert means(scores)["mrr"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    by = means_by(scores, {"a": "Security", "b": "Reliability", "c": None}.get)
    assert list(by) == ["Reliability", "Security"]
    assert by["Security"]["recall@1"] == 0.5 and by["Reliability"]["mrr"] == pytest.approx(1 / 3)


def test_run_keeps_rank_order_and_first_occurrence_of_duplicates():
    run = run_for({"q": ["x", "y", "x", "z"], "empty": []})
    assert sorted(run["q"], key=run["q"].get, reverse=True) == ["x", "y", "z"]
    assert run["q"]["x"] > run["q"]["y"] > run["q"]["z"]
    assert run["empty"] == {"__no_results__": 0.0}


def test_percentile_interpolates():
    assert percentile([40, 10, 30, 20], 50) == 25
    assert percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)
    assert percentile([7], 95) == 7 and percentile([], 50) is None


def _sample(response: str = "", cited=(), retrieved=(), contexts=None, **kw) -> AnswerSample:
    return AnswerSample("q", response, list(cited), list(retrieved), contexts or {}, **kw)


def test_citation_metrics():
    case = AnswerCase("c", "q", expected_citations=("GENSEC04-BP02", "GENSEC02-BP01"))
    sample = _sample(
        cited=["GENSEC04-BP02", "GENOPS01-BP01", "GENXXX09-BP09"],
        retrieved=["GENSEC04-BP02", "GENOPS01-BP01", "GENXXX09-BP09"],
    )
    validity = CitationValidity(frozenset({"GENSEC04-BP02", "GENOPS01-BP01", "GENSEC02-BP01"}))
    assert validity(case, sample) == pytest.approx(2 / 3)  # GENXXX09-BP09 does not exist
    not_retrieved = _sample(cited=["GENSEC04-BP02", "GENSEC02-BP01"], retrieved=["GENSEC04-BP02"])
    assert CitationValidity()(case, not_retrieved) == 0.5
    assert CitationPrecision()(case, sample) == pytest.approx(1 / 3)
    assert CitationRecall()(case, sample) == 0.5
    assert CitationRecall()(case, _sample()) == 0.0
    assert CitationPrecision()(case, _sample()) is None  # nothing cited: precision undefined
    assert CitationValidity()(case, _sample()) is None


def test_grounding_rate_counts_supported_cited_sentences():
    response = (
        "**GENSEC02-BP01 Implement guardrails** (Security, High risk)\n"
        "Put a guardrail between the model and users to filter harmful output. [GENSEC02-BP01]\n"
        "Quantum llamas negotiate interplanetary tariffs [GENSEC04-BP02]. "
        "This sentence cites nothing."
    )
    contexts = {
        "GENSEC02-BP01": "A guardrail sits between model and users; it can filter harmful output.",
        "GENSEC04-BP02": "Inspect user input for prompt injection before the model sees it.",
    }
    sentences = cited_sentences(response)
    assert [ids for _, ids in sentences] == [["GENSEC02-BP01"], ["GENSEC04-BP02"]]
    assert (
        GroundingRate()(
            AnswerCase("c", "q", must_state=(Fact("x"),)), _sample(response, contexts=contexts)
        )
        == 0.5
    )
    assert GroundingRate()(AnswerCase("c", "q", must_state=(Fact("x"),)), _sample("no ids")) is None


def test_fact_and_decline_evaluators():
    case = AnswerCase(
        "c",
        "q",
        must_state=(Fact("Guardrail"), Fact(r"least[- ]privilege", is_regex=True), Fact("cache")),
        must_not_state=(Fact("24 hours"), Fact("pasta")),
    )
    sample = _sample("Use GUARDRAILS and least-privilege roles; a 24 hours TTL is wrong.")
    assert MustState()(case, sample) == pytest.approx(2 / 3)
    assert MustNotState()(case, sample) == 0.5
    decline_case = AnswerCase("d", "pasta?", should_decline=True)
    assert CorrectDecline()(decline_case, _sample(declined=True)) == 1.0
    assert CorrectDecline()(decline_case, _sample(declined=False)) == 0.0
    assert CorrectDecline()(decline_case, _sample(cited=["GENSEC04-BP02"], declined=True)) == 0
    assert CorrectDecline()(case, _sample()) is None
    assert AnsweredInScope()(case, _sample(declined=True)) == 0.0
    assert AnsweredInScope()(decline_case, _sample()) is None


def test_answer_totals_latency_tokens_and_cost():
    samples = [
        _sample(latency_ms=100, usage={"input_tokens": 1000, "output_tokens": 100}, model="m"),
        _sample(latency_ms=300, usage={"input_tokens": 500, "output_tokens": 50}, model="m"),
    ]
    totals = answer_totals(samples, lambda model, usage: usage["input_tokens"] / 1e6)
    assert totals["latency_p50_ms"] == 200 and totals["latency_p95_ms"] == pytest.approx(290)
    assert (totals["input_tokens"], totals["output_tokens"]) == (1500, 150)
    assert totals["estimated_cost_usd"] == pytest.approx(0.0015)
    assert answer_totals(samples[:1], lambda m, u: None)["estimated_cost_usd"] is None


def test_review_metrics_with_optional_services_and_not_addressed():
    case = DiagramCase(
        "d",
        "f.yaml",
        path=None,  # type: ignore[arg-type]
        services=("bedrock", "lambda", "api-gateway"),
        optional_services=("iam",),
        addressed=("GENOPS04-BP01",),
        gaps=("GENSEC01-BP01", "GENSEC02-BP01"),
        not_addressed=("GENSEC01-BP04",),
    )
    sample = ReviewSample(
        services={"bedrock", "lambda", "iam", "s3"},
        statuses={
            "GENOPS04-BP01": "addressed",  # right
            "GENSEC01-BP01": "gap",  # right
            "GENSEC02-BP01": "unknown",  # no claim: missed for recall, ignored for precision
            "GENSEC01-BP04": "addressed",  # wrong: must not be addressed
            "GENREL01-BP01": "gap",  # not judged by this case
        },
    )
    assert ServiceRecall()(case, sample) == pytest.approx(2 / 3)
    assert ServicePrecision()(case, sample) == pytest.approx(2 / 3)  # iam optional, s3 not
    assert FindingRecall()(case, sample) == pytest.approx(2 / 3)
    assert FindingPrecision()(case, sample) == pytest.approx(2 / 3)
    gap_ok = ReviewSample(set(), {"GENSEC01-BP04": "gap"})
    assert FindingPrecision()(case, gap_ok) == 1.0
    assert FindingPrecision()(case, ReviewSample(set(), {})) is None
    assert ServicePrecision()(case, ReviewSample(set(), {})) is None


def test_annotation_recall_needs_the_text_noted_and_not_drawn():
    case = DiagramCase(
        "d",
        "f.drawio",
        path=None,  # type: ignore[arg-type]
        services=(),
        annotations=("Data flow", "1", "Owner: team"),
    )
    sample = ReviewSample(
        set(),
        {},
        component_labels={"1", "amazon bedrock"},  # the badge "1" is still drawn as a box
        annotations={"data flow", "1", "owner: team a"},
    )
    assert AnnotationRecall()(case, sample) == pytest.approx(2 / 3)
    assert AnnotationRecall()(case, ReviewSample(set(), {})) == 0.0
    no_texts = DiagramCase("d", "f", path=None, services=("s3",))  # type: ignore[arg-type]
    assert AnnotationRecall()(no_texts, sample) is None
