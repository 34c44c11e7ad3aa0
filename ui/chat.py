"""The chat screen: the open thread's transcript, streamed answers, citations, feedback, export."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from agent.api import MAX_QUESTION_CHARS
from agent.events import CitationEvent, FinalEvent, RetrievalEvent, StatusEvent, TokenEvent
from ui import state
from ui.render import (
    citation_label,
    counted,
    escape_markdown,
    hit_heading,
    is_trusted_url,
    one_line,
    safe_answer_markdown,
    slugify,
)
from ui.state import UiSettings

if TYPE_CHECKING:
    from agent.api import LensAssistant
    from agent.results import Answer, Citation, HitJSON

EXAMPLES = (
    "How do I protect a Bedrock chatbot against prompt injection?",
    "How should I evaluate model responses before going to production?",
    "How can I keep vector store latency low as the corpus grows?",
    "What should I log to trace a generative AI workload?",
)
CURSOR = " ▌"


def _detach(lens: LensAssistant, thread_id: str | None) -> None:
    st.session_state[state.ATTACHED] = False
    if thread_id:
        lens.conversations.detach_design(thread_id)


def _ask_example(question: str) -> None:
    st.session_state[state.PENDING] = question


def empty_state() -> None:
    """Show what the assistant does and offer example questions."""
    st.markdown(
        "Ask a design question about a generative AI workload on AWS. Answers are built from "
        "the **Well-Architected Generative AI Lens**, and every claim cites a best practice "
        "with a link to the official page."
    )
    st.caption("Try one of these:")
    for i, question in enumerate(EXAMPLES):
        st.button(
            escape_markdown(question),
            key=f"example-{i}",
            icon=":material/chat:",
            on_click=_ask_example,
            args=(question,),
        )


def citation_chips(citations: list[Citation], per_row: int = 2) -> None:
    """Show each citation as a chip (id, title, risk) linking to the official page."""
    for start in range(0, len(citations), per_row):
        cols = st.columns(per_row, gap="small")
        for col, c in zip(cols, citations[start : start + per_row], strict=False):
            label = citation_label(c)
            if is_trusted_url(c.url):
                col.link_button(
                    label,
                    c.url,
                    icon=":material/menu_book:",
                    help=one_line(c.quote, 200) or None,
                    width="stretch",
                )
            else:
                col.badge(label, icon=":material/menu_book:", color="gray")


def passages_for(answer: Answer) -> list[HitJSON]:
    """Return the answer's supporting passages (saved turns keep their hits too)."""
    return [h.to_dict() for h in answer.hits]


def sources_panel(answer: Answer, passages: list[HitJSON]) -> None:
    """Show the supporting quotes and passages in an expander."""
    quotes = [c for c in answer.citations if c.quote]
    if not passages and not quotes:
        return
    label = f"Sources · {counted(len(quotes), 'quote')}" + (
        f", {counted(len(passages), 'passage')}" if passages else ""
    )
    with st.expander(label, icon=":material/format_quote:"):
        for c in quotes:
            heading = escape_markdown(" · ".join(x for x in (c.bp_id, one_line(c.title, 70)) if x))
            st.markdown(f"**[{heading}]({c.url})**" if is_trusted_url(c.url) else f"**{heading}**")
            st.text(c.quote)
        if quotes and passages:
            st.divider()
            st.markdown("**Passages**")
        for hit in passages:
            heading = hit_heading(hit)
            url = hit.get("url")
            title = f"[{heading}]({url})" if is_trusted_url(url) else heading
            # Listed by rank: the raw scores (fused ranks, calibrated probabilities) read
            # "1.000" for every good passage and tell the reader nothing.
            st.markdown(f"{hit['rank']}\\. {title}")
            st.text(hit.get("text") or "")


def _meta(answer: Answer) -> str:
    bits = [f"{answer.model} answer"]
    if answer.citations:
        n = len(answer.citations)
        bits.append(f"{n} cited page{'s' if n != 1 else ''}")
    if answer.edition:
        bits.append(f"lens edition {answer.edition}")
    total = answer.timings_ms.get("total") if answer.timings_ms else None
    if total:
        bits.append(f"{total / 1000:.1f} s")
    tokens = sum(answer.usage.get(k, 0) for k in ("input_tokens", "output_tokens"))
    if tokens:
        bits.append(f"{tokens} tokens")
    return escape_markdown(" · ".join(bits))


def _store_feedback(lens: LensAssistant, thread_id: str, turn: int, from_comment: bool) -> None:
    score = st.session_state.get(f"fb-{thread_id}-{turn}")
    if score is None:
        if from_comment:
            st.toast("Choose thumbs up or down first.", icon=":material/info:")
        return
    comment = (st.session_state.get(f"fbc-{thread_id}-{turn}") or "").strip()
    try:
        lens.conversations.feedback(thread_id, turn, 1 if score == 1 else -1, comment)
    except Exception as exc:  # noqa: BLE001 - shown to the user, never a traceback
        st.toast(escape_markdown(state.error_message(exc)), icon=":material/error:")
        return
    st.toast("Feedback saved. Thank you!", icon=":material/check:")


def _restore_feedback(lens: LensAssistant, thread_id: str) -> None:
    """Preset the thumbs and comments of a thread from the stored feedback (once per session)."""
    done = st.session_state.setdefault("feedback-restored", set())
    if thread_id in done:
        return
    done.add(thread_id)
    for turn, fb in lens.conversations.feedback_given(thread_id).items():
        st.session_state.setdefault(f"fb-{thread_id}-{turn}", 1 if fb.score > 0 else 0)
        st.session_state.setdefault(f"fbc-{thread_id}-{turn}", fb.comment)


def answer_actions(lens: LensAssistant, answer: Answer, thread_id: str | None, turn: int) -> None:
    """Show thumbs up/down, an optional comment, and the answer's markdown download."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        if thread_id is not None:
            _restore_feedback(lens, thread_id)
            st.feedback(
                "thumbs",
                key=f"fb-{thread_id}-{turn}",
                on_change=_store_feedback,
                args=(lens, thread_id, turn, False),
            )
            with st.popover("Comment", icon=":material/rate_review:", type="tertiary"):
                st.text_area("What was right or wrong?", key=f"fbc-{thread_id}-{turn}")
                st.button(
                    "Send feedback",
                    key=f"fbs-{thread_id}-{turn}",
                    on_click=_store_feedback,
                    args=(lens, thread_id, turn, True),
                )
        st.download_button(
            "Markdown",
            data=answer.to_markdown(),
            file_name=f"lenswise-answer-{slugify(answer.question)}.md",
            mime="text/markdown",
            key=f"dl-{thread_id}-{turn}",
            icon=":material/download:",
            type="tertiary",
            on_click="ignore",
        )


def render_answer(lens: LensAssistant, answer: Answer, thread_id: str | None, turn: int) -> None:
    """Render one answer: text, citation chips, warnings, sources, meta line and actions."""
    st.markdown(safe_answer_markdown(answer.text, answer.citations))
    citation_chips(answer.citations)
    for warning in answer.warnings:
        st.warning(escape_markdown(warning), icon=":material/warning:")
    sources_panel(answer, passages_for(answer))
    st.caption(_meta(answer))
    answer_actions(lens, answer, thread_id, turn)


def render_transcript(lens: LensAssistant, thread_id: str) -> int:
    """Render every turn of ``thread_id``; return how many turns there are."""
    answers = lens.conversations.transcript(thread_id)
    for turn, answer in enumerate(answers):
        with st.chat_message("user"):
            st.text(answer.question)
        with st.chat_message("assistant"):
            render_answer(lens, answer, thread_id, turn)
    return len(answers)


def stream_answer(
    lens: LensAssistant, ui: UiSettings, question: str, thread_id: str, diagram: str | None
) -> Answer | None:
    """Ask ``question``, showing status, text as it is written, then the full answer.

    Returns:
        The final ``Answer``, or None when the API raised (the error is shown in the page).
    """
    status = st.status("Searching the lens…", expanded=False)
    body = st.empty()
    text, answer = "", None
    try:
        events = lens.stream(question, thread_id=thread_id, diagram=diagram, pillar=ui.pillar)
        for event in events:
            match event:
                case StatusEvent(text=line):
                    status.update(label=escape_markdown(one_line(line, 100)))
                case RetrievalEvent(hits=hits):
                    status.write(escape_markdown(f"{len(hits)} lens passages retrieved"))
                case TokenEvent(text=piece):
                    text += piece
                    body.markdown(safe_answer_markdown(text) + CURSOR)
                case FinalEvent(answer=final):
                    answer = final
                case CitationEvent():
                    pass  # the final answer shows its citations
    except Exception as exc:  # noqa: BLE001 - Bedrock and input errors become a message
        status.update(label="Could not answer", state="error")
        body.empty()
        state.show_error(exc)
        return None
    status.update(label="Answered from the lens", state="complete")
    body.empty()
    return answer


def chat_view(lens: LensAssistant, ui: UiSettings) -> None:
    """Draw the chat screen: transcript, input, and the streamed answer of a new question."""
    thread_id = state.current_thread()
    review = state.current_review()
    attached = review if st.session_state.get(state.ATTACHED, False) else None

    # No max_chars: the browser would silently drop a longer paste; it is cut here, visibly.
    question = st.chat_input("Ask about the Generative AI Lens…")
    question = (question or st.session_state.pop(state.PENDING, None) or "").strip() or None
    notice = None
    if question:
        question, notice = _within_limit(question)
        st.session_state.pop(state.SHORTENED, None)

    header, export = st.columns([4, 1], vertical_alignment="center")
    turns = 0
    if thread_id:
        titles = {t.id: t.title for t in lens.conversations.threads()}
        header.subheader(escape_markdown(one_line(titles.get(thread_id, "Conversation"), 70)))
        turns = render_transcript(lens, thread_id)
        shortened = st.session_state.get(state.SHORTENED)
        if shortened and shortened[0] == thread_id:
            st.warning(shortened[1], icon=":material/content_cut:")
        if turns:
            export.download_button(
                "Export thread",
                data=lens.conversations.export_thread(thread_id),
                file_name=f"lenswise-thread-{slugify(titles.get(thread_id, thread_id))}.md",
                mime="text/markdown",
                icon=":material/download:",
                key="dl-thread",
                on_click="ignore",
            )
    # The thread itself keeps a design attached in an earlier turn (also after a reload,
    # when the session has forgotten the review): say so, and offer to detach it.
    kept = lens.conversations.attached_design(thread_id) if thread_id else None
    if attached or kept:
        note, detach = st.columns([4, 1], vertical_alignment="center")
        name = attached.filename if attached else kept
        note.info(
            escape_markdown(f"Questions are asked about the reviewed design: {name}"),
            icon=":material/schema:",
        )
        detach.button("Detach design", on_click=_detach, args=(lens, thread_id))
    if not turns and not question:
        empty_state()
    if not question:
        return

    created = not thread_id
    if created:
        thread_id = lens.conversations.new_thread(title=one_line(question, 60))
    with st.chat_message("user"):
        st.text(question)
    if notice:
        st.warning(notice, icon=":material/content_cut:")
        st.session_state[state.SHORTENED] = (thread_id, notice)
    with st.chat_message("assistant"):
        diagram = _diagram_arg(attached) if attached else None
        answer = stream_answer(lens, ui, question, thread_id, diagram)
    if answer is None:
        if created:  # nothing was said in it: do not leave an empty conversation behind
            lens.conversations.delete_thread(thread_id)
        return
    state.open_thread(thread_id)
    # Rerun so the sidebar, the title and the transcript all show the saved turn.
    st.rerun()


def _within_limit(question: str) -> tuple[str, str | None]:
    """Cut ``question`` to the API's limit; return it with a notice saying so, if it was cut."""
    if len(question) <= MAX_QUESTION_CHARS:
        return question, None
    notice = (
        f"Your question was {len(question):,} characters long: only its first "
        f"{MAX_QUESTION_CHARS:,} were used. Put the question itself first, or shorten it."
    )
    return question[:MAX_QUESTION_CHARS].rstrip(), notice


def _diagram_arg(review: state.ReviewState) -> str:
    """Return what ``LensAssistant.stream(diagram=...)`` takes: a path to the design file."""
    return str(state.design_file(review))
