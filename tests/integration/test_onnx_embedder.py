"""The ONNX query encoder gives the sentence-transformers vectors, and retrieval is unchanged."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agent.config import Settings
from corpus.errors import InputError
from evals.runner import run_suite
from evals.suites import load_suite
from index.build import open_index
from index.embeddings import PACKAGED_MINILM
from index.onnx_embedder import (
    META_FILE,
    ExportError,
    OnnxEmbedder,
    export_folder,
    load_onnx_embedder,
    load_query_embedder,
)


@pytest.fixture(scope="module")
def onnx_index(real_home, real_index):
    """The real index opened a second time with the default (ONNX) query encoder."""
    index, _ = open_index(Settings(home=real_home, query_encoder="onnx"))
    return index


@pytest.fixture(scope="module")
def st_index(real_home):
    """The real index with sentence-transformers as its query encoder (the reference)."""
    index, _ = open_index(Settings(home=real_home, query_encoder="sentence-transformers"))
    return index


def test_default_index_queries_through_onnx(onnx_index, st_index, real_home):
    assert isinstance(onnx_index.embedder, OnnxEmbedder)
    assert not isinstance(st_index.embedder, OnnxEmbedder)
    meta = json.loads((export_folder(real_home, PACKAGED_MINILM) / META_FILE).read_text())
    assert meta["max_seq_length"] == 256  # the model's limit, not tokenizer.json's 128


def test_vectors_agree_on_lens_questions_and_chunks(onnx_index, st_index):
    questions = [c.question for c in load_suite("retrieval").cases]
    chunks = [c.text for c in onnx_index.chunks[::7]]  # long texts: truncation must match too
    texts = questions + chunks
    fast = onnx_index.embedder.encode(texts)
    reference = st_index.embedder.encode(texts)
    cosines = (fast * reference).sum(axis=1)
    assert fast.shape == reference.shape == (len(texts), 384)
    assert cosines.min() >= 0.999, f"lowest cosine {cosines.min():.5f}"
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    # A batch pads to its longest text: each vector must not depend on its neighbours.
    alone = np.vstack([onnx_index.embedder.encode([t]) for t in texts[:5]])
    assert ((alone * fast[:5]).sum(axis=1) >= 0.99999).all()


def test_retrieval_figures_unchanged(onnx_index, st_index, tmp_path):
    from agent import LensAssistant

    suite = load_suite("retrieval")
    figures = []
    for index in (onnx_index, st_index):
        settings = Settings(home=tmp_path)
        result = run_suite(
            suite, settings, target=LensAssistant(settings, index=index), progress=False
        )
        figures.append(
            {k: round(v, 3) for k, v in result.metrics.items() if "@" in k or "mrr" in k}
        )
    fast, reference = figures
    # The reference runs MiniLM in bfloat16 on CPUs with native kernels, ONNX in float32: a
    # near-tie among dense neighbours can swap, so dense figures may move in the third decimal.
    # Hybrid (what search and the agent use) and bm25 must not move at all.
    assert {k: v for k, v in fast.items() if not k.startswith("dense.")} == {
        k: v for k, v in reference.items() if not k.startswith("dense.")
    }
    assert all(abs(fast[k] - reference[k]) <= 0.005 for k in fast), (fast, reference)


def test_other_models_and_forced_reference_use_the_reference(tmp_path):
    sentinel = object()
    for spec, runtime in (
        ("bedrock:amazon.titan-embed-text-v2:0", "onnx"),
        (PACKAGED_MINILM, "sentence-transformers"),
    ):
        got = load_query_embedder(spec, home=tmp_path, runtime=runtime, reference=lambda: sentinel)
        assert got is sentinel
    assert not (tmp_path / "onnx").exists()  # nothing exported


def test_damaged_export_is_made_again(tmp_path):
    folder = export_folder(tmp_path, PACKAGED_MINILM)
    folder.mkdir(parents=True)
    (folder / META_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ExportError, match="no usable ONNX export"):
        OnnxEmbedder(folder, PACKAGED_MINILM)
    encoder = load_onnx_embedder(tmp_path, PACKAGED_MINILM)
    assert encoder.encode(["guardrails"]).shape == (1, 384)
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no staging left behind


def test_failed_export_falls_back_with_a_reason(tmp_path, caplog, monkeypatch):
    def failing_export(name, folder):
        raise ExportError(f"ONNX export of '{name}' failed: no space left on device")

    monkeypatch.setattr("index.onnx_embedder._export_in_child", failing_export)
    sentinel = object()
    got = load_query_embedder(
        PACKAGED_MINILM, home=tmp_path, runtime="onnx", reference=lambda: sentinel
    )
    assert got is sentinel
    assert "using sentence-transformers for queries: ONNX export" in caplog.text


def test_unknown_query_encoder_is_a_clear_input_error():
    with pytest.raises(InputError, match="LENSWISE_QUERY_ENCODER"):
        Settings.from_env({"LENSWISE_QUERY_ENCODER": "tensorrt"})
