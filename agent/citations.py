"""Check every citation of an answer before it is shown, whatever model wrote it.

Rules:
1. A cited id must name a page that exists in the corpus and that was among the passages the
   answer was built from; any other citation is removed from the text and reported.
2. Each sentence carrying a citation must be supported by the cited passages: enough of its
   content words occur in them (lexical containment), or, failing that, it is semantically
   close to one of their sentences (embedding cosine). Unsupported sentences are reported.
3. Each surviving citation gets a short supporting quote from its passages and its URL.

Thresholds were calibrated on the digest: sentences copied or lightly reworded from a passage
score above them, sentences taken from a different practice score below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from agent.results import Citation
from agent.text import containment
from corpus.text import sentences
from corpus.vocabulary import PRACTICE_IN_TEXT, is_practice_id, is_question_id, page_key

if TYPE_CHECKING:
    from agent.state import Passage

LEXICAL_SUPPORT = 0.6
SEMANTIC_SUPPORT = 0.6
PARAPHRASE_LEXICAL = 0.5
PARAPHRASE_SEMANTIC = 0.45
"""A paraphrase passes when both signals agree at these lower levels: half its content words
in the cited text and a moderate similarity to one of its sentences, pairs or passages."""
MARKER = re.compile(r"\s?\[([^\[\]\n]{2,80})\](?!\()")
"""A bracketed marker that is not the text of a markdown link (``[label](url)``)."""
LINK = re.compile(r"\[([^\[\]\n]*)\]\([^()\s]*\)")
"""A markdown link; a claim is checked on the link's text, not its address."""
MIN_CLAIM_WORDS = 6
"""A shorter uncited phrase ("Here is what the lens says.") is framing, not a claim."""
UNVERIFIED = "(unverified: no lens passage backs this)"
"""The visible mark on a sentence the citation check could not back."""


@dataclass
class Verification:
    """Outcome of checking one answer."""

    text: str
    """The answer with invalid citation markers removed."""
    citations: list[Citation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    """Ids whose citations were removed (non-existent or not retrieved)."""
    unsupported: list[str] = field(default_factory=list)
    """Cited sentences that their passages do not support."""
    uncited: list[str] = field(default_factory=list)
    """Sentences that lost every citation they had (their ids do not hold), as they now read."""

    @property
    def ok(self) -> bool:
        """True when nothing had to be removed and every cited sentence is supported."""
        return not self.removed and not self.unsupported

    @property
    def unverified(self) -> list[str]:
        """Every sentence the check could not back: uncited after the check, or unsupported."""
        return list(dict.fromkeys([*self.uncited, *self.unsupported]))


def _ids_in_marker(content: str, pages: dict[str, str]) -> list[str] | None:
    """Return the ids a marker cites, or None when the brackets hold ordinary text.

    A marker cites when every part is a page id of the corpus (``GENSEC04-BP02``,
    ``responsible-ai``) or has the shape of a practice / question id (an id that does not
    exist is a citation to remove, not text); ``[end-to-end]`` or ``[1]`` are text.
    """
    parts = [p.strip() for p in re.split(r"[,;]|\band\b", content) if p.strip()]
    if not parts or not all(p in pages or is_practice_id(p) or is_question_id(p) for p in parts):
        return None
    return parts


def verify(
    text: str,
    passages: Mapping[str, Passage],
    pages: dict[str, str],
    embed: Callable[[list[str]], np.ndarray] | None = None,
    quoted: Collection[str] = (),
    every_claim: bool = False,
) -> Verification:
    """Check ``text`` against ``passages`` (chunk id -> passage) and return the verification.

    Args:
        text: the answer, with ``[ID]`` citation markers.
        passages: the retrieved passages the answer was built from.
        pages: official URL of every page id of the corpus (practices, questions, general
            pages); an id not in it does not exist.
        embed: optional sentence encoder for the semantic support test.
        quoted: ids the user wrote that the lens does not have; the answer may name them
            (to say so) without citing them.
        every_claim: a sentence that states something without citing anything counts as
            unsupported too (a model's answer; extractive answers cite every copied sentence
            and add only their own framing).
    """
    by_page: dict[str, list[Passage]] = {}
    for p in passages.values():
        by_page.setdefault(page_key(p.get("bp_id"), p["chunk_id"]), []).append(p)
    result = Verification(text=text)

    def check_id(ident: str) -> bool:
        if ident not in pages:
            _remove(result, ident, f"removed citation {ident}: no such page in the lens")
            return False
        if ident not in by_page:
            _remove(
                result, ident, f"removed citation {ident}: it was not among the retrieved passages"
            )
            return False
        return True

    def replace(match: re.Match) -> str:
        ids = _ids_in_marker(match.group(1), pages)
        if ids is None:
            return match.group(0)
        kept = [i for i in ids if check_id(i)]
        return f" [{', '.join(kept)}]" if kept else ""

    cleaned = MARKER.sub(replace, text)
    for sentence in sentences(text):
        had = _all_marker_ids(sentence, pages, shaped=True)
        if had and all(i in result.removed for i in had):
            result.uncited.append(LINK.sub(r"\1", MARKER.sub(replace, sentence)).strip(" *"))
    for ident in dict.fromkeys(PRACTICE_IN_TEXT.findall(MARKER.sub(" ", cleaned))):
        # a bare mention of a practice that does not hold (unless the user's own wrong id)
        if ident not in quoted and not check_id(ident):
            cleaned = re.sub(
                rf"\*{{0,2}}{re.escape(ident)}\*{{0,2}}", "(removed citation)", cleaned
            )
    result.text = cleaned
    quotes = _check_support(result, cleaned, by_page, pages, embed)
    if every_claim:
        for claim in _bare_claims(cleaned, pages):
            if claim not in result.uncited:
                result.unsupported.append(claim)
                result.warnings.append(f'uncited claim: "{_short(claim)}"')
    for ident in dict.fromkeys(_all_marker_ids(cleaned, pages)):
        page_passages = by_page[ident]
        first = page_passages[0]
        result.citations.append(
            Citation(
                bp_id=first.get("bp_id"),
                title=first["title"]
                if first.get("bp_id") or not first.get("question_id")
                else (first.get("question_title") or first["title"]),
                url=pages.get(ident) or first.get("url", ""),
                chunk_ids=tuple(p["chunk_id"] for p in page_passages),
                quote=quotes.get(ident) or sentences(first["text"])[0][:300],
                risk=first.get("risk"),
                pillar=first.get("pillar"),
                page_id=ident,
            )
        )
    return result


def _remove(result: Verification, ident: str, warning: str) -> None:
    if ident not in result.removed:
        result.removed.append(ident)
        result.warnings.append(warning)


def _all_marker_ids(text: str, pages: dict[str, str], shaped: bool = False) -> list[str]:
    """Return the ids the markers of ``text`` cite (with ``shaped``, ids that do not exist)."""
    out: list[str] = []
    for match in MARKER.finditer(text):
        ids = _ids_in_marker(match.group(1), pages) or []
        out += ids if shaped else [i for i in ids if i in pages]
    return out


def _claims(text: str, pages: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Return (sentence without markers, cited ids) for each sentence that cites something."""
    claims = []
    for sentence in sentences(text):
        ids = _all_marker_ids(sentence, pages)
        if ids:
            claim = MARKER.sub(
                lambda m: "" if _ids_in_marker(m.group(1), pages) else m.group(0), sentence
            )
            claims.append((LINK.sub(r"\1", claim).strip(" *"), ids))
    return claims


def _check_support(
    result: Verification,
    text: str,
    by_page: dict[str, list[Passage]],
    pages: dict[str, str],
    embed: Callable[[list[str]], np.ndarray] | None,
) -> dict[str, str]:
    """Flag unsupported cited sentences; return the best supporting quote per cited id."""
    quotes: dict[str, tuple[float, str]] = {}
    pending: list[tuple[str, list[str]]] = []
    shared: dict[str, float] = {}
    for claim, ids in _claims(text, pages):
        evidence = _evidence(ids, by_page)
        if not evidence:
            continue
        scores = [containment(claim, s) for s in evidence]
        best = int(np.argmax(scores))
        shared[claim] = containment(claim, " ".join(evidence))
        if shared[claim] >= LEXICAL_SUPPORT:
            _keep_quote(quotes, ids, scores[best], evidence[best])
        else:
            pending.append((claim, ids))
    if pending and embed is not None:
        for claim, ids in pending[:]:
            evidence = _passages_and_pairs(ids, by_page)
            vectors = embed([claim, *evidence])
            sims = vectors[1:] @ vectors[0]
            best = int(np.argmax(sims))
            similar = float(sims[best])
            paraphrase = shared[claim] >= PARAPHRASE_LEXICAL and similar >= PARAPHRASE_SEMANTIC
            if similar >= SEMANTIC_SUPPORT or paraphrase:
                _keep_quote(quotes, ids, float(sims[best]), sentences(evidence[best])[0])
                pending.remove((claim, ids))
    for claim, ids in pending:
        result.unsupported.append(claim)
        result.warnings.append(
            f'unsupported claim (not backed by {", ".join(ids)}): "{_short(claim)}"'
        )
    return {ident: quote for ident, (_, quote) in quotes.items()}


def _short(claim: str) -> str:
    """A claim shortened for a warning line, cut at a word boundary."""
    if len(claim) <= 90:
        return claim
    return claim[:87].rsplit(" ", 1)[0] + "..."


def _bare_claims(text: str, pages: dict[str, str]) -> list[str]:
    """Return the sentences that state something without citing anything.

    A heading, a line that introduces a list (ending in a colon), a short phrase, and a
    sentence that names a lens page (the lead naming the practices) are framing, not claims.
    """
    claims = []
    for sentence in sentences(text):
        plain = LINK.sub(r"\1", sentence).strip(" *_#")
        if MARKER.search(sentence) and _all_marker_ids(sentence, pages):
            continue
        names_page = any(i in pages for i in PRACTICE_IN_TEXT.findall(plain))
        if plain.endswith(":") or len(plain.split()) < MIN_CLAIM_WORDS or names_page:
            continue
        claims.append(plain)
    return claims


def _evidence(ids: list[str], by_page: dict[str, list[Passage]]) -> list[str]:
    """Return the sentences of the cited pages' passages.

    A page's label (its id, title, pillar and risk level) and its section headings count as
    text: a line that names a page by them ("GENSEC04-BP01 · Implement a secure prompt
    catalog, Medium risk") states facts of the page.
    """
    out: list[str] = []
    for ident in ids:
        pages = by_page.get(ident, [])
        if pages:
            first = pages[0]
            risk = f"{first['risk']} risk" if first.get("risk") else ""
            out.append(" ".join([ident, first["title"], first.get("pillar") or "", risk]))
        headings = "; ".join(dict.fromkeys(p["section"] for p in pages))
        out += [headings] if headings else []
        out += [s for p in pages for s in sentences(p["text"])]
    return out


def _passages_and_pairs(ids: list[str], by_page: dict[str, list[Passage]]) -> list[str]:
    """Return what a paraphrase of the cited pages may restate.

    That is each sentence, each pair of neighbouring sentences, and each whole passage.
    """
    out: list[str] = []
    for ident in ids:
        for p in by_page.get(ident, []):
            said = sentences(p["text"])
            out += said + [f"{a} {b}" for a, b in zip(said, said[1:])] + [p["text"]]
    return list(dict.fromkeys(out))


def mark_unverified(text: str, result: Verification) -> str:
    """Return ``text`` with every sentence the check could not back marked as unverified.

    A sentence that lost all its citations (it cited an id that does not hold) is removed;
    an unsupported one stays, visibly marked, so that nothing unchecked reads as lens fact.
    """
    for sentence in result.uncited:
        if sentence:
            text = text.replace(sentence, "", 1)
    for claim in result.unsupported:
        start = text.find(claim)
        if start >= 0:
            end = start + len(claim)
            text = f"{text[:start]}{UNVERIFIED} {text[start:end]}{text[end:]}"
    return re.sub(r"[ \t]{2,}", " ", re.sub(r"(?m)^[ \t]*[-*][ \t]*\.?[ \t]*$\n?", "", text))


def _keep_quote(
    quotes: dict[str, tuple[float, str]], ids: list[str], score: float, quote: str
) -> None:
    for ident in ids:
        if ident not in quotes or score > quotes[ident][0]:
            quotes[ident] = (score, quote[:300])
