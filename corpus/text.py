"""Splitting prose into sentences and stemming words: one way, used by every part.

The chunker keeps sentences and list items whole, extractive answers quote sentences, the
citation check and the evals judge sentences: all of them split with :func:`split_units`,
so a quote, a chunk boundary and a graded claim always agree on where a sentence ends.
"""

from __future__ import annotations

import re
from functools import lru_cache

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "approx.", "incl.")
_SENTENCE_END = re.compile(
    r"(?<=[.!?])"
    + "".join(rf"(?<!{re.escape(a)})" for a in _ABBREVIATIONS)
    + r"\s+(?=[\"'(\[A-Z0-9*])"
)
"""A sentence ends at ``.``, ``!`` or ``?`` before a capital, digit, quote or bracket, but not
after an abbreviation (``e.g. Amazon Bedrock`` stays one sentence)."""
_BULLETS = ("- ", "* ")


def split_units(text: str) -> list[str]:
    """Split text into the units that must stay whole: sentences, and each list item entire.

    List items keep their ``- `` / ``* `` marker (see :func:`sentences` for the bare text).
    """
    units: list[str] = []
    for block in text.splitlines():
        block = block.strip()
        if not block:
            continue
        if block.startswith(_BULLETS):
            units.append(block)
        else:
            units.extend(s.strip() for s in _SENTENCE_END.split(block) if s.strip())
    return units


def sentences(text: str) -> list[str]:
    """Split prose into sentences; each list item counts as one sentence, without its marker."""
    return [u[2:].strip() if u.startswith(_BULLETS) else u for u in split_units(text)]


@lru_cache(maxsize=1)
def stemmer():
    """Return the English Snowball stemmer (PyStemmer) that BM25 and claim checks share."""
    import Stemmer

    return Stemmer.Stemmer("english")
