"""CI gate: the development retrieval suite must meet its thresholds, and hybrid must beat both
bm25 and dense on recall@5 and MRR, on the built-in digest and on the full lens text."""

from __future__ import annotations

import pytest

from agent.config import Settings
from evals.runner import run_suite
from evals.suites import load_suite
from tests.helpers import GENAI_MARKDOWN


def _check(result) -> None:
    failures = [f"{t['metric']} = {t['value']:.3f} (needs {t['rule']})" for t in result.failures()]
    assert not failures, f"{result.run['source']}: thresholds not met: {failures}"
    m = result.metrics
    for metric in ("recall@5", "mrr"):
        hybrid = m[f"hybrid.{metric}"]
        for other in ("bm25", "dense"):
            assert hybrid >= m[f"{other}.{metric}"], (
                f"{result.run['source']}: hybrid {metric} {hybrid:.3f} is below "
                f"{other} {m[f'{other}.{metric}']:.3f}"
            )


def _run(settings: Settings, index=None):
    from agent import LensAssistant

    suite = load_suite("retrieval")
    target = LensAssistant(settings=settings, index=index)
    return run_suite(suite, settings, target=target, progress=False)


def test_builtin_digest_retrieval_gate(real_home, real_index):
    _check(_run(Settings(home=real_home), real_index))


def test_full_lens_text_retrieval_gate(tmp_path):
    if not GENAI_MARKDOWN.is_dir():
        pytest.skip("../shared/lens is not present")
    _check(_run(Settings(home=tmp_path / "home", source=str(GENAI_MARKDOWN))))


def _gate(name: str, settings: Settings, index) -> None:
    from agent import LensAssistant

    result = run_suite(
        load_suite(name), settings, target=LensAssistant(settings, index=index), progress=False
    )
    failures = [f"{t['metric']} = {t['value']:.3f} (needs {t['rule']})" for t in result.failures()]
    assert not failures, f"{name}: thresholds not met: {failures}"


def test_answers_suite_gate(real_index, tmp_path):
    _gate("answers", Settings(home=tmp_path), real_index)


def test_heldout_suite_gate(real_index, tmp_path):
    _gate("heldout", Settings(home=tmp_path), real_index)


def test_diagrams_suite_gate(real_index, tmp_path):
    if not (GENAI_MARKDOWN.parents[3] / "diagrams").is_dir():
        pytest.skip("../shared/diagrams is not present")
    _gate("diagrams", Settings(home=tmp_path), real_index)
