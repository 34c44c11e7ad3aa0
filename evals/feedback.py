"""Turn the feedback users gave in the UI into an answers eval suite (learn from real use).

A liked answer becomes a case expecting the pages it cited (or, when it cited none, a decline).
A disliked answer becomes a case that the same answer must not come back (``disliked_answer``,
scored by the ``not_repeated`` metric) until someone writes sharper expectations. A follow-up
keeps its thread's earlier questions (``previous``), asked first in a fresh thread. The user's
comment goes in the case's ``note``, which the runner never reads.
"""

from __future__ import annotations

from typing import Any, Protocol

import yaml

from agent.threads import Feedback


class FeedbackSource(Protocol):
    """Where feedback lives: ``LensAssistant.conversations``."""

    def all_feedback(self) -> list[Feedback]:
        """Return every stored feedback record, oldest first."""
        ...

    def transcript(self, thread: str) -> list[Any]:
        """Return the answered turns of ``thread`` in order (each with a ``question``)."""
        ...


def feedback_case(fb: Feedback, previous: list[str]) -> dict[str, Any]:
    """Return the suite case of one feedback record, ``previous`` being the earlier questions."""
    case: dict[str, Any] = {"id": f"feedback-{fb.thread_id}-{fb.turn}", "question": fb.question}
    if previous:
        case["previous"] = previous
    if fb.score > 0 and fb.cited:
        case["expected_citations"] = list(fb.cited)
    elif fb.score > 0:
        case["should_decline"] = True
    else:
        case["disliked_answer"] = fb.answer
    verdict = "liked" if fb.score > 0 else "disliked"
    case["note"] = f"answer {verdict} in the UI" + (f": {fb.comment}" if fb.comment else "")
    return case


def suite_yaml(source: FeedbackSource) -> str:
    """Return the stored feedback as an answers suite (YAML) that ``lenswise eval run`` reads."""
    cases = []
    for fb in source.all_feedback():
        turns = source.transcript(fb.thread_id)[: fb.turn]
        cases.append(feedback_case(fb, [t.question for t in turns]))
    return yaml.safe_dump(
        {
            "name": "feedback",
            "kind": "answers",
            "description": "Cases from thumbs up and down in the lenswise UI",
            "cases": cases,
        },
        sort_keys=False,
        allow_unicode=True,
    )
