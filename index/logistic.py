"""A small, deterministic logistic regression: the calibrated combiner of retrieval signals.

Fitted by Newton's method on standardised features with an L2 penalty, so the same data
always gives the same weights, and stored as plain numbers in the index directory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Logistic:
    """Weights of a fitted model; :meth:`predict` returns calibrated probabilities."""

    names: tuple[str, ...]
    """Feature names, in column order (kept for explanations and for checking inputs)."""
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Return P(label = 1) for each row of ``features`` (shape ``(n, len(names))``)."""
        x = (np.asarray(features, dtype="float64") - np.array(self.mean)) / np.array(self.scale)
        return 1.0 / (1.0 + np.exp(-(x @ np.array(self.coef) + self.intercept)))

    def to_dict(self) -> dict:
        """Return the JSON-ready weights."""
        return {
            "names": list(self.names),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Logistic:
        """Rebuild a model from :meth:`to_dict` output."""
        return cls(
            tuple(data["names"]),
            tuple(map(float, data["mean"])),
            tuple(map(float, data["scale"])),
            tuple(map(float, data["coef"])),
            float(data["intercept"]),
        )


def fit(
    features: np.ndarray,
    labels: np.ndarray,
    names: tuple[str, ...],
    *,
    l2: float = 1.0,
    balanced: bool = True,
    iterations: int = 50,
) -> Logistic:
    """Fit a logistic regression.

    Args:
        features: ``(n, d)`` matrix.
        labels: ``n`` zeros and ones.
        names: the ``d`` feature names.
        l2: penalty on the (standardised) coefficients, not on the intercept.
        balanced: weight the classes equally whatever their sizes.
        iterations: Newton steps at most (it usually converges in under ten).
    """
    x = np.asarray(features, dtype="float64")
    y = np.asarray(labels, dtype="float64")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    weights = np.ones(len(y))
    if balanced and 0 < y.sum() < len(y):
        positive = y.sum() / len(y)
        weights = np.where(y > 0, 0.5 / positive, 0.5 / (1 - positive))
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    beta = np.zeros(z.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        gradient = z.T @ (weights * (p - y)) + penalty * beta
        hessian = (z * (weights * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return Logistic(
        names, tuple(mean.tolist()), tuple(scale.tolist()), tuple(beta[:-1].tolist()), beta[-1]
    )


@dataclass(frozen=True)
class Softmax:
    """A multinomial logistic regression over raw (unstandardised) features."""

    weights: np.ndarray
    """``(features, classes)``."""
    bias: np.ndarray
    """``(classes,)``."""

    def log_proba(self, features: np.ndarray) -> np.ndarray:
        """Return log P(class) for each row (or for one feature vector)."""
        z = np.asarray(features, dtype="float64") @ self.weights + self.bias
        z = z - z.max(axis=-1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def fit_softmax(
    features: np.ndarray,
    labels: np.ndarray,
    classes: int,
    *,
    l2: float = 1e-4,
    iterations: int = 120,
    step: float = 5.0,
    balanced: bool = False,
) -> Softmax:
    """Fit a multinomial logistic regression by accelerated gradient descent (deterministic).

    Args:
        features: ``(n, d)`` matrix (unit-length embeddings work well unscaled).
        labels: ``n`` class indices in ``[0, classes)``.
        classes: number of classes.
        l2: penalty on the weights.
        iterations: gradient steps (Nesterov momentum: about 120 reach the optimum).
        step: learning rate.
        balanced: weight the classes equally whatever their sizes.
    """
    x = np.asarray(features, dtype="float32")
    target = np.eye(classes, dtype="float32")[np.asarray(labels, dtype="int64")]
    weight = np.ones(len(x), dtype="float32")
    if balanced:
        counts = target.sum(axis=0)
        weight = target @ np.where(counts > 0, len(x) / (classes * counts.clip(1)), 0.0).astype(
            "float32"
        )
    params = np.zeros((x.shape[1] + 1, classes), dtype="float32")
    previous = params.copy()
    design = np.hstack([x, np.ones((len(x), 1), dtype="float32")])
    penalty = np.full((x.shape[1] + 1, 1), l2, dtype="float32")
    penalty[-1] = 0.0
    for t in range(1, iterations + 1):
        look = params + (t - 1) / (t + 2) * (params - previous)
        z = design @ look
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        gradient = design.T @ ((p - target) * weight[:, None]) / len(x) + penalty * look
        previous, params = params, look - step * gradient
    return Softmax(params[:-1].astype("float64"), params[-1].astype("float64"))


@dataclass(frozen=True)
class TermOdds:
    """Smoothed log-odds of each term between two classes of texts (a naive Bayes scorer)."""

    odds: dict[str, float]
    default: float
    """Log-odds of a term neither class used."""

    def score(self, terms: list[str]) -> float:
        """Return the mean log-odds of a text's distinct terms (0 for a text without terms)."""
        distinct = set(terms)
        if not distinct:
            return 0.0
        return sum(self.odds.get(t, self.default) for t in distinct) / len(distinct)


def fit_term_odds(positive: list[list[str]], negative: list[list[str]]) -> TermOdds:
    """Count in how many texts of each class every term occurs; return their log-odds."""
    counts: dict[str, list[int]] = {}
    for index, texts in enumerate((positive, negative)):
        for terms in texts:
            for term in set(terms):
                counts.setdefault(term, [0, 0])[index] += 1
    n_pos, n_neg = len(positive) + 1, len(negative) + 1
    odds = {
        term: float(np.log((pos + 0.5) / n_pos) - np.log((neg + 0.5) / n_neg))
        for term, (pos, neg) in counts.items()
    }
    return TermOdds(odds, float(np.log(0.5 / n_pos) - np.log(0.5 / n_neg)))
