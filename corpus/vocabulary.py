"""The lens's vocabulary, written once: pillars, risk levels and the grammar of its ids.

Every part of lenswise that names a pillar, orders by risk, recognises a best-practice id or
asks which page a chunk belongs to uses these definitions, so the CLI, the UI, the API and
the evals always agree (the same "top gaps", the same ids found in a reply).

Ids: a question id is the lens and pillar letters then two digits (``GENSEC04``; other
lenses use forms like ``SEC04`` or ``MD_OPS01``); a best-practice id adds ``-BP`` and two
digits (``GENSEC04-BP02``). Pages that are neither (preambles, scenarios) are cited by a
lowercase slug.
"""

from __future__ import annotations

import re

PILLARS: tuple[str, ...] = (
    "Operational Excellence",
    "Security",
    "Reliability",
    "Performance Efficiency",
    "Cost Optimization",
    "Sustainability",
)
PILLAR_ABBREVIATIONS: dict[str, str] = {
    "ops": "Operational Excellence",
    "sec": "Security",
    "rel": "Reliability",
    "perf": "Performance Efficiency",
    "cost": "Cost Optimization",
    "sus": "Sustainability",
    "sust": "Sustainability",
}
"""Short pillar names as they appear in ids and filters (``GENSEC``, ``--pillar cost``)."""
RISKS: tuple[str, ...] = ("High", "Medium", "Low")
"""Risk levels, most severe first: the one order every "top gaps" list uses."""

QUESTION_ID = r"[A-Z][A-Z_]*\d{2}"
"""Pattern of a question id (``GENSEC04``), for composing larger patterns."""
PRACTICE_ID = QUESTION_ID + r"-BP\d{2}"
"""Pattern of a best-practice id (``GENSEC04-BP02``), for composing larger patterns."""
PRACTICE_IN_TEXT = re.compile(rf"\b{PRACTICE_ID}\b")
"""Finds best-practice ids in prose (no groups: ``findall`` returns the ids)."""
_PAGE_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"


def is_practice_id(text: str) -> bool:
    """Return True when ``text`` is exactly a best-practice id."""
    return re.fullmatch(PRACTICE_ID, text) is not None


def is_question_id(text: str) -> bool:
    """Return True when ``text`` is exactly a question id."""
    return re.fullmatch(QUESTION_ID, text) is not None


def is_page_id(text: str) -> bool:
    """Return True for anything a citation may name: a practice, a question or a page slug."""
    return re.fullmatch(rf"{PRACTICE_ID}|{QUESTION_ID}|{_PAGE_SLUG}", text) is not None


def question_of(bp_id: str) -> str:
    """Return the question id of a best-practice id (``GENSEC04-BP02`` -> ``GENSEC04``)."""
    return bp_id.split("-BP", 1)[0]


def pillar_of(identifier: str | None) -> str | None:
    """Return the pillar of a question or practice id from its letters (GENSEC04 -> Security).

    Anything not shaped like an id (a page slug such as ``devops-guide``) has no pillar.
    """
    match = re.match(r"[A-Z][A-Z_]*(?=\d{2})", (identifier or "").upper())
    letters = match.group(0) if match else ""
    for abbreviation, pillar in sorted(PILLAR_ABBREVIATIONS.items(), key=lambda a: -len(a[0])):
        if letters.endswith(abbreviation.upper()):
            return pillar
    return None


def page_key(bp_id: str | None, chunk_id: str) -> str:
    """Return the citable id of the page a chunk belongs to: its bp id, else the page id.

    Chunk ids are ``<lens>/<page id>#<n>``, so a question overview is cited by its question
    id and a general page by its slug.
    """
    return bp_id or chunk_id.split("#", 1)[0].split("/", 1)[-1]


def id_letters(ident: str) -> str:
    """Return the capitals an id starts with (``GENSEC`` of ``GENSEC04-BP02``); "" if none."""
    letters = re.match(r"[A-Z]*", ident)
    return letters.group(0) if letters else ""


def risk_rank(risk: str | None) -> int:
    """Return 0 for High, 1 for Medium, 2 for Low and 3 for anything else (sort key)."""
    return RISKS.index(risk) if risk in RISKS else len(RISKS)
