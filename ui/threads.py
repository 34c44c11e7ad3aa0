"""Sidebar list of conversations (stored by the API in SQLite): open, new, rename, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from ui import state
from ui.render import escape_markdown, one_line

if TYPE_CHECKING:
    from agent.api import LensAssistant

MAX_LISTED = 50


def _open(thread_id: str | None) -> None:
    state.open_thread(thread_id)
    st.session_state[state.VIEW] = "Chat"


def _rename(lens: LensAssistant, thread_id: str) -> None:
    title = one_line(st.session_state.get("thread-title", ""), 80)
    if not title:
        st.toast("A title cannot be empty.", icon=":material/info:")
        return
    try:
        lens.conversations.rename_thread(thread_id, title)
    except Exception as exc:  # noqa: BLE001 - shown to the user
        st.toast(escape_markdown(state.error_message(exc)), icon=":material/error:")


def _delete(lens: LensAssistant, thread_id: str) -> None:
    try:
        lens.conversations.delete_thread(thread_id)
    except Exception as exc:  # noqa: BLE001 - shown to the user
        st.toast(escape_markdown(state.error_message(exc)), icon=":material/error:")
        return
    state.open_thread(None)
    st.toast("Conversation deleted.", icon=":material/delete:")


def threads_panel(lens: LensAssistant, where: Any) -> None:
    """Draw the conversation list with new / rename / delete controls in ``where``."""
    threads = lens.conversations.threads()
    current = state.current_thread()
    if current and current not in {t.id for t in threads}:
        state.open_thread(None)  # deleted elsewhere, or a stale link
        current = None
    with where:
        st.button(
            "New conversation",
            icon=":material/add_comment:",
            on_click=_open,
            args=(None,),
            width="stretch",
        )
        if not threads:
            st.caption("No conversations yet: ask a question to start one.")
        for thread in threads[:MAX_LISTED]:
            st.button(
                escape_markdown(one_line(thread.title or "Untitled", 30)),
                key=f"thread-{thread.id}",
                type="primary" if thread.id == current else "tertiary",
                on_click=_open,
                args=(thread.id,),
                width="stretch",
            )
        if len(threads) > MAX_LISTED:
            st.caption(f"{len(threads) - MAX_LISTED} older conversations not listed.")
        if current:
            title = next((t.title for t in threads if t.id == current), "")
            with st.popover("Rename or delete", icon=":material/edit:", width="stretch"):
                if st.session_state.get("thread-title-for") != current:
                    st.session_state["thread-title"] = title
                    st.session_state["thread-title-for"] = current
                st.text_input("Title", key="thread-title", max_chars=80)
                st.button("Rename", key="thread-rename", on_click=_rename, args=(lens, current))
                st.divider()
                sure = st.checkbox("Yes, delete this conversation", key=f"thread-sure-{current}")
                st.button(
                    "Delete",
                    key="thread-delete",
                    icon=":material/delete:",
                    disabled=not sure,
                    on_click=_delete,
                    args=(lens, current),
                )
