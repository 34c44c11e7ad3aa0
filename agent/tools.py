"""Retrieval tools the agent calls: plain typed functions whose docstrings the model reads.

Both tools take their index from the run-time context (``runtime.context`` is the
``agent.context.LensContext`` of the run) and
return a ``Command`` that stores the retrieved chunks in the graph state (for composing and
verifying the answer) and a tool message with the passages (for the model).
"""

from __future__ import annotations

import warnings

from langchain.tools import ToolRuntime, tool
from langchain_core.messages import ToolMessage
from langgraph.types import Command

from agent.context import resolve
from agent.prompts import render_passages
from agent.state import Passage
from corpus.errors import InputError
from corpus.models import Chunk

# ToolNode hands each tool a runtime holding the dataclass state and context; pydantic warns
# that it cannot serialise them, which is harmless (the runtime is never serialised).
warnings.filterwarnings("ignore", message="Pydantic serializer warnings", category=UserWarning)


def passage(hit_chunk: Chunk, score: float, query: str) -> Passage:
    """Return the state record of one retrieved chunk."""
    return Passage(**hit_chunk.to_dict(), score=float(score), query=query)


def _reply(runtime: ToolRuntime, found: dict[str, Passage], text: str | None = None) -> Command:
    content = text if text is not None else render_passages(found.values())
    return Command(
        update={
            "passages": found,
            "messages": [ToolMessage(content=content, tool_call_id=runtime.tool_call_id)],
        }
    )


@tool(parse_docstring=True)
def search_lens(query: str, runtime: ToolRuntime, pillar: str | None = None) -> Command:
    """Search the Well-Architected Generative AI Lens for passages relevant to a query.

    Args:
        query: A focused search query in plain words, e.g. "prompt injection input validation"
            or "provisioned throughput versus on-demand cost". Use several calls with
            different queries for broad questions.
        pillar: Optionally restrict to one pillar: Operational Excellence, Security,
            Reliability, Performance Efficiency, Cost Optimization or Sustainability.
        runtime: Supplied by lenswise (the lens index and settings); not set by the model.
    """
    ctx = resolve(runtime)
    try:
        hits = ctx.index.search(query, k=ctx.settings.k, pillar=pillar, per_doc=2)
    except InputError as exc:
        return _reply(runtime, {}, f"Search failed: {exc}")
    return _reply(runtime, {h.chunk.chunk_id: passage(h.chunk, h.score, query) for h in hits})


@tool(parse_docstring=True)
def get_best_practice(practice_id: str, runtime: ToolRuntime) -> Command:
    """Fetch the full lens text of one best practice or question by its id.

    Args:
        practice_id: A best-practice id such as "GENSEC04-BP02" or a question id such as
            "GENSEC04" (all of the question's practices are returned).
        runtime: Supplied by lenswise (the lens index and settings); not set by the model.
    """
    chunks = resolve(runtime).index.chunks_of(practice_id.strip())
    if not chunks:
        return _reply(runtime, {}, f"No lens page has the id {practice_id!r}.")
    found = {c.chunk_id: passage(c, 1.0, practice_id) for c in chunks}
    return _reply(runtime, found)


TOOLS = [search_lens, get_best_practice]
