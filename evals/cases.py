"""The typed records of an eval suite: cases of each kind, thresholds and the loaded suite.

:mod:`evals.suite_schema` validates a suite file into these; the runner, the metrics and the
judge read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

KINDS = ("retrieval", "answers", "diagrams")
MODES = ("bm25", "dense", "hybrid")


@dataclass(frozen=True)
class Threshold:
    """A suite-level gate on one metric: ``value >= minimum`` and/or ``value <= maximum``."""

    metric: str
    minimum: float | None = None
    maximum: float | None = None

    def passes(self, value: float) -> bool:
        """Return True when ``value`` is inside the allowed range."""
        if self.minimum is not None and value < self.minimum:
            return False
        return self.maximum is None or value <= self.maximum

    def describe(self) -> str:
        """Return the rule as text, e.g. ``>= 0.6``."""
        parts = []
        if self.minimum is not None:
            parts.append(f">= {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"<= {self.maximum:g}")
        return " and ".join(parts)


@dataclass(frozen=True)
class Fact:
    """Something an answer must (or must not) state: a substring or a regex, case-insensitive."""

    text: str
    is_regex: bool = False

    def pattern(self) -> re.Pattern[str]:
        """Return the compiled, case-insensitive pattern."""
        return re.compile(self.text if self.is_regex else re.escape(self.text), re.I)

    def found_in(self, response: str) -> bool:
        """Return True when the fact appears in ``response``."""
        return bool(self.pattern().search(response or ""))

    def __str__(self) -> str:
        return f"/{self.text}/" if self.is_regex else self.text


@dataclass(frozen=True)
class RetrievalCase:
    """A question and the best practices that answer it, best first."""

    id: str
    question: str
    expected: tuple[str, ...]
    pillar: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnswerCase:
    """A question, what a good answer cites and states, or that it must be declined."""

    id: str
    question: str
    expected_citations: tuple[str, ...] = ()
    must_state: tuple[Fact, ...] = ()
    must_not_state: tuple[Fact, ...] = ()
    should_decline: bool = False
    pillar: str | None = None
    lead: tuple[str, ...] = ()
    """Acceptable first-named pages (default: the first expected citation)."""
    previous: tuple[str, ...] = ()
    """Earlier questions of the same thread, asked first (follow-up cases)."""
    diagram: Path | None = None
    """A design attached to the question."""
    tags: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    """Statements a correct answer makes, in plain words (scored by meaning: ``facts_stated``)."""
    model_turns: tuple[dict[str, Any], ...] = ()
    """What the scripted model writes for this question, in order (``scripted_model`` suites):
    ``{"tool": name, "args": {...}}`` or ``{"text": ...}``."""
    disliked_answer: str | None = None
    """An answer a user marked unhelpful, which must not come back (feedback cases)."""

    @property
    def leads(self) -> tuple[str, ...]:
        """The pages an answer may name first."""
        return self.lead or self.expected_citations[:1]


@dataclass(frozen=True)
class DiagramCase:
    """A diagram or IaC file and what a lens review of it should find."""

    id: str
    file: str
    path: Path
    services: tuple[str, ...]
    optional_services: tuple[str, ...] = ()
    addressed: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()
    not_addressed: tuple[str, ...] = ()
    annotations: tuple[str, ...] = ()
    """Texts (legends, step badges, notes) that must be kept as annotations, not components."""


Case = RetrievalCase | AnswerCase | DiagramCase


@dataclass
class Suite:
    """A loaded, validated suite."""

    kind: Literal["retrieval", "answers", "diagrams"]
    name: str
    path: Path
    cases: list[Any]
    description: str = ""
    thresholds: list[Threshold] = field(default_factory=list)
    k: int = 10
    """Retrieval: hits retrieved per question (metrics are computed up to this depth)."""
    modes: tuple[str, ...] = MODES
    """Retrieval: modes run by default (``--mode all``)."""
    base_dir: Path | None = None
    """Diagrams: folder the case files are relative to."""
    fixtures_dir: Path | None = None
    """Diagrams: folder of the project's own small diagrams (``fixture:`` cases)."""
    skipped: list[str] = field(default_factory=list)
    """Notes about cases left out (e.g. a diagram file that is missing)."""
    scripted_model: str | None = None
    """Answers: a Bedrock model id answered by :mod:`evals.scripted_bedrock` from the cases'
    ``model_turns`` (the generative path, run through the real client stack)."""
