"""Test doubles shared by the test modules: a tiny deterministic embedder and path helpers."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
LENS = SHARED / "lens"
GENAI_MARKDOWN = LENS / "wa-references" / "lenses" / "generative-ai"


class HashEmbedder:
    """Bag-of-words vectors from hashed tokens: deterministic, instant, no model files.

    Texts sharing words get similar vectors, which is enough to exercise dense search.
    ``calls`` counts encoded texts so tests can assert how much was (re-)embedded.
    """

    def __init__(self, dim: int = 64, name: str = "hash-test") -> None:
        self.name = name
        self._dim = dim
        self.calls = 0

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), self._dim), dtype="float32")
        for row, text in enumerate(texts):
            for token in re.findall(r"[a-z0-9]+", text.lower()):
                slot = int(hashlib.md5(token.encode()).hexdigest(), 16) % self._dim
                out[row, slot] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)
