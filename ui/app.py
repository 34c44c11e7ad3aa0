"""Streamlit entry point: sidebar (screens, conversations, settings) and the chosen screen.

Run with ``lenswise ui`` (or ``make run``). The app is a thin shell over
:class:`agent.LensAssistant`: every answer, review, thread and feedback goes through it.
"""

from __future__ import annotations

import time
from dataclasses import replace

import streamlit as st

from agent import LenswiseError
from evals.feedback import suite_yaml
from ui import state
from ui.browser import browser_view
from ui.chat import chat_view
from ui.identity import refuse_anonymous, signed_in_user
from ui.render import escape_markdown, pillar_sort_key
from ui.review import review_view
from ui.settings import pillar_filter, settings_panel
from ui.threads import threads_panel

ICONS = {
    "Chat": ":material/forum:",
    "Diagram review": ":material/schema:",
    "Lens browser": ":material/menu_book:",
}


def _export_panel(lens, where) -> None:
    """Offer the stored feedback as an eval suite (GENOPS01-BP02: learn from real use)."""
    with where:
        st.caption("Thumbs and comments on answers, as an eval suite for `lenswise eval run`.")
        try:
            suite = suite_yaml(lens.conversations)
        except Exception as exc:  # noqa: BLE001 - shown in the sidebar
            state.show_error(exc)
            return
        st.download_button(
            "Feedback eval suite (YAML)",
            data=suite,
            file_name="lenswise-feedback-suite.yaml",
            mime="application/x-yaml",
            icon=":material/download:",
            key="dl-feedback",
            on_click="ignore",
            width="stretch",
        )


def wait_for_startup() -> None:
    """While the server's start-up load runs, show its step, the time so far and an estimate.

    The note updates in place every half second; the page goes on once the load is done (the
    assistant is then in the cache, so the page's own load below returns at once).
    """
    note = st.empty()
    while (text := state.STARTUP.describe()) is not None:
        note.info(escape_markdown(text), icon=":material/hourglass_top:")
        time.sleep(0.5)
    note.empty()


def main() -> None:
    """Draw the page."""
    view = st.session_state.get(state.VIEW, state.VIEWS[0])
    st.set_page_config(
        page_title="lenswise",
        page_icon=":material/menu_book:",
        layout="centered" if view == "Chat" else "wide",
        initial_sidebar_state="expanded",
    )
    try:
        base = state.base_settings()
    except LenswiseError as exc:  # e.g. a LENSWISE_* variable with a wrong value
        state.show_error(exc)
        return
    user = signed_in_user(base)
    if base.team_mode and user is None:
        refuse_anonymous(base)
        return
    with st.sidebar:
        st.title("lenswise")
        st.caption("Well-Architected Generative AI Lens assistant")
        view = st.radio(
            "Screen",
            state.VIEWS,
            key=state.VIEW,
            format_func=lambda v: f"{ICONS[v]} {v}",
            label_visibility="collapsed",
        )
        st.markdown("**Conversations**")
        threads_box = st.container()
        settings_box = st.expander("Settings", icon=":material/settings:")
        export_box = st.expander("Feedback export", icon=":material/thumbs_up_down:")

    ui = settings_panel(base, settings_box)
    wait_for_startup()
    try:
        with st.spinner("Opening the lens index (building it for a new source takes a minute)…"):
            lens = state.assistant(ui)
            if user is not None:
                lens = lens.for_user(user)  # every thread, feedback and design: this user's
            catalog = lens.catalog()
    except Exception as exc:  # noqa: BLE001 - e.g. a bad corpus path or Bedrock setup
        state.show_error(exc)
        st.info("Change the settings in the sidebar and the app will try again.")
        return
    pillars = sorted({d.pillar for d in catalog.documents if d.pillar}, key=pillar_sort_key)
    ui = replace(ui, pillar=pillar_filter(pillars, settings_box))
    try:
        threads_panel(lens, threads_box)
    except LenswiseError as exc:  # e.g. the history file is locked by another program
        state.show_error(exc)
        return
    state.history_notice(lens)
    _export_panel(lens, export_box)

    if ui.model != "extractive":
        where = ui.region or "the default region"
        st.sidebar.caption(escape_markdown(f"Answering with {ui.model} in {where}"))
    if view == "Diagram review":
        review_view(lens, base.max_upload_bytes)
    elif view == "Lens browser":
        browser_view(lens)
    else:
        chat_view(lens, ui)


main()
