"""The on-disk index: one directory per (corpus content, embedding model), built atomically.

Layout of ``<home>/indexes/<corpus-hash>-<model>/``:
``manifest.json`` (source, hashes, model, dimension, counts, versions, created-at),
``chunks.jsonl`` (chunk metadata plus the hash of each embedded text), ``vectors.npy``
(the embeddings, kept so that a rebuild re-embeds only changed chunks), ``dense.faiss``
(inner-product index over normalised vectors) and ``bm25/`` (bm25s state).

A build writes into a temporary sibling directory and renames it into place under an
exclusive lock, so readers never see a half-written index and two builders never clash.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol

import numpy as np

from corpus.chunking import CHUNKER_VERSION, chunk_documents
from corpus.errors import InputError
from corpus.models import Chunk, Corpus
from corpus.sources import load_source
from index.embeddings import Embedder, load_embedder, model_slug
from index.search import HybridSearcher
from index.sparse import SparseIndex

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
_REBUILD = "rebuild it with 'lenswise index build --force'"
_FILES = (MANIFEST, "chunks.jsonl", "vectors.npy", "dense.faiss")


def embed_text(chunk: Chunk) -> str:
    """Return the text that is embedded and BM25-indexed for ``chunk`` (context + body)."""
    return f"{chunk.context}\n{chunk.section}: {chunk.text}"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def corpus_hash(chunks: list[Chunk]) -> str:
    """Return a content hash of the chunks (ids, metadata and text) and the chunker version."""
    digest = hashlib.sha256(CHUNKER_VERSION.encode())
    for chunk in chunks:
        digest.update(json.dumps(chunk.to_dict(), sort_keys=True).encode("utf-8"))
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    out = {}
    for package in ("lenswise", "faiss-cpu", "bm25s", "sentence-transformers"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "unknown"
    return out


@dataclass(frozen=True)
class BuildReport:
    """What ``ensure_index`` did."""

    path: Path
    reused: bool
    """True when an up-to-date index already existed (nothing was built)."""
    embedded: int
    """Chunks whose vectors were computed (the rest were reused from an earlier build)."""
    chunks: int
    seconds: float


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
    ) -> None:
        """Wrap loaded parts; ``embedder`` is called once, on the first dense query."""
        self.path = path
        self.manifest = manifest
        self.chunks = chunks
        self._dense = dense
        self._sparse = sparse
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self._searcher = HybridSearcher(chunks, self._dense_scores, sparse.scores)
        self._query_cache: dict[str, np.ndarray] = {}
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
    def page_ids(self) -> set[str]:
        """Every citable page id: practice ids, question ids and general page ids."""
        return {page_id(c) for c in self.chunks}

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

    def _dense_scores(self, query: str) -> np.ndarray:
        vector = self.encode_query(query)
        scores, ids = self._dense.search(vector, len(self.chunks))
        out = np.full(len(self.chunks), -1.0, dtype="float32")
        valid = ids[0] >= 0
        out[ids[0][valid]] = scores[0][valid]
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
        return found or [c for c in self.chunks if page_id(c) == ident]


def page_id(chunk: Chunk) -> str:
    """Return the citable id of the page a chunk belongs to (bp id, question id or page slug)."""
    return chunk.bp_id or chunk.chunk_id.split("#", 1)[0].split("/", 1)[-1]


def index_root(home: Path) -> Path:
    """Return the folder holding every built index."""
    return home / "indexes"


def index_path(home: Path, chunks_hash: str, model: str) -> Path:
    """Return the directory of the index for this corpus content and model."""
    return index_root(home) / f"{chunks_hash[:16]}-v{FORMAT_VERSION}-{model_slug(model)}"


@contextmanager
def _lock(root: Path, name: str):
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_manifest(path: Path) -> dict:
    """Read and sanity-check ``manifest.json`` of an index directory (InputError if unusable)."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{path} is not a lenswise index (no {MANIFEST})") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"index manifest in {path} is unreadable: {exc}") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"index {path} has format {manifest.get('format_version')}, "
            f"expected {FORMAT_VERSION}: rebuild it with 'lenswise index build'"
        )
    return manifest


def load_index(path: Path, model: str, embedder: Callable[[], Embedder]) -> LensIndex:
    """Load the index in ``path``, refusing one built with another model or with damaged files."""
    import faiss

    manifest = read_manifest(path)
    if manifest.get("model") != model:
        raise InputError(
            f"index {path} was built with embedding model '{manifest.get('model')}', "
            f"not '{model}': build one for this model with 'lenswise index build'"
        )
    try:
        chunks = [
            Chunk.from_dict(json.loads(line))
            for line in (path / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
            if line
        ]
        dense = faiss.read_index(str(path / "dense.faiss"))
        sparse = SparseIndex.load(path / "bm25")
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"index {path} is damaged ({type(exc).__name__}): {_REBUILD}") from exc
    if (
        dense.ntotal != len(chunks)
        or dense.d != manifest.get("dim")
        or len(chunks) != manifest.get("chunk_count")
    ):
        raise InputError(
            f"index {path} is inconsistent (vectors, chunks and manifest disagree): {_REBUILD}"
        )
    return LensIndex(path, manifest, chunks, dense, sparse, embedder)


def _previous_vectors(home: Path, model: str) -> dict[str, np.ndarray]:
    """Collect vectors of earlier builds with the same model, keyed by embedded-text hash."""
    reusable: dict[str, np.ndarray] = {}
    root = index_root(home)
    if not root.is_dir():
        return reusable
    for path in sorted(root.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)[:5]:
        try:
            manifest = read_manifest(path)
            if manifest.get("model") != model:
                continue
            vectors = np.load(path / "vectors.npy")
            rows = [
                json.loads(line)
                for line in (path / "chunks.jsonl").read_text().splitlines()
                if line
            ]
        except (InputError, OSError, ValueError):
            continue
        if len(rows) != len(vectors):
            continue
        for row, vector in zip(rows, vectors, strict=True):
            reusable.setdefault(row.get("embed_hash", ""), vector)
    return reusable


def _is_valid(path: Path, model: str) -> bool:
    """Return True when ``path`` holds a complete, loadable index for ``model``."""
    if not all((path / f).exists() for f in _FILES):
        return False
    try:
        load_index(path, model, embedder=lambda: None)  # type: ignore[arg-type,return-value]
    except InputError:
        return False
    return True


def ensure_index(
    chunks: list[Chunk],
    *,
    home: Path,
    model: str,
    embedder: Callable[[], Embedder],
    source: str,
    edition: str | None = None,
    force: bool = False,
    notify: Callable[[str], None] | None = None,
) -> BuildReport:
    """Build the index for ``chunks`` unless an identical one exists; return what happened.

    Args:
        chunks: the corpus chunks, in a stable order.
        home: lenswise home; indexes live in ``home/indexes``.
        model: embedding model spec (recorded in the manifest, part of the directory key).
        embedder: factory for the encoder, called only when something must be embedded.
        source: corpus source label for the manifest.
        edition: lens edition of the corpus, when known.
        force: rebuild even when a valid index exists.
        notify: called with one line before a build starts (the CLI prints it).
    """
    started = time.perf_counter()
    if not chunks:
        raise InputError(f"source '{source}' produced no chunks to index")
    chunks_hash = corpus_hash(chunks)
    path = index_path(home, chunks_hash, model)
    if not force and _is_valid(path, model):
        return BuildReport(path, True, 0, len(chunks), time.perf_counter() - started)
    with _lock(index_root(home), path.name):
        if not force and _is_valid(path, model):  # another process finished it meanwhile
            return BuildReport(path, True, 0, len(chunks), time.perf_counter() - started)
        if notify:
            notify(f"building the index for source '{source}' ({len(chunks)} chunks)...")
        embedded = _build(
            path,
            chunks,
            chunks_hash,
            home=home,
            model=model,
            embedder=embedder,
            source=source,
            edition=edition,
        )
    return BuildReport(path, False, embedded, len(chunks), time.perf_counter() - started)


def _build(
    path: Path,
    chunks: list[Chunk],
    chunks_hash: str,
    *,
    home: Path,
    model: str,
    embedder: Callable[[], Embedder],
    source: str,
    edition: str | None,
) -> int:
    import faiss

    texts = [embed_text(c) for c in chunks]
    hashes = [_sha(t) for t in texts]
    previous = _previous_vectors(home, model)
    missing = [i for i, h in enumerate(hashes) if h not in previous]
    encoder = embedder() if missing else None
    fresh = encoder.encode([texts[i] for i in missing]) if encoder else np.zeros((0, 0), "float32")
    dim = int(fresh.shape[1]) if missing else int(next(iter(previous.values())).shape[0])
    vectors = np.zeros((len(chunks), dim), dtype="float32")
    for row, i in enumerate(missing):
        vectors[i] = fresh[row]
    for i, h in enumerate(hashes):
        if h in previous:
            vectors[i] = previous[h]
    tmp = path.parent / f".tmp-{path.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        dense = faiss.IndexFlatIP(dim)
        dense.add(vectors)
        faiss.write_index(dense, str(tmp / "dense.faiss"))
        np.save(tmp / "vectors.npy", vectors)
        SparseIndex.build(texts).save(tmp / "bm25")
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as out:
            for chunk, h in zip(chunks, hashes, strict=True):
                out.write(
                    json.dumps({**chunk.to_dict(), "embed_hash": h}, ensure_ascii=False) + "\n"
                )
        manifest = {
            "format_version": FORMAT_VERSION,
            "source": source,
            "edition": edition,
            "corpus_hash": chunks_hash,
            "model": model,
            "dim": dim,
            "chunk_count": len(chunks),
            "document_count": len({c.chunk_id.split("#")[0] for c in chunks}),
            "chunker_version": CHUNKER_VERSION,
            "versions": _versions(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        _swap_into_place(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return len(missing)


def _swap_into_place(tmp: Path, path: Path) -> None:
    """Rename ``tmp`` to ``path``; an old (damaged or forced) directory is moved aside first."""
    if path.exists():
        trash = path.parent / f".old-{path.name}-{uuid.uuid4().hex[:8]}"
        path.rename(trash)
        tmp.rename(path)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        tmp.rename(path)


class IndexConfig(Protocol):
    """What :func:`open_index` needs from the settings (``agent.config.Settings`` fits)."""

    home: Path
    source: str
    embedding_model: str
    lens: str


def open_index(
    config: IndexConfig, *, force: bool = False, notify: Callable[[str], None] | None = None
) -> tuple[LensIndex, BuildReport]:
    """Load the corpus named by ``config.source`` and return its index, building it if needed.

    The corpus is attached to the index as ``index.corpus`` (the agent needs its documents).
    """
    corpus = load_source(config.source, home=config.home, lens=config.lens)
    chunks = chunk_documents(corpus.documents)
    model = config.embedding_model
    cache: list[Embedder] = []

    def embedder() -> Embedder:
        if not cache:
            cache.append(load_embedder(model))
        return cache[0]

    report = ensure_index(
        chunks,
        home=config.home,
        model=model,
        embedder=embedder,
        source=corpus.source,
        edition=corpus.edition,
        force=force,
        notify=notify,
    )
    index = load_index(report.path, model, embedder)
    index.corpus = corpus
    return index, report


def open_index_dir(path: Path, model: str) -> LensIndex:
    """Open a specific index directory, refusing one built for another embedding model."""
    if not path.is_dir():
        raise InputError(f"index directory not found: {path}")
    return load_index(path, model, lambda: load_embedder(model))
