"""Fit the routing models of an index on the dev split of its example questions.

Run at index build time, once the chunk vectors exist. The signals of every dev question are
computed as at query time, except that the question never sees itself: it is left out of the
nearest-example keys, and its classifier outputs come from classifiers trained without its
fold (cross-fitting). So the combining models are fitted on what unseen questions look like.
The held-out test split is scored with the final models and reported, never fitted on.

Cut-offs come from the dev split:
- page cut-off: the one that maximises the F1 of the pages an answer would name;
- scope cut-off: the one that minimises wrongly declined in-scope questions (weighted
  ``DECLINE_COST`` times) plus answered out-of-scope ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from corpus.examples import Example, ExampleSet
from index import logistic
from index.relevance import (
    PAGE_FEATURES,
    SCOPE_FEATURES,
    PageTable,
    RouterModel,
    Signals,
    decide_scope,
    rank_pages,
    select_pages,
)

DECLINE_COST = 3.0
"""Declining a question the lens answers costs this many times answering one it does not."""
FOLDS = 5
GRID = np.round(np.arange(0.02, 0.99, 0.01), 2)


@dataclass(frozen=True)
class Classifiers:
    """The two embedding classifiers (page, scope) of one training set."""

    page: logistic.Softmax
    scope: logistic.Softmax
    intent: logistic.Softmax
    terms: logistic.TermOdds


@dataclass(frozen=True)
class Calibration:
    """What :func:`calibrate` produces for the router files."""

    table: PageTable
    key_vectors: np.ndarray
    model: RouterModel


def train_classifiers(
    table: PageTable,
    keys: Sequence[Example],
    key_vectors: np.ndarray,
    chunk_vectors: np.ndarray,
    use: np.ndarray,
    terms: Sequence[list[str]],
    chunk_terms: Sequence[list[str]],
) -> Classifiers:
    """Train the page, scope and intent classifiers on the keys where ``use`` is True.

    ``terms`` are the keys' BM25 terms, ``chunk_terms`` the chunks'. The scope classifiers also
    learn from every chunk of the lens (all inside the lens).
    """
    rows = [
        (k, table.position[label])
        for k, example in enumerate(keys)
        if use[k] and example.kind in ("page", "multi")
        for label in example.labels
        if label in table.position
    ]
    page = logistic.fit_softmax(
        key_vectors[[k for k, _ in rows]], np.array([p for _, p in rows]), len(table.pages)
    )
    inside = np.array([e.in_scope for e in keys])[use]
    scope = logistic.fit_softmax(
        np.vstack([key_vectors[use], chunk_vectors]),
        np.concatenate([inside, np.ones(len(chunk_vectors), dtype=bool)]).astype("int64"),
        2,
        l2=1e-3,
        balanced=True,
    )
    answered = [k for k, e in enumerate(keys) if use[k] and e.in_scope]
    intent = logistic.fit_softmax(
        key_vectors[answered],
        np.array([_intent_class(table, table.key_intent[k]) for k in answered]),
        len(table.intents) + 1,
        balanced=True,
    )
    inside_terms = [terms[k] for k, e in enumerate(keys) if use[k] and e.in_scope]
    outside_terms = [terms[k] for k, e in enumerate(keys) if use[k] and not e.in_scope]
    odds = logistic.fit_term_odds([*inside_terms, *chunk_terms], outside_terms)
    return Classifiers(page, scope, intent, odds)


def _intent_class(table: PageTable, intent: str | None) -> int:
    return table.intents.index(intent) + 1 if intent else 0


def signals_of(
    vector: np.ndarray,
    dense: np.ndarray,
    sparse: np.ndarray,
    page_sparse: np.ndarray,
    key_vectors: np.ndarray,
    classifiers: Classifiers,
    known_terms: float,
    terms: list[str],
    leave_out: int | None = None,
) -> Signals:
    """Assemble the :class:`Signals` of one query from its vector, terms and retrieval scores."""
    sims = key_vectors @ vector
    if leave_out is not None:
        sims[leave_out] = -np.inf
    scope = classifiers.scope.log_proba(vector)
    return Signals(
        dense=dense,
        sparse=sparse,
        page_sparse=page_sparse,
        examples=sims,
        page_log_proba=classifiers.page.log_proba(vector),
        scope_logit=float(scope[1] - scope[0]),
        scope_terms=classifiers.terms.score(terms),
        intent_log_proba=classifiers.intent.log_proba(vector),
        known_terms=known_terms,
    )


def calibrate(
    table: PageTable,
    chunk_vectors: np.ndarray,
    sparse_scores: Callable[[str], np.ndarray],
    page_scores: Callable[[str], np.ndarray],
    known_terms: Callable[[str], float],
    tokenize: Callable[[str], list[str]],
    chunk_terms: Sequence[list[str]],
    examples: ExampleSet,
    vector_of: Callable[[str], np.ndarray],
) -> Calibration:
    """Fit the classifiers, the page and scope models and their cut-offs.

    Args:
        table: the index's pages, with the dev split of ``examples`` as keys.
        chunk_vectors: the index's normalised chunk vectors, in index order.
        sparse_scores: BM25 score of every chunk for a query.
        page_scores: BM25 score of every page for a query (the table's page order).
        known_terms: share of a query's terms that occur in the corpus.
        tokenize: a text's BM25 terms.
        chunk_terms: the BM25 terms of every chunk.
        examples: the lens's labelled questions.
        vector_of: the embedding of an example text.
    """
    keys = table.keys
    key_vectors = np.array([vector_of(e.text) for e in keys], dtype="float32")
    fold = np.arange(len(keys)) % FOLDS
    terms = [tokenize(e.text) for e in keys]

    def train(use: np.ndarray) -> Classifiers:
        return train_classifiers(table, keys, key_vectors, chunk_vectors, use, terms, chunk_terms)

    crossed = [train(fold != f) for f in range(FOLDS)]
    final = train(np.ones(len(keys), bool))

    def signals(example: Example, classifiers: Classifiers, leave_out: int | None) -> Signals:
        vector = vector_of(example.text)
        return signals_of(
            vector,
            chunk_vectors @ vector,
            sparse_scores(example.text),
            page_scores(example.text),
            key_vectors,
            classifiers,
            known_terms(example.text),
            tokenize(example.text),
            leave_out,
        )

    dev = [(e, signals(e, crossed[fold[i]], i)) for i, e in enumerate(keys)]
    test = [(e, signals(e, final, None)) for e in examples.split("test")]
    draft = RouterModel(
        page=_fit_pages(table, dev),
        page_threshold=0.5,
        scope=_fit_scope(table, dev),
        scope_threshold=0.5,
        page_classifier=final.page,
        scope_classifier=final.scope,
        intent_classifier=final.intent,
        term_odds=final.terms,
    )
    model = replace(
        draft,
        page_threshold=_best_page_threshold(table, draft, dev),
        scope_threshold=_best_scope_threshold(table, draft, dev),
    )
    report = {
        "dev": _figures(table, model, dev),
        "test": _figures(table, model, test),
        "keys": len(keys),
    }
    return Calibration(table, key_vectors, replace(model, report=report))


Labelled = list[tuple[Example, Signals]]


def _answerable(queries: Labelled) -> Labelled:
    return [(e, s) for e, s in queries if e.kind in ("page", "multi")]


def _fit_pages(table: PageTable, dev: Labelled) -> logistic.Logistic:
    rows, labels = [], []
    for example, signals in _answerable(dev):
        features = table.page_features(signals)
        for row in table.candidates(features):
            rows.append(features[row])
            labels.append(float(table.pages[row] in example.labels))
    return logistic.fit(np.array(rows), np.array(labels), PAGE_FEATURES)


def _fit_scope(table: PageTable, dev: Labelled) -> logistic.Logistic:
    rows = np.array([table.scope_features(s) for _, s in dev])
    labels = np.array([float(e.in_scope) for e, _ in dev])
    return logistic.fit(rows, labels, SCOPE_FEATURES)


def _best_page_threshold(table: PageTable, model: RouterModel, dev: Labelled) -> float:
    """Return the cut-off whose page selections have the best F1 on the dev questions."""
    ranked = [
        (
            {label for label in e.labels if label in table.position},
            rank_pages(table, model, s),
        )
        for e, s in _answerable(dev)
    ]

    def f1(threshold: float) -> float:
        hits = chosen = wanted = 0
        for labels, scores in ranked:
            names = {s.page_id for s in select_pages(scores, threshold)}
            hits += len(names & labels)
            chosen += len(names)
            wanted += len(labels)
        return 2 * hits / (chosen + wanted) if chosen + wanted else 0.0

    scores = [f1(float(t)) for t in GRID]
    return float(GRID[int(np.argmax(scores))])


def _best_scope_threshold(table: PageTable, model: RouterModel, dev: Labelled) -> float:
    probabilities = model.scope.predict(np.array([table.scope_features(s) for _, s in dev]))
    inside = np.array([e.in_scope for e, _ in dev])
    costs = [
        DECLINE_COST * float(np.sum(inside & (probabilities < t)))
        + float(np.sum(~inside & (probabilities >= t)))
        for t in GRID
    ]
    tied = [float(t) for t, c in zip(GRID, costs, strict=True) if c == min(costs)]
    return tied[len(tied) // 2]


def _figures(table: PageTable, model: RouterModel, queries: Labelled) -> dict:
    """Lead accuracy, naming precision/recall, scope errors and intents of a split."""
    lead = precision = recall = 0.0
    answerable = _answerable(queries)
    for example, signals in answerable:
        names = [
            s.page_id for s in select_pages(rank_pages(table, model, signals), model.page_threshold)
        ]
        labels = set(example.labels)
        lead += bool(names) and names[0] in labels
        precision += len(set(names) & labels) / len(names) if names else 0.0
        recall += len(set(names) & labels) / len(labels)
    decisions = [(e, decide_scope(table, model, s)) for e, s in queries]
    inside = [d for e, d in decisions if e.in_scope]
    outside = [d for e, d in decisions if not e.in_scope]
    intents = [(e, d) for e, d in decisions if e.kind == "intent"]
    others = [d for e, d in decisions if e.kind in ("page", "multi")]
    count = max(len(answerable), 1)
    return {
        "questions": len(queries),
        "lead_correct": round(lead / count, 3),
        "precision": round(precision / count, 3),
        "recall": round(recall / count, 3),
        "false_declines": round(sum(not d.in_scope for d in inside) / max(len(inside), 1), 3),
        "out_of_scope_declined": round(
            sum(not d.in_scope for d in outside) / max(len(outside), 1), 3
        ),
        "intents_recognised": round(
            sum(d.intent == e.labels[0].split(":", 1)[1] for e, d in intents)
            / max(len(intents), 1),
            3,
        ),
        "intents_false": round(sum(d.intent is not None for d in others) / max(len(others), 1), 3),
    }
