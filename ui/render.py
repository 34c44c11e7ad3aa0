"""Pure text helpers for the UI: markdown escaping, safe answer markdown, labels and links.

Everything shown in the page that came from a file, a passage, a model or a person goes
through here first, so that it renders as text: no HTML, no images, no links the lens
did not give us, no stray Streamlit directives (``:red[...]``, ``$math$``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from agent import PILLARS

if TYPE_CHECKING:
    from agent.results import Citation, HitJSON

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^])")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"(?<!\\)\[([^\]\n]+)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_ID = r"[A-Za-z][A-Za-z0-9-]{1,80}"
_MARKER = re.compile(rf"(?<![\\\w\]])\[({_ID}(?:\s*[,;]\s*{_ID})*)\](?![(\[])")
_DOLLAR = re.compile(r"(?<!\\)\$")
_DIRECTIVE = re.compile(r"(?<!\\):(?=[a-z-]+(?:\[|/))")

TRUSTED_HOSTS = ("docs.aws.amazon.com",)
"""Hosts the answer text may link to; any other link is shown as its text only."""

STATUS_LABELS = {"addressed": "Addressed", "gap": "Gap", "unknown": "Unknown"}


def escape_markdown(text: Any) -> str:
    """Return ``text`` with every markdown-significant character backslash-escaped.

    Use this for untrusted text shown through ``st.markdown``, alert bodies, expander and
    button labels: the result displays exactly the characters given.
    """
    return _MD_SPECIAL.sub(r"\\\1", "" if text is None else str(text))


def one_line(text: Any, limit: int = 80) -> str:
    """Collapse whitespace and cut ``text`` to ``limit`` characters with an ellipsis."""
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def is_trusted_url(url: str | None) -> bool:
    """Return True for https links to the official documentation site."""
    if not url:
        return False
    parsed = urlparse(url)
    return parsed.scheme == "https" and (parsed.hostname or "") in TRUSTED_HOSTS


def citation_urls(citations: Iterable[Citation]) -> dict[str, str]:
    """Map each cited page id (bp id, else page id) to its official url."""
    urls: dict[str, str] = {}
    for c in citations:
        url = getattr(c, "url", "")
        for ident in (getattr(c, "bp_id", None), getattr(c, "page_id", None)):
            if ident and url:
                urls[ident] = url
    return urls


def safe_answer_markdown(text: str, citations: Iterable[Citation] = ()) -> str:
    """Return the assistant's markdown made safe to render, with citation markers linked.

    Images become their alt text, HTML tags are escaped, links to anything but the official
    docs become plain text, ``$`` and ``:directive[`` lose their special meaning, and each
    citation marker (``[GENSEC04-BP02]``, ``[responsible-ai]``) links to the cited page.

    Args:
        text: answer markdown as the API returned it (or as streamed so far).
        citations: the answer's citations, whose urls the markers link to.
    """
    urls = citation_urls(citations)
    out = _IMAGE.sub(lambda m: escape_markdown(m.group(1)), text or "")
    out = _LINK.sub(
        lambda m: m.group(0) if is_trusted_url(m.group(2)) else escape_markdown(m.group(1)), out
    )
    out = _HTML_TAG.sub(lambda m: escape_markdown(m.group(0)), out)
    out = _DOLLAR.sub(r"\\$", out)
    out = _DIRECTIVE.sub(r"\\:", out)

    def one(ident: str) -> str:
        url = urls.get(ident)
        return f"[{ident}]({url})" if is_trusted_url(url) else ident

    def link(match: re.Match) -> str:
        idents = re.split(r"\s*[,;]\s*", match.group(1))
        if not any(i in urls for i in idents):
            return match.group(0)
        return "\\[" + ", ".join(one(i) for i in idents) + "\\]"

    return _MARKER.sub(link, out)


def citation_label(citation: Citation) -> str:
    """Return a chip label such as ``GENSEC04-BP02 · High risk · Title`` (escaped).

    The risk comes before the title so that a narrow chip cuts the title, not the risk.
    """
    parts = [citation.bp_id or ""]
    if getattr(citation, "risk", None):
        parts.append(f"{citation.risk} risk")
    parts.append(one_line(citation.title, 60))
    return escape_markdown(" · ".join(p for p in parts if p))


def counted(count: int, noun: str) -> str:
    """Return ``count`` with ``noun`` in the right number: "1 quote", "3 quotes"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def hit_heading(hit: HitJSON) -> str:
    """Return the escaped one-line heading of a search hit (``Hit.to_dict()`` shape)."""
    ident = hit.get("bp_id") or hit.get("chunk_id", "")
    bits = [ident, one_line(hit.get("title"), 70), hit.get("section") or ""]
    return escape_markdown(" · ".join(b for b in bits if b))


def pillar_sort_key(pillar: str) -> tuple[int, str]:
    """Sort pillars in the framework's order; unknown names after, alphabetically."""
    rank = PILLARS.index(pillar) if pillar in PILLARS else len(PILLARS)
    return rank, pillar


def slugify(text: str, limit: int = 40) -> str:
    """Return a filesystem-friendly slug of ``text`` for download file names."""
    slug = re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")
    return slug[:limit].rstrip("-") or "lenswise"
