"""The lens browser: pillars -> questions -> best practices, filterable, with text and links."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Literal

import streamlit as st

from ui.render import escape_markdown, is_trusted_url, one_line, pillar_sort_key

if TYPE_CHECKING:
    from agent.api import LensAssistant

RISK_COLORS: dict[str, Literal["red", "orange", "green"]] = {
    "High": "red",
    "Medium": "orange",
    "Low": "green",
}
GENERAL = "General lens pages"


def _matches(doc: Any, terms: list[str]) -> bool:
    haystack = " ".join(
        str(x or "") for x in (doc.bp_id, doc.question_id, doc.title, doc.question_title, doc.text)
    ).lower()
    return all(term in haystack for term in terms)


def _title_link(ident: str | None, title: str, url: str | None) -> str:
    text = escape_markdown(" ".join(x for x in (ident, title) if x))
    return f"[{text}]({url})" if is_trusted_url(url) else text


def _document(doc: Any) -> None:
    head, badge = st.columns([5, 1], vertical_alignment="center")
    head.markdown(f"##### {_title_link(doc.bp_id, doc.title, doc.url)}")
    if doc.risk:
        badge.badge(f"{doc.risk} risk", color=RISK_COLORS.get(doc.risk, "gray"))
    for section in doc.sections:
        if section.heading:
            st.markdown(f"**{escape_markdown(section.heading)}**")
        st.text(section.text)


def _outline(catalog: Any) -> dict[str, dict[str, list[Any]]]:
    """Group documents as pillar -> question id -> [question page, practices...] in lens order."""
    tree: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for doc in catalog.documents:
        if doc.pillar and doc.question_id:
            tree[doc.pillar][doc.question_id].append(doc)
        else:
            tree[GENERAL][doc.doc_id].append(doc)
    for questions in tree.values():
        for docs in questions.values():
            docs.sort(key=lambda d: (d.bp_id is not None, d.bp_id or ""))
    order = sorted((p for p in tree if p != GENERAL), key=pillar_sort_key)
    if GENERAL in tree:
        order.append(GENERAL)  # the lens's own pages after its practices
    return {p: dict(sorted(tree[p].items())) if p != GENERAL else tree[p] for p in order}


def browser_view(lens: LensAssistant) -> None:
    """Draw the lens browser screen."""
    catalog = lens.catalog()
    practices = [d for d in catalog.documents if d.bp_id]
    st.header("Lens browser")
    edition = f", edition {catalog.edition}" if catalog.edition else ""
    st.caption(
        escape_markdown(
            f"{catalog.name or 'Generative AI Lens'}{edition}: {len(practices)} best practices "
            f"from source '{catalog.source}'."
        )
    )
    tree = _outline(catalog)
    search_col, pillar_col = st.columns([3, 2])
    query = search_col.text_input(
        "Search", key="browse-query", placeholder="An id (GENSEC04), a title or any words"
    )
    pillar = pillar_col.selectbox("Pillar", ["All pillars", *tree], key="browse-pillar")
    terms = [t for t in query.lower().split() if t]

    shown = 0
    for pillar_name, questions in tree.items():
        if pillar not in ("All pillars", pillar_name):
            continue
        groups = []
        for qid, docs in questions.items():
            found = [d for d in docs if _matches(d, terms)] if terms else docs
            if found:
                groups.append((qid, docs, found))
        if not groups:
            continue
        st.subheader(escape_markdown(pillar_name))
        for qid, docs, found in groups:
            head = docs[0]
            title = head.question_title or head.title
            n = sum(1 for d in found if d.bp_id)
            label = f"{qid} · {one_line(title, 90)}" if head.question_id else one_line(title, 90)
            suffix = f" ({n} best practice{'s' if n != 1 else ''})" if n else ""
            with st.expander(escape_markdown(label + suffix), expanded=bool(terms)):
                for doc in found:
                    if doc.bp_id or not doc.question_id:
                        _document(doc)
                    else:  # the question's own page: its overview, then its practices
                        overview = " ".join(section.text for section in doc.sections)
                        st.caption(escape_markdown(one_line(overview, 400)))
                shown += len(found)
    if not shown:
        st.info("Nothing in the lens matches this search.", icon=":material/search_off:")
