"""Finding lens ids in free text, however loosely people write them.

``GENSEC04-BP02``, ``gensec04 bp02``, ``gensec 4 bp 2``, ``sec04-bp02``, ``GENREL5 bp3``,
``perf4``, ``security practice 4.2`` and ``cost question 3`` all name an id of the Generative
AI Lens. Only ids that exist (``known``) are returned, so a loose form that names nothing real
("sec99", "ec2", "top 5") is ignored.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from corpus.vocabulary import PILLAR_ABBREVIATIONS, id_letters

_COMPACT = re.compile(
    r"(?<![\w-])(?P<letters>[A-Za-z]{2,12}?)(?P<space>\s?)(?P<number>\d{1,2})"
    r"(?:\s*[-_.]?\s*(?:bp|best\s*practice)\s*[-_.]?\s*(?P<bp>\d{1,2}))?(?!\w)",
    re.I,
)
_WORDS = {
    "operational": "ops",
    "operations": "ops",
    "ops": "ops",
    "security": "sec",
    "reliability": "rel",
    "performance": "perf",
    "cost": "cost",
    "sustainability": "sus",
}
_SPELLED = re.compile(
    r"\b(?P<pillar>" + "|".join(_WORDS) + r")(?:\s+(?:excellence|efficiency|optimi[sz]ation))?"
    r"\s+(?:best\s+)?(?:practice|bp|question)s?\s+(?:no\.?\s*|number\s+)?"
    r"(?P<number>\d{1,2})(?:\.(?P<bp>\d{1,2}))?\b",
    re.I,
)


@dataclass(frozen=True)
class IdMention:
    """An id found in text, and where."""

    ident: str
    start: int
    end: int


def id_mentions(text: str, known: set[str]) -> list[IdMention]:
    """Return every known id named in ``text``, in order of appearance (first mention only)."""
    groups = {id_letters(ident) for ident in known if ident[:1].isalpha()}
    prefix = os.path.commonprefix(sorted(groups)) if len(groups) > 1 else ""
    found: list[IdMention] = []
    for match in _COMPACT.finditer(text):
        letters = match.group("letters").upper()
        base = letters if letters in groups else prefix + letters
        if base not in groups:
            continue
        if match.group("space") and letters not in groups and not match.group("bp"):
            continue  # "sec 4" is too loose to be an id; "sec 4 bp 2" and "gensec 4" are not
        ident = _ident(base, match.group("number"), match.group("bp"))
        if ident in known:
            found.append(IdMention(ident, match.start(), match.end()))
    for match in _SPELLED.finditer(text):
        abbreviation = _WORDS[match.group("pillar").lower()]
        if abbreviation not in PILLAR_ABBREVIATIONS:
            continue
        ident = _ident(prefix + abbreviation.upper(), match.group("number"), match.group("bp"))
        if ident in known:
            found.append(IdMention(ident, match.start(), match.end()))
    unique: dict[str, IdMention] = {}
    for mention in sorted(found, key=lambda m: m.start):
        unique.setdefault(mention.ident, mention)
    return list(unique.values())


def unknown_ids(text: str, known: set[str]) -> list[str]:
    """Return the ids written with one of the lens's own prefixes that name no page, in order.

    ``GENREL09``, ``GENSEC04-BP05`` and ``gensec01 bp07`` count when the lens has no such page;
    a short or foreign form ("sec 9", ``ISO27001``) does not, since it may not mean an id.
    """
    groups = {id_letters(ident) for ident in known if ident[:1].isalpha()}
    found = []
    for match in _COMPACT.finditer(text):
        letters = match.group("letters").upper()
        if letters in groups:
            ident = _ident(letters, match.group("number"), match.group("bp"))
            if ident not in known:
                found.append(ident)
    return list(dict.fromkeys(found))


def find_ids(text: str, known: set[str]) -> list[str]:
    """Return the known ids named in ``text``, in order of appearance."""
    return [m.ident for m in id_mentions(text, known)]


def without_ids(text: str, known: set[str]) -> str:
    """Return ``text`` with every id mention removed (what is left of the question)."""
    for mention in sorted(id_mentions(text, known), key=lambda m: -m.start):
        text = text[: mention.start] + " " + text[mention.end :]
    return text


def _ident(base: str, number: str, bp: str | None) -> str:
    ident = f"{base}{int(number):02d}"
    return f"{ident}-BP{int(bp):02d}" if bp else ident
