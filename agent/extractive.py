"""The extractive answer mode: compose a cited answer from retrieved lens passages, no LLM.

The answer reads like a short consultant's note: a lead naming the practices that answer the
question (as many as the calibrated relevance model finds relevant, the best one first), then
each practice with the guidance sentences that best match the question, its pillar, risk level
and an ``[ID]`` citation after every sentence. With a reviewed design, sentences that fit the
design's services are preferred, and "what should we fix first?" gets the design's gaps in fix
order with the reason for each place. Sentences are copied from the passages, so every claim
is supported by construction; the citation check still runs on the result, as for any model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from agent.design import DesignSummary
from agent.text import stems
from corpus.text import sentences
from corpus.vocabulary import is_practice_id, is_question_id, page_key
from diagrams.catalog import mentioned

if TYPE_CHECKING:
    from agent.context import LensContext
    from agent.state import State

SECTION_PRIOR = {
    "Overview": 0.15,
    "Desired outcome": 0.10,
    "Implementation steps": 0.25,
    "Implementation guidance": 0.10,
    "Anti-patterns": -0.60,
    "Question": -2.0,
}
WARNING_WORDS = re.compile(
    r"\b(sign|signs|anti-?patterns?|mistakes?|wrong|missing|avoid|smell)\b", re.I
)
LEXICAL_WEIGHT = 0.3
"""Weight of shared rare terms against semantic similarity when picking sentences."""
DESIGN_FIT = 0.3
"""Sentence-score bonus for naming a service the design uses. A sentence that names only
services the design does not use (HyperPod steps for a serverless design) is picked only when
nothing else of the page is left."""
DECLINE_TEXT = (
    "That question is outside the AWS Well-Architected Generative AI Lens, which covers how to "
    "design, secure, run and optimise generative AI workloads on AWS, so I can't answer it from "
    "the lens. Ask me about a generative AI design decision, a best practice (for example "
    "GENSEC04-BP02) or attach an architecture diagram to review."
)
WEAK_SCORE = 0.05
"""Best fused score under which a retrieved page is too weak to quote unasked."""
NO_COVERAGE_TEXT = "The lens does not cover this directly."
NO_DESIGN_TEXT = (
    "No design has been reviewed in this conversation yet, so there is nothing of yours to "
    "rank. Attach a diagram or IaC template (draw.io, Mermaid, CloudFormation or Terraform) and "
    "ask again; meanwhile, here is the lens guidance closest to the question."
)


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
    passages: list[dict] = field(default_factory=list)

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


def group_passages(passages: dict[str, dict], first: list[str] | None = None) -> list[DocGroup]:
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
    """Return up to ``limit`` guidance sentences of ``group`` that best answer the question.

    A sentence scores by the semantic similarity of its passage to the question, plus the
    rarity-weighted question terms it shares normalised by its length, plus a prior by
    section, plus (with a design) how well the services it names fit the design. The chosen
    sentences keep their order in the page.
    """
    wanted = set(stems(scoring.question))
    allow_warnings = bool(WARNING_WORDS.search(scoring.question))
    candidates: list[tuple[float, int, str]] = []  # (score, position, sentence)
    misfits: list[tuple[float, int, str]] = []
    position = 0
    for p in group.passages:
        prior = SECTION_PRIOR.get(p["section"], 0.0) + scoring.similarity.get(p["chunk_id"], 0.0)
        warning = p["section"] == "Anti-patterns"
        if warning and allow_warnings:
            prior = 0.2
        for sentence in sentences(p["text"]):
            position += 1
            words = set(stems(sentence))
            if len(sentence) < 25 or not words:
                continue
            lexical = sum(scoring.weight(w) for w in wanted & words) / math.sqrt(len(words) + 1)
            score = prior + LEXICAL_WEIGHT * lexical - 0.005 * position
            fit = _design_fit(sentence, scoring)
            text = f"Warning sign: {sentence}" if warning else sentence
            (candidates if fit is not None else misfits).append(
                (score + (fit or 0), position, text)
            )
    candidates = candidates or sorted(misfits, reverse=True)[:1]
    if not candidates:
        return []
    scores = np.array([c[0] for c in candidates])
    chosen: list[tuple[int, str]] = []
    seen: set[frozenset] = set()
    for index in np.argsort(-scores, kind="stable"):
        _, pos, sentence = candidates[index]
        signature = frozenset(stems(sentence))
        if signature in seen:
            continue
        seen.add(signature)
        chosen.append((pos, sentence))
        if len(chosen) == limit:
            break
    return [s for _, s in sorted(chosen)]


def _label(group: DocGroup) -> str:
    if not group.is_practice and not group.question_title:
        return f"**{group.title}** (lens overview page)"
    facts = [f for f in (group.pillar, f"{group.risk} risk" if group.risk else None) if f]
    suffix = f" ({', '.join(facts)})" if facts else ""
    return f"**{group.key} · {group.title}**{suffix}"


def _name(group: DocGroup) -> str:
    if group.is_practice:
        return f"**{group.key}** ({group.title})"
    return f"**{group.title}**"


def _cited(sentence: str, key: str) -> str:
    sentence = sentence.rstrip()
    return f"{sentence} [{key}]"


def compose_lens_answer(groups: Sequence[DocGroup], edition_line: str, scoring: Scoring) -> str:
    """Compose the answer for a free-text lens question from the chosen pages, best first.

    Question terms the lens never uses are named in the lead, so the reader knows the answer
    is the closest guidance rather than a direct one.
    """
    if not groups:
        return f"{NO_COVERAGE_TEXT}\n\n_{edition_line}_"
    names = [_name(g) for g in groups[:2]]
    unknown = _unknown_terms(scoring.question, scoring.weight)
    lead = "The lens addresses this mainly in " + " and ".join(names) + "."
    if unknown:
        lead = (
            f"The lens does not mention {' or '.join(unknown)}; the closest guidance is in "
            + " and ".join(names)
            + "."
        )
    if len(groups) > 2:
        lead += " Related guidance: " + ", ".join(_short(g) for g in groups[2:]) + "."
    parts = [lead, ""]
    for rank, group in enumerate(groups):
        parts += _practice_block(group, 3 if rank == 0 else 2, scoring, overview=rank == 0)
    parts.append(f"_{edition_line}_")
    return "\n".join(parts)


def _short(group: DocGroup) -> str:
    return f"**{group.key}**" if group.is_practice else f"**{group.title}**"


def _practice_block(
    group: DocGroup, limit: int, scoring: Scoring, overview: bool = False
) -> list[str]:
    """The label of one page and its best sentences; a leading overview page lists its parts."""
    parts = _sections(group) if overview else []
    picked = pick_sentences(group, limit, scoring)
    if not picked and not parts:
        return []
    return [_label(group), *parts, *(f"- {_cited(s, group.key)}" for s in picked), ""]


def _sections(group: DocGroup) -> list[str]:
    """For a general page made of named parts (the RAI dimensions...), one line per part."""
    if group.is_practice or group.question_title:
        return []
    lines = []
    for p in group.passages:
        first = sentences(p["text"])[:1]
        if p["section"] != "Overview" and first:
            lines.append(f"- **{p['section']}**: {_cited(first[0], group.key)}")
    return lines if len(lines) >= 3 else []


def _unknown_terms(question: str, weight: Callable[[str], float]) -> list[str]:
    """Return the question's words the corpus never uses, when they are a third of its terms.

    One unfamiliar word ("chatbot") in an otherwise covered question is noise; when a large
    share of the question is unknown to the lens ("Is Bedrock HIPAA eligible?"), the reader
    should know the answer is only the closest guidance.
    """
    words = [w for w in re.findall(r"(?u)\b\w\w+\b", question) if stems(w)]
    unknown = list(dict.fromkeys(w for w in words if not any(weight(s) for s in stems(w))))
    return unknown if words and len(unknown) * 3 >= len(set(words)) else []


def compose_lookup(ids: list[str], groups: list[DocGroup], edition_line: str) -> str:
    """Describe the named practices / questions: summary, desired outcome and steps."""
    by_key = {g.key: g for g in groups}
    parts: list[str] = []
    for ident in ids:
        if is_question_id(ident):
            parts += _question_block(ident, groups)
            continue
        group = by_key.get(ident)
        if not group:
            continue
        parts.append(_label(group))
        for p in group.passages:
            if p["section"] in ("Anti-patterns",):
                continue
            lead = {"Implementation steps": "Steps:", "Desired outcome": "Desired outcome:"}.get(
                p["section"]
            )
            if lead and lead not in parts[-1:]:
                parts.append(lead)
            parts += [f"- {_cited(s, ident)}" for s in sentences(p["text"])]
        parts.append("")
    parts.append(f"_{edition_line}_")
    return "\n".join(parts)


def _question_block(question_id: str, groups: list[DocGroup]) -> list[str]:
    page = next((g for g in groups if g.key == question_id), None)
    practices = [g for g in groups if g.is_practice and g.key.startswith(question_id + "-")]
    title = page.title if page else (practices[0].question_title if practices else question_id)
    lines = [
        f"**{question_id} · {title}** has {len(practices)} best "
        f"practice{'s' if len(practices) != 1 else ''}:"
    ]
    for g in sorted(practices, key=lambda g: g.key):
        first = next(
            (sentences(p["text"])[0] for p in g.passages if p["section"] == "Overview"), ""
        )
        risk = f", {g.risk} risk" if g.risk else ""
        lines.append(
            f"- **{g.key}** {g.title}{risk}: {_cited(first, g.key) if first else ''}".rstrip()
        )
    lines.append("")
    return lines


def compose_design_preface(design: DesignSummary, urgent: int = 3) -> str:
    """Summarise a reviewed design: services, coverage and its ``urgent`` most urgent gaps."""
    services = ", ".join(design["services"][:12]) or "no AWS services recognised"
    cov = design["coverage"]
    lines = [
        f"**Your design** ({design['format']}, {design['component_count']} components; "
        f"services: {services}) was reviewed against the lens: {cov['addressed']} practices "
        f"addressed, {cov['gap']} gaps, {cov['unknown']} not visible in the design "
        f"(of {cov['total']}).",
    ]
    if design["gaps"] and urgent:
        lines += ["", "Most urgent gaps in the design:"]
        for gap in design["gaps"][:urgent]:
            lines.append(
                f"- **{gap['bp_id']}** {gap['title']} ({gap['risk']} risk): {gap['explanation']}"
            )
    return "\n".join(lines)


def compose_priorities(
    design: DesignSummary, groups: Sequence[DocGroup], edition_line: str, scoring: Scoring
) -> str:
    """Answer "what should we fix first?": the design's gaps in fix order, each with why."""
    if not design["gaps"]:
        cov = design["coverage"]
        return (
            f"The review found no gaps in this design: {cov['addressed']} practices are "
            f"addressed and {cov['unknown']} cannot be judged from the design (ask the team "
            f"about those).\n\n_{edition_line}_"
        )
    by_key = {g.key: g for g in groups}
    parts = [
        f"Fix these {len(design['gaps'])} gaps in this order: higher lens risk first, then the "
        "gap that reaches more of the design (the components it was found on plus everything "
        "wired to them).",
        "",
    ]
    for number, gap in enumerate(design["gaps"], 1):
        where = ", ".join(gap["evidence"]) or "the design as a whole"
        parts.append(
            f"{number}. **{gap['bp_id']} · {gap['title']}** ({gap['risk']} risk; reaches "
            f"{gap['reach']} component{'s' if gap['reach'] != 1 else ''}; found on: {where}). "
            f"{gap['explanation']}"
        )
        group = by_key.get(gap["bp_id"])
        if group:
            parts += [f"   - {_cited(s, group.key)}" for s in pick_sentences(group, 1, scoring)]
    parts += ["", f"_{edition_line}_"]
    return "\n".join(parts)


def compose_strengths(
    design: DesignSummary, groups: Sequence[DocGroup], edition_line: str, scoring: Scoring
) -> str:
    """Answer "what are we doing right?": the practices the design already shows."""
    if not design["strengths"]:
        return (
            "The review found no practice that the design itself shows; most controls are "
            f"team processes or settings a drawing does not reveal.\n\n_{edition_line}_"
        )
    by_key = {g.key: g for g in groups}
    parts = [f"The design already shows {len(design['strengths'])} practices:", ""]
    for strength in design["strengths"]:
        parts.append(f"- **{strength['bp_id']} · {strength['title']}**: {strength['explanation']}")
        group = by_key.get(strength["bp_id"])
        if group:
            parts += [f"   - {_cited(s, group.key)}" for s in pick_sentences(group, 1, scoring)]
    parts += ["", f"_{edition_line}_"]
    return "\n".join(parts)


def edition_line(ctx: LensContext) -> str:
    """Return the answer's closing line naming the lens, its edition and the corpus."""
    corpus = ctx.index.corpus
    name = (corpus.name if corpus else None) or "AWS Well-Architected Generative AI Lens"
    if corpus and corpus.edition:
        return f"Source: {name}, {corpus.edition} edition ({corpus.source} corpus)."
    return f"Source: {name} ({corpus.source if corpus else 'configured'} corpus)."


def draft(state: State, ctx: LensContext) -> str:
    """Compose the extractive answer of a turn from its retrieved passages.

    A lookup lists the named pages; a question about the thread's design leads with its gaps
    or strengths; any other question quotes the pages relevance chose (or, when it chose none,
    the best retrieved ones).
    """
    edition = edition_line(ctx)
    groups = group_passages(state.passages, first=state.ids)
    if state.route == "lookup" and not state.attempts:
        return compose_lookup(state.ids, groups, edition)
    query = state.queries[0]["text"] if state.queries else state.question
    design = state.diagram
    scoring = Scoring(
        question=query,
        weight=ctx.index.term_weight,
        similarity=ctx.index.chunk_similarity(query),
        services=frozenset(design["services"]) if design else None,
        mentions=mentioned if design else None,
    )
    if design and state.intent == "prioritize":
        return compose_priorities(design, groups, edition, scoring)
    if design and state.intent == "review":
        preface = compose_design_preface(design, urgent=0)
        return f"{preface}\n\n{compose_priorities(design, groups, edition, scoring)}"
    if design and state.intent == "strengths":
        return compose_strengths(design, groups, edition, scoring)
    by_key = {g.key: g for g in groups}
    chosen = [by_key[p] for p in state.pages if p in by_key]
    if not chosen:  # relevance chose nothing (a retry's reformulated search): best retrieved
        chosen = [g for g in groups if g.score >= WEAK_SCORE][:3]
    body = compose_lens_answer(chosen, edition, scoring)
    if state.intent and not design:
        body = f"{NO_DESIGN_TEXT}\n\n{body}"
    if design:
        body = f"{compose_design_preface(design)}\n\n{body}"
    return body
