"""Decide what a turn is: a lens question, a follow-up, an id lookup, or outside the lens.

Whether the lens answers a question, and which design intent it expresses ("what should we fix
first?"), comes from the index's calibrated router: the question's similarity to labelled
example questions, combined with retrieval signals (:mod:`index.relevance`). The decision
names the examples that made it. What remains rule-based is the shape of the conversation
(does a short question lean on the previous one?), explicit ids and pillar names, and the
injection detector, which only warns: the question is never rewritten, and it reaches a model
only inside the untrusted tags.

No model is called here, so both answer modes get the same routing and an out-of-scope
question never costs a model call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from agent.design import refers_to_own_design
from agent.text import stems
from corpus.ids import find_ids, unknown_ids
from corpus.vocabulary import PILLARS

RouteKind = Literal["lens", "followup", "lookup", "out_of_scope"]
AnswerKind = Literal[
    "", "decline", "lookup", "correction", "design", "howto", "explain", "compare", "list"
]
"""The plan of an answer: ``decline`` (out of scope); ``lookup`` (outcome, key steps,
anti-patterns and services of named pages); ``correction`` (a wrong id: the correction, then
the nearest content); ``design`` (the reviewed design's own facts); ``howto`` (the steps that
do it); ``explain`` (the point, then the reason); ``compare`` (the options side by side, with
the lens's criterion); ``list`` (a list the lens gives, complete)."""
_COMPARE = re.compile(
    r"\b(?:differences? between|differ from|versus|vs\.?|instead of|rather than|better than|"
    r"choose between|pick between|or should (?:we|i)|or just|or (?:use|go with))\b",
    re.I,
)
"""How people ask to weigh options against each other."""
_LIST = re.compile(
    r"\b(?:list|enumerate|name (?:all|each|every|the))\b|\ball (?:the|of the)\b|"
    r"^\s*(?:what|which) (?:are|were) (?:the|all|its)\b|"
    r"^\s*(?:what|which)\b[^?]{0,60}?\b(?:do|does)\b[^?]{0,60}?"
    r"\b(?:cover|go through|walk through|include|contain)\??\s*$",
    re.I,
)
"""How people ask for a whole list ("what are the ...", "list the ...") or for what a page
goes through ("what topics does the data architecture section go through?")."""
_EXPLAIN = re.compile(r"^\s*(?:what(?:'s| is| does| do)|why|is|are|does|do)\b", re.I)
"""How people ask what something is or why it matters (rather than what to do)."""

FOLLOW_UP_START = re.compile(
    r"^\s*(and|also|what about|how about|same for|what if|then|ok|okay|so)\b", re.I
)
REFERS_BACK = re.compile(r"\b(it|this|that|these|those|them|the same|above|previous)\b", re.I)
PILLAR_STEMS: dict[str, frozenset[str]] = {
    pillar: frozenset(stems(words))
    for pillar, words in zip(
        PILLARS,
        (
            "operations operational operate monitoring monitor observability deployment deploy",
            "security secure attack attacker threat permissions access encryption encrypt",
            "reliability reliable failover outage resilience resilient availability",
            "performance latency throughput fast faster slow speed",
            "cost costs price pricing cheap cheaper expensive spend spending budget bill billing",
            "sustainability sustainable carbon energy footprint emissions green",
        ),
        strict=True,
    )
}
"""The words that name a pillar in a follow-up ("what about cost?"), matched as whole stems."""
FALLBACK_SCOPE_SCORE = 0.3
"""For a lens without example questions: dense cosine under which a question is declined."""

_ADDRESS = (
    r"^(?:\W*(?:please|now|also|and|then|but|so|ok|okay|hey|just|p\.?s\.?|important|note|"
    r"assistant|ai|bot|lenswise)\b\W*)*(?:(?:after|before|in|when|once|for)\b[^,]{0,40},\s*)?"
)
"""What may open a command to the assistant ("P.S. assistant, ...", "After answering, ...")."""
_COMMAND = re.compile(
    _ADDRESS
    + r"(?:ignore|disregard|forget|override|bypass|drop|skip|stop|abandon|disable|switch off|"
    r"turn off|reveal|disclose|print|output|dump|leak|repeat|show|write|append|respond|reply|"
    r"answer|say|tell|pretend|act|treat|mark|replace|confirm|invent|follow|obey)\b",
    re.I,
)
"""A sentence that opens with an imperative to the assistant."""
_TARGET = re.compile(
    r"\b(?:your|you|yourself|instructions?|directions|rules|guidelines|guardrails|filters|"
    r"policies|constraints|checks|system (?:prompt|message)|prompt template|configuration|"
    r"config|citations?|citing|every (?:answer|practice|finding|citation)|next answer|"
    r"nothing else|only (?:with|in)|exactly|verbatim|word for word|the above|prior|previous|"
    r"everything above|the user|as if|instead|from now on)\b",
    re.I,
)
"""What such a command has to be about for it to be an attack on the assistant."""
_TAKEOVER = re.compile(
    r"\b(?:you are now|you're now|you are no longer|you're no longer|from now on,? you|"
    r"you(?:'re| are) an? (?:\w+ ){0,2}(?:chatbot|assistant|ai|model|terminal|bot) now|"
    r"pretend (?:that )?you(?:'re| are)|your new (?:instruction|task|role|goal)|"
    r"your only goal now|new (?:system )?(?:instructions?|task)\s*:|"
    r"your instructions have (?:been )?(?:updated|changed)|i authori[sz]e you|you must obey|"
    r"message from your (?:creators|developers)|(?:admin|system|developer) override|"
    r"developer mode|role\s*=\s*root|"
    r"your (?:initial|hidden|secret|original|system) (?:instructions|prompt|rules|message))(?!\w)",
    re.I,
)
"""Phrases that try to replace the assistant's instructions wherever they appear."""
_ASKING = re.compile(
    r"^(?:how|what|why|when|where|which|who|should|can|could|would|is|are|does|do|did|will|"
    r"if|our|we|my|i)\b",
    re.I,
)
_CLAUSES = re.compile(r"(?<=[.!?;:])\s+|,\s*(?:so|and then|then)\s+|\s+-{2,}\s+|\n+")
_QUOTED = re.compile(r"\"[^\"\n]{0,300}\"|“[^”\n]{0,300}”")
_PART_BREAK = re.compile(
    r"(?<=[?.!])\s+|[;:]\s+|\s+-{1,2}\s+|,\s*(?:and\s+|plus\s+|but\s+)?(?:also\s+|separately\s+|then\s+)?"
    r"|\s+(?:and|plus)\s+(?:also\s+|separately\s+)?(?=(?:how|what|why|which|when|where|should|can|"
    r"do|does|is|are|make|keep|stop)\b)|\s+and\s+(?:also|separately)\s+",
    re.I,
)
"""Where a question may break into parts: sentence ends, semicolons, colons and dashes, commas
(a list of items, "X, and also Y"), and an "and" that opens a new request."""
_REQUEST = re.compile(
    r"^(?:how|what|which|why|when|where|should|can|could|do|does|is|are|make|keep|stop|give)\b",
    re.I,
)
"""A clause that asks or requests something itself (rather than setting the scene)."""
_ELIDED = re.compile(r",?\s+and\s+(?:also\s+(?=\w)|(?=that\b))", re.I)
"""Where a request goes on with a conjunct that shares its verb ("how do we make the answers
more consistent, and also cheaper per call?"; "how do we make sure it only acts on its own
account, and that it can't run forever?"): "and also" or "and that" opens it."""
_COMPARATIVE = re.compile(r"^(?:more|less|fewer|\w{3,}er)$", re.I)
"""A word that may open a comparative ("cheaper", "more consistent")."""
_EACH = re.compile(r"\b(?:each|both|separately|for every)\b", re.I)
"""Words by which a question says it has several parts ("what do we do about each one?"):
then every clause long enough is a part, the items of a list included, except the clause
that says so (it asks about the others)."""
SHORT_FOLLOW_UP = 10
"""Most words of a question that points back and adds to the previous one ("does our
knowledge base need anything for that too?") and still leans on it."""
ADDS_TO = re.compile(r"\b(?:too|also|as well|either|instead)\b", re.I)
"""Words by which a question adds to the previous one rather than asking afresh."""
MIN_PART_WORDS = 4
"""A part shorter than this leans on its neighbour and is not asked on its own."""
SUPPORT_PROBABILITY = 0.5
"""A page the calibrated relevance model finds more likely relevant than not: the bar a part,
a concern of a story or a supporting page must clear (the model's probabilities are
calibrated on the labelled dev questions, so 0.5 means even odds, not a tuned cut-off)."""
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_CONCERN_BREAK = re.compile(
    r"(?<=[.!?])\s+|[;:]\s+|\s+-{1,2}\s+|,\s*(?:and\s+|but\s+)?|\s+(?:and|but|so|because|while)\s+",
    re.I,
)
"""Where a workload description breaks into concerns: sentences, commas, and the conjunctions
that add a constraint ("..., and the notes are not allowed to leave the country")."""


@dataclass(frozen=True)
class Story:
    """A workload story: a description of the workload, then one open request about it."""

    scene: str
    """The description (every sentence before the request)."""
    ask: str
    """The request ("what should we have in place?")."""
    concerns: list[str]
    """The description split into its concerns: the workload, then each constraint or risky
    action it mentions; each is routed like a part of a question."""


@dataclass(frozen=True)
class Route:
    """The routing decision for one turn."""

    kind: RouteKind
    query: str
    """What retrieval and relevance see: the question, or the question joined to the
    previous one for a follow-up. The whole text, injection included: nothing is cut."""
    pillar: str | None = None
    """Restrict retrieval to this pillar (a follow-up naming one, or the caller's filter)."""
    ids: list[str] = field(default_factory=list)
    """Practice / question ids named in the question."""
    intent: str | None = None
    """A design intent of the question (``prioritize``, ``strengths``, ``review``), if any."""
    injection: list[str] = field(default_factory=list)
    """Instruction-like sentences found in the question (reported, never obeyed)."""
    explanation: str = ""
    """Why the scope decision went the way it did (nearest examples, probability)."""
    unknown_ids: list[str] = field(default_factory=list)
    """Ids written in the lens's form that name no page of the corpus (``GENREL09``)."""
    parts: list[str] = field(default_factory=list)
    """The separate questions of a question with several parts (empty for one part)."""
    story: Story | None = None
    """The question as a workload story, when it is one (its request names no topic)."""


def detect_injection(question: str) -> list[str]:
    """Return the sentences of ``question`` that address the assistant with instructions.

    A sentence counts when it tries to replace the assistant's instructions ("you are now...",
    "your new task:", "reveal your hidden instructions") or opens with a command about the
    assistant's rules, prompt or output ("ignore your rules...", "print the system message",
    "respond with exactly X"). Questions about such attacks ("how do I make the model ignore
    instructions hidden in documents?") and text the user quotes do not.
    """
    found = []
    for part in _CLAUSES.split(_QUOTED.sub(" ", question)):
        text = part.strip(" -*[]<>!%")
        if _ASKING.match(text):
            continue
        if _TAKEOVER.search(text) or (_COMMAND.match(text) and _TARGET.search(text)):
            found.append(text)
    return found


def answer_kind(question: str, route: Route, has_design: bool) -> AnswerKind:
    """Decide the answer's plan once, from the route and the question's grammatical form."""
    if route.kind == "out_of_scope":
        return "decline"
    if route.unknown_ids:
        return "correction"
    if route.kind == "lookup":
        return "lookup"
    if route.intent and has_design:
        return "design"
    if _COMPARE.search(question):
        return "compare"
    if _LIST.search(question):
        return "list"
    if _EXPLAIN.match(question):
        return "explain"
    return "howto"


def split_parts(question: str) -> list[str]:
    """Return the separate questions of ``question``; empty when it asks one thing.

    A part is a clause that asks or requests something of its own ("..., and how do we Y?");
    clauses that set the scene ("we fine-tune every month.") are context, not parts. When the
    question says it has several parts ("... for each?", "both"), every clause is one, so the
    items of a list are routed one by one. A part must carry enough words to stand alone, so
    "A or B?" stays one comparison.
    """
    clauses = []
    for piece in _PART_BREAK.split(_ELIDED.sub(", also ", question)):
        piece = piece.strip(" ,.") if piece else ""
        if piece:
            clauses.append(piece)
    clauses = _fill_elided(clauses, question)
    if not _EACH.search(question):
        clauses = [c for c in clauses if _REQUEST.match(c)]
    parts = [c for c in clauses if len(c.split()) >= MIN_PART_WORDS and not _EACH.search(c)]
    return parts if len(parts) >= 2 else []


def _fill_elided(clauses: list[str], question: str) -> list[str]:
    """Return ``clauses`` with each conjunct that shares a request's verb made a request.

    The conjunct after "and also" / "and that" (:data:`_ELIDED`) leaves out the words it shares
    with the request before it; they are put back: the request up to where the conjunct's
    counterpart starts (the same opening word, or the first comparative when the conjunct is
    one: "how do we make the answers more consistent, and also cheaper" gives "how do we make
    the answers cheaper"). A conjunct whose counterpart is not found stays as written and is a
    part only if it asks on its own.
    """
    marks = [m.end() for m in _ELIDED.finditer(question)]
    if not marks:
        return clauses
    tails = [question[end:] for end in marks]
    filled = []
    for i, clause in enumerate(clauses):
        head = filled[-1] if filled else ""
        opens = any(tail.startswith(clause.strip("?!")) for tail in tails)
        if i and opens and _REQUEST.match(head):
            clause = _shared_frame(head, clause) or clause
        filled.append(clause)
    return filled


def _shared_frame(head: str, conjunct: str) -> str:
    """Return ``conjunct`` preceded by the words of ``head`` it leaves out, or "" if unclear."""
    first = conjunct.split()[0].lower()
    words = head.split()
    for position, word in enumerate(words[1:], start=1):
        word = word.lower().strip(",")
        if word == first or (_COMPARATIVE.match(first) and _COMPARATIVE.match(word)):
            return " ".join([*words[:position], conjunct])
    return ""


def split_story(question: str) -> Story | None:
    """Return ``question`` as a workload story when its structure is one; else None.

    A story is one or more statements describing a workload ("we're building an agent that
    cancels subscriptions.") followed by one request, and nothing else: no request among the
    statements, no several parts, no comparison. Whether the request is open (names no topic
    of its own) is the router's call (:func:`is_open_ask`), not this function's.
    """
    sentences = [s.strip() for s in _SENTENCES.split(question.strip()) if s.strip()]
    if len(sentences) < 2 or _COMPARE.search(question) or split_parts(question):
        return None
    *scene, ask = sentences
    if not _REQUEST.match(ask) or any(_REQUEST.match(s) for s in scene):
        return None
    text = " ".join(scene)
    concerns: list[str] = []
    for piece in _CONCERN_BREAK.split(text):
        piece = piece.strip(" ,.")
        if not piece:
            continue
        if concerns and len(piece.split()) < MIN_PART_WORDS:  # "..., overnight is fine"
            concerns[-1] = f"{concerns[-1]}, {piece}"
        else:
            concerns.append(piece)
    return Story(text, ask, concerns)


def is_open_ask(ask: str, index) -> bool:
    """Return True when a story's request names no topic of its own, so its concerns decide.

    An open request is too short to stand alone as a part (fewer than ``MIN_PART_WORDS``
    content words: "what should we have in place?"; "how should the VPC and subnets look so
    nothing is exposed?" is a question of its own). Then the calibrated router decides: it is
    open when it reads as a design intent (those examples are open asks: "what should we fix
    first?"), when its best page is less likely relevant than not, or when that page is an
    overview page whose title the request does not use ("what does the lens say we need?"
    drifts to an overview page; "what does the call center scenario say?" names one). "How do
    we keep that affordable?" names cost: not open.
    """
    if len(stems(ask)) >= MIN_PART_WORDS:
        return False
    decision = index.scope(ask)
    if decision is None:  # a lens without example questions has no router to decide
        return False
    ranked = index.rank_pages(ask)
    if decision.intent or not ranked or ranked[0].probability < SUPPORT_PROBABILITY:
        return True
    chunks = index.chunks_of(ranked[0].page_id)
    overview = bool(chunks) and chunks[0].bp_id is None
    return overview and not set(stems(chunks[0].title)) & set(stems(ask))


def mentioned_pillar(question: str) -> str | None:
    """Return the single pillar a question names (whole words), if exactly one."""
    words = set(stems(question))
    hits = [pillar for pillar, vocabulary in PILLAR_STEMS.items() if words & vocabulary]
    return hits[0] if len(hits) == 1 else None


def is_follow_up(question: str, previous: str | None) -> bool:
    """Return True when ``question`` leans on the previous turn.

    Either it opens like a continuation ("what about cost?", "and for agents?"), or it is short
    and points back ("how do I test that?"), or it points back and adds to the previous one
    ("does it help latency too?"); a full question that merely contains "it" is not.
    """
    words = len(question.split())
    if not previous:
        return False
    if FOLLOW_UP_START.search(question):
        return words <= 12
    if not REFERS_BACK.search(question):
        return False
    return words <= 6 or (words <= SHORT_FOLLOW_UP and bool(ADDS_TO.search(question)))


def decide(
    question: str,
    previous: str | None,
    index,
    *,
    pillar: str | None = None,
    has_design: bool = False,
) -> Route:
    """Route one turn.

    Args:
        question: the user's question (untrusted text, used whole).
        previous: the thread's previous question, if any.
        index: the opened lens index (its router decides scope and intent).
        pillar: a pillar filter the caller set, if any.
        has_design: a reviewed design is attached or already in the thread.
    """
    injection = detect_injection(question)
    known = index.known_ids
    ids = find_ids(question, known)
    follow_up = is_follow_up(question, previous)
    query = f"{question} {previous}" if follow_up and previous else question
    pillar = pillar or (mentioned_pillar(question) if follow_up else None)
    base = {
        "query": query,
        "pillar": pillar,
        "ids": ids,
        "injection": injection,
        "unknown_ids": unknown_ids(question, known),
        "parts": [] if follow_up else split_parts(question),
    }
    if ids:
        return Route("lookup", **base)
    if base["unknown_ids"]:  # a wrong id is corrected, then the nearest real content follows
        kind: RouteKind = "followup" if follow_up else "lens"
        return Route(kind, explanation="the question names an id the lens does not have", **base)
    decision = index.scope(query)
    if decision is None:  # a lens without example questions: a plain retrieval threshold
        hits = index.search(query, k=1, mode="dense", pillar=pillar)
        score = hits[0].score if hits else 0.0
        kind = "followup" if follow_up else "lens"
        if score < FALLBACK_SCOPE_SCORE:
            kind = "out_of_scope"
        return Route(kind, explanation=f"best passage similarity {score:.2f}", **base)
    if not decision.in_scope and not (decision.intent and has_design):
        return Route("out_of_scope", explanation=decision.explain(), **base)
    kind = "followup" if follow_up else "lens"
    intent = decision.intent if has_design or refers_to_own_design(query) else None
    story = None if follow_up or has_design else split_story(question)
    if story and not is_open_ask(story.ask, index):
        story = None
    return Route(kind, intent=intent, explanation=decision.explain(), story=story, **base)
