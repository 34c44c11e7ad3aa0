"""The run-time context every node and tool receives: settings and injected dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from agent.config import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from index.store import LensIndex


@dataclass(frozen=True)
class LensContext:
    """Dependencies of one graph run (LangGraph ``context_schema``)."""

    settings: Settings
    index: LensIndex
    """The opened lens index (chunks, hybrid search, and the corpus as ``index.corpus``)."""
    chat_model: BaseChatModel | None = None
    """A tool-calling chat model, or None for the extractive mode."""
    reviewer: Any = None
    """Callable ``(path) -> Review`` for attached diagrams, or None when unavailable."""


@cache
def default_context() -> LensContext:
    """Build a context from the environment, for runs that bring none (``langgraph dev``)."""
    from agent.api import LensAssistant

    lens = LensAssistant(Settings.from_env())
    return LensContext(lens.settings, lens.index, lens.chat_model, reviewer=lens._review_path)


def resolve(runtime) -> LensContext:
    """Return the run's context, or the environment's default when the caller gave none."""
    return runtime.context if runtime.context is not None else default_context()
