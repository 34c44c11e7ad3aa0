"""Decide what a turn is: lens question, follow-up, id lookup, diagram review, or out of scope.

The decision is deterministic (no model call), so both the extractive mode and a tool-calling
model get the same routing, and an out-of-scope question never costs a model call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.text import stems

# Words that place a question inside the lens's domain even when retrieval scores are modest.
DOMAIN_STEMS = frozenset(
    stems(
        "generative genai ai ml llm llms model models foundation prompt prompts prompting agent "
        "agents agentic rag retrieval embedding embeddings vector vectors guardrail guardrails "
        "bedrock sagemaker hyperpod token tokens inference finetuning finetune customization "
        "hallucination hallucinations chatbot copilot assistant knowledge workload pillar "
        "throughput latency quota endpoint evaluation observability injection responsible "
        "fairness bias toxicity kendra opensearch architecture diagram training pretraining "
        "gpu gpus accelerator accelerators trainium inferentia temperature top_p top_k "
        "notebook notebooks answer answers response responses tenant tenants summarization "
        "transcription translation conversation conversational"
    )
)
FOLLOW_UP_START = re.compile(
    r"^\s*(and|also|what about|how about|same for|what if|then|ok|okay|so)\b", re.I
)
REFERS_BACK = re.compile(r"\b(it|this|that|these|those|them|the same|above|previous)\b", re.I)
BROAD = re.compile(
    r"\b(all (the )?pillars|every pillar|overall|end[- ]to[- ]end|checklist|what should (i|we) "
    r"consider|where do (i|we) start|best practices for|review (my|our|this))\b",
    re.I,
)
INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\b[^.?!\n]{0,40}\b(instruction|instructions|rules|"
    r"prompt|above|previous|system)\b[^.?!\n]*[.?!]?"
    r"|\b(you are now|act as|pretend to be|new instructions?:)[^.?!\n]*[.?!]?",
    re.I,
)
PILLAR_WORDS = {
    "Cost Optimization": ("cost", "price", "pricing", "cheaper", "spend", "budget", "bill"),
    "Security": ("security", "secure", "attack", "threat", "permission", "access", "encrypt"),
    "Reliability": ("reliability", "reliable", "failover", "outage", "resilien", "availability"),
    "Performance Efficiency": ("performance", "latency", "throughput", "fast", "slow", "speed"),
    "Sustainability": ("sustainab", "carbon", "energy", "footprint", "green"),
    "Operational Excellence": ("operation", "operational", "monitor", "observab", "deploy", "ops"),
}
IN_SCOPE_SCORE = 0.45
"""Dense cosine above which a question is in scope whatever its words."""
DOMAIN_SCORE = 0.15
"""Dense cosine above which a question with domain words is in scope."""


@dataclass(frozen=True)
class Route:
    """The routing decision for one turn."""

    kind: str
    """``lens``, ``followup``, ``lookup``, ``diagram`` or ``out_of_scope``."""
    queries: list[str]
    """Retrieval queries to run (with pillar filters where useful)."""
    pillars: list[str | None]
    """Pillar filter for each query (None = all pillars)."""
    ids: list[str]
    """Practice / question ids named in the question."""
    injection: bool = False
    """True when instruction-like text was found and left out of the queries."""


def strip_injection(question: str) -> tuple[str, bool]:
    """Remove instruction-like phrases aimed at the assistant; say whether any were found."""
    cleaned = INJECTION.sub(" ", question)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    return (cleaned or question), cleaned != re.sub(r"\s+", " ", question).strip()


def mentioned_pillar(question: str) -> str | None:
    """Return the single pillar a question explicitly talks about, if exactly one."""
    lowered = question.lower()
    hits = [p for p, words in PILLAR_WORDS.items() if any(w in lowered for w in words)]
    return hits[0] if len(hits) == 1 else None


def is_follow_up(question: str, previous: str | None) -> bool:
    """Return True when ``question`` leans on the previous turn.

    Either it opens like a continuation ("what about cost?", "and for agents?") or it is short
    and points back ("how do I test that?"); a full question that merely contains "it" is not.
    """
    words = len(question.split())
    if not previous:
        return False
    if FOLLOW_UP_START.search(question):
        return words <= 12
    return words <= 6 and bool(REFERS_BACK.search(question))


def in_scope(question: str, best_dense_score: float) -> bool:
    """Return True when the question is about the lens's domain."""
    if best_dense_score >= IN_SCOPE_SCORE:
        return True
    return best_dense_score >= DOMAIN_SCORE and bool(DOMAIN_STEMS & set(stems(question)))


def plan_queries(question: str, previous: str | None, follow_up: bool) -> tuple[list[str], list]:
    """Return retrieval queries and their pillar filters for a question."""
    if follow_up and previous:
        pillar = mentioned_pillar(question)
        combined = f"{question} {previous}"
        return [combined, question], [pillar, pillar]
    queries: list[str] = [question]
    pillars: list[str | None] = [None]
    if BROAD.search(question):
        for pillar in PILLAR_WORDS:
            queries.append(question)
            pillars.append(pillar)
    return queries, pillars
