"""BM25 over the chunk texts, via the maintained ``bm25s`` library with English stemming."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from bm25s.stopwords import STOPWORDS_EN_PLUS

from corpus.text import stemmer

# The broad English list plus the words of how practitioners phrase questions, which carry no
# topic ("how do we...", "what should our..."). Measured on the development suite, the broad
# list lifts BM25 recall@5 from 0.76 to 0.84 on the full lens text.
STOPWORDS: tuple[str, ...] = tuple(
    sorted(
        set(STOPWORDS_EN_PLUS)
        | {
            "how",
            "what",
            "which",
            "do",
            "does",
            "should",
            "can",
            "we",
            "our",
            "us",
            "i",
            "my",
            "you",
            "your",
            "use",
            "using",
            "way",
        }
    )
)


class SparseIndex:
    """A bm25s retriever plus the tokenisation settings it was built with."""

    def __init__(self, retriever, size: int) -> None:
        """Wrap a fitted ``bm25s.BM25`` over ``size`` documents."""
        self._retriever = retriever
        self._size = size

    @classmethod
    def build(cls, texts: list[str]) -> SparseIndex:
        """Tokenise (lower case, English stop words, Snowball stems) and fit BM25."""
        import bm25s

        tokens = bm25s.tokenize(
            texts, stopwords=list(STOPWORDS), stemmer=stemmer(), show_progress=False
        )
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        return cls(retriever, len(texts))

    def save(self, folder: Path) -> None:
        """Write the BM25 state into ``folder``."""
        self._retriever.save(str(folder))

    @classmethod
    def load(cls, folder: Path) -> SparseIndex:
        """Read BM25 state written by :meth:`save`."""
        import bm25s

        if not folder.is_dir():
            raise ValueError(f"missing BM25 folder {folder}")
        retriever = bm25s.BM25.load(str(folder))
        return cls(retriever, int(retriever.scores["num_docs"]))

    def scores(self, query: str) -> np.ndarray:
        """Return the BM25 score of every document for ``query`` (zeros when no term matches)."""
        known = [t for t in tokenize(query) if t in self._retriever.vocab_dict]
        if not known:
            return np.zeros(self._size, dtype="float32")
        return np.asarray(self._retriever.get_scores(known), dtype="float32")

    def known_share(self, query: str) -> float:
        """Return the share of the query's terms that occur in the indexed texts (0 if none)."""
        terms = tokenize(query)
        if not terms:
            return 0.0
        return sum(t in self._retriever.vocab_dict for t in terms) / len(terms)

    def document_frequency(self, token: str) -> int:
        """Return how many documents contain ``token`` (a stemmed term, see :func:`tokenize`)."""
        position = self._retriever.vocab_dict.get(token)
        if position is None:
            return 0
        indptr = self._retriever.scores["indptr"]
        return int(indptr[position + 1] - indptr[position])

    @property
    def size(self) -> int:
        """Number of indexed documents."""
        return self._size


def tokenize(text: str) -> list[str]:
    """Return the stemmed, stop-word-free terms of ``text``, exactly as BM25 indexes them."""
    import bm25s

    terms = bm25s.tokenize(
        [text], stopwords=list(STOPWORDS), stemmer=stemmer(), return_ids=False, show_progress=False
    )
    # Strings, with return_ids=False; bm25s types the result as either form.
    return terms[0]  # pyright: ignore[reportReturnType]
