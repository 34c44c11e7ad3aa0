"""The lens agent: LangGraph graph, tools, model providers, the Python API and the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from corpus.errors import InputError, LenswiseError
from corpus.vocabulary import PILLARS, RISKS

if TYPE_CHECKING:
    from agent.api import LensAssistant

__all__ = ["PILLARS", "RISKS", "InputError", "LensAssistant", "LenswiseError"]


def __getattr__(name: str):
    """Import the API lazily, so the CLI starts without loading LangGraph."""
    if name == "LensAssistant":
        from agent.api import LensAssistant

        return LensAssistant
    raise AttributeError(name)
