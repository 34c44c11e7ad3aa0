"""The routing part of an index directory: example-question keys and the calibrated models.

Files, next to the chunk index: ``examples.jsonl`` (every labelled question of the lens with
its split, labels and text hash), ``examples.npy`` (their vectors, kept so that a rebuild
embeds only new questions), ``pages_bm25/`` (BM25 over whole pages), ``router.json`` (the
fitted combining models, cut-offs and the calibration report) and ``router.npz`` (the
embedding classifiers' weights). Built by :func:`build_router` at index build time; a lens
without example questions has no router, and the agent falls back to plain retrieval scores.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from corpus.examples import Example, ExampleSet
from corpus.models import Chunk
from index.calibrate import Classifiers, calibrate, signals_of
from index.embeddings import Embedder
from index.relevance import (
    PageScore,
    PageTable,
    RouterModel,
    ScopeDecision,
    decide_scope,
    rank_pages,
    select_pages,
)
from index.sparse import SparseIndex, tokenize
from index.titles import TitleNames, title_names

EXAMPLE_ROWS = "examples.jsonl"
EXAMPLE_VECTORS = "examples.npy"
PAGE_BM25 = "pages_bm25"
ROUTER = "router.json"
ROUTER_ARRAYS = "router.npz"


def text_hash(text: str) -> str:
    """Return the key under which a text's vector is stored and reused."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Router:
    """Loaded routing keys and models: scope decisions and page relevance for queries."""

    def __init__(
        self,
        table: PageTable,
        key_vectors: np.ndarray,
        pages_sparse: SparseIndex,
        model: RouterModel,
        titles: TitleNames,
    ) -> None:
        """Wrap the key table, its vectors (same order), page BM25, the models, the titles."""
        self.table = table
        self.titles = titles
        self.key_vectors = key_vectors
        self.pages_sparse = pages_sparse
        self.model = model
        self._classifiers = Classifiers(
            model.page_classifier, model.scope_classifier, model.intent_classifier, model.term_odds
        )

    def signals(
        self, query: str, vector: np.ndarray, dense: np.ndarray, sparse: np.ndarray, known: float
    ):
        """Return the :class:`index.relevance.Signals` of a query.

        Args:
            query: the query text.
            vector: its embedding (the index's model).
            dense: its cosine similarity to every chunk.
            sparse: its BM25 score against every chunk.
            known: share of its terms found in the corpus.
        """
        return signals_of(
            np.asarray(vector, dtype="float32").reshape(-1),
            dense,
            sparse,
            self.pages_sparse.scores(query),
            self.key_vectors,
            self._classifiers,
            known,
            tokenize(query),
        )

    def rank(self, signals, pillar: str | None = None, query: str = "") -> list[PageScore]:
        """Return candidate pages with calibrated probabilities, most likely first.

        Pages that ``query`` names by their title lead (:mod:`index.titles`).
        """
        named = self.titles.named(query) if query else []
        return rank_pages(self.table, self.model, signals, pillar, named)

    def select(self, scores: Sequence[PageScore]) -> list[PageScore]:
        """Return the pages an answer should name (see :func:`index.relevance.select_pages`)."""
        return select_pages(scores, self.model.page_threshold)

    def scope(self, signals) -> ScopeDecision:
        """Decide whether the lens answers the query."""
        return decide_scope(self.table, self.model, signals)

    @property
    def report(self) -> dict:
        """Calibration figures (dev split fitted on, test split held out)."""
        return self.model.report


def page_texts(table: PageTable, texts: Sequence[str]) -> list[str]:
    """Return one text per page of ``table``: its chunks' indexed texts joined."""
    joined = [""] * len(table.pages)
    for row, page in enumerate(table.chunk_page):
        if page >= 0:
            joined[page] += "\n" + texts[row]
    return joined


def build_router(
    folder: Path,
    chunks: Sequence[Chunk],
    texts: Sequence[str],
    chunk_vectors: np.ndarray,
    sparse: SparseIndex,
    examples: ExampleSet,
    previous: dict[str, np.ndarray],
    encoder: Callable[[], Embedder],
) -> dict:
    """Embed the example questions, fit the models and write the router files into ``folder``.

    Args:
        folder: the index directory being built.
        chunks: the index's chunks.
        texts: their indexed texts (context and body), same order.
        chunk_vectors: their vectors, same order.
        sparse: the index's chunk BM25.
        examples: the lens's labelled questions.
        previous: vectors of earlier builds by text hash (reused, not re-embedded).
        encoder: returns the embedding model (called only if something must be embedded).

    Returns:
        What the manifest records: the examples' digest, key count and calibration report.
    """
    unique = list(dict.fromkeys(e.text for e in examples.examples))
    missing = [t for t in unique if text_hash(t) not in previous]
    vectors = dict(previous)
    if missing:
        fresh = encoder().encode(missing)
        vectors.update({text_hash(t): v for t, v in zip(missing, fresh, strict=True)})
    table = PageTable(chunks, examples.split("dev"))
    pages_sparse = SparseIndex.build(page_texts(table, texts))
    result = calibrate(
        table,
        chunk_vectors,
        sparse.scores,
        pages_sparse.scores,
        sparse.known_share,
        tokenize,
        [tokenize(t) for t in texts],
        examples,
        lambda text: vectors[text_hash(text)],
    )
    rows = list(examples.examples)
    with open(folder / EXAMPLE_ROWS, "w", encoding="utf-8") as out:
        for example in rows:
            out.write(json.dumps(_row(example), ensure_ascii=False) + "\n")
    np.save(folder / EXAMPLE_VECTORS, np.array([vectors[text_hash(e.text)] for e in rows]))
    pages_sparse.save(folder / PAGE_BM25)
    (folder / ROUTER).write_text(json.dumps(result.model.to_dict(), indent=1), encoding="utf-8")
    # numpy's stub lets **arrays also fill the bool allow_pickle: a false alarm on a str->array dict
    np.savez(folder / ROUTER_ARRAYS, **result.model.arrays())  # pyright: ignore[reportArgumentType]
    return {
        "examples": examples.digest,
        "keys": int(len(result.key_vectors)),
        "report": result.model.report,
    }


def load_router(folder: Path, chunks: Sequence[Chunk]) -> Router | None:
    """Load the router files of an index directory; None when the index has none.

    Raises:
        ValueError, KeyError, OSError: the files are damaged (the caller reports it).
    """
    if not (folder / ROUTER).is_file():
        return None
    rows = [
        json.loads(line)
        for line in (folder / EXAMPLE_ROWS).read_text(encoding="utf-8").splitlines()
        if line
    ]
    vectors = np.load(folder / EXAMPLE_VECTORS)
    if len(rows) != len(vectors):
        raise ValueError(f"{EXAMPLE_ROWS} and {EXAMPLE_VECTORS} disagree")
    examples = [_example(row) for row in rows]
    dev = [i for i, e in enumerate(examples) if e.split == "dev"]
    table = PageTable(chunks, [examples[i] for i in dev])
    with np.load(folder / ROUTER_ARRAYS) as arrays:
        model = RouterModel.load(
            json.loads((folder / ROUTER).read_text(encoding="utf-8")), dict(arrays)
        )
    pages_sparse = SparseIndex.load(folder / PAGE_BM25)
    titles = title_names(table.pages, chunks)
    return Router(table, vectors[dev].astype("float32"), pages_sparse, model, titles)


def stored_vectors(folder: Path) -> dict[str, np.ndarray]:
    """Return the example vectors of an index directory by text hash (empty if none)."""
    try:
        rows = (folder / EXAMPLE_ROWS).read_text(encoding="utf-8").splitlines()
        vectors = np.load(folder / EXAMPLE_VECTORS)
    except (OSError, ValueError):
        return {}
    hashes = [json.loads(line).get("hash", "") for line in rows if line]
    if len(hashes) != len(vectors):
        return {}
    return dict(zip(hashes, vectors, strict=True))


def _row(example: Example) -> dict:
    return {
        "text": example.text,
        "labels": list(example.labels),
        "split": example.split,
        "kind": example.kind,
        "note": example.note,
        "hash": text_hash(example.text),
    }


def _example(row: dict) -> Example:
    return Example(row["text"], tuple(row["labels"]), row["split"], row["kind"], row["note"])
