"""The lens agent: LangGraph graph, tools, model providers, the Python API and the CLI."""
