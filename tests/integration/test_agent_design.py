"""Design-aware answers: the thread keeps its reviewed design, gaps come in fix order, and the
guidance picked fits the design's services."""

from __future__ import annotations

import re

import pytest

from agent.design import fix_order
from corpus.vocabulary import risk_rank
from diagrams.model import Architecture, Component, Edge
from diagrams.review import Finding

SERVERLESS = """flowchart LR
  U[Users] --> G[Amazon API Gateway]
  G --> L[AWS Lambda]
  L --> B[Amazon Bedrock]
  L --> D[Amazon DynamoDB]
"""
HYPERPOD = """flowchart LR
  S[Data scientists] --> H[Amazon SageMaker HyperPod cluster]
  H --> S3[Amazon S3 training data]
  H --> B[Amazon Bedrock]
"""


def _gap(bp_id: str, risk: str, evidence: list[str]) -> Finding:
    return Finding(bp_id, bp_id, "Security", risk, "gap", evidence)


def test_gaps_are_fixed_highest_risk_first_then_widest_reach():
    arch = Architecture(
        "x.mmd",
        "mermaid",
        components=[Component(c, c) for c in "abcde"],
        edges=[Edge("a", "b"), Edge("a", "c"), Edge("a", "d"), Edge("e", "d")],
    )
    findings = [
        _gap("GENCOST01-BP01", "Medium", ["a"]),
        _gap("GENSEC01-BP01", "High", ["e"]),
        _gap("GENSEC04-BP02", "High", ["a"]),
        Finding("GENOPS01-BP01", "t", "Operational Excellence", "High", "addressed", ["a"]),
    ]
    order = [(f.bp_id, reach) for f, reach in fix_order(findings, arch)]
    assert order == [("GENSEC04-BP02", 4), ("GENSEC01-BP01", 2), ("GENCOST01-BP01", 4)]
    assert [risk_rank(r) for r in ("High", "Medium", "Low", None)] == [0, 1, 2, 3]


@pytest.fixture
def design(tmp_path):
    path = tmp_path / "serverless.mmd"
    path.write_text(SERVERLESS)
    return path


def test_the_thread_keeps_the_design_and_answers_what_first_in_order(real_lens, design):
    first = real_lens.ask("Is our use of Bedrock secure enough?", thread_id="d", diagram=design)
    assert first.text.startswith("**Your design** (mermaid, 5 components")
    follow = real_lens.ask("What should we fix first?", thread_id="d")
    assert follow.routing["intent"] == "prioritize" and not follow.warnings
    numbered = re.findall(
        r"^(\d+)\. \*\*(\S+) · .*?\((High|Medium|Low) risk; reaches (\d+)", follow.text, re.M
    )
    assert len(numbered) >= 2 and [int(n) for n, *_ in numbered] == list(
        range(1, len(numbered) + 1)
    )
    keys = [(risk_rank(risk), -int(reach)) for _, _, risk, reach in numbered]
    assert keys == sorted(keys)
    cited = [c.bp_id for c in follow.citations]
    assert cited == [bp for _, bp, _, _ in numbered if bp in cited] and len(cited) == len(numbered)
    real_lens.conversations.detach_design("d")
    plain = real_lens.ask("How do I log model invocations?", thread_id="d")
    assert "Your design" not in plain.text and plain.routing["intent"] is None


def test_strengths_name_what_the_design_already_shows(real_lens, tmp_path):
    path = tmp_path / "guarded.mmd"
    path.write_text(SERVERLESS + "  L --> GR[Amazon Bedrock Guardrails]\n  GR --> B\n")
    answer = real_lens.ask("What are we already doing right here?", diagram=path)
    assert answer.routing["intent"] == "strengths"
    shown, _, rest = answer.text.partition("**Already in place**")[2].partition("**Next to add**")
    assert "GENSEC02-BP01" in shown and "GENSEC02-BP01" not in rest
    assert rest.count("risk; found on:") <= 1  # the one gap to add next, not the whole list
    assert "GENSEC02-BP01" in [c.bp_id for c in answer.citations]


def test_guidance_fits_the_design_services(real_lens, design, tmp_path):
    question = (
        "Is parameter-efficient fine-tuning like LoRA better for energy use than full tuning?"
    )
    serverless = real_lens.ask(question, diagram=design)
    assert serverless.citations and "HyperPod" not in serverless.text
    cluster = tmp_path / "cluster.mmd"
    cluster.write_text(HYPERPOD)
    training = real_lens.ask(question, diagram=cluster)
    assert "HyperPod" in training.text.split("The lens addresses", 1)[-1]
