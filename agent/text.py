"""Small text utilities shared by routing, extractive answers and citation checks."""

from __future__ import annotations

import re
from functools import lru_cache

from index.sparse import STOPWORDS

_WORD = re.compile(r"(?u)\b\w\w+\b")  # the token pattern BM25 indexes with (index.sparse)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9*])")
_STOP = frozenset(STOPWORDS) | {"best", "practice", "practices", "lens", "aws", "amazon"}


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(text: str) -> list[str]:
    """Return the stemmed content words of ``text`` (stop words removed), in order."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    return _stemmer().stemWords(words)


def sentences(text: str) -> list[str]:
    """Split prose into sentences; list items (``- ...``) count as one sentence each."""
    out: list[str] = []
    for block in text.splitlines():
        block = block.strip()
        if not block:
            continue
        if block.startswith(("- ", "* ")):
            out.append(block[2:].strip())
        else:
            out.extend(s.strip() for s in _SENTENCE_END.split(block) if s.strip())
    return out


def containment(claim: str, evidence: str) -> float:
    """Return the share of the claim's content stems that appear in the evidence (0..1)."""
    claim_stems = set(stems(claim))
    if not claim_stems:
        return 0.0
    return len(claim_stems & set(stems(evidence))) / len(claim_stems)
