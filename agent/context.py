"""The run-time context every node and tool receives: settings and injected dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from agent.config import Settings
from corpus.errors import LenswiseError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from diagrams import Review
    from index.store import LensIndex


@dataclass(frozen=True)
class LensContext:
    """Dependencies of one graph run (LangGraph ``context_schema``)."""

    settings: Settings
    index: LensIndex
    """The opened lens index (chunks, hybrid search, and the corpus as ``index.corpus``)."""
    chat_model: BaseChatModel | None = None
    """A tool-calling chat model, or None for the extractive mode."""
    reviewer: Callable[[str], Review] | None = None
    """Reviews a diagram attached to a question (its path), or None when unavailable."""


_default_factory: Callable[[], LensContext] | None = None


def use_default_context(factory: Callable[[], LensContext]) -> None:
    """Set how runs that bring no context get one (the Studio entry point sets this)."""
    global _default_factory
    _default_factory = factory


class _Run(Protocol):
    """A graph node's ``Runtime`` or a tool's ``ToolRuntime``: both carry the run's context."""

    @property
    def context(self) -> LensContext | None: ...  # noqa: D102


def resolve(runtime: _Run) -> LensContext:
    """Return the run's context, or the registered default when the caller gave none."""
    if runtime.context is not None:
        return runtime.context
    if _default_factory is None:
        raise LenswiseError("this graph run has no LensContext: pass context=LensContext(...)")
    return _default_factory()
