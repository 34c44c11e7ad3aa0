"""Small text utilities shared by routing, extractive answers and citation checks."""

from __future__ import annotations

import re

from corpus.text import stemmer
from index.sparse import STOPWORDS

_WORD = re.compile(r"(?u)\b\w\w+\b")  # the token pattern BM25 indexes with (index.sparse)
_STOP = frozenset(STOPWORDS) | {"best", "practice", "practices", "lens", "aws", "amazon"}


def stems(text: str) -> list[str]:
    """Return the stemmed content words of ``text`` (stop words removed), in order."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    return stemmer().stemWords(words)


def containment(claim: str, evidence: str) -> float:
    """Return the share of the claim's content stems that appear in the evidence (0..1)."""
    claim_stems = set(stems(claim))
    if not claim_stems:
        return 0.0
    return len(claim_stems & set(stems(evidence))) / len(claim_stems)
