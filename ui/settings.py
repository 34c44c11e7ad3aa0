"""Sidebar settings: answer model (extractive or Bedrock), corpus source, passages, pillar."""

from __future__ import annotations

from typing import Any

import streamlit as st

from agent.config import Settings
from ui.state import UiSettings

EXTRACTIVE = "Extractive (offline, no LLM)"
BEDROCK = "Amazon Bedrock"
BEDROCK_PREFIX = "bedrock_converse:"
DEFAULT_BEDROCK_MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
DEFAULT_REGION = "us-east-1"
SOURCES = {
    "builtin": "Built-in lens digest",
    "fetched": "Fetched official pages",
    "path": "Local folder or file",
}
ALL_PILLARS = "All pillars"


def _defaults(base: Settings) -> None:
    """Seed the widgets once from the environment so ``LENSWISE_*`` choices show up."""
    state = st.session_state
    if "set_model_kind" in state:
        return
    is_bedrock = base.model.startswith(BEDROCK_PREFIX)
    state["set_model_kind"] = BEDROCK if is_bedrock else EXTRACTIVE
    model_id = base.model[len(BEDROCK_PREFIX) :] if is_bedrock else DEFAULT_BEDROCK_MODEL
    state["set_model_id"] = model_id
    state["set_region"] = base.region or DEFAULT_REGION
    known = base.source in ("builtin", "fetched")
    state["set_source_kind"] = base.source if known else "path"
    state["set_source_path"] = "" if known else base.source
    state["set_k"] = max(1, min(base.k, 20))


def initial_choice(base: Settings) -> UiSettings:
    """Return what :func:`settings_panel` gives before anyone touches it (seeded from ``base``)."""
    if base.model.startswith(BEDROCK_PREFIX):
        model, region = base.model, base.region or DEFAULT_REGION
    else:
        model, region = "extractive", None
    return UiSettings(model=model, region=region, source=base.source, k=max(1, min(base.k, 20)))


def settings_panel(base: Settings, where: Any) -> UiSettings:
    """Draw the model / corpus / passages controls in ``where`` and return the choice.

    The pillar filter is drawn separately by :func:`pillar_filter`, once the corpus (which
    names the pillars) is loaded.
    """
    _defaults(base)
    with where:
        kind = st.radio("Answer model", (EXTRACTIVE, BEDROCK), key="set_model_kind")
        model, region = "extractive", None
        if kind == BEDROCK:
            model_id = st.text_input(
                "Bedrock model id",
                key="set_model_id",
                help="A model or inference-profile id, e.g. "
                "anthropic.claude-3-5-haiku-20241022-v1:0. Credentials come from the "
                "standard AWS chain.",
            ).strip()
            region = st.text_input("AWS Region", key="set_region").strip() or None
            model = f"{BEDROCK_PREFIX}{model_id}" if model_id else "extractive"
            if not model_id:
                st.warning("Enter a Bedrock model id; answering extractively until then.")
        source_kind = st.selectbox(
            "Corpus source", tuple(SOURCES), format_func=SOURCES.__getitem__, key="set_source_kind"
        )
        source = source_kind
        if source_kind == "path":
            path = st.text_input(
                "Lens folder or file",
                key="set_source_path",
                help="A folder of lens markdown, saved docs pages, a lens PDF or custom-lens JSON.",
            ).strip()
            source = path or "builtin"
            if not path:
                st.info("Enter a path; using the built-in digest until then.")
        k = st.slider("Passages per question", 1, 20, key="set_k")
    return UiSettings(model=model, region=region, source=source, k=int(k))


def pillar_filter(pillars: list[str], where: Any) -> str | None:
    """Draw the pillar filter in ``where``; return the pillar name, or None for all."""
    with where:
        choice = st.selectbox("Pillar filter", [ALL_PILLARS, *pillars], key="set_pillar")
    return None if choice == ALL_PILLARS else choice
