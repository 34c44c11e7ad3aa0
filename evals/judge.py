"""Optional LLM judge for answer suites: faithfulness and relevance scored by a chat model.

``lenswise eval run answers --judge bedrock_converse:<model-id>`` adds two evaluators:
``judge_faithfulness`` (are the answer's claims supported by the passages it was built
from?) and ``judge_relevance`` (does it address the question?). The judge rates 1-5 and
replies in JSON; scores are mapped to 0-1. Declined answers are not judged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from agent.config import Settings
from corpus.errors import InputError
from evals.cases import AnswerCase
from evals.metrics import AnswerSample

MAX_CONTEXT_CHARS = 12_000

FAITHFULNESS_SYSTEM = """You grade answers produced by a retrieval-augmented assistant.
Given source passages and an answer, rate how well the answer's factual claims are supported
by the passages alone (not by your own knowledge):
5 every claim is supported; 4 nearly all; 3 about half; 2 few; 1 none or contradicted.
Reply with JSON only: {"score": <1-5>, "reason": "<one sentence>"}"""

RELEVANCE_SYSTEM = """You grade answers produced by an assistant for cloud architects.
Given a question and an answer, rate how directly and completely the answer addresses the
question: 5 fully; 4 mostly; 3 partly; 2 barely; 1 not at all.
Reply with JSON only: {"score": <1-5>, "reason": "<one sentence>"}"""


@dataclass
class Verdict:
    """One judgement: a 0-1 score (None when the reply could not be read) and the reason."""

    score: float | None
    reason: str


def parse_verdict(text: str) -> Verdict:
    """Read ``{"score": 1-5, "reason": ...}`` from the judge's reply (tolerating extra text)."""
    match = re.search(r"\{.*\}", text or "", re.S)
    try:
        data = json.loads(match.group(0)) if match else {}
        raw = float(data["score"])
    except (KeyError, ValueError, TypeError, json.JSONDecodeError):
        return Verdict(None, f"unreadable judge reply: {(text or '')[:120]!r}")
    raw = min(max(raw, 1.0), 5.0)
    return Verdict((raw - 1) / 4, str(data.get("reason", "")))


@dataclass
class LLMJudge:
    """Asks a LangChain chat model for verdicts and keeps its token usage."""

    model: Any
    model_name: str = ""
    usage: dict[str, int] = field(default_factory=lambda: {"input_tokens": 0, "output_tokens": 0})

    def _ask(self, system: str, prompt: str) -> Verdict:
        from langchain_core.messages import HumanMessage, SystemMessage

        from agent.models import describe_model_error, usage_from

        try:
            reply = self.model.invoke([SystemMessage(system), HumanMessage(prompt)])
        except Exception as exc:  # a judge failure is reported, the run goes on
            return Verdict(None, f"judge error: {describe_model_error(exc, self.model_name)}")
        for key, value in usage_from(reply).items():
            if key in self.usage:
                self.usage[key] += value
        return parse_verdict(reply.text if hasattr(reply, "text") else str(reply.content))

    def faithfulness(self, sample: AnswerSample) -> Verdict:
        """Judge whether ``sample.response`` is supported by its retrieved passages."""
        passages = "\n\n".join(
            f"[{bp}] {text.strip()}" for bp, text in sample.retrieved_contexts.items()
        )[:MAX_CONTEXT_CHARS]
        prompt = f"Passages:\n{passages or '(none)'}\n\nAnswer:\n{sample.response}"
        return self._ask(FAITHFULNESS_SYSTEM, prompt)

    def relevance(self, sample: AnswerSample) -> Verdict:
        """Judge whether ``sample.response`` addresses ``sample.user_input``."""
        prompt = f"Question:\n{sample.user_input}\n\nAnswer:\n{sample.response}"
        return self._ask(RELEVANCE_SYSTEM, prompt)


@dataclass
class JudgeFaithfulness:
    """LLM-judged support of the answer by its passages (0-1)."""

    judge: LLMJudge
    name: str = "judge_faithfulness"
    reasons: dict[str, str] = field(default_factory=dict)

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if sample.declined or not sample.response.strip():
            return None
        verdict = self.judge.faithfulness(sample)
        self.reasons[case.id] = verdict.reason
        return verdict.score


@dataclass
class JudgeRelevance:
    """LLM-judged relevance of the answer to the question (0-1)."""

    judge: LLMJudge
    name: str = "judge_relevance"
    reasons: dict[str, str] = field(default_factory=dict)

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if sample.declined or not sample.response.strip():
            return None
        verdict = self.judge.relevance(sample)
        self.reasons[case.id] = verdict.reason
        return verdict.score


def load_judge(spec: str, settings: Settings, **options: Any) -> LLMJudge:
    """Build the judge for a chat model spec such as ``bedrock_converse:<model-id>``.

    Args:
        spec: chat model spec (not ``extractive``).
        settings: region and timeouts.
        **options: passed to ``agent.models.load_chat_model`` (``max_attempts``...).
    """
    if not spec or spec == "extractive":
        raise InputError("--judge needs a chat model, e.g. bedrock_converse:<model-id>")
    from agent.models import load_chat_model

    options = {"temperature": 0.0, "max_tokens": 200, **options}
    return LLMJudge(load_chat_model(spec, settings, **options), spec)


def judge_evaluators(judge: LLMJudge) -> list:
    """Return the judge's evaluators, to add to the standard answer evaluators."""
    return [JudgeFaithfulness(judge), JudgeRelevance(judge)]
