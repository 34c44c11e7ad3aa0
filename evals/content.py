"""Content metrics of answers: facts stated, every part cited, repeats, uncited claims, length.

Each is a small evaluator like those of :mod:`evals.metrics` (a ``name``, a call that scores
one case). :class:`FactsStated` compares each expected fact with the answer's sentences by
meaning and by words (sentence and word embeddings from the project's embedder);
the others read the answer's text and citations. Counts (repeats, uncited claims, words) are
per answer, so their suite mean is a rate per answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from corpus.text import sentences
from corpus.vocabulary import PRACTICE_IN_TEXT
from evals.cases import AnswerCase
from evals.metrics import AnswerEvaluator, AnswerSample

Encode = Callable[[list[str]], np.ndarray]
"""Texts -> unit-length row vectors (the project's embedder's ``encode``)."""

MARKER = re.compile(r"\[\s*([A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?:\s*[,;]\s*[A-Za-z0-9-]+)*)\s*\]")
"""A bracketed citation: ``[GENSEC04-BP02]``, ``[responsible-ai]``, ``[GENSEC01-BP01, ...]``."""
_MARKUP = re.compile(r"[*_`#>]+")
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_UNVERIFIED = re.compile(r"\bunverified\b", re.I)
"""How an answer marks a sentence it could not back with a citation."""

FACT_THRESHOLD = 0.60
"""A fact is stated when its score at the best answer statement reaches this.

Chosen on the 24 hand-checked pairs of ``tests/unit/test_evals_content.py`` (close paraphrases
score 0.64-0.99, related but different statements 0.28-0.56, the two loosest paraphrases
0.52-0.53), never on a suite's answers: the method misses loose paraphrases rather than
crediting facts an answer does not make."""


def plain(sentence: str) -> str:
    """Return ``sentence`` without citation markers and markdown symbols, spaces collapsed."""
    return " ".join(_MARKUP.sub(" ", MARKER.sub(" ", sentence)).split())


def _structural(sentence: str) -> bool:
    """True for lines that are layout, not statements: headings, labels, the source footer."""
    text = sentence.strip()
    if text.startswith("#") or text.endswith(":"):
        return True
    if re.fullmatch(r"\*\*[^*]+\*\*(\s*\([^)]*\))?", text):  # a bold title line
        return True
    return bool(re.fullmatch(r"_[^_]+_", text))  # an italic footnote


def answer_sentences(response: str) -> list[str]:
    """Return the statements of an answer, in order, without headings, labels or footnotes."""
    return [s for s in sentences(response or "") if not _structural(s) and plain(s)]


def _words(text: str) -> list[str]:
    """Return the topic words of ``text``: no stop words, no practice ids."""
    from index.sparse import STOPWORDS

    text = PRACTICE_IN_TEXT.sub(" ", plain(text)).lower()
    return [w for w in _WORD.findall(text) if w not in STOPWORDS]


def _clauses(sentence: str) -> list[str]:
    """Return the parts of a statement around colons and semicolons (a label, its detail)."""
    parts = [p.strip() for p in re.split(r"(?<!\d)[:;](?!\d)", sentence)]
    return [p for p in parts if _words(p)] if len(parts) > 1 else []


def _ids(text: str) -> set[str]:
    return set(PRACTICE_IN_TEXT.findall(text.upper()))


@dataclass
class FactsStated:
    """Share of the case's expected facts that the answer states.

    Each fact is compared with each statement of the answer, and with a statement's parts
    around a colon or semicolon (``**Scoping**: decide...``), by meaning and by words: the
    cosine of their sentence embeddings, and a soft word recall (each topic word of the fact
    matched to its closest word of the statement, by the cosine of the words' embeddings,
    averaged). A statement's score is the mean of the two; a fact naming practice ids counts
    only where those ids appear. The fact is stated when its best score reaches
    ``threshold``; :meth:`scores` exposes the values.
    """

    encode: Encode
    threshold: float = FACT_THRESHOLD
    name: str = "facts_stated"
    found: dict[str, list[str]] = field(default_factory=dict)
    """Case id -> the facts its answer did not state (filled as cases are scored)."""

    def scores(self, facts: Sequence[str], response: str) -> list[float]:
        """Return each fact's best score against the answer's statements, in [0, 1]."""
        units = [
            part
            for sentence in answer_sentences(response)
            for part in dict.fromkeys([sentence, *_clauses(sentence)])
        ]
        if not facts or not units:
            return [0.0] * len(facts)
        vectors = self.encode([*facts, *map(plain, units)])
        cosine = np.clip(vectors[: len(facts)] @ vectors[len(facts) :].T, 0, 1)
        fact_words = [_words(f) for f in facts]
        unit_words = [_words(u) for u in units]
        vocab = sorted({w for ws in fact_words + unit_words for w in ws})
        word_vectors = dict(zip(vocab, self.encode(vocab), strict=True)) if vocab else {}
        out = []
        for row, fact in enumerate(facts):
            needed = _ids(fact)
            best = 0.0
            for col, unit in enumerate(units):
                if not needed <= _ids(unit) or not fact_words[row] or not unit_words[col]:
                    continue
                wanted = np.array([word_vectors[w] for w in fact_words[row]])
                have = np.array([word_vectors[w] for w in unit_words[col]])
                soft = float(np.clip(wanted @ have.T, 0, 1).max(axis=1).mean())
                best = max(best, (float(cosine[row, col]) + soft) / 2)
            out.append(best)
        return out

    def stated(self, facts: Sequence[str], response: str) -> list[bool]:
        """Return, per fact, whether the answer states it."""
        return [score >= self.threshold for score in self.scores(facts, response)]

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if not case.facts or case.should_decline:
            return None
        found = self.stated(case.facts, "" if sample.declined else sample.response)
        self.found[case.id] = [f for f, ok in zip(case.facts, found, strict=True) if not ok]
        return sum(found) / len(found)


@dataclass
class MultiPartAllCited:
    """1 when a multi-part question's answer cites every expected page, else 0."""

    tag: str = "multi"
    name: str = "multi_part_all_cited"

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if self.tag not in case.tags or not case.expected_citations:
            return None
        return float(set(case.expected_citations) <= set(sample.cited_ids))


def _same(sentence: str) -> str:
    """Return the form two sentences share when one repeats the other."""
    return " ".join(_WORD.findall(plain(sentence).lower()))


@dataclass
class RepeatedSentences:
    """Number of statements said twice in the answer or already said in the previous turn.

    Two statements are the same when their words are, ignoring case, punctuation, markdown
    and citation markers.
    """

    name: str = "repeated_sentences"
    found: dict[str, list[str]] = field(default_factory=dict)
    """Case id -> the repeated statements."""

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if sample.declined:
            return None
        seen = {_same(s) for s in answer_sentences(sample.previous_response)} - {""}
        repeats = []
        for sentence in answer_sentences(sample.response):
            key = _same(sentence)
            if key in seen:
                repeats.append(sentence)
            seen.add(key)
        self.found[case.id] = repeats
        return float(len(repeats))


@dataclass
class UncitedClaims:
    """Number of statements a model wrote that carry no citation and are not marked unverified.

    A statement is attributed when it has a bracketed citation or names a practice id (a
    correction such as "there is no GENREL09-BP01" names one). Extractive answers are lens
    quotes cited by construction, so only generated answers are scored.
    """

    name: str = "uncited_claims"
    found: dict[str, list[str]] = field(default_factory=dict)
    """Case id -> the uncited statements shown."""

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if sample.declined or sample.model in ("", "extractive"):
            return None
        uncited = [
            s
            for s in answer_sentences(sample.response)
            if not MARKER.search(s) and not PRACTICE_IN_TEXT.search(s) and not _UNVERIFIED.search(s)
        ]
        self.found[case.id] = uncited
        return float(len(uncited))


@dataclass
class AnswerWords:
    """Length of an answer in words, citation markers and markdown left out."""

    name: str = "answer_words"

    def __call__(self, case: AnswerCase, sample: AnswerSample) -> float | None:  # noqa: D102
        if sample.declined:
            return None
        return float(len(_WORD.findall(plain(sample.response).lower())))


def content_evaluators(encode: Encode | None) -> list[AnswerEvaluator]:
    """Return the content evaluators; without an encoder, facts are not scored."""
    evaluators: list[AnswerEvaluator] = [
        MultiPartAllCited(),
        RepeatedSentences(),
        UncitedClaims(),
        AnswerWords(),
    ]
    return ([FactsStated(encode)] if encode is not None else []) + evaluators
