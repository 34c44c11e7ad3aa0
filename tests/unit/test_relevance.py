"""The routing models: the logistic fits, the example file, and what the calibration stores."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.errors import InputError
from corpus.examples import load_examples
from index import logistic


def test_logistic_fit_separates_and_is_calibrated():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(float)
    model = logistic.fit(x, y, ("a", "b"))
    p = model.predict(x)
    assert ((p > 0.5) == (y > 0)).mean() > 0.9
    assert abs(model.coef[0]) > 5 * abs(model.coef[1])  # the informative feature carries it
    assert logistic.Logistic.from_dict(model.to_dict()) == model
    assert np.allclose(logistic.fit(x, y, ("a", "b")).coef, model.coef)  # deterministic


def test_softmax_learns_classes_and_balances_them():
    x = np.array([[1.0, 0.0]] * 90 + [[0.0, 1.0]] * 10)
    y = np.array([0] * 90 + [1] * 10)
    plain = logistic.fit_softmax(x, y, 2)
    balanced = logistic.fit_softmax(x, y, 2, balanced=True)
    assert np.argmax(plain.log_proba(np.array([0.0, 1.0]))) == 1
    assert np.allclose(np.exp(plain.log_proba(x)).sum(axis=1), 1.0)
    assert balanced.log_proba(np.array([0.5, 0.5]))[1] > plain.log_proba(np.array([0.5, 0.5]))[1]


def test_term_odds_score_the_words_of_each_class():
    odds = logistic.fit_term_odds([["llm", "prompt"], ["llm", "agent"]], [["postgres", "vacuum"]])
    assert odds.score(["llm"]) > 0 > odds.score(["postgres"])
    assert odds.score([]) == 0.0


def test_example_file_covers_every_page_in_both_splits():
    examples = load_examples("generative-ai")
    pages = {e.labels[0] for e in examples.examples if e.kind == "page"}
    assert len(pages) == 64  # 51 practices and 13 general pages
    for split in ("dev", "test"):
        chosen = examples.split(split)
        assert {e.labels[0] for e in chosen if e.kind == "page"} == pages
        assert any(not e.in_scope and e.note == "near-miss" for e in chosen)
        assert {e.labels[0] for e in chosen if e.kind == "intent"} >= {
            "intent:prioritize",
            "intent:strengths",
        }
    dev = {e.text.lower() for e in examples.split("dev")}
    assert not dev & {e.text.lower() for e in examples.split("test")}  # held out for real
    assert examples.injection_attacks and examples.injection_benign


def test_malformed_example_file_is_one_clear_error(tmp_path, monkeypatch):
    import corpus.examples as module

    (tmp_path / "broken.yaml").write_text("lens: broken\npages: {X: {dev: []}}\n")
    monkeypatch.setattr(module, "EXAMPLES_DIR", tmp_path)
    with pytest.raises(InputError, match="broken.yaml are malformed"):
        load_examples("broken")
    assert load_examples("no-such-lens") is None


def test_index_stores_the_calibration_and_explains_decisions(hash_index):
    router = hash_index.router
    report = hash_index.manifest["router"]["report"]
    assert set(report) == {"dev", "test", "keys"} and report["keys"] == len(router.key_vectors)
    assert {"lead_correct", "precision", "false_declines", "out_of_scope_declined"} <= set(
        report["test"]
    )
    assert 0 < router.model.page_threshold < 1 and 0 < router.model.scope_threshold < 1
    ranked = hash_index.rank_pages("prompt injection in user input")
    assert ranked == sorted(ranked, key=lambda s: -s.probability)
    assert all(0 <= s.probability <= 1 for s in ranked) and "classifier" in ranked[0].features
    decision = hash_index.scope("prompt injection in user input")
    assert decision.neighbours and decision.explain().count("'") >= 2
