"""Whole lists from the lens's own structure: its pillars, questions, practices, page families.

"Give me every security best practice", "which example scenarios does the lens walk
through?": the answer to such a question is not a passage but the lens's table of contents,
and retrieval, which finds the few pages that fit best, can only give part of it. The
catalogue builds the list from the index's pages instead: every practice (of the pillars
the question names, if any), every question, every pillar, or every general page of a family
whose titles open with the same word (the scenarios). An item is its id, title and risk
level, facts of the page rather than its sentences, and each one is cited.

A question asks for such a list when it names a collection of the lens (a plural after the
word that asks, or a singular after "every", "all" or "each") and restricts it by nothing
but pillars or a risk level. A question about the asker's own workload, or one that names a
topic the lens's titles use ("which practices cover prompt caching?"), wants the pages that
fit, which the relevance model finds better than a list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from agent.text import stems
from corpus.models import Chunk
from corpus.text import stemmer
from corpus.vocabulary import PILLARS, RISKS
from index.sparse import STOPWORDS

QUANTIFIERS = frozenset({"every", "each", "all", "list", "enumerate"})
"""Words that make a singular noun stand for the whole collection ("every practice")."""
ASKING = QUANTIFIERS | {"which", "what", "many", "name"}
"""Words that open a request for a collection ("which scenarios", "how many pillars")."""
NOUN_REACH = 4
"""The collection's noun is at most this many content words after the word that asks
("every security best practice", "all the cost optimization best practices")."""
STRUCTURE = {"practic": "practice", "question": "question", "pillar": "pillar"}
"""Stems of the nouns that name the lens's own levels, and the collection each names."""
MARKER_CHARS = 80
"""Most characters inside one citation marker (:data:`agent.citations.MARKER`)."""
_WORD = re.compile(r"[a-z][a-z-]*", re.I)
_OWN = re.compile(r"\b(?:we|us|our|my|i)\b", re.I)
_NAMES_LENS = re.compile(r"\blens\b", re.I)
_RISK = re.compile(rf"\b({'|'.join(RISKS)})[- ]risk\b", re.I)
"""A risk level the question keeps practices to ("the high-risk security practices")."""


@dataclass(frozen=True)
class Item:
    """One member of a collection: a page or a pillar, as the lens labels it."""

    label: str
    """What the line names: ``GENSEC01-BP01 · <title>``, a general page's title, a pillar."""
    detail: str = ""
    """What follows the label: a practice's risk level, a pillar's size."""
    cites: tuple[str, ...] = ()
    """The pages the line cites."""


@dataclass(frozen=True)
class Collection:
    """A whole list the lens has, ready to show."""

    name: str
    """What the list is, as the answer's lead names it (``best practices of the Security
    pillar``)."""
    items: tuple[Item, ...]

    @property
    def pages(self) -> list[str]:
        """Every page the list cites, in order (what the answer must retrieve)."""
        return list(dict.fromkeys(p for item in self.items for p in item.cites))


@dataclass(frozen=True)
class _Page:
    key: str
    title: str
    pillar: str | None
    risk: str | None
    kind: str
    """``practice``, ``question`` or ``general``."""
    cites: tuple[str, ...]
    """What a line about the page cites: the page itself, or for a question that has no
    page of its own in the corpus (lens markdown), its practices."""


@dataclass(frozen=True)
class _Table:
    """The lens's structure, read once per index."""

    pages: tuple[_Page, ...]
    families: dict[str, tuple[_Page, ...]]
    """General pages by their title's first word (stemmed), for words that open several."""
    topics: frozenset[str]
    """Stems of the practice and question titles, the lens's name left out."""
    lens_words: frozenset[str]


def requested(question: str, chunks: Sequence[Chunk]) -> Collection | None:
    """Return the whole collection ``question`` asks for, or None when it asks for no list.

    The collections: the practices, the questions and the pillars of the lens, and each
    family of general pages. Pillars named by the first word of their name ("security",
    "cost") keep practices and questions to them, a risk level ("high-risk") practices to
    that level.
    """
    if _OWN.search(question):
        return None
    table = _table(tuple(chunks))
    nouns = {**STRUCTURE, **{stem: stem for stem in table.families}}
    found = {nouns[s] for s in _collection_stems(question) if s in nouns}
    if len(found) != 1:
        return None
    noun = found.pop()
    asked = set(stems(question))
    pillars = [p for p in PILLARS if stems(p.split()[0])[0] in asked]
    risk = _RISK.search(question)
    level = risk.group(1).capitalize() if risk else None
    named = " ".join([*pillars, risk.group(0) if risk else ""])
    if (asked - set(nouns) - table.lens_words - set(stems(named))) & table.topics:
        return None
    if noun == "pillar":
        return _pillars(table.pages)
    if noun in table.families:
        family = table.families[noun]
        name = re.sub(r"\W+$", "", family[0].title.split()[0]).lower()
        return Collection(f"{name}s", tuple(Item(p.title, cites=p.cites) for p in family))
    if level and noun != "practice":
        return None  # only practices have a risk level
    chosen = sorted(
        (
            p
            for p in table.pages
            if p.kind == noun and (not pillars or p.pillar in pillars) and level in (None, p.risk)
        ),
        key=lambda p: (PILLARS.index(p.pillar) if p.pillar in PILLARS else 0, p.key),
    )
    if not chosen:
        return None
    name = (
        f"{level}-risk best practices" if level else f"{noun}s".replace("practice", "best practice")
    )
    items = tuple(
        Item(f"{p.key} · {p.title}", f"{p.risk} risk" if p.risk else "", p.cites) for p in chosen
    )
    scope = f" of the {' and '.join(pillars)} pillar{'s' if len(pillars) > 1 else ''}"
    return Collection(f"{name}{scope}" if pillars else name, items)


def whole_list(question: str, query: str, kind: str, chunks: Sequence[Chunk]) -> bool:
    """Tell whether a routed turn asks for a whole list of the lens.

    Only a question asked on its own (not a follow-up joined to the previous one) does. The
    lens answers a request for its own list even when the scope model doubts it ("what are
    the pillars?" is near no example question), as long as the question names the lens.
    """
    if query != question or kind not in ("lens", "out_of_scope"):
        return False
    if kind == "out_of_scope" and not _NAMES_LENS.search(question):
        return False
    return requested(question, chunks) is not None


def compose_list(collection: Collection, edition_line: str) -> str:
    """Write the list: a lead with its size, then one cited line per item."""
    lines = [f"The lens has {len(collection.items)} {collection.name}:", ""]
    for item in collection.items:
        detail = f" ({item.detail})" if item.detail else ""
        lines.append(f"- **{item.label}**{detail} {_markers(item.cites)}")
    lines += ["", f"_{edition_line}_"]
    return "\n".join(lines)


@lru_cache(maxsize=4)
def _table(chunks: tuple[Chunk, ...]) -> _Table:
    pages: dict[str, _Page] = {}
    practices: dict[str, list[str]] = {}
    for chunk in chunks:
        if chunk.bp_id:
            key = chunk.bp_id
            page = _Page(key, chunk.title, chunk.pillar, chunk.risk, "practice", (key,))
            practices.setdefault(chunk.question_id or "", []).append(key)
        elif chunk.question_id:
            key, title = chunk.question_id, chunk.question_title or chunk.title
            page = _Page(key, title, chunk.pillar, None, "question", (key,))
        else:
            page = _Page(chunk.page_id, chunk.title, None, None, "general", (chunk.page_id,))
        pages.setdefault(page.key, page)
    for chunk in chunks:  # questions known only from their practices (lens markdown)
        ident = chunk.question_id
        if chunk.bp_id and ident and ident not in pages:
            cites = tuple(dict.fromkeys(practices[ident]))
            title = chunk.question_title or ident
            pages[ident] = _Page(ident, title, chunk.pillar, None, "question", cites)
    groups: dict[str, list[_Page]] = {}
    for page in pages.values():
        first = stems(page.title)[:1]
        if page.kind == "general" and first:
            groups.setdefault(first[0], []).append(page)
    lens_words = frozenset(stems(" ".join({c.lens.replace("-", " ") for c in chunks})))
    topics = {s for p in pages.values() if p.kind != "general" for s in stems(p.title)}
    return _Table(
        tuple(pages.values()),
        {stem: tuple(group) for stem, group in groups.items() if len(group) > 1},
        frozenset(topics - lens_words),
        lens_words,
    )


def _collection_stems(question: str) -> list[str]:
    """Stems of the nouns a request for a whole collection may name.

    A word at most ``NOUN_REACH`` content words after the word that asks ("which example
    scenarios", "how many pillars"): a plural, or any word after a quantifier ("every
    security best practice").
    """
    words = [w.lower() for w in _WORD.findall(question)]
    out = []
    for position, asks in enumerate(words):
        if asks not in ASKING:
            continue
        following = [w for w in words[position + 1 :] if w not in STOPWORDS][:NOUN_REACH]
        for word in following:
            if asks in QUANTIFIERS or (word.endswith("s") and not word.endswith("ss")):
                out.append(stemmer().stemWord(word))
    return out


def _pillars(pages: Sequence[_Page]) -> Collection | None:
    """The pillars with their size: each pillar's line cites its questions."""
    items = []
    for pillar in PILLARS:
        questions = [p for p in pages if p.kind == "question" and p.pillar == pillar]
        practices = [p for p in pages if p.kind == "practice" and p.pillar == pillar]
        if questions:
            size = f"{questions[0].key} to {questions[-1].key}, {len(practices)} best practices"
            items.append(Item(pillar, size, tuple(c for q in questions for c in q.cites)))
    return Collection("pillars", tuple(items)) if items else None


def _markers(ids: Sequence[str]) -> str:
    """Citation markers for ``ids``: as few as the marker length allows (``[A, B] [C]``)."""
    groups: list[list[str]] = [[]]
    for ident in ids:
        if groups[-1] and len(", ".join([*groups[-1], ident])) > MARKER_CHARS:
            groups.append([])
        groups[-1].append(ident)
    return " ".join(f"[{', '.join(group)}]" for group in groups)
