"""The on-disk index and its loaded form: one directory per (corpus content, format, model).

Layout of ``<home>/indexes/<corpus-hash>-v<format>-<model>/``:
``manifest.json`` (source, hashes, model, dimension, counts, versions, created-at),
``chunks.jsonl`` (chunk metadata plus the hash of each embedded text), ``vectors.npy``
(the embeddings, kept so that a rebuild re-embeds only changed chunks), ``dense.faiss``
(inner-product index over normalised vectors) and ``bm25/`` (bm25s state).

Loading checks the manifest and every file; building lives in :mod:`index.build`.
"""

from __future__ import annotations

import json
import math
import threading
import zipfile
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    NonNegativeInt,
    PositiveInt,
    TypeAdapter,
    ValidationError,
)

from corpus.errors import InputError
from corpus.models import Chunk, Corpus
from index.embeddings import Embedder, model_slug
from index.relevance import PageScore, ScopeDecision, Signals
from index.router import Router, load_router
from index.search import HybridSearcher
from index.sparse import SparseIndex

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
_REBUILD = "rebuild it with 'lenswise index build --force'"
INDEX_FILES = (MANIFEST, CHUNKS, "vectors.npy", "dense.faiss")


class Manifest(BaseModel):
    """The keys ``manifest.json`` must hold, with their types (other keys are kept as they are)."""

    model_config = ConfigDict(extra="allow", strict=True)

    format_version: int
    source: str
    edition: str | None = None
    corpus_hash: str
    model: str
    dim: PositiveInt
    chunk_count: NonNegativeInt
    document_count: NonNegativeInt
    chunker_version: str
    versions: dict[str, str]
    created_at: str
    router: dict[str, Any] | None = None
    """Summary of the fitted router (examples digest, keys, report); None without one."""


_CHUNK = TypeAdapter(Chunk)


class LensIndex:
    """A loaded index: chunks, FAISS dense index, BM25 state and a lazily loaded encoder."""

    def __init__(
        self,
        path: Path,
        manifest: dict,
        chunks: list[Chunk],
        dense,
        sparse: SparseIndex,
        embedder: Callable[[], Embedder],
        router: Router | None = None,
    ) -> None:
        """Wrap loaded parts; ``embedder`` is called once, on the first dense query."""
        self.path = path
        self.router = router
        """Example-question keys and calibrated routing models (None: the lens has none)."""
        self.manifest = manifest
        self.chunks = chunks
        self._dense = dense
        self._sparse = sparse
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self._searcher = HybridSearcher(chunks, self._dense_scores, sparse.scores)
        self._query_cache: dict[str, np.ndarray] = {}
        self._score_cache: dict[str, np.ndarray] = {}
        self._signal_cache: dict[str, Signals] = {}
        self._cache_lock = threading.Lock()
        self.corpus: Corpus | None = None
        """The corpus the index was built from, when opened through :func:`open_index`."""

    @property
    def embedder(self) -> Embedder:
        """The query encoder (loaded on first use)."""
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    @property
    def known_ids(self) -> set[str]:
        """Practice and question ids present in the index."""
        return set(self._searcher.ids)

    @cached_property
    def page_urls(self) -> dict[str, str]:
        """Official URL of every citable page: practices, questions and general pages."""
        return {c.page_id: c.url for c in self.chunks}

    def term_weight(self, token: str) -> float:
        """Return the inverse document frequency of a stemmed term (0 for unknown terms)."""
        df = self._sparse.document_frequency(token)
        return math.log((len(self.chunks) + 1) / (df + 0.5)) if df else 0.0

    def chunk_similarity(self, query: str) -> dict[str, float]:
        """Return the cosine similarity of every chunk to ``query``, by chunk id."""
        scores = self._dense_scores(query)
        return {c.chunk_id: float(score) for c, score in zip(self.chunks, scores, strict=True)}

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query, remembering recent ones (sub-queries often repeat a question)."""
        with self._cache_lock:
            cached = self._query_cache.get(text)
        if cached is not None:
            return cached
        vector = self.embedder.encode([text])
        if vector.shape[1] != self.manifest["dim"]:
            raise InputError(
                f"index {self.path} has dimension {self.manifest['dim']} but the embedding "
                f"model gives {vector.shape[1]}: rebuild with 'lenswise index build --force'"
            )
        with self._cache_lock:
            if len(self._query_cache) >= 256:
                self._query_cache.pop(next(iter(self._query_cache)))
            self._query_cache[text] = vector
        return vector

    def signals(self, query: str) -> Signals:
        """Return the routing signals of ``query`` (needs a router; the last few are kept)."""
        assert self.router is not None
        with self._cache_lock:
            cached = self._signal_cache.get(query)
        if cached is not None:
            return cached
        signals = self.router.signals(
            query,
            self.encode_query(query),
            self._dense_scores(query),
            self._sparse.scores(query),
            self._sparse.known_share(query),
        )
        with self._cache_lock:
            if len(self._signal_cache) >= 8:
                self._signal_cache.pop(next(iter(self._signal_cache)))
            self._signal_cache[query] = signals
        return signals

    def rank_pages(self, query: str, pillar: str | None = None) -> list[PageScore]:
        """Return the pages likely to answer ``query`` with calibrated probabilities.

        Empty when the index has no router (a lens without example questions).
        """
        if self.router is None:
            return []
        return self.router.rank(self.signals(query), pillar, query)

    def scope(self, query: str) -> ScopeDecision | None:
        """Decide whether the lens answers ``query``; None when the index has no router."""
        return self.router.scope(self.signals(query)) if self.router else None

    def _dense_scores(self, query: str) -> np.ndarray:
        """Return the cosine of every chunk to ``query``, scored once per text and kept.

        Routing, search and the answer's step scoring all ask for the same query's scores in
        one turn; the array is read-only so that no caller can change the shared copy.
        """
        with self._cache_lock:
            cached = self._score_cache.get(query)
        if cached is not None:
            return cached
        vector = self.encode_query(query)
        scores, ids = self._dense.search(vector, len(self.chunks))
        out = np.full(len(self.chunks), -1.0, dtype="float32")
        valid = ids[0] >= 0
        out[ids[0][valid]] = scores[0][valid]
        out.flags.writeable = False
        with self._cache_lock:
            if len(self._score_cache) >= 256:
                self._score_cache.pop(next(iter(self._score_cache)))
            self._score_cache[query] = out
        return out

    def search(
        self,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        pillar: str | None = None,
        lens: str | None = None,
        risk: str | None = None,
        per_doc: int = 1,
    ):
        """Search the index; see :meth:`index.search.HybridSearcher.search`."""
        return self._searcher.search(
            query, k=k, mode=mode, pillar=pillar, lens=lens, risk=risk, per_doc=per_doc
        )

    def chunk(self, chunk_id: str) -> Chunk | None:
        """Return the chunk with this id, or None."""
        return self._by_chunk_id.get(chunk_id)

    @cached_property
    def _by_chunk_id(self) -> dict[str, Chunk]:
        return {c.chunk_id: c for c in self.chunks}

    def chunks_of(self, ident: str) -> list[Chunk]:
        """Return the chunks of a practice id, a question id (with its practices) or a page id."""
        upper = ident.upper()
        found = [c for c in self.chunks if upper in (c.bp_id, c.question_id)]
        return found or [c for c in self.chunks if c.page_id == ident]


def index_root(home: Path) -> Path:
    """Return the folder holding every built index."""
    return home / "indexes"


def index_path(home: Path, chunks_hash: str, model: str) -> Path:
    """Return the directory of the index for this corpus content and model."""
    return index_root(home) / f"{chunks_hash[:16]}-v{FORMAT_VERSION}-{model_slug(model)}"


def read_manifest(path: Path) -> dict:
    """Read and check ``manifest.json`` of an index directory (InputError if unusable)."""
    file = path / MANIFEST
    try:
        manifest = json.loads(file.read_bytes())
    except FileNotFoundError as exc:
        raise InputError(f"{path} is not a lenswise index (no {MANIFEST})") from exc
    except OSError as exc:
        raise InputError(
            f"index manifest {file} is unreadable ({exc.strerror}): {_REBUILD}"
        ) from exc
    except ValueError as exc:  # not JSON, or not text at all
        raise InputError(f"index manifest {file} is unreadable (not JSON): {_REBUILD}") from exc
    if not isinstance(manifest, dict):
        raise InputError(
            f"index manifest {file} is damaged ({_not_an_object(manifest)}): {_REBUILD}"
        )
    if manifest.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"index {path} has format {manifest.get('format_version')!r}, "
            f"expected {FORMAT_VERSION}: rebuild it with 'lenswise index build'"
        )
    try:
        Manifest.model_validate(manifest)
    except ValidationError as exc:
        raise InputError(f"index manifest {file} is damaged ({_reason(exc)}): {_REBUILD}") from exc
    return manifest


def read_chunks(path: Path) -> tuple[list[Chunk], list[str]]:
    """Read and check ``chunks.jsonl``: the chunks, and the hash of each one's embedded text."""
    file = path / CHUNKS
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"index file {file} is unreadable ({type(exc).__name__}): {_REBUILD}"
        ) from exc
    chunks: list[Chunk] = []
    hashes: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        try:
            chunk, embed_hash = _chunk_row(line)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError too
            raise InputError(
                f"index file {file} line {number} is damaged ({_reason(exc)}): {_REBUILD}"
            ) from exc
        chunks.append(chunk)
        hashes.append(embed_hash)
    return chunks, hashes


def _chunk_row(line: str) -> tuple[Chunk, str]:
    row = json.loads(line)
    if not isinstance(row, dict):
        raise ValueError(_not_an_object(row))
    embed_hash = row.get("embed_hash", "")
    if not isinstance(embed_hash, str):
        raise ValueError("embed_hash is not text")
    return _CHUNK.validate_python(row), embed_hash


def _not_an_object(value: object) -> str:
    kind = {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return f"{kind.get(type(value), 'a number')} where a JSON object belongs"


def _reason(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "value"
        return f"{where}: {error['msg']}"
    return str(exc).splitlines()[0][:80]


def load_index(path: Path, model: str, embedder: Callable[[], Embedder]) -> LensIndex:
    """Load the index in ``path``, refusing one built with another model or with damaged files."""
    import faiss

    manifest = read_manifest(path)
    if manifest.get("model") != model:
        raise InputError(
            f"index {path} was built with embedding model '{manifest.get('model')}', "
            f"not '{model}': build one for this model with 'lenswise index build'"
        )
    chunks, _ = read_chunks(path)
    try:
        dense = faiss.read_index(str(path / "dense.faiss"))
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError(f"index file {path / 'dense.faiss'} is damaged: {_REBUILD}") from exc
    try:
        sparse = SparseIndex.load(path / "bm25")
    except Exception as exc:  # bm25s raises whatever its readers raise on damaged files
        raise InputError(
            f"index folder {path / 'bm25'} is damaged ({type(exc).__name__}): {_REBUILD}"
        ) from exc
    try:
        router = load_router(path, chunks)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(
            f"routing files in {path} are damaged ({type(exc).__name__}): {_REBUILD}"
        ) from exc
    if (
        dense.ntotal != len(chunks)
        or dense.d != manifest.get("dim")
        or len(chunks) != manifest.get("chunk_count")
        or sparse.size != len(chunks)
    ):
        raise InputError(
            f"index {path} is inconsistent (vectors, chunks and manifest disagree): {_REBUILD}"
        )
    return LensIndex(path, manifest, chunks, dense, sparse, embedder, router)
