"""Find the Well-Architected Tool choice of each best practice, as the lens defines it at run time.

Choice and question ids differ between lens versions and are never guessed. A practice
matches the one choice whose improvement-plan or helpful-resource URL is the practice's
page (URLs normalised), else the one choice whose title is the practice's title (titles
normalised). No match, or more than one, leaves the practice unanswered, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

NONE_OF_THESE = "none of these"
_PAGE_SUFFIX = re.compile(r"\.(html?|md)$")


@dataclass(frozen=True)
class Choice:
    """One choice of a lens question in the Well-Architected Tool."""

    question_id: str
    question_title: str
    pillar_id: str
    choice_id: str
    title: str
    urls: frozenset[str]
    """Normalised improvement-plan, helpful-resource and additional-resource URLs."""

    @property
    def is_none(self) -> bool:
        """Return True for the "None of these" choice, which lenswise never selects."""
        return normalise_title(self.title) == NONE_OF_THESE


@dataclass(frozen=True)
class Match:
    """Where a practice landed: its choice, or why it has none."""

    bp_id: str
    choice: Choice | None
    how: str
    """``url`` or ``title`` for a match; otherwise the reason there is none."""


def normalise_url(url: str | None) -> str:
    """Reduce a docs URL to host and path: no scheme, www, query, fragment, suffix or case."""
    if not url or not url.strip():
        return ""
    parts = urlsplit(url.strip().lower())
    host = parts.netloc.removeprefix("www.")
    path = _PAGE_SUFFIX.sub("", re.sub(r"/+", "/", parts.path).rstrip("/"))
    return f"{host}{path}" if host else ""


def normalise_title(title: str | None) -> str:
    """Reduce a title to lowercase words: punctuation, dashes and spacing ignored."""
    return " ".join(re.findall(r"[a-z0-9]+", (title or "").lower()))


def _urls(raw: dict[str, Any]) -> frozenset[str]:
    found = [raw.get("ImprovementPlan", {}).get("Url"), raw.get("HelpfulResource", {}).get("Url")]
    for extra in raw.get("AdditionalResources", []) or []:
        found += [content.get("Url") for content in extra.get("Content", []) or []]
    return frozenset(filter(None, map(normalise_url, found)))


def choices_of(answers: list[dict[str, Any]]) -> list[Choice]:
    """Read every choice out of ``ListAnswers`` answer summaries."""
    return [
        Choice(
            question_id=answer["QuestionId"],
            question_title=answer.get("QuestionTitle", ""),
            pillar_id=answer.get("PillarId", ""),
            choice_id=raw["ChoiceId"],
            title=raw.get("Title", ""),
            urls=_urls(raw),
        )
        for answer in answers
        for raw in answer.get("Choices", []) or []
    ]


def _one(candidates: list[Choice], bp_id: str, how: str, what: str) -> Match | None:
    if len(candidates) == 1:
        return Match(bp_id, candidates[0], how)
    if len(candidates) > 1:
        ids = ", ".join(f"{c.question_id}/{c.choice_id}" for c in candidates)
        return Match(bp_id, None, f"{len(candidates)} choices share its {what} ({ids})")
    return None


def match_practice(bp_id: str, title: str, url: str, choices: list[Choice]) -> Match:
    """Return the choice of one practice: by page URL first, then by title, never by id."""
    usable = [c for c in choices if not c.is_none]
    page = normalise_url(url)
    by_url = [c for c in usable if page and page in c.urls]
    if len(by_url) > 1:  # one page listed on several choices: let the title decide among them
        by_url = [c for c in by_url if normalise_title(c.title) == normalise_title(title)] or by_url
    found = _one(by_url, bp_id, "url", "page URL")
    if found is None:
        wanted = normalise_title(title)
        by_title = [c for c in usable if wanted and normalise_title(c.title) == wanted]
        found = _one(by_title, bp_id, "title", "title")
    return found or Match(bp_id, None, "no choice in this lens version has its page URL or title")
