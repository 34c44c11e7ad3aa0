"""Turn the feedback users gave in the UI into an answers eval suite (learn from real use).

A liked answer becomes a case expecting the pages it cited; a disliked one becomes a case
to review, with the user's comment, and no expectations until someone writes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from agent.threads import Feedback


def suite_yaml(feedback: Iterable[Feedback]) -> str:
    """Return ``feedback`` as an answers suite (YAML) that ``lenswise eval run`` reads."""
    cases = []
    for fb in feedback:
        case: dict[str, Any] = {"id": f"feedback-{fb.thread_id}-{fb.turn}", "question": fb.question}
        if fb.score > 0:
            case["expected_citations"] = fb.cited
        else:
            case["note"] = "answer marked unhelpful" + (f": {fb.comment}" if fb.comment else "")
            case["must_not_state"] = []
        if fb.comment:
            case["comment"] = fb.comment
        cases.append(case)
    return yaml.safe_dump(
        {"suite": "feedback", "kind": "answers", "cases": cases},
        sort_keys=False,
        allow_unicode=True,
    )
