"""The run-time context every node and tool receives: settings and injected dependencies."""

from __future__ import annotations

from dataclasses import dataclass
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
