"""Build, reuse and open indexes: atomic, locked, incremental.

A build writes into a temporary sibling directory and renames it into place under an
exclusive lock, so readers never see a half-written index and two builders never clash;
what a killed build leaves behind is swept away once no builder holds its lock. Vectors of
earlier builds with the same model are reused, so a rebuild embeds only chunks whose text
changed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol

import numpy as np

from corpus.chunking import CHUNKER_VERSION, chunk_documents
from corpus.errors import InputError, LenswiseError
from corpus.examples import ExampleSet, load_examples
from corpus.models import Chunk
from corpus.sources import load_source
from index.embeddings import Embedder, load_embedder
from index.locks import file_lock
from index.onnx_embedder import load_query_embedder
from index.router import build_router, stored_vectors
from index.sparse import SparseIndex
from index.store import (
    FORMAT_VERSION,
    INDEX_FILES,
    MANIFEST,
    LensIndex,
    index_path,
    index_root,
    load_index,
    read_chunks,
    read_manifest,
)

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while chunks are embedded (total: chunks to embed)."""
EMBED_BATCH = 64


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


def _lock_file(root: Path, name: str) -> Path:
    return root / f".{name}.lock"


def _sweep_leftovers(root: Path) -> None:
    """Delete ``.tmp-*`` / ``.old-*`` directories of builds that were killed midway.

    Each is named after the index it was building (``.tmp-<name>-<8 hex>``); it is a leftover
    exactly when nobody holds that index's build lock.
    """
    if not root.is_dir():
        return
    for entry in root.iterdir():
        if not entry.name.startswith((".tmp-", ".old-")):
            continue
        try:
            with file_lock(_lock_file(root, entry.name[5:-9]), wait_s=0):
                _remove(entry)
        except (TimeoutError, OSError):
            continue  # a build in progress (or a read-only home): leave it


def _remove(path: Path) -> None:
    """Delete a directory tree, or a file standing where an index directory belongs."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _previous_vectors(home: Path, model: str) -> dict[str, np.ndarray]:
    """Collect vectors of earlier builds with the same model, keyed by embedded-text hash."""
    reusable: dict[str, np.ndarray] = {}
    root = index_root(home)
    if not root.is_dir():
        return reusable
    builds = []
    for path in root.iterdir():
        try:
            if not path.name.startswith(".") and path.is_dir():
                builds.append((path.stat().st_mtime, path))
        except OSError:
            continue
    for _, path in sorted(builds, reverse=True)[:5]:
        try:
            manifest = read_manifest(path)
            if manifest["model"] != model:
                continue
            vectors = np.load(path / "vectors.npy")
            _, hashes = read_chunks(path)
        except (InputError, OSError, ValueError):
            continue
        if vectors.dtype != np.float32 or vectors.shape != (len(hashes), manifest["dim"]):
            continue  # damaged: do not reuse
        for embed_hash, vector in zip(hashes, vectors, strict=True):
            reusable.setdefault(embed_hash, vector)
        for key, vector in stored_vectors(path).items():
            reusable.setdefault(key, vector)
    return reusable


def lens_examples(chunks: list[Chunk]) -> ExampleSet | None:
    """Return the labelled example questions of the chunks' lens, if it has any."""
    lenses = [c.lens for c in chunks]
    return load_examples(max(set(lenses), key=lenses.count)) if lenses else None


def _is_valid(path: Path, model: str, examples: ExampleSet | None) -> bool:
    """Return True when ``path`` holds a complete, loadable index for ``model``.

    An index calibrated on other example questions than the current ones is out of date.
    """
    if not all((path / f).exists() for f in INDEX_FILES):
        return False
    try:
        index = load_index(path, model, embedder=lambda: None)  # type: ignore[arg-type,return-value]
    except InputError:
        return False
    wanted = examples.digest if examples else None
    return (index.manifest.get("router") or {}).get("examples") == wanted


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
    progress: Progress | None = None,
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
        progress: called after each batch of chunks is embedded (see :data:`Progress`).
    """
    started = time.perf_counter()
    if not chunks:
        raise InputError(f"source '{source}' produced no chunks to index")
    chunks_hash = corpus_hash(chunks)
    path = index_path(home, chunks_hash, model)
    examples = lens_examples(chunks)
    _sweep_leftovers(index_root(home))
    if not force and _is_valid(path, model, examples):
        return BuildReport(path, True, 0, len(chunks), time.perf_counter() - started)
    with file_lock(_lock_file(index_root(home), path.name)):
        if not force and _is_valid(path, model, examples):  # another process finished it meanwhile
            return BuildReport(path, True, 0, len(chunks), time.perf_counter() - started)
        if notify:
            damaged = " (the existing one is damaged)" if path.exists() and not force else ""
            notify(f"building the index for source '{source}' ({len(chunks)} chunks){damaged}...")
        embedded = _build(
            path,
            chunks,
            chunks_hash,
            home=home,
            model=model,
            embedder=embedder,
            source=source,
            edition=edition,
            examples=examples,
            progress=progress,
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
    examples: ExampleSet | None,
    progress: Progress | None = None,
) -> int:
    import faiss

    texts = [embed_text(c) for c in chunks]
    hashes = [_sha(t) for t in texts]
    previous = _previous_vectors(home, model)
    missing = [i for i, h in enumerate(hashes) if h not in previous]
    loaded: list[Embedder] = []

    def encoder() -> Embedder:
        if not loaded:
            loaded.append(embedder())
        return loaded[0]

    fresh = _embed(encoder, [texts[i] for i in missing], progress) if missing else np.zeros((0, 0))
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
        # Written from Python: faiss.write_index only prints a failed close (a full disk).
        (tmp / "dense.faiss").write_bytes(faiss.serialize_index(dense).tobytes())
        np.save(tmp / "vectors.npy", vectors)
        sparse = SparseIndex.build(texts)
        sparse.save(tmp / "bm25")
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
            "router": build_router(tmp, chunks, texts, vectors, sparse, examples, previous, encoder)
            if examples
            else None,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        _swap_into_place(tmp, path)
    except OSError as exc:  # a full disk, most often; the old index (if any) is untouched
        raise LenswiseError(
            f"cannot write the index in {path.parent} ({exc.strerror or exc}): free some disk "
            "space (or fix the folder's permissions) and build again"
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return len(missing)


def _embed(
    encoder: Callable[[], Embedder], texts: list[str], progress: Progress | None
) -> np.ndarray:
    """Embed ``texts`` in batches, telling ``progress`` how many are done after each."""
    if progress is None:
        return encoder().encode(texts)
    progress(0, len(texts))  # before the model loads, which takes a while of its own
    model = encoder()
    parts = []
    for start in range(0, len(texts), EMBED_BATCH):
        parts.append(model.encode(texts[start : start + EMBED_BATCH]))
        progress(min(start + EMBED_BATCH, len(texts)), len(texts))
    return np.concatenate(parts)


def _swap_into_place(tmp: Path, path: Path) -> None:
    """Rename ``tmp`` to ``path``; an old (damaged or forced) directory is moved aside first."""
    if path.exists():
        trash = path.parent / f".old-{path.name}-{uuid.uuid4().hex[:8]}"
        path.rename(trash)
        tmp.rename(path)
        _remove(trash)
    else:
        tmp.rename(path)


class IndexConfig(Protocol):
    """What :func:`open_index` needs from the settings (``agent.config.Settings`` fits).

    Read-only properties, so a frozen dataclass such as ``Settings`` is one.
    """

    @property
    def home(self) -> Path: ...  # noqa: D102

    @property
    def source(self) -> str: ...  # noqa: D102

    @property
    def embedding_model(self) -> str: ...  # noqa: D102

    @property
    def query_encoder(self) -> str: ...  # noqa: D102

    @property
    def lens(self) -> str: ...  # noqa: D102


def open_index(
    config: IndexConfig,
    *,
    force: bool = False,
    notify: Callable[[str], None] | None = None,
    progress: Progress | None = None,
) -> tuple[LensIndex, BuildReport]:
    """Load the corpus named by ``config.source`` and return its index, building it if needed.

    ``notify`` hears one line before a build; ``progress`` hears chunks embedded during it.

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
        progress=progress,
    )
    index = load_index(report.path, model, _query_factory(config, embedder))
    index.corpus = corpus
    return index, report


def index_status(config: IndexConfig) -> tuple[bool, Path]:
    """Return whether the index of ``config.source`` is built and valid, and where it lives.

    Nothing is built: a server's health check asks this before it takes traffic.
    """
    corpus = load_source(config.source, home=config.home, lens=config.lens)
    chunks = chunk_documents(corpus.documents)
    path = index_path(config.home, corpus_hash(chunks), config.embedding_model)
    return _is_valid(path, config.embedding_model, lens_examples(chunks)), path


def open_index_dir(config: IndexConfig, path: Path) -> LensIndex:
    """Open a specific index directory, refusing one built for another embedding model."""
    if not path.is_dir():
        raise InputError(f"index directory not found: {path}")
    model = config.embedding_model
    return load_index(path, model, _query_factory(config, lambda: load_embedder(model)))


def _query_factory(
    config: IndexConfig, reference: Callable[[], Embedder]
) -> Callable[[], Embedder]:
    """Return the index's query-encoder factory (see :func:`load_query_embedder`)."""
    return lambda: load_query_embedder(
        config.embedding_model, home=config.home, runtime=config.query_encoder, reference=reference
    )
