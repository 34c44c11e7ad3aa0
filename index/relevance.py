"""Calibrated routing signals: does the lens answer a query, and which pages answer it best.

The signals of a query: its dense similarity to every chunk, its BM25 score against every
chunk and against every whole page, its similarity to the labelled example questions of the
lens (:mod:`corpus.examples`; the ``dev`` split are the keys), and two linear classifiers on
its embedding trained on those examples (which page? inside the lens at all?). Per page they
become a small feature vector; two logistic models, fitted on the ``dev`` split by
:mod:`index.calibrate`, turn them into probabilities:

- ``page``: P(this page answers the query), used to pick how many practices an answer names
  (every page above the calibrated cut-off, the best one first);
- ``scope``: P(the lens answers the query at all), used to decline honestly.

Both decisions are explainable: a :class:`ScopeDecision` carries the nearest example
questions that decided it, a :class:`PageScore` the signal values behind its probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from corpus.examples import INTENT_PREFIX, Example
from corpus.models import Chunk
from index.logistic import Logistic, Softmax, TermOdds

PAGE_FEATURES = (
    "dense",
    "dense_gap",
    "dense_rank",
    "sparse_share",
    "sparse_rank",
    "page_sparse_share",
    "page_sparse_rank",
    "example",
    "example_gap",
    "example_rank",
    "vote",
    "classifier",
    "general_page",
)
SCOPE_FEATURES = (
    "in_max",
    "in_top3",
    "out_max",
    "out_top3",
    "margin",
    "dense_top",
    "sparse_top",
    "known_terms",
    "classifier",
    "term_odds",
)
CANDIDATES_PER_SIGNAL = 8
"""Pages taken from the top of each signal as candidates."""
CANDIDATE_SIGNALS = ("dense", "sparse_share", "page_sparse_share", "example", "classifier")
LEXICAL_SIGNALS = ("sparse_share", "page_sparse_share")
MAX_PAGES = 5
"""Most pages one answer names, however many pass the cut-off."""
VOTE_TEMPERATURE = 0.05
"""Softness of the nearest-example vote (cosine units): the closest few examples dominate."""
VOTE_NEIGHBOURS = 10


@dataclass(frozen=True)
class Signals:
    """Everything the models see of one query."""

    dense: np.ndarray
    """Cosine similarity to every chunk."""
    sparse: np.ndarray
    """BM25 score against every chunk."""
    page_sparse: np.ndarray
    """BM25 score against every page as a whole (:attr:`PageTable.pages` order)."""
    examples: np.ndarray
    """Cosine similarity to every example key (``-inf`` for keys left out)."""
    page_log_proba: np.ndarray
    """The page classifier's log-probability of every page."""
    scope_logit: float
    """The scope classifier's log-odds that the query is inside the lens."""
    scope_terms: float
    """Mean log-odds of the query's terms between in-scope and out-of-scope texts."""
    intent_log_proba: np.ndarray
    """The intent classifier's log-probability of no intent, then of each of
    :attr:`PageTable.intents`."""
    known_terms: float
    """Share of the query's terms that occur in the corpus at all."""


@dataclass(frozen=True)
class PageScore:
    """How likely one page answers the query."""

    page_id: str
    probability: float
    features: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Neighbour:
    """A labelled example close to the query (the evidence of a routing decision)."""

    question: str
    labels: tuple[str, ...]
    """Page ids, ``()`` for an out-of-scope example, ``intent:<name>`` for an intent."""
    similarity: float


@dataclass(frozen=True)
class ScopeDecision:
    """Whether the lens answers the query, and why."""

    in_scope: bool
    probability: float
    threshold: float
    neighbours: tuple[Neighbour, ...]
    intent: str | None = None
    """A design intent (``prioritize``, ``strengths``) when the nearest examples agree on one."""

    def explain(self) -> str:
        """Return one line naming the probability and the nearest examples."""
        near = "; ".join(
            f"'{n.question}' ({', '.join(n.labels) or 'outside the lens'}, {n.similarity:.2f})"
            for n in self.neighbours[:3]
        )
        verdict = "in scope" if self.in_scope else "outside the lens"
        return (
            f"{verdict}: p={self.probability:.2f} (cut-off {self.threshold:.2f}); nearest: {near}"
        )


@dataclass(frozen=True)
class RouterModel:
    """The two fitted models, their cut-offs and the calibration report."""

    page: Logistic
    page_threshold: float
    scope: Logistic
    scope_threshold: float
    page_classifier: Softmax
    """Which page, from the query embedding alone (trained on the dev examples)."""
    scope_classifier: Softmax
    """Inside (class 1) or outside (class 0) the lens, from the query embedding alone."""
    intent_classifier: Softmax
    """No design intent (class 0) or one of the table's intents, from the embedding alone."""
    term_odds: TermOdds
    """In-scope against out-of-scope log-odds of every term (the lexical scope signal)."""
    report: dict = field(default_factory=dict)
    """Figures of the fit on the dev split and on the held-out test split."""

    def to_dict(self) -> dict:
        """Return the JSON-ready part of the model (the classifiers' arrays are stored apart)."""
        return {
            "term_odds": {"odds": self.term_odds.odds, "default": self.term_odds.default},
            "page": self.page.to_dict(),
            "page_threshold": self.page_threshold,
            "scope": self.scope.to_dict(),
            "scope_threshold": self.scope_threshold,
            "report": self.report,
        }

    def arrays(self) -> dict[str, np.ndarray]:
        """Return the classifiers' weights, for ``numpy.savez``."""
        return {
            "page_weights": self.page_classifier.weights,
            "page_bias": self.page_classifier.bias,
            "scope_weights": self.scope_classifier.weights,
            "scope_bias": self.scope_classifier.bias,
            "intent_weights": self.intent_classifier.weights,
            "intent_bias": self.intent_classifier.bias,
        }

    @classmethod
    def load(cls, data: dict, arrays) -> RouterModel:
        """Rebuild a model from :meth:`to_dict` output and :meth:`arrays`."""
        return cls(
            Logistic.from_dict(data["page"]),
            float(data["page_threshold"]),
            Logistic.from_dict(data["scope"]),
            float(data["scope_threshold"]),
            Softmax(arrays["page_weights"], arrays["page_bias"]),
            Softmax(arrays["scope_weights"], arrays["scope_bias"]),
            Softmax(arrays["intent_weights"], arrays["intent_bias"]),
            TermOdds(dict(data["term_odds"]["odds"]), float(data["term_odds"]["default"])),
            dict(data.get("report", {})),
        )


class PageTable:
    """The citable pages of an index and the maps from chunks and example keys to them.

    Question overview pages only restate their practices, so they are not candidates.
    """

    def __init__(self, chunks: Sequence[Chunk], keys: Sequence[Example]) -> None:
        """Index the pages of ``chunks`` and the page labels of the example ``keys``."""
        self.pages: list[str] = []
        position: dict[str, int] = {}
        chunk_page = []
        pillars: list[str | None] = []
        general: list[bool] = []
        for chunk in chunks:
            if chunk.question_id and not chunk.bp_id:
                chunk_page.append(-1)
                continue
            page = chunk.page_id
            if page not in position:
                position[page] = len(self.pages)
                self.pages.append(page)
                pillars.append(chunk.pillar)
                general.append(chunk.bp_id is None)
            chunk_page.append(position[page])
        self.position = position
        self.chunk_page = np.array(chunk_page, dtype="int64")
        self.pillars = pillars
        self.general = np.array(general, dtype="float64")
        self.keys = list(keys)
        pairs = [
            (k, position[label])
            for k, example in enumerate(self.keys)
            for label in example.labels
            if label in position
        ]
        self.pair_key = np.array([k for k, _ in pairs], dtype="int64")
        self.pair_page = np.array([p for _, p in pairs], dtype="int64")
        self.key_in_scope = np.array([e.in_scope for e in self.keys], dtype=bool)
        self.key_intent = [
            e.labels[0][len(INTENT_PREFIX) :] if e.kind == "intent" else None for e in self.keys
        ]
        self.intents: list[str] = sorted({i for i in self.key_intent if i})
        """Design intents the keys name (``prioritize``, ``strengths``)."""

    def page_features(self, signals: Signals) -> np.ndarray:
        """Return the ``(pages, PAGE_FEATURES)`` feature matrix of one query."""
        n = len(self.pages)
        valid = self.chunk_page >= 0
        dense = np.full(n, -1.0)
        np.maximum.at(dense, self.chunk_page[valid], signals.dense[valid])
        sparse = np.zeros(n)
        np.maximum.at(sparse, self.chunk_page[valid], signals.sparse[valid])
        example = np.full(n, -1.0)
        vote = np.zeros(n)
        if len(self.pair_key):
            np.maximum.at(example, self.pair_page, signals.examples[self.pair_key])
            vote = self._vote(signals.examples)
        page_sparse = np.asarray(signals.page_sparse, dtype="float64")
        return np.column_stack(
            [
                dense,
                dense - dense.max(),
                _inverse_rank(dense),
                _share(sparse),
                np.where(sparse > 0, _inverse_rank(sparse), 0.0),
                _share(page_sparse),
                np.where(page_sparse > 0, _inverse_rank(page_sparse), 0.0),
                example,
                example - example.max(),
                _inverse_rank(example),
                vote,
                signals.page_log_proba,
                self.general,
            ]
        )

    def _vote(self, sims: np.ndarray) -> np.ndarray:
        """Share of the nearest keys' (softmax-weighted) vote that goes to each page."""
        vote = np.zeros(len(self.pages))
        in_scope = np.where(self.key_in_scope, sims, -np.inf)
        nearest = np.argsort(-in_scope, kind="stable")[:VOTE_NEIGHBOURS]
        nearest = nearest[np.isfinite(in_scope[nearest])]
        if not len(nearest):
            return vote
        weights = np.exp((in_scope[nearest] - in_scope[nearest[0]]) / VOTE_TEMPERATURE)
        for key, weight in zip(nearest, weights, strict=True):
            pages = self.pair_page[self.pair_key == key]
            if len(pages):
                vote[pages] += weight / len(pages)
        return vote / weights.sum()

    def candidates(self, features: np.ndarray, pillar: str | None = None) -> np.ndarray:
        """Return the candidate pages: the top of each signal (optionally of one pillar).

        A lexical signal only proposes pages that share a term with the query.
        """
        allowed = np.array([pillar is None or p == pillar for p in self.pillars], dtype=bool)
        chosen: set[int] = set()
        for column in CANDIDATE_SIGNALS:
            values = features[:, PAGE_FEATURES.index(column)]
            keep = allowed & (values > 0) if column in LEXICAL_SIGNALS else allowed
            values = np.where(keep, values, -np.inf)
            order = np.argsort(-values, kind="stable")[:CANDIDATES_PER_SIGNAL]
            chosen.update(int(i) for i in order if np.isfinite(values[i]))
        return np.array(sorted(chosen), dtype="int64")

    def scope_features(self, signals: Signals) -> np.ndarray:
        """Return the ``SCOPE_FEATURES`` vector of one query."""
        inside = np.sort(signals.examples[self.key_in_scope])[::-1]
        outside = np.sort(signals.examples[~self.key_in_scope])[::-1]
        inside = inside[np.isfinite(inside)]
        outside = outside[np.isfinite(outside)]
        in_max = float(inside[0]) if len(inside) else 0.0
        out_max = float(outside[0]) if len(outside) else 0.0
        return np.array(
            [
                in_max,
                float(inside[:3].mean()) if len(inside) else 0.0,
                out_max,
                float(outside[:3].mean()) if len(outside) else 0.0,
                in_max - out_max,
                float(signals.dense.max()) if len(signals.dense) else 0.0,
                float(np.log1p(max(float(signals.sparse.max()), 0.0)))
                if len(signals.sparse)
                else 0.0,
                signals.known_terms,
                signals.scope_logit,
                signals.scope_terms,
            ]
        )

    def neighbours(self, sims: np.ndarray, count: int = 5) -> list[Neighbour]:
        """Return the ``count`` keys closest to the query."""
        order = np.argsort(-sims, kind="stable")[:count]
        return [
            Neighbour(self.keys[i].text, self.keys[i].labels, float(sims[i]))
            for i in order
            if np.isfinite(sims[i])
        ]

    def intent(self, signals: Signals) -> str | None:
        """Return the design intent the intent classifier gives more than even odds, if any."""
        probabilities = np.exp(signals.intent_log_proba)
        best = int(np.argmax(probabilities))
        return self.intents[best - 1] if best > 0 and probabilities[best] > 0.5 else None


def rank_pages(
    table: PageTable,
    model: RouterModel,
    signals: Signals,
    pillar: str | None = None,
    named: Sequence[str] = (),
) -> list[PageScore]:
    """Return the candidate pages of a query with their probability, most likely first.

    ``named`` pages (the query names them by title) are candidates whatever their signals,
    and lead: each is given at least the best page's probability.
    """
    features = table.page_features(signals)
    rows = table.candidates(features, pillar)
    allowed = [
        table.position[p]
        for p in named
        if p in table.position and pillar in (None, table.pillars[table.position[p]])
    ]
    rows = np.union1d(rows, np.array(allowed, dtype="int64"))
    if not len(rows):
        return []
    probabilities = model.page.predict(features[rows])
    lead = set(allowed)
    if lead:
        best = float(probabilities.max())
        probabilities = np.array(
            [max(p, best) if r in lead else p for r, p in zip(rows, probabilities, strict=True)]
        )
    order = sorted(range(len(rows)), key=lambda i: (rows[i] not in lead, -probabilities[i]))
    return [
        PageScore(
            table.pages[rows[i]],
            float(probabilities[i]),
            dict(zip(PAGE_FEATURES, map(float, features[rows[i]]), strict=True)),
        )
        for i in order
    ]


def select_pages(scores: Sequence[PageScore], threshold: float) -> list[PageScore]:
    """Return the pages an answer should name: the best one, then every one above the cut-off."""
    if not scores:
        return []
    chosen = [scores[0]] + [s for s in scores[1:] if s.probability >= threshold]
    return chosen[:MAX_PAGES]


def decide_scope(table: PageTable, model: RouterModel, signals: Signals) -> ScopeDecision:
    """Decide whether the lens answers the query; name the examples that decided it."""
    probability = float(model.scope.predict(table.scope_features(signals)[None, :])[0])
    return ScopeDecision(
        in_scope=probability >= model.scope_threshold,
        probability=probability,
        threshold=model.scope_threshold,
        neighbours=tuple(table.neighbours(signals.examples)),
        intent=table.intent(signals),
    )


def _share(values: np.ndarray) -> np.ndarray:
    """Return each value as a share of the largest (zeros when none is positive)."""
    top = values.max() if len(values) else 0.0
    return values / top if top > 0 else np.zeros(len(values))


def _inverse_rank(values: np.ndarray) -> np.ndarray:
    """Return 1 / (1 + rank) of each value (rank 0 = the largest)."""
    ranks = np.empty(len(values))
    ranks[np.argsort(-values, kind="stable")] = np.arange(len(values))
    return 1.0 / (1.0 + ranks)
