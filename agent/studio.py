"""Entry point for ``langgraph dev`` / LangGraph Studio (see ``langgraph.json``).

Studio supplies its own checkpointer, so the graph is compiled without one; runs that bring
no context get one built from the environment's settings (:func:`default_context`).
"""

from functools import cache

from agent.api import LensAssistant
from agent.config import Settings
from agent.context import LensContext, use_default_context
from agent.graph import build_graph


@cache
def default_context() -> LensContext:
    """Build a context from the environment once, on the first run that needs it."""
    lens = LensAssistant(Settings.from_env())
    return LensContext(lens.settings, lens.index, lens.chat_model, reviewer=lens._review_path)


use_default_context(default_context)
graph = build_graph()
