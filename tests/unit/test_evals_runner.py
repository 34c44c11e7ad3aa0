"""Runner and reports: a scripted assistant goes through every suite kind; report files appear."""

from __future__ import annotations

import json

import pytest

from agent.config import Settings
from evals.cases import Threshold
from evals.report import write_report
from evals.runner import SuiteResult, check_thresholds, run_suite
from evals.suites import load_suite
from tests.evals_fakes import FakeAssistant, FakeReview, answer, citation, hit, write_suite

RETRIEVAL = {
    "kind": "retrieval",
    "name": "tiny",
    "k": 5,
    "thresholds": {"recall@5": 0.9, "dense.mrr": 0.1, "bm25.mrr": 0.1},
    "cases": [
        {"id": "loop", "question": "agent loops", "expected": ["GENREL03-BP02", "GENCOST05-BP01"]},
        {"id": "inject", "question": "prompt injection", "expected": ["GENSEC04-BP02"]},
    ],
}
RANKINGS = {
    "hybrid": {
        "agent loops": ["GENREL03-BP02", "GENCOST05-BP01"],
        "prompt injection": ["scenario-x", "GENSEC04-BP02"],
    },
    "dense": {"agent loops": ["GENOPS01-BP01"], "prompt injection": ["GENSEC04-BP02"]},
    "bm25": {"agent loops": [], "prompt injection": []},
}


def _settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home")


@pytest.fixture
def retrieval_result(tmp_path) -> SuiteResult:
    suite = load_suite(write_suite(tmp_path, RETRIEVAL))
    return run_suite(suite, _settings(tmp_path), target=FakeAssistant(RANKINGS), progress=False)


def test_retrieval_run_scores_each_mode_and_pillar(retrieval_result):
    r = retrieval_result
    assert r.run["modes"] == ["bm25", "dense", "hybrid"]
    assert r.metrics["hybrid.recall@5"] == 1.0 and r.metrics["hybrid.mrr"] == 0.75
    assert r.metrics["dense.mrr"] == 0.5 and r.metrics["bm25.recall@10"] == 0.0
    assert r.curves["hybrid"]["1"] == pytest.approx((0.5 + 0) / 2)
    assert r.by_pillar["hybrid"] == {
        "Reliability": pytest.approx(
            {"recall@1": 0.5, "recall@3": 1, "recall@5": 1, "recall@10": 1, "mrr": 1, "ndcg@10": 1}
        ),
        "Security": pytest.approx(
            {
                "recall@1": 0,
                "recall@3": 1,
                "recall@5": 1,
                "recall@10": 1,
                "mrr": 0.5,
                "ndcg@10": 1 / 1.584962500721156,
            }
        ),
    }
    inject = next(c for c in r.cases if c["id"] == "inject")["modes"]["hybrid"]
    assert inject["retrieved"] == ["generative-ai/scenario-x", "GENSEC04-BP02"]
    assert inject["first_relevant_rank"] == 2
    assert [t["metric"] for t in r.thresholds] == ["hybrid.recall@5", "dense.mrr", "bm25.mrr"]
    assert [t["passed"] for t in r.thresholds] == [True, True, False]
    assert not r.passed and [f["metric"] for f in r.failures()] == ["bm25.mrr"]


def test_single_mode_leaves_other_mode_thresholds_unmeasured(tmp_path):
    suite = load_suite(write_suite(tmp_path, RETRIEVAL))
    fake = FakeAssistant(RANKINGS)
    r = run_suite(suite, _settings(tmp_path), modes=["hybrid"], target=fake, progress=False)
    assert {mode for _, mode, _ in fake.searches} == {"hybrid"}
    assert all(k == 5 for _, _, k in fake.searches[1:])  # the first call is the warm-up
    assert [t["passed"] for t in r.thresholds] == [True, None, None] and r.passed


def test_check_thresholds_maximum_rule():
    checks = check_thresholds(
        [Threshold("latency_p95_ms", maximum=100)], {"latency_p95_ms": 150.0}, None
    )
    assert checks == [
        {"metric": "latency_p95_ms", "rule": "<= 100", "value": 150.0, "passed": False}
    ]


def test_report_folder_has_markdown_json_and_charts(tmp_path, retrieval_result):
    out = tmp_path / "report"
    paths = write_report(retrieval_result, out)
    assert {p.name for p in paths} == {
        "results.json",
        "report.md",
        "recall_at_k.png",
        "pillars.png",
    }
    for png in ("recall_at_k.png", "pillars.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((out / "results.json").read_text())
    assert data["metrics"]["hybrid.mrr"] == 0.75 and data["passed"] is False
    assert data["cases"][0]["modes"]["hybrid"]["hits"][0]["bp_id"] == "GENREL03-BP02"
    assert SuiteResult.from_dict(data).metrics == retrieval_result.metrics
    md = (out / "report.md").read_text()
    assert "| recall@5 | 0.000 | 0.500 | 1.000 |" in md
    assert "| bm25.mrr | >= 0.1 | 0.000 | **FAIL** |" in md
    assert "Security (1)" in md and "![pillars](pillars.png)" in md


ANSWERS = {
    "kind": "answers",
    "thresholds": {"correct_declines": 1.0},
    "cases": [
        {
            "id": "inj",
            "question": "injection?",
            "expected_citations": ["GENSEC04-BP02"],
            "must_state": ["prompt injection", {"regex": "guardrails?"}],
            "must_not_state": ["pasta"],
        },
        {"id": "pasta", "question": "pasta?", "should_decline": True},
    ],
}


def test_answer_run_and_report(tmp_path):
    grounded = "Validate input to stop prompt injection before the model [GENSEC04-BP02]."
    answers = {
        "injection?": answer(
            grounded,
            citations=[citation("GENSEC04-BP02", quote="validate input")],
            hits=[
                hit(
                    "GENSEC04-BP02",
                    1,
                    "Validate input to stop prompt injection before it reaches the model.",
                ),
                hit(None, 2, "general", page="preamble"),
            ],
            usage={"input_tokens": 10, "output_tokens": 5},
            model="bedrock_converse:anthropic.claude-3-haiku-20240307-v1:0",
        ),
        "pasta?": answer("That is outside the Generative AI Lens.", declined=False),
    }
    suite = load_suite(write_suite(tmp_path, ANSWERS))
    r = run_suite(suite, _settings(tmp_path), target=FakeAssistant(answers=answers), progress=False)
    m = r.metrics
    assert (m["citation_validity"], m["citation_precision"], m["citation_recall"]) == (1, 1, 1)
    assert m["grounding_rate"] == 1.0 and m["must_state"] == 0.5 and m["must_not_state"] == 1.0
    assert m["correct_declines"] == 0.0 and m["answered_in_scope"] == 1.0
    assert (m["input_tokens"], m["output_tokens"]) == (10, 5)
    assert m["estimated_cost_usd"] > 0  # a priced Bedrock model
    assert not r.passed and r.failures()[0]["metric"] == "correct_declines"
    inj = r.cases[0]
    assert inj["missing_facts"] == ["/guardrails?/"] and inj["citations"] == ["GENSEC04-BP02"]
    paths = write_report(r, tmp_path / "out")
    assert {p.name for p in paths} >= {"report.md", "answers.png", "results.json"}
    assert "| inj | no |" in (tmp_path / "out" / "report.md").read_text()


def test_diagram_run_and_report(tmp_path):
    for name in ("a.yaml", "b.drawio"):
        (tmp_path / name).write_text("x")
    suite_path = write_suite(
        tmp_path,
        {
            "kind": "diagrams",
            "base_dir": ".",
            "cases": [
                {
                    "id": "a",
                    "file": "a.yaml",
                    "services": ["lambda", "bedrock"],
                    "gaps": ["GENSEC02-BP01"],
                },
                {"id": "b", "file": "b.drawio", "services": ["s3"], "addressed": ["GENOPS04-BP01"]},
            ],
        },
    )
    reviews = {
        "a.yaml": FakeReview(["lambda", "bedrock", "waf"], {"GENSEC02-BP01": "gap"}),
        "b.drawio": FakeReview(["s3"], {"GENOPS04-BP01": "unknown"}),
    }
    r = run_suite(
        load_suite(suite_path),
        _settings(tmp_path),
        target=FakeAssistant(reviews=reviews),
        progress=False,
    )
    assert r.metrics["service_recall"] == 1.0
    assert r.metrics["service_precision"] == pytest.approx((2 / 3 + 1) / 2)
    assert r.metrics["finding_recall"] == 0.5 and r.metrics["finding_precision"] == 1.0
    assert r.cases[0]["unexpected_services"] == ["waf"]
    write_report(r, tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    assert "GENOPS04-BP01: unknown (want addressed)" in md
    assert (tmp_path / "out" / "diagrams.png").is_file()


def test_answer_run_scores_content_with_the_targets_embedder(tmp_path):
    """Facts go through the target's own embedder; follow-ups see the previous answer."""
    from types import SimpleNamespace

    from tests.helpers import HashEmbedder

    suite = load_suite(
        write_suite(
            tmp_path,
            {
                "kind": "answers",
                "thresholds": {"facts_stated": 0.7, "repeated_sentences": {"max": 0}},
                "cases": [
                    {
                        "id": "fu",
                        "previous": ["guardrails?"],
                        "question": "and tokens?",
                        "expected_citations": ["GENCOST03-BP02", "GENCOST03-BP01"],
                        "facts": [
                            "Cap the response length with max tokens.",
                            "Shorten the prompt template.",
                        ],
                        "tags": ["multi"],
                    }
                ],
            },
        )
    )
    first = "Screen answers with a guardrail. [GENSEC02-BP01]"
    second = f"{first}\nCap the response length with max tokens. [GENCOST03-BP02]"
    fake = FakeAssistant(
        answers={
            "guardrails?": answer(first, citations=[citation("GENSEC02-BP01")]),
            "and tokens?": answer(second, citations=[citation("GENCOST03-BP02")]),
        }
    )
    fake.index = SimpleNamespace(embedder=HashEmbedder())
    r = run_suite(suite, _settings(tmp_path), target=fake, progress=False)
    assert r.metrics["facts_stated"] == 0.5 and r.metrics["multi_part_all_cited"] == 0.0
    assert r.metrics["repeated_sentences"] == 1.0 and r.metrics["answer_words"] == 12.0
    details = r.cases[0]["details"]
    assert details["facts_stated"] == ["Shorten the prompt template."]
    assert details["repeated_sentences"] == ["Screen answers with a guardrail."]
    assert [t["passed"] for t in r.thresholds] == [False, False]
    write_report(r, tmp_path / "out")
    report = (tmp_path / "out" / "report.md").read_text()
    assert "facts_stated" in report and "unstated: Shorten the prompt template." in report
    assert "repeated: Screen answers with a guardrail." in report
