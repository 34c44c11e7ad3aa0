"""Metrics: IR metrics through ranx, and small evaluators for answers and diagram reviews.

Retrieval metrics (recall@k, MRR, nDCG@10) come from ranx; this module only builds its qrels
and runs and averages its per-question scores by group. Answer and review metrics are small
evaluator classes: each has a ``name`` and returns a number in [0, 1] for one case, or None
when the metric does not apply to that case (it is then left out of the mean).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from corpus.text import sentences
from corpus.vocabulary import PRACTICE_ID, PRACTICE_IN_TEXT
from evals.cases import AnswerCase, DiagramCase, RetrievalCase

RETRIEVAL_METRICS = ("recall@1", "recall@3", "recall@5", "recall@10", "mrr", "ndcg@10")
CURVE_KS = tuple(range(1, 11))
"""Cut-offs of the recall@k curve drawn in reports."""
PRIMARY_GAIN, SECONDARY_GAIN = 2, 1
"""Relevance of the first expected id and of the others (nDCG uses the difference)."""
CITATION_MARKER = re.compile(rf"\[\s*({PRACTICE_ID}(?:\s*[,;]\s*{PRACTICE_ID})*)\s*\]")
"""An inline citation such as ``[GENSEC04-BP02]`` or ``[GENSEC04-BP02, GENSEC02-BP01]``."""


# --- retrieval (ranx) --------------------------------------------------------------------


def qrels_for(cases: Iterable[RetrievalCase]) -> dict[str, dict[str, int]]:
    """Return ranx qrels: the first expected id of each case is graded 2, the others 1."""
    return {
        c.id: {bp: PRIMARY_GAIN if i == 0 else SECONDARY_GAIN for i, bp in enumerate(c.expected)}
        for c in cases
    }


def run_for(rankings: Mapping[str, Sequence[str]]) -> dict[str, dict[str, float]]:
    """Return a ranx run from ranked document ids, keeping the given order exactly.

    Scores are ``n - rank`` so ties cannot reorder documents; repeated ids keep their best
    rank. An empty ranking gets a placeholder document so ranx scores the question as 0.
    """
    run: dict[str, dict[str, float]] = {}
    for case_id, docs in rankings.items():
        scores: dict[str, float] = {}
        for rank, doc in enumerate(docs):
            scores.setdefault(doc, float(len(docs) - rank))
        run[case_id] = scores or {"__no_results__": 0.0}
    return run


def retrieval_scores(
    cases: Sequence[RetrievalCase],
    rankings: Mapping[str, Sequence[str]],
    metrics: Sequence[str] = RETRIEVAL_METRICS,
) -> dict[str, dict[str, float]]:
    """Score every case with ranx; return ``{case_id: {metric: value}}``.

    Args:
        cases: the suite's cases (their ``expected`` ids are the relevant documents).
        rankings: case id -> retrieved document ids, best first.
        metrics: ranx metric names.
    """
    from ranx import Qrels, Run, evaluate

    qrels = Qrels(qrels_for(cases))
    run = Run(run_for({c.id: rankings.get(c.id, []) for c in cases}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba type-safety chatter, not our concern
        evaluate(qrels, run, list(metrics))
    return {c.id: {m: float(run.scores[m][c.id]) for m in metrics} for c in cases}


def warm_up() -> None:
    """Compile ranx's numba kernels once, at install time, into numba's on-disk cache.

    ranx compiles its metric kernels on first use (about two minutes on two cores) and caches
    them next to the package; ``make install`` calls this so no ``eval run`` (or test) pays it.
    """
    cases = [RetrievalCase(f"warm{i}", "warm", ("A", "B"), "Security") for i in range(2)]
    retrieval_scores(cases, {"warm0": ["A", "C"], "warm1": ["B"]})


def means(per_case: Mapping[str, Mapping[str, float | None]]) -> dict[str, float]:
    """Average each metric over the cases where it applies (None values are left out)."""
    sums: dict[str, list[float]] = {}
    for values in per_case.values():
        for metric, value in values.items():
            if value is not None:
                sums.setdefault(metric, []).append(float(value))
    return {metric: sum(v) / len(v) for metric, v in sums.items()}


def means_by(
    per_case: Mapping[str, Mapping[str, float | None]], group_of: Callable[[str], str | None]
) -> dict[str, dict[str, float]]:
    """Average each metric per group (for example per pillar); cases in no group are skipped."""
    groups: dict[str, dict[str, Mapping[str, float | None]]] = {}
    for case_id, values in per_case.items():
        group = group_of(case_id)
        if group:
            groups.setdefault(group, {})[case_id] = values
    return {group: means(members) for group, members in sorted(groups.items())}


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the ``q``-th percentile (0-100, linear interpolation), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


# --- answers -----------------------------------------------------------------------------


@dataclass
class AnswerSample:
    """What one ``ask`` produced, named the way answer-eval libraries name it."""

    user_input: str
    response: str
    cited_ids: list[str] = field(default_factory=list)
    """Page ids of the answer's citations (practices and general pages), in order."""
    retrieved_ids: list[str] = field(default_factory=list)
    """Best-practice ids of the passages retrieved for the answer."""
    retrieved_contexts: dict[str, str] = field(default_factory=dict)
    """bp id -> text of its retrieved passages (and citation quotes)."""
    declined: bool = False
    latency_ms: float = 0.0
    usage: dict[str, int] = field(default_factory=dict)
    model: str = ""
    previous_response: str = ""
    """The answer to the thread's previous question (follow-ups), else empty."""


class AnswerEvaluator(Protocol):
    """Scores one answer: a number in [0, 1], or None when it does not apply."""

    name: str

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:
        """Score ``sample`` against ``case``."""
        ...


@dataclass
class CitationValidity:
    """Share of citations that name a real practice of the corpus and a retrieved passage."""

    known_ids: frozenset[str] | None = None
    """Ids of the corpus; None skips the existence check."""
    name: str = "citation_validity"

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if not sample.cited_ids:
            return None
        retrieved = set(sample.retrieved_ids)
        valid = [
            bp
            for bp in sample.cited_ids
            if bp in retrieved and (self.known_ids is None or bp in self.known_ids)
        ]
        return len(valid) / len(sample.cited_ids)


@dataclass
class LeadCorrect:
    """1 when the first page the answer cites is one the case accepts as the lead."""

    name: str = "lead_correct"

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if not case.expected_citations:
            return None
        return float(bool(sample.cited_ids) and sample.cited_ids[0] in case.leads)


@dataclass
class CitationPrecision:
    """Share of distinct cited ids that the case expects."""

    name: str = "citation_precision"

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        cited = set(sample.cited_ids)
        if not case.expected_citations or not cited:
            return None
        return len(cited & set(case.expected_citations)) / len(cited)


@dataclass
class CitationRecall:
    """Share of expected ids that the answer cites."""

    name: str = "citation_recall"

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if not case.expected_citations:
            return None
        expected = set(case.expected_citations)
        return len(expected & set(sample.cited_ids)) / len(expected)


_STOPWORDS = frozenset(
    "the and for are but not you your with this that these those from into onto over under "
    "than then them they their there here what which when where who whom how why can could "
    "should would will shall may might must have has had been being was were its it's also "
    "such each every any all some more most less very just only own same other use using "
    "used via per about after before while because both either neither one two out off".split()
)


def content_words(text: str) -> set[str]:
    """Return the lowercase words of ``text`` that carry meaning (no ids, no stopwords)."""
    text = PRACTICE_IN_TEXT.sub(" ", text)
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2} - _STOPWORDS


def cited_sentences(response: str) -> list[tuple[str, list[str]]]:
    """Split ``response`` into sentences and return those carrying citation markers, with ids.

    Only bracketed markers count (an id named in a heading is not a citation). A marker
    standing alone after a sentence (``... outputs. [GENSEC02-BP01]``) belongs to the
    sentence before it.
    """
    pieces = sentences(response or "")
    out: list[tuple[str, list[str]]] = []
    for piece in pieces:
        ids = [
            i for marker in CITATION_MARKER.findall(piece) for i in PRACTICE_IN_TEXT.findall(marker)
        ]
        if ids and not content_words(piece) and out:
            out[-1] = (out[-1][0], out[-1][1] + ids)
            continue
        out.append((piece, ids))
    return [(sentence, ids) for sentence, ids in out if ids and content_words(sentence)]


@dataclass
class GroundingRate:
    """Share of cited sentences whose words are largely found in the passages they cite.

    A lexical support test: a sentence is supported when at least ``min_overlap`` of its
    content words occur in the retrieved text of the practices it cites. Extractive answers
    score near 1; an LLM judge (faithfulness) is the stricter check for generated prose.
    """

    min_overlap: float = 0.5
    name: str = "grounding_rate"

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        sentences = cited_sentences(sample.response)
        if not sentences:
            return None
        supported = 0
        for sentence, ids in sentences:
            words = content_words(sentence)
            passage = content_words(" ".join(sample.retrieved_contexts.get(i, "") for i in ids))
            if words and len(words & passage) / len(words) >= self.min_overlap:
                supported += 1
        return supported / len(sentences)


@dataclass
class MustState:
    """Share of the case's must-state facts found in the response."""

    name: str = "must_state"

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if not case.must_state:
            return None
        return sum(f.found_in(sample.response) for f in case.must_state) / len(case.must_state)


@dataclass
class MustNotState:
    """Share of the case's must-not-state facts absent from the response (1.0 = clean)."""

    name: str = "must_not_state"

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if not case.must_not_state:
            return None
        found = sum(f.found_in(sample.response) for f in case.must_not_state)
        return 1 - found / len(case.must_not_state)


@dataclass
class NotRepeated:
    """1 when the response is not the answer a user disliked, else 0 (None without one).

    Texts are compared ignoring case and runs of whitespace.
    """

    name: str = "not_repeated"

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if not case.disliked_answer:
            return None
        return float(normalize_text(sample.response) != normalize_text(case.disliked_answer))


@dataclass
class CorrectDecline:
    """1 when a question outside the lens was declined without citing any practice, else 0."""

    name: str = "correct_declines"

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if not case.should_decline:
            return None
        return float(sample.declined and not sample.cited_ids)


@dataclass
class AnsweredInScope:
    """1 when a lens question was answered, 0 when it was wrongly declined."""

    name: str = "answered_in_scope"

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        return None if case.should_decline else float(not sample.declined)


@dataclass
class FalseDecline:
    """1 when a lens question was declined as outside the lens (the mean is the rate)."""

    name: str = "false_declines"

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        return None if case.should_decline else float(sample.declined)


def answer_evaluators(known_ids: Iterable[str] | None = None) -> list[AnswerEvaluator]:
    """Return the standard answer evaluators."""
    known = frozenset(known_ids) if known_ids is not None else None
    return [
        CitationValidity(known),
        LeadCorrect(),
        CitationPrecision(),
        CitationRecall(),
        GroundingRate(),
        MustState(),
        MustNotState(),
        NotRepeated(),
        CorrectDecline(),
        AnsweredInScope(),
        FalseDecline(),
    ]


def answer_totals(
    samples: Sequence[AnswerSample], cost_of: Callable[[str, dict], float | None] | None = None
) -> dict[str, float | None]:
    """Return suite-level latency percentiles, token totals and estimated cost.

    Args:
        samples: one per case.
        cost_of: ``(model, usage) -> USD or None``; None when no price is known.
    """
    latencies = [s.latency_ms for s in samples]
    totals: dict[str, float | None] = {
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "input_tokens": float(sum(s.usage.get("input_tokens", 0) for s in samples)),
        "output_tokens": float(sum(s.usage.get("output_tokens", 0) for s in samples)),
    }
    costs = [cost_of(s.model, s.usage) for s in samples if s.usage] if cost_of else []
    known = [c for c in costs if c is not None]
    totals["estimated_cost_usd"] = sum(known) if known else None
    return totals


# --- diagram reviews ----------------------------------------------------------------------


@dataclass
class ReviewSample:
    """What one ``review`` produced: service slugs and each finding's status by practice id."""

    services: set[str]
    statuses: dict[str, str]
    """bp id -> ``addressed``, ``gap`` or ``unknown``."""
    latency_ms: float = 0.0
    component_labels: set[str] = field(default_factory=set)
    """Normalised labels of the components (what the review counts as architecture)."""
    annotations: set[str] = field(default_factory=set)
    """Normalised texts of the annotations (legends, step badges, notes, titles)."""


class ReviewEvaluator(Protocol):
    """Scores one review: a number in [0, 1], or None when it does not apply."""

    name: str

    def __call__(self, case: DiagramCase, sample: ReviewSample) -> float | None:
        """Score ``sample`` against ``case``."""
        ...


@dataclass
class ServiceRecall:
    """Share of expected services the review found."""

    name: str = "service_recall"

    def __call__(self, case: DiagramCase, sample: ReviewSample) -> float | None:  # noqa: D102
        if not case.services:
            return None
        return len(set(case.services) & sample.services) / len(case.services)


@dataclass
class ServicePrecision:
    """Share of found services that were expected (optional services are not counted)."""

    name: str = "service_precision"

    def __call__(self, case: DiagramCase, sample: ReviewSample) -> float | None:  # noqa: D102
        judged = sample.services - (set(case.optional_services) - set(case.services))
        if not judged or not case.services:
            return None
        return len(judged & set(case.services)) / len(judged)


def expected_statuses(case: DiagramCase) -> dict[str, str]:
    """Return bp id -> the status a review must report (addressed or gap)."""
    return {**{bp: "addressed" for bp in case.addressed}, **{bp: "gap" for bp in case.gaps}}


@dataclass
class FindingRecall:
    """Share of expected findings reported with the expected status."""

    name: str = "finding_recall"

    def __call__(self, case: DiagramCase, sample: ReviewSample) -> float | None:  # noqa: D102
        expected = expected_statuses(case)
        if not expected:
            return None
        return sum(sample.statuses.get(bp) == st for bp, st in expected.items()) / len(expected)


@dataclass
class FindingPrecision:
    """Share of the review's definite findings (addressed / gap) on judged practices that are right.

    Judged practices are the case's ``addressed``, ``gaps`` and ``not_addressed``; for the last,
    ``gap`` is right and ``addressed`` is wrong. ``unknown`` findings make no claim.
    """

    name: str = "finding_precision"

    def __call__(self, case: DiagramCase, sample: ReviewSample) -> float | None:  # noqa: D102
        expected = expected_statuses(case)
        judged = set(expected) | set(case.not_addressed)
        claims = {bp: st for bp, st in sample.statuses.items() if bp in judged and st != "unknown"}
        if not claims:
            return None
        right = sum(expected.get(bp, "gap") == st for bp, st in claims.items())
        return right / len(claims)


def normalize_text(text: str) -> str:
    """Return ``text`` lowercased with runs of whitespace collapsed (for label comparisons)."""
    return " ".join(str(text).lower().split())


@dataclass
class AnnotationRecall:
    """Share of the case's annotation texts kept as annotations and not drawn as components.

    A text counts when some annotation contains it and no component label starts with it.
    """

    name: str = "annotation_recall"

    def __call__(self, case: DiagramCase, sample: ReviewSample) -> float | None:  # noqa: D102
        if not case.annotations:
            return None
        kept = 0
        for text in map(normalize_text, case.annotations):
            noted = any(text in note for note in sample.annotations)
            drawn = any(label.startswith(text) for label in sample.component_labels)
            kept += noted and not drawn
        return kept / len(case.annotations)


def review_evaluators() -> list[ReviewEvaluator]:
    """Return the standard diagram-review evaluators."""
    return [
        ServicePrecision(),
        ServiceRecall(),
        FindingPrecision(),
        FindingRecall(),
        AnnotationRecall(),
    ]
