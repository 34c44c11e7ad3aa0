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

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from agent.catalogue import compose_list, requested
from agent.design import DesignSummary, refers_to_own_design
from agent.steps import (
    MIN_WORDS,
    DocGroup,
    Scoring,
    Step,
    group_passages,
    part_steps,
    pick_sentences,
    redundant,
    related_terms,
    score_steps,
    select_steps,
    specific_terms,
)
from agent.text import stems
from corpus.text import sentences
from corpus.vocabulary import id_letters, is_practice_id, is_question_id
from diagrams.catalog import mentioned

if TYPE_CHECKING:
    from agent.context import LensContext
    from agent.state import Routing, State

SECTION_ORDER = {"Implementation steps": 0, "Implementation guidance": 1, "Overview": 2}
"""Order of a page's chosen sentences in a how-to answer: the actions lead."""
CONDITION = re.compile(r"\b(?:when|if|unless|depending on|whether)\b", re.I)
"""A sentence that states a condition: the lens's criterion in a comparison."""
MAX_WORDS = 190
"""Words of guidance an answer shows (the lead and labels add about 30 more)."""
PART_WORDS = 60
"""Words of guidance each further part of a question adds, so that no part is starved."""
MAX_PART_WORDS = 250
"""Words of guidance a question with several parts shows at most: still a short note."""
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


def not_covered_note(question: str, weight: Callable[[str], float]) -> str:
    """Return a sentence naming the question's specific things the whole corpus never uses.

    Only named things count (a service, a product, a technique written as a name, a number),
    checked against every chunk of the corpus; an everyday word that the lens happens not to
    use is never listed.
    """
    missing = [t for t in specific_terms(question) if not any(weight(s) for s in stems(t))]
    if not missing:
        return ""
    named = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
    return f"The lens does not name {named}; the closest guidance it gives follows."


def _previous_sentences(previous: Sequence[str]) -> set[frozenset[str]]:
    """The content signatures of the sentences earlier answers of the thread already showed."""
    out = set()
    for text in previous:
        for sentence in sentences(MARKERS.sub("", text)):
            signature = frozenset(stems(sentence.lstrip("-*0123456789. ")))
            if len(signature) > 2:
                out.add(signature)
    return out


MARKERS = re.compile(r"\s?\[[^\[\]\n]{2,80}\]")
"""Citation markers, removed when earlier answers are compared sentence by sentence."""


def compose_lens_answer(
    groups: Sequence[DocGroup],
    edition_line: str,
    scoring: Scoring,
    plan: str = "howto",
    parts: Sequence[tuple[Scoring, str]] = (),
) -> str:
    """Compose the answer to a free-text lens question from its pages, following its plan.

    The lead names the pages that answer the question; the body shows the steps chosen
    across all pages (see :func:`select_steps`), each page's steps under its label, the pages
    in order of their best step. A "compare" answer puts the options side by side and adds
    the lens's criterion for choosing; a "list" answer gives a general page's whole list.
    A question with several ``parts`` (each part's own scoring and page) gives each part its
    share of the length, filled with its page's steps that fit that part's words (see
    :func:`part_steps`); each further part adds ``PART_WORDS`` to the length (up to
    ``MAX_PART_WORDS``), so two parts do not share what one would get. In a comparison, each
    option's page is such a part.
    """
    if not groups:
        return f"{NO_COVERAGE_TEXT}\n\n_{edition_line}_"
    budget = MAX_WORDS
    listed = [line for g in groups[:1] for line in _sections(g)] if plan == "list" else []
    budget -= sum(len(line.split()) for line in listed)
    steps = [
        s for s in score_steps(groups, scoring, plan) if not any(s.sentence in i for i in listed)
    ]
    must = [groups[0].key]
    if plan == "compare":  # the options side by side: the two best pages, whatever their role
        must += [g.key for g in groups[:2]]
    else:
        steps = [s for s in steps if s.group.key not in scoring.support]
    budget = max(budget, MIN_WORDS // 2)
    if parts:
        options = groups[:2] if plan == "compare" else groups[:1]  # each option its share
        wanted = [*parts, *((scoring, g.key) for g in options)]
        extra = PART_WORDS * (len({key for _, key in wanted}) - 1)
        budget = min(budget + extra, MAX_PART_WORDS)
        chosen = part_steps(groups, wanted, plan, budget)
    else:
        chosen = select_steps(steps, must, budget)
    shown = [g for g in groups if any(s.group is g for s in chosen) or (listed and g is groups[0])]
    if not shown:
        shown = list(groups[:1])
    names = [_name(g) for g in shown[:2]]
    note = not_covered_note(scoring.question, scoring.weight)
    if plan == "compare" and len(shown) > 1:
        lead = "The lens treats these as separate choices: " + " and ".join(names) + "."
    else:
        lead = "The lens addresses this mainly in " + " and ".join(names) + "."
        if frozenset(stems(lead)) in scoring.seen:  # a follow-up on the same pages
            lead = "More of what " + " and ".join(names) + " advise for this question:"
    if len(shown) > 2:
        lead += " Related guidance: " + ", ".join(_short(g) for g in shown[2:]) + "."
    out = [f"{note} {lead}".strip() if note else lead, ""]
    for group in shown:
        mine = [s for s in chosen if s.group is group]
        if plan != "explain":  # how-to and the rest: the actions first
            mine.sort(key=lambda s: (SECTION_ORDER.get(s.section, 1), s.position))
        else:
            mine.sort(key=lambda s: s.position)
        lines = (listed if group is groups[0] else []) + [
            f"- {_cited(s.sentence, group.key)}" for s in mine
        ]
        if lines:
            out += [_label(group), *lines, ""]
    criterion = _criterion(steps, chosen) if plan == "compare" else None
    if criterion is not None:
        out += ["How to choose:", f"- {_cited(criterion.sentence, criterion.group.key)}", ""]
    out.append(f"_{edition_line}_")
    return "\n".join(out)


def _criterion(steps: Sequence[Step], chosen: Sequence[Step]) -> Step | None:
    """The best conditional sentence ("use X when ...") not shown yet: how to choose."""
    for step in sorted(steps, key=lambda s: -s.score):
        if step not in chosen and CONDITION.search(step.sentence) and not redundant(step, chosen):
            return step
    return None


def _short(group: DocGroup) -> str:
    return f"**{group.key}**" if group.is_practice else f"**{group.title}**"


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


LOOKUP_PARTS = (
    ("Desired outcome", "Desired outcome:", None),
    ("Benefits", "Why it matters:", 2),
    ("Implementation steps", "Steps:", None),
    ("Implementation guidance", "Guidance:", 3),
    ("Anti-patterns", "Anti-patterns to avoid:", 2),
)
"""What a lookup shows of a practice after its summary: (section, heading, most sentences)."""


def compose_lookup(ids: list[str], groups: list[DocGroup], edition_line: str) -> str:
    """Describe the named practices / questions: summary, outcome, key steps, anti-patterns."""
    by_key = {g.key: g for g in groups}
    parts: list[str] = []
    for ident in ids:
        if is_question_id(ident):
            parts += _question_block(ident, groups)
            continue
        group = by_key.get(ident)
        if group:
            parts += [*_practice_summary(group), ""]
    parts.append(f"_{edition_line}_")
    return "\n".join(parts)


def _practice_summary(group: DocGroup) -> list[str]:
    """A practice's label, its summary, then its outcome, key steps and anti-patterns."""
    by_section: dict[str, list[str]] = {}
    for p in group.passages:
        by_section.setdefault(p["section"], []).extend(sentences(p["text"]))
    lines = [_label(group)]
    overview = by_section.get("Overview", [])[:2]
    lines += [f"- {_cited(s, group.key)}" for s in overview]
    seen = {frozenset(stems(s)) for s in overview}
    for section, heading, most in LOOKUP_PARTS:
        shown = []
        for sentence in by_section.get(section, []):
            signature = frozenset(stems(sentence))
            if signature not in seen:
                seen.add(signature)
                shown.append(sentence)
        if shown:
            lines.append(heading)
            lines += [f"- {_cited(s, group.key)}" for s in shown[:most]]
    return lines


def correction(unknown: Sequence[str], known: set[str]) -> str:
    """Say which named ids the lens does not have, and what it has instead, as a sentence."""
    notes = []
    for ident in unknown:
        question = ident.split("-")[0]
        family = id_letters(question)
        siblings = sorted(k for k in known if is_question_id(k) and id_letters(k) == family)
        if is_practice_id(ident) and question in known:
            practices = sorted(k for k in known if k.startswith(question + "-"))
            count = _count(len(practices), "practice")
            notes.append(
                f"The lens has no {ident}: question {question} has {count} "
                f"({practices[0]} to {practices[-1]})."
                if practices
                else f"The lens has no {ident}."
            )
        elif siblings:
            notes.append(
                f"The lens has no {ident}: its {family} questions run from {siblings[0]} to "
                f"{siblings[-1]}."
            )
        else:
            notes.append(f"The lens has no page with the id {ident}.")
    return " ".join(notes)


def _count(number: int, noun: str) -> str:
    """``1 gap``, ``3 gaps``: a count with its noun in the right number."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _question_block(question_id: str, groups: list[DocGroup]) -> list[str]:
    page = next((g for g in groups if g.key == question_id), None)
    practices = [g for g in groups if g.is_practice and g.key.startswith(question_id + "-")]
    title = page.title if page else (practices[0].question_title if practices else question_id)
    lines = [f"**{question_id} · {title}** has {_count(len(practices), 'best practice')}:"]
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


def compose_design_preface(design: DesignSummary, pages: Sequence[str] = ()) -> str:
    """Summarise a reviewed design: services, coverage, and its findings among ``pages``.

    ``pages`` are the pages chosen for the question: the design's gaps and the practices it
    already shows that the question touches are the design's own facts for it, while its
    other findings would only crowd the answer (they are one "what should we fix first?"
    away).
    """
    services = ", ".join(design["services"][:12]) or "no AWS services recognised"
    cov = design["coverage"]
    lines = [
        f"**Your design** ({design['format']}, {design['component_count']} components; "
        f"services: {services}) was reviewed against the lens: {cov['addressed']} practices "
        f"addressed, {cov['gap']} gaps, {cov['unknown']} not visible in the design "
        f"(of {cov['total']}).",
    ]
    touched = [gap for gap in design["gaps"] if gap["bp_id"] in pages]
    if touched:
        lines += ["", "Gaps in the design that this question touches:"]
        for gap in list({g["bp_id"]: g for g in reversed(touched)}.values())[::-1]:
            lines.append(
                f"- **{gap['bp_id']}** {gap['title']} ({gap['risk']} risk): {gap['explanation']}"
            )
    shown = [s for s in design["strengths"] if s["bp_id"] in pages]
    if shown:
        lines += ["", "What the design already shows on this:"]
        lines += [
            f"- **{s['bp_id']}** {s['title']}: {_cited(s['explanation'], s['bp_id'])}"
            for s in shown
        ]
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
    gaps = list({g["bp_id"]: g for g in reversed(design["gaps"])}.values())[::-1]
    lead = (
        "Fix this gap first"
        if len(gaps) == 1
        else f"Fix these {_count(len(gaps), 'gap')} in this order: higher lens risk first, then "
        "the gap that reaches more of the design (the components it was found on plus "
        "everything wired to them)"
    )
    parts = [f"{lead}.", ""]
    for number, gap in enumerate(gaps, 1):
        where = ", ".join(gap["evidence"]) or "the design as a whole"
        parts.append(
            f"{number}. **{gap['bp_id']} · {gap['title']}** ({gap['risk']} risk; reaches "
            f"{_count(gap['reach'], 'component')}; found on: {where}). "
            f"{gap['explanation']}"
        )
        group = by_key.get(gap["bp_id"])
        if group:
            parts += [f"   - {_cited(s, group.key)}" for s in pick_sentences(group, 1, scoring)]
    parts += ["", f"_{edition_line}_"]
    return "\n".join(parts)


def about_design(question: str, routing: Routing) -> bool:
    """Tell whether a turn asks about the reviewed design itself rather than a lens topic.

    Either the router heard a design intent ("what should we fix first?"), or the question
    points at the asker's design ("what does this design cover?") and names no practice's
    topic, so the review's own findings are the answer.
    """
    if routing["answer"] == "design":
        return True
    about_lens = any(is_practice_id(p) for p in routing["pages"])
    return refers_to_own_design(question) and not about_lens


def compose_design_review(
    design: DesignSummary,
    groups: Sequence[DocGroup],
    edition_line: str,
    scoring: Scoring,
    relevance: Mapping[str, float],
    topic: Collection[str] = (),
    strengths_first: bool = False,
) -> str:
    """Answer a question about the reviewed design itself from the review's own findings.

    "Is the model access in this template ok?" is about the findings on that topic: those
    among ``topic`` (the pages chosen for the question) when there are any, else every gap
    and every practice the design already shows ("what does it cover and what is missing?").
    Findings come most relevant to the question first (``relevance``: the router's page
    probabilities), ties in fix order. "What do we get right?" (``strengths_first``) lists
    the practices shown first, then the one gap to add next.
    """
    gaps = list({g["bp_id"]: g for g in reversed(design["gaps"])}.values())[::-1]
    strengths = design["strengths"]
    if topic and any(f["bp_id"] in topic for f in [*gaps, *strengths]):
        gaps = [g for g in gaps if g["bp_id"] in topic]
        strengths = [s for s in strengths if s["bp_id"] in topic]
    gaps = sorted(gaps, key=lambda g: -relevance.get(g["bp_id"], 0.0))
    strengths = sorted(strengths, key=lambda s: -relevance.get(s["bp_id"], 0.0))
    if strengths_first:
        gaps = gaps[:1]
    by_key = {g.key: g for g in groups}

    def lens_step(bp_id: str) -> list[str]:
        group = by_key.get(bp_id)
        picked = pick_sentences(group, 1, scoring) if group else []
        return [f"   - {_cited(s, bp_id)}" for s in picked]

    cov = design["coverage"]
    lines = [
        f"**Your design** ({design['format']}, {design['component_count']} components) was "
        f"reviewed against the lens: {cov['addressed']} practices addressed, {cov['gap']} "
        f"gaps, {cov['unknown']} not visible in the design (of {cov['total']}).",
    ]
    shown = ["", "**Already in place**"] if strengths else []
    for strength in strengths:
        shown.append(
            f"- **{strength['bp_id']} · {strength['title']}**: "
            + _cited(strength["explanation"], strength["bp_id"])
        )
    to_change = ["", "**Next to add**" if strengths_first else "**To change**"] if gaps else []
    for gap in gaps:
        where = ", ".join(gap["evidence"]) or "the design as a whole"
        to_change.append(
            f"- **{gap['bp_id']} · {gap['title']}** ({gap['risk']} risk; found on: {where}): "
            f"{gap['explanation']}"
        )
        to_change += lens_step(gap["bp_id"])
    if not gaps and not strengths:
        lines.append(
            "The review shows neither a gap nor a practice on this; most controls are team "
            "processes or settings a drawing does not reveal, so ask the team about them."
        )
    body = [*shown, *to_change] if strengths_first else [*to_change, *shown]
    return "\n".join([*lines, *body, "", f"_{edition_line}_"])


def edition_line(ctx: LensContext) -> str:
    """Return the answer's closing line naming the lens, its edition and the corpus."""
    corpus = ctx.index.corpus
    name = (corpus.name if corpus else None) or "AWS Well-Architected Generative AI Lens"
    if corpus and corpus.edition:
        return f"Source: {name}, {corpus.edition} edition ({corpus.source} corpus)."
    return f"Source: {name} ({corpus.source if corpus else 'configured'} corpus)."


def _part_scoring(scoring: Scoring, question: str, ctx: LensContext) -> Scoring:
    """The scoring of one part of a question: the part's own words and similarities."""
    similarity = ctx.index.chunk_similarity(question)
    related = related_terms(similarity, _text_of(ctx), scoring.weight)
    return replace(scoring, question=question, similarity=similarity, related=related)


def _text_of(ctx: LensContext) -> Callable[[str], str]:
    """Return the text of a chunk of the index by its id (empty for an unknown id)."""

    def text(chunk_id: str) -> str:
        chunk = ctx.index.chunk(chunk_id)
        return chunk.text if chunk else ""

    return text


def draft(state: State, ctx: LensContext, earlier: Sequence[str] = ()) -> str:
    """Compose the extractive answer of a turn from its retrieved passages, by its plan.

    ``earlier`` holds the thread's previous answers: their sentences are not repeated. The
    plan (``state.routing["answer"]``) was decided once, when the turn was routed.
    """
    routing = state.routing
    assert routing is not None, "draft runs after route"
    plan = routing["answer"]
    edition = edition_line(ctx)
    groups = group_passages(state.passages, first=routing["ids"])
    if plan == "lookup" and not state.attempts:
        return compose_lookup(routing["ids"], groups, edition)
    collection = requested(routing["query"], ctx.index.chunks) if plan == "list" else None
    if collection and routing["kind"] == "lens":
        return compose_list(collection, edition)
    design = state.diagram
    similarity = ctx.index.chunk_similarity(routing["query"])
    scoring = Scoring(
        question=state.question,
        weight=ctx.index.term_weight,
        similarity=similarity,
        related=related_terms(similarity, _text_of(ctx), ctx.index.term_weight),
        services=frozenset(design["services"]) if design else None,
        mentions=mentioned if design else None,
        support=frozenset(routing["support"]),
        seen=frozenset(_previous_sentences(earlier)),
    )
    if design and about_design(state.question, routing):
        if routing["intent"] == "prioritize":
            return compose_priorities(design, groups, edition, scoring)
        relevance = {s.page_id: s.probability for s in ctx.index.rank_pages(routing["query"])}
        return compose_design_review(
            design,
            groups,
            edition,
            scoring,
            relevance,
            topic=frozenset([*routing["pages"], *routing["support"]]),
            strengths_first=routing["intent"] == "strengths",
        )
    by_key = {g.key: g for g in groups}
    named = [*routing["ids"], *routing["pages"], *routing["support"]]
    chosen = [by_key[p] for p in dict.fromkeys(named) if p in by_key]
    if not routing["pages"] or not chosen:  # relevance chose nothing: the best retrieved
        chosen = [g for g in groups if g.score >= WEAK_SCORE][:3] or chosen
    parts = [
        (_part_scoring(scoring, part["question"], ctx), part["pages"][0])
        for part in routing["parts"]
        if part["pages"]
    ]
    body = compose_lens_answer(chosen, edition, scoring, plan, parts)
    if plan == "correction":
        body = f"{correction(routing['unknown_ids'], ctx.index.known_ids)}\n\n{body}"
    elif routing["intent"] and not design:
        body = f"{NO_DESIGN_TEXT}\n\n{body}"
    if design:
        body = f"{compose_design_preface(design, routing['pages'])}\n\n{body}"
    return body
