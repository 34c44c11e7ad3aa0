"""The extractive answer mode: compose a cited answer from retrieved lens passages, no LLM.

The answer reads like a short consultant's note: a lead naming the practices that answer the
question, then each practice (most relevant first) with the guidance sentences that best
match the question, its pillar, risk level and an ``[ID]`` citation after every sentence.
Sentences are copied from the passages, so every claim is supported by construction; the
citation check still runs on the result, as for any model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from agent.text import sentences, stems

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
MAX_PRACTICES = 4
LEXICAL_WEIGHT = 0.3
"""Weight of shared rare terms against semantic similarity when picking sentences."""
DECLINE_TEXT = (
    "That question is outside the AWS Well-Architected Generative AI Lens, which covers how to "
    "design, secure, run and optimise generative AI workloads on AWS, so I can't answer it from "
    "the lens. Ask me about a generative AI design decision, a best practice (for example "
    "GENSEC04-BP02) or attach an architecture diagram to review."
)
NO_COVERAGE_TEXT = "The lens does not cover this directly."


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
        return bool(re.match(r"^[A-Z]+\d{2}-BP\d{2}$", self.key))


def page_key(passage: dict) -> str:
    """Return the citation id of a passage: bp id, else question id, else the page id."""
    return passage.get("bp_id") or passage["chunk_id"].split("#", 1)[0].split("/", 1)[-1]


def group_passages(passages: dict[str, dict], first: list[str] | None = None) -> list[DocGroup]:
    """Group passages by page, best first; pages named in ``first`` lead in that order."""
    groups: dict[str, DocGroup] = {}
    for p in passages.values():
        key = page_key(p)
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


def pick_sentences(
    question: str,
    group: DocGroup,
    limit: int,
    weight: Callable[[str], float],
    similarity: dict[str, float] | None = None,
) -> list[str]:
    """Return up to ``limit`` guidance sentences of ``group`` that best answer the question.

    A sentence scores by the semantic similarity of its passage to the question
    (``similarity``: cosine by chunk id), plus the rarity-weighted question terms it shares
    (``weight`` gives a term's inverse document frequency) normalised by its length, plus a
    prior by section. The chosen sentences keep their order in the page.
    """
    wanted = set(stems(question))
    allow_warnings = bool(WARNING_WORDS.search(question))
    candidates: list[tuple[float, int, str]] = []  # (score, position, sentence)
    position = 0
    for p in group.passages:
        prior = SECTION_PRIOR.get(p["section"], 0.0)
        prior += (similarity or {}).get(p["chunk_id"], 0.0)
        warning = p["section"] == "Anti-patterns"
        if warning and allow_warnings:
            prior = 0.2
        for sentence in sentences(p["text"]):
            position += 1
            words = set(stems(sentence))
            if len(sentence) < 25 or not words:
                continue
            lexical = sum(weight(w) for w in wanted & words) / math.sqrt(len(words) + 1)
            text = f"Warning sign: {sentence}" if warning else sentence
            candidates.append((prior + LEXICAL_WEIGHT * lexical - 0.005 * position, position, text))
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


def compose_lens_answer(
    question: str,
    groups: list[DocGroup],
    edition_line: str,
    weight: Callable[[str], float],
    similarity: dict[str, float] | None = None,
) -> str:
    """Compose the answer for a free-text lens question.

    Question terms the lens never uses (``weight`` 0) are named in the lead, so the reader
    knows the answer is the closest guidance rather than a direct one.
    """
    if not groups:
        return f"{NO_COVERAGE_TEXT}\n\n_{edition_line}_"
    top = groups[:MAX_PRACTICES]
    names = [_name(g) for g in top[:2]]
    unknown = _unknown_terms(question, weight)
    lead = "The lens addresses this mainly in " + " and ".join(names) + "."
    if unknown:
        lead = (
            f"The lens does not mention {' or '.join(unknown)}; the closest guidance is in "
            + " and ".join(names)
            + "."
        )
    if len(top) > 2:
        lead += (
            " Related guidance: "
            + ", ".join(f"**{g.key}**" if g.is_practice else f"**{g.title}**" for g in top[2:])
            + "."
        )
    parts = [lead, ""]
    for rank, group in enumerate(top):
        picked = pick_sentences(question, group, 3 if rank == 0 else 2, weight, similarity)
        if not picked:
            continue
        parts.append(_label(group))
        outline = _outline(group)
        if outline:
            parts.append(f"- {_cited(outline, group.key)}")
        parts += [f"- {_cited(s, group.key)}" for s in picked]
        parts.append("")
    parts.append(f"_{edition_line}_")
    return "\n".join(parts)


def _outline(group: DocGroup) -> str:
    """For a general page with several sections (the RAI dimensions...), list its sections."""
    if group.is_practice or group.question_title:
        return ""
    headings = list(
        dict.fromkeys(p["section"] for p in group.passages if p["section"] != "Overview")
    )
    return f"The page covers: {'; '.join(headings)}." if len(headings) >= 3 else ""


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
        if re.match(r"^[A-Z]+\d{2}$", ident):
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
    lines = [f"**{question_id} · {title}**"]
    if page:
        lines += [f"- {_cited(s, question_id)}" for s in sentences(page.passages[0]["text"])[:2]]
    lines.append(f"It has {len(practices)} best practice{'s' if len(practices) != 1 else ''}:")
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


def compose_diagram_preface(diagram: dict) -> str:
    """Summarise an attached diagram's review: services, coverage, top gaps (design facts)."""
    services = ", ".join(diagram.get("services", [])[:12]) or "no AWS services recognised"
    cov = diagram.get("coverage", {})
    lines = [
        f"**Your design** ({diagram.get('format', 'diagram')}, "
        f"{diagram.get('component_count', 0)} components; services: {services}) was reviewed "
        f"against the lens: {cov.get('addressed', 0)} practices addressed, {cov.get('gap', 0)} "
        f"gaps, {cov.get('unknown', 0)} not visible in the design (of {cov.get('total', 0)}).",
    ]
    gaps = diagram.get("gaps", [])
    if gaps:
        lines += ["", "Top gaps in the design:"]
        for gap in gaps:
            lines.append(
                f"- **{gap['bp_id']}** {gap['title']} ({gap['risk']} risk): {gap['explanation']}"
            )
    return "\n".join(lines)
