"""Entry point for ``langgraph dev`` / LangGraph Studio (see ``langgraph.json``).

Studio supplies its own checkpointer, so the graph is compiled without one; runs that bring
no context use :func:`agent.context.default_context` (the environment's settings).
"""

from agent.graph import build_graph

graph = build_graph()
