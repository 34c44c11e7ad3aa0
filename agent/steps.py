"""Score and choose the guidance sentences ("steps") an extractive answer shows.

Every sentence of the chosen pages is scored against the question (dense similarity of its
passage, shared rare terms, the question's named things, a prior by section, the design's
services); :func:`select_steps` keeps the relevant ones within a length, without repeats,
and :func:`part_steps` does so for each part of a question with several parts. Composition
(the lead, labels, plans) lives in :mod:`agent.extractive`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from agent.text import stems
from corpus.text import sentences
from corpus.vocabulary import is_practice_id, page_key

if TYPE_CHECKING:
    from agent.state import Passage

SECTION_PRIOR = {
    "Overview": 0.10,
    "Desired outcome": -0.10,
    "Implementation steps": 0.40,
    "Implementation guidance": 0.10,
    "Anti-patterns": -0.60,
    "Question": -2.0,
}
"""Section priors for how-to answers: the actions lead. The lens's steps hold what to do; its
outcome and overview sentences say why, which a how-to answer can leave to the practice title,
so they join only when they match the question clearly better than any step."""
EXPLAIN_PRIOR = {
    **SECTION_PRIOR,
    "Overview": 0.25,
    "Desired outcome": 0.15,
    "Benefits": 0.15,
    "Implementation steps": 0.25,
}
"""Section priors for "what is / why" questions: the point and its reason come first."""


SPECIFIC_WEIGHT = 0.15
"""Weight of the question's specific terms (names, numbers) that a sentence names."""
SUPPORT_DISCOUNT = 0.15
"""Score taken off the sentences of pages that only support the answer: their step joins
only when it fits the question clearly better than the chosen pages' next one."""
RELEVANCE_MARGIN = 0.25
"""Steps within this much of the best step's score are relevant enough to show."""
REDUNDANT_SHARE = 0.6
"""A step sharing this share of its content words with a shown one says the same thing."""
MIN_WORDS = 90
"""Words of guidance an answer shows at least: below them, the next best steps fill up."""
WARNING_WORDS = re.compile(
    r"\b(sign|signs|anti-?patterns?|mistakes?|wrong|missing|avoid|smell)\b", re.I
)
RELATED_PASSAGES = 20
"""Passages nearest the question whose shared terms count as the question's related terms."""
RELATED_SHARE = 0.3
"""Weight of a related term against a term the question itself uses."""
LEXICAL_WEIGHT = 0.3
"""Weight of shared rare terms against semantic similarity when picking sentences."""
DESIGN_FIT = 0.3
"""Sentence-score bonus for naming a service the design uses. A sentence that names only
services the design does not use (HyperPod steps for a serverless design) is picked only when
nothing else of the page is left."""


@dataclass
class DocGroup:
    """Retrieved passages of one lens page (a best practice or a general page)."""

    key: str
    """Citation id: the bp id, question id, or page id."""
    title: str
    pillar: str | None
    risk: str | None
    question_title: str | None
    score: float
    passages: list[Passage] = field(default_factory=list)

    @property
    def is_practice(self) -> bool:
        """True for best-practice pages."""
        return is_practice_id(self.key)


@dataclass(frozen=True)
class Scoring:
    """How sentences are scored for one question."""

    question: str
    weight: Callable[[str], float]
    """Inverse document frequency of a stemmed term (0 for terms the corpus never uses)."""
    similarity: dict[str, float] = field(default_factory=dict)
    """Cosine similarity of each chunk to the question, by chunk id."""
    services: frozenset[str] | None = None
    """Services of the reviewed design, when there is one."""
    mentions: Callable[[str], set[str]] | None = None
    """The AWS services a sentence names (service slugs)."""
    support: frozenset[str] = frozenset()
    """Pages that only support the answer (their steps are discounted)."""
    seen: frozenset[frozenset[str]] = frozenset()
    """Signatures of sentences earlier answers of the thread showed (never repeated)."""
    related: Mapping[str, float] = field(default_factory=dict)
    """Terms of the passages nearest the question in meaning, with their weight (see
    :func:`related_terms`): the words the lens uses for what the question asks."""


def group_passages(
    passages: Mapping[str, Passage], first: list[str] | None = None
) -> list[DocGroup]:
    """Group passages by page, best first; pages named in ``first`` lead in that order."""
    groups: dict[str, DocGroup] = {}
    for p in passages.values():
        key = page_key(p.get("bp_id"), p["chunk_id"])
        group = groups.setdefault(
            key,
            DocGroup(
                key, p["title"], p.get("pillar"), p.get("risk"), p.get("question_title"), p["score"]
            ),
        )
        group.score = max(group.score, p["score"])
        group.passages.append(p)
    for group in groups.values():
        group.passages.sort(key=lambda p: int(p["chunk_id"].rsplit("#", 1)[1]))
    order = {ident: i for i, ident in enumerate(first or [])}
    return sorted(groups.values(), key=lambda g: (order.get(g.key, len(order)), -g.score))


def _design_fit(sentence: str, scoring: Scoring) -> float | None:
    """Return a bonus for fitting the design, 0 when neutral, None when it does not fit."""
    if scoring.services is None or scoring.mentions is None:
        return 0.0
    named = scoring.mentions(sentence)
    if not named:
        return 0.0
    return DESIGN_FIT if named & scoring.services else None


def pick_sentences(group: DocGroup, limit: int, scoring: Scoring) -> list[str]:
    """Return up to ``limit`` of the best steps of one page (see :func:`score_steps`).

    With a design, a page whose sentences all name services the design does not use gives
    none: showing them would advise on parts the design does not have.
    """
    chosen: list[Step] = []
    for step in sorted(score_steps([group], scoring, "howto"), key=lambda s: -s.score):
        if not redundant(step, chosen):
            chosen.append(step)
        if len(chosen) == limit:
            break
    return [s.sentence for s in sorted(chosen, key=lambda s: s.position)]


@dataclass(frozen=True)
class Step:
    """One guidance sentence of a page, scored against the question."""

    group: DocGroup
    sentence: str
    section: str
    position: int
    score: float
    signature: frozenset[str]
    """The sentence's content stems (what redundancy is judged on)."""


def specific_terms(question: str) -> list[str]:
    """Return the question's specific named things: names, acronyms, versions and numbers.

    A specific term is a word written with a capital inside the sentence (``Bedrock``,
    ``Weaviate``), an acronym (``HIPAA``), or a token holding a digit (``p99``, ``500``);
    the question's everyday words are not.
    """
    found = []
    for clause in re.split(r"(?<=[.!?:;])\s+", question.strip()):
        words = re.findall(r"[\w][\w.+-]*", clause)
        for i, word in enumerate(words):
            word = word.strip(".-+")
            named = (i > 0 and word[:1].isupper()) or (len(word) > 1 and word.isupper())
            if len(word) > 1 and (named or any(ch.isdigit() for ch in word)):
                found.append(word)
    return list(dict.fromkeys(found))


@lru_cache(maxsize=4096)
def _terms(text: str) -> frozenset[str]:
    """The distinct stems of a passage (kept: the same passages come up turn after turn)."""
    return frozenset(stems(text))


def related_terms(
    similarity: Mapping[str, float],
    text_of: Callable[[str], str],
    weight: Callable[[str], float],
) -> dict[str, float]:
    """Return the terms the passages nearest the question share, weighted by rarity.

    A question says "the refunds API hangs" where the lens says "timeout" and "dead-letter
    queue": the passages closest to the question in meaning (dense similarity) use the lens's
    words for it. A term at least two of the ``RELATED_PASSAGES`` nearest passages use is
    related, weighted by its inverse document frequency and the share of them using it.
    """
    nearest = sorted(similarity, key=lambda c: -similarity[c])[:RELATED_PASSAGES]
    counts: dict[str, int] = {}
    for chunk_id in nearest:
        for term in _terms(text_of(chunk_id)):
            counts[term] = counts.get(term, 0) + 1
    return {t: weight(t) * n / len(nearest) for t, n in counts.items() if n >= 2 and weight(t) > 0}


def score_steps(groups: Sequence[DocGroup], scoring: Scoring, plan: str) -> list[Step]:
    """Score every guidance sentence of ``groups`` against the question.

    A sentence scores by the dense similarity of its passage to the question, the rare
    question terms it shares and, at ``RELATED_SHARE`` of their weight, the question's related
    terms (the lens's own words for what is asked; both normalised by its length), the
    question's specific terms it names (services, data kinds, numbers), a prior by section
    that favours the steps (for "what is" questions, the overview and outcome that state the
    point), and, with a design, how well the services it names fit the design (a sentence
    naming only services the design does not use is left out). Pages that only support the
    answer (``Scoring.support``) offer only sentences sharing a question term, at
    ``SUPPORT_DISCOUNT`` less; sentences an earlier answer of the thread showed are left out.
    """
    wanted = set(stems(scoring.question))
    specific = {s for t in specific_terms(scoring.question) for s in stems(t)}
    allow_warnings = bool(WARNING_WORDS.search(scoring.question))
    prior_of = EXPLAIN_PRIOR if plan == "explain" else SECTION_PRIOR
    steps: list[Step] = []
    for group in groups:
        supporting = group.key in scoring.support
        position = 0
        for p in group.passages:
            section = p["section"]
            if section == "Anti-patterns" and not allow_warnings:
                continue
            prior = prior_of.get(section, 0.0) + scoring.similarity.get(p["chunk_id"], 0.0)
            for sentence in sentences(p["text"]):
                position += 1
                words = set(stems(sentence))
                if len(sentence) < 25 or len(words) < 3:
                    continue
                signature = frozenset(words)
                if signature in scoring.seen:
                    continue
                shared = wanted & words
                if supporting and not shared:
                    continue
                lexical = sum(scoring.weight(w) for w in shared) / math.sqrt(len(words) + 1)
                lexical += (
                    RELATED_SHARE
                    * sum(scoring.related.get(w, 0.0) for w in words - wanted)
                    / math.sqrt(len(words) + 1)
                )
                named = sum(scoring.weight(w) for w in specific & words)
                fit = _design_fit(sentence, scoring)
                if fit is None:
                    continue
                score = prior + LEXICAL_WEIGHT * lexical + SPECIFIC_WEIGHT * named + fit
                score -= 0.005 * position + (SUPPORT_DISCOUNT if supporting else 0.0)
                if section == "Anti-patterns":
                    sentence = f"Warning sign: {sentence}"
                steps.append(Step(group, sentence, section, position, score, signature))
    return steps


def select_steps(steps: Sequence[Step], must: Sequence[str], budget: int) -> list[Step]:
    """Choose the steps an answer shows: the relevant ones, without repeats, within a budget.

    Every page in ``must`` (the lead page and each part's page) gets its best step first.
    Then steps join best first while they stay within ``RELEVANCE_MARGIN`` of the best score
    and the answer within ``budget`` words; a step saying what a chosen one says (most of its
    content words shared) is left out. Fewer than ``MIN_WORDS`` words: the next best fill up.
    """
    ranked = sorted(steps, key=lambda s: -s.score)
    chosen: list[Step] = []
    words = 0

    def take(step: Step) -> bool:
        nonlocal words
        size = len(step.sentence.split())
        if step in chosen or words + size > budget or redundant(step, chosen):
            return False
        chosen.append(step)
        words += size
        return True

    for key in must:
        best = next((s for s in ranked if s.group.key == key), None)
        if best is not None:
            take(best)
    top = ranked[0].score if ranked else 0.0
    for step in ranked:
        if step.score >= top - RELEVANCE_MARGIN or words < MIN_WORDS:
            take(step)
    return chosen


def redundant(step: Step, chosen: Sequence[Step]) -> bool:
    """True when ``step`` shares most of its content words with a step already chosen."""
    for other in chosen:
        overlap = len(step.signature & other.signature)
        if overlap >= REDUNDANT_SHARE * min(len(step.signature), len(other.signature)):
            return True
    return False


def part_steps(
    groups: Sequence[DocGroup], parts: Sequence[tuple[Scoring, str]], plan: str, budget: int
) -> list[Step]:
    """Choose the steps of a question with several parts: each part's, from its own page.

    Every distinct page of ``parts`` gets an equal share of ``budget`` and shows its steps
    scored against the words of the part that chose it, so the second part of "how do we cut
    the energy, and how do we keep junk records out?" is answered by its page's filtering
    steps rather than by whatever of that page matches the first part. A step saying what an
    earlier part's step says is left out.
    """
    by_key = {g.key: g for g in groups}
    wanted: dict[str, Scoring] = {}
    for part, key in parts:
        if key in by_key:
            wanted.setdefault(key, part)
    chosen: list[Step] = []
    if not wanted:
        return chosen
    share = budget // len(wanted)
    for key, part in wanted.items():
        steps = [s for s in score_steps([by_key[key]], part, plan) if not redundant(s, chosen)]
        chosen += select_steps(steps, [key], share)
    return chosen
