"""The lens agent: LangGraph graph, tools, model providers, the Python API and the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.api import LensAssistant

__all__ = ["LensAssistant"]


def __getattr__(name: str):
    """Import the API lazily, so the CLI starts without loading LangGraph."""
    if name == "LensAssistant":
        from agent.api import LensAssistant

        return LensAssistant
    raise AttributeError(name)
