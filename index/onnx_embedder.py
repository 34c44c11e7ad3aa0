"""A fast-starting query encoder: the sentence-transformers model run by ONNX Runtime.

Importing sentence-transformers (torch, transformers, scikit-learn) takes seconds, while
embedding one query takes milliseconds; every CLI question and eval run paid the imports.
This module gives the same vectors from an ONNX export of the model's transformer, with the
model's own tokenizer (``tokenizers``), mean pooling over the attention mask and L2
normalisation, exactly the pipeline of a Transformer + mean Pooling + Normalize model.

The export is made once per model, in a child process (so the caller never imports torch),
into ``<home>/onnx/<model slug>/``, written to a temporary folder and renamed into place so a
crash never leaves half an export. sentence-transformers stays the reference: it builds the
index, and :func:`load_query_embedder` falls back to it, with the reason, for a
model this module cannot export.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from corpus.errors import LenswiseError
from index.embeddings import MINILM_NAMES, Embedder, SentenceTransformerEmbedder, model_slug

EXPORT_VERSION = 1
"""Bump when the export layout changes, so old exports are redone."""
EXPORT_TIMEOUT_S = 600
"""Generous guard on the one-off export child (it loads torch: tens of seconds on a busy box)."""
MODEL_FILE = "model.onnx"
META_FILE = "meta.json"
TOKENIZER_FILE = "tokenizer.json"
_log = logging.getLogger(__name__)
PIPELINE = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]
"""The only module stack this encoder reproduces (the MiniLM family uses it)."""


class ExportError(LenswiseError):
    """The model cannot be exported to ONNX (the caller falls back to sentence-transformers)."""


class OnnxEmbedder:
    """Embeds texts with an ONNX export of a sentence-transformers model (CPU, one thread pool)."""

    def __init__(self, folder: Path, name: str) -> None:
        """Open the export in ``folder``; raise ExportError when it is missing or unreadable."""
        meta_path = folder / META_FILE
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ExportError(f"no usable ONNX export in {folder}: {exc}") from exc
        if meta.get("version") != EXPORT_VERSION or meta.get("model") != name:
            raise ExportError(f"ONNX export in {folder} is for another model or version")
        import onnxruntime
        from tokenizers import Tokenizer

        self.name = name
        self._dim = int(meta["dim"])
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        # Same truncation as sentence-transformers (its max_seq_length, not tokenizer.json's),
        # and padding to the longest text of the batch only.
        self._tokenizer.enable_truncation(max_length=int(meta["max_seq_length"]))
        self._tokenizer.enable_padding(pad_id=int(meta["pad_id"]), pad_token=meta["pad_token"])
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(
                str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own types for a corrupt file
            raise ExportError(f"cannot open {folder / MODEL_FILE}: {exc}") from exc
        self._inputs = {i.name for i in self._session.get_inputs()}

    @property
    def dim(self) -> int:
        """Vector dimension of the model."""
        return self._dim

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype="float32")
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype="int64"),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype="int64"),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype="int64"),
        }
        outputs = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
        tokens = np.asarray(outputs[0])
        mask = feeds["attention_mask"][:, :, None].astype("float32")
        pooled = (tokens * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype("float32")


def load_query_embedder(
    spec: str, *, home: Path, runtime: str, reference: Callable[[], Embedder]
) -> Embedder:
    """Return the encoder for queries against an index built by ``reference()``'s model.

    With ``runtime="onnx"`` the packaged MiniLM runs on ONNX Runtime (exported once into
    ``home``); any other model, ``runtime="sentence-transformers"``, or a failed export (the
    reason is logged as a warning) uses ``reference()``, the model the index was built with.
    """
    if runtime != "onnx" or spec not in MINILM_NAMES:
        return reference()
    try:
        return load_onnx_embedder(home, spec)
    except ExportError as exc:
        _log.warning("lenswise: using sentence-transformers for queries: %s", exc)
        return reference()


def export_folder(home: Path, name: str) -> Path:
    """Return where the export of model ``name`` lives under ``home``."""
    return Path(home) / "onnx" / model_slug(name)


def load_onnx_embedder(home: Path, name: str) -> OnnxEmbedder:
    """Return the ONNX encoder of ``name``, exporting it first (in a child process) if needed.

    A missing, stale (other export version) or damaged export is made again.

    Raises:
        ExportError: the model cannot be exported or the export cannot be opened.
    """
    folder = export_folder(home, name)
    try:
        return OnnxEmbedder(folder, name)
    except ExportError:
        _export_in_child(name, folder)
    return OnnxEmbedder(folder, name)


def _export_in_child(name: str, folder: Path) -> None:
    """Run :func:`export` in a new interpreter, keeping torch out of the calling process."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "index.onnx_embedder", name, str(folder)],
            capture_output=True,
            text=True,
            timeout=EXPORT_TIMEOUT_S,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ExportError(f"ONNX export of '{name}' did not finish: {exc}") from exc
    if proc.returncode:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1][:300]
        raise ExportError(f"ONNX export of '{name}' failed: {last}")


def export(name: str, folder: Path) -> None:
    """Export sentence-transformers model ``name`` to ``folder`` (atomically).

    Raises:
        ExportError: the model's module stack is not Transformer + mean Pooling + Normalize.
    """
    import torch

    reference = SentenceTransformerEmbedder(name)
    model = reference.model
    stack = [type(m).__name__ for m in model]  # class paths vary across library versions
    if stack != [p.rsplit(".", 1)[1] for p in PIPELINE] or model[1].pooling_mode != "mean":
        raise ExportError(f"model '{name}' is not Transformer + mean Pooling + Normalize")
    # nn.Module.__getattr__ types every attribute as Tensor | Module: the Transformer's own
    # attributes (tokenizer, auto_model) are read untyped.
    transformer: Any = model[0]
    tokenizer = transformer.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise ExportError(f"model '{name}' has no fast tokenizer (tokenizer.json)")
    max_seq_length = model.max_seq_length
    if max_seq_length is None:
        raise ExportError(f"model '{name}' sets no max_seq_length")
    hf = transformer.auto_model.eval().float()
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        tokenizer.backend_tokenizer.save(str(staging / TOKENIZER_FILE))
        sample = tokenizer(["a query", "a longer second query"], padding=True, return_tensors="pt")
        names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

        class _Tokens(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.hf = hf

            def forward(self, *args):
                return self.hf(**dict(zip(names, args, strict=True))).last_hidden_state

        axes = {n: {0: "batch", 1: "tokens"} for n in names}
        with torch.no_grad():
            torch.onnx.export(
                _Tokens(),
                tuple(sample[n] for n in names),
                str(staging / MODEL_FILE),
                input_names=names,
                output_names=["token_embeddings"],
                dynamic_axes={**axes, "token_embeddings": {0: "batch", 1: "tokens"}},
                opset_version=17,
                dynamo=False,
            )
        meta = {
            "version": EXPORT_VERSION,
            "model": name,
            "dim": reference.dim,
            "max_seq_length": int(max_seq_length),
            "pad_id": int(tokenizer.pad_token_id),
            "pad_token": tokenizer.pad_token,
        }
        (staging / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


if __name__ == "__main__":  # the export child started by _export_in_child
    try:
        export(sys.argv[1], Path(sys.argv[2]))
    except LenswiseError as exc:
        print(f"lenswise: {exc}", file=sys.stderr)
        sys.exit(2)
