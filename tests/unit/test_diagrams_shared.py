"""The real public diagrams in ../shared/diagrams: services, pages, a full review of each."""

from __future__ import annotations

import pytest

from corpus.loaders.builtin import digest_practices
from diagrams import parse_file, render_markdown, review_architecture
from evals.bench_diagrams import expected_services, score
from tests.samples import SHARED_DIAGRAMS

pytestmark = pytest.mark.skipif(not SHARED_DIAGRAMS.is_dir(), reason="../shared/diagrams absent")

EXPECTED = expected_services(SHARED_DIAGRAMS) if SHARED_DIAGRAMS.is_dir() else {}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_file_services_match_sources(name):
    arch = parse_file(SHARED_DIAGRAMS / name)
    precision, recall = score(set(arch.services), EXPECTED[name])
    assert recall >= 0.85, (name, sorted(EXPECTED[name] - set(arch.services)))
    assert precision >= 0.7, (name, sorted(set(arch.services) - EXPECTED[name]))
    review = review_architecture(arch, digest_practices())
    assert review.coverage["total"] == 51
    assert render_markdown(review).startswith("# Generative AI Lens review")


def test_large_ten_page_file_parses_every_page():
    """Its parse time is a `lenswise bench` row; a wall-clock bound here fails on a busy machine."""
    path = (
        SHARED_DIAGRAMS
        / "awslabs_generative-ai-cdk-constructs__docs_generative_ai_cdk_constructs.drawio"
    )
    if not path.exists():
        pytest.skip("10-page file absent")
    arch = parse_file(path)
    assert len(arch.pages) == 10


def test_known_evidence_in_real_files():
    qna = parse_file(SHARED_DIAGRAMS / "aws-solutions_qnabot-on-aws__source_docs_architecture.xml")
    review = review_architecture(qna, digest_practices())
    guard = next(f for f in review.findings if f.bp_id == "GENSEC02-BP01")
    assert guard.status == "addressed"  # "LLM and Guardrails" on the Bedrock icon
    summary = parse_file(
        SHARED_DIAGRAMS / "aws-samples_amazon-bedrock-architectures__Architectures_"
        "Summarization_Summarization_API_template.yaml"
    )
    review = review_architecture(summary, digest_practices())
    statuses = {f.bp_id: f.status for f in review.findings}
    assert statuses["GENSEC01-BP01"] == "gap"  # no authorizer, bedrock on any resource
    assert statuses["GENSEC02-BP01"] == "gap"
