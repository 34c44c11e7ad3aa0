"""Hybrid search over one loaded index: dense + BM25 with reciprocal rank fusion.

Also: exact lookups of practice or question ids (``GENSEC02-BP01``, ``gensec02``), pillar /
lens / risk filters, and per-document grouping so that one best practice cannot fill the
whole top k with its own chunks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from typing_extensions import TypedDict

from corpus.errors import InputError, check_int, check_text, cut
from corpus.ids import find_ids, without_ids
from corpus.models import Chunk
from corpus.schema import output_shape
from corpus.vocabulary import PILLAR_ABBREVIATIONS, PILLARS

MODES = ("hybrid", "dense", "bm25")
GENERAL_PAGE_PRIOR = 0.6
"""Hybrid-score factor for pages that are not best practices (scenarios, preambles): they
still lead when both retrievers agree on them, but no longer push practices out of the top
results on a shared word (dev suite on the digest: recall@5 0.89 -> 0.92, MRR 0.87 -> 0.90)."""
RRF_K = 5
"""Rank-fusion constant; small because the corpus is small and top ranks matter most (dev suite)."""


@output_shape
class HitJSON(TypedDict):
    """One search hit in ``--json`` output (DESIGN.md data model)."""

    rank: int
    """1 for the best hit."""
    chunk_id: str
    """Stable passage id, e.g. ``generative-ai/GENSEC04-BP02#3``."""
    bp_id: str | None
    """Best-practice id, or null for a general lens page."""
    title: str
    pillar: str | None
    section: str
    """Part of the page: ``Desired outcome``, ``Implementation guidance``..."""
    score: float
    """Fused retrieval score; only the order matters."""
    url: str
    """Official documentation page."""
    text: str


@output_shape
class SearchJSON(TypedDict):
    """What ``lenswise search --json`` prints for one query (one line per query in a batch)."""

    query: str
    hits: list[HitJSON]
    """Best first."""


@dataclass(frozen=True)
class Hit:
    """One search result: a chunk, its rank and its fused score."""

    rank: int
    score: float
    chunk: Chunk

    def to_dict(self) -> HitJSON:
        """Return the DESIGN.md search-hit JSON."""
        c = self.chunk
        return {
            "rank": self.rank,
            "chunk_id": c.chunk_id,
            "bp_id": c.bp_id,
            "title": c.title,
            "pillar": c.pillar,
            "section": c.section,
            "score": round(float(self.score), 6),
            "url": c.url,
            "text": c.text,
        }


def normalise_pillar(value: str | None) -> str | None:
    """Map ``security``, ``SEC``, ``cost-optimization``... to a pillar name, else InputError."""
    if not value:
        return None
    check_text(value, "pillar")
    key = re.sub(r"[^a-z]", "", value.lower())
    for pillar in PILLARS:
        if key == re.sub(r"[^a-z]", "", pillar.lower()):
            return pillar
    for alias, pillar in PILLAR_ABBREVIATIONS.items():
        if key in (alias, f"gen{alias}"):
            return pillar
    raise InputError(f"unknown pillar '{cut(value)}' (one of: {', '.join(PILLARS)})")


def normalise_risk(value: str | None) -> str | None:
    """Map ``high``/``medium``/``low`` to the lens spelling; InputError if unknown."""
    if not value:
        return None
    if not isinstance(value, str) or value.lower() not in ("high", "medium", "low"):
        raise InputError(f"unknown risk '{cut(str(value))}' (high, medium or low)")
    return value.capitalize()


def rrf(rankings: Sequence[np.ndarray], n: int, k: int = RRF_K) -> np.ndarray:
    """Fuse ranked index lists with reciprocal rank fusion; return a score per item."""
    scores = np.zeros(n, dtype="float64")
    for ranking in rankings:
        scores[ranking] += 1.0 / (k + np.arange(1, len(ranking) + 1))
    return scores


class HybridSearcher:
    """Searches chunks with a dense scorer, a BM25 scorer and id lookups.

    The scorers are injected: ``dense(query) -> cosine per chunk`` and
    ``sparse(query) -> BM25 score per chunk``, both arrays aligned with ``chunks``.
    """

    def __init__(
        self,
        chunks: Sequence[Chunk],
        dense: Callable[[str], np.ndarray],
        sparse: Callable[[str], np.ndarray],
    ) -> None:
        """Keep the chunks and scorers; precompute id -> chunk positions."""
        self.chunks = list(chunks)
        self._dense = dense
        self._sparse = sparse
        self._not_question_page = np.array(
            [not (c.question_id and not c.bp_id) for c in self.chunks], dtype=bool
        )
        self._page_prior = np.array(
            [1.0 if c.bp_id else GENERAL_PAGE_PRIOR for c in self.chunks], dtype="float64"
        )
        self._lenses = sorted({c.lens for c in self.chunks})
        self._by_id: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            for ident in {i for i in (c.bp_id, c.question_id) if i is not None}:
                self._by_id.setdefault(ident, []).append(i)

    @property
    def ids(self) -> list[str]:
        """Practice and question ids that exact lookups recognise."""
        return list(self._by_id)

    def search(
        self,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        pillar: str | None = None,
        lens: str | None = None,
        risk: str | None = None,
        per_doc: int = 1,
    ) -> list[Hit]:
        """Return the top ``k`` hits for ``query``.

        Args:
            query: free text, or practice / question ids (exact lookup).
            k: number of hits.
            mode: ``hybrid`` (rank fusion), ``dense`` or ``bm25``.
            pillar: keep only this pillar (name or alias such as ``security`` or ``sec``).
            lens: keep only this lens slug.
            risk: keep only practices of this risk level.
            per_doc: at most this many chunks of one document (0 = no limit).
        """
        if isinstance(query, str) and not query.strip():
            raise InputError("empty query: give a question or a best-practice id")
        query = check_text(query, "query")
        if mode not in MODES:
            raise InputError(f"unknown search mode {mode!r} (one of: {', '.join(MODES)})")
        check_int(k, "k", minimum=1)
        check_int(per_doc, "per_doc", minimum=0)
        if lens is not None and lens not in self._lenses:
            raise InputError(f"unknown lens {lens!r} (this index holds: {', '.join(self._lenses)})")
        mask = self._mask(normalise_pillar(pillar), lens, normalise_risk(risk))
        ids = find_ids(query, set(self._by_id))
        if not ids:
            # Question overview pages only restate their practices: they answer id lookups,
            # while free-text queries go to the practices and general pages themselves.
            mask &= self._not_question_page
        scores = self._scores(query, mode, ids)
        scores = np.where(mask, scores, -np.inf)
        order = np.argsort(-scores, kind="stable")
        return self._group(order, scores, k, per_doc)

    def _scores(self, query: str, mode: str, ids: list[str]) -> np.ndarray:
        n = len(self.chunks)
        rest = without_ids(query, set(self._by_id)) if ids else query
        if ids and len(re.findall(r"\w+", rest)) == 0:
            scores = np.full(n, -np.inf)  # a pure id lookup returns only the named pages
            for ident in ids:
                scores[self._by_id[ident]] = 0.0
        elif mode == "dense":
            scores = self._dense(query).astype("float64")
        elif mode == "bm25":
            scores = self._sparse(query).astype("float64")
        else:
            dense_order = np.argsort(-self._dense(query), kind="stable")
            sparse = self._sparse(query)
            sparse_order = np.argsort(-sparse, kind="stable")[: int((sparse > 0).sum())]
            scores = rrf([dense_order, sparse_order], n) * self._page_prior
        if ids:
            finite = scores[np.isfinite(scores)]
            boost = (finite.max() - finite.min() + 1.0) if finite.size else 1.0
            for position, ident in enumerate(ids):
                # Earlier-named ids first; within a document, chunk order is kept.
                for offset, i in enumerate(self._by_id[ident]):
                    scores[i] += boost * (len(ids) - position) + 1e-6 * (
                        len(self._by_id[ident]) - offset
                    )
        return scores

    def _mask(self, pillar: str | None, lens: str | None, risk: str | None) -> np.ndarray:
        return np.array(
            [
                (pillar is None or c.pillar == pillar)
                and (lens is None or c.lens == lens)
                and (risk is None or c.risk == risk)
                for c in self.chunks
            ],
            dtype=bool,
        )

    def _group(self, order: np.ndarray, scores: np.ndarray, k: int, per_doc: int) -> list[Hit]:
        hits: list[Hit] = []
        taken: dict[tuple[str, str], int] = {}
        for i in order:
            if not np.isfinite(scores[i]):
                break
            chunk = self.chunks[i]
            doc = (chunk.lens, chunk.chunk_id.split("#", 1)[0])
            if per_doc and taken.get(doc, 0) >= per_doc:
                continue
            taken[doc] = taken.get(doc, 0) + 1
            hits.append(Hit(rank=len(hits) + 1, score=float(scores[i]), chunk=chunk))
            if len(hits) == k:
                break
        return hits
