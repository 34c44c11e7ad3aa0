r"""The lens agent as a LangGraph ``StateGraph``: nodes first, the graph assembled at the bottom.

    route -> decline ............................................ -> finalize
          -> diagram -> plan <-> tools
          -> plan <-> tools -> compose -> verify -> finalize
                                             \\-> plan (one retry with reformulated queries)

One graph serves both modes: with a tool-calling chat model in the context, ``plan`` asks the
model, which drives the tools itself; without one (extractive mode), ``plan`` emits the tool
calls its own retrieval policy chooses. Either way the same ``ToolNode`` runs them and the
same ``verify`` checks the answer. Every run stops at a recursion limit (LangGraph) and at a
wall-clock deadline, after a bounded number of tool rounds (GENREL03-BP02, GENCOST05-BP01).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Literal

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime

from agent import extractive
from agent.citations import verify as verify_citations
from agent.context import LensContext, resolve
from agent.prompts import RETRY_NOTE, system_prompt, user_turn
from agent.routing import in_scope, is_follow_up, plan_queries, strip_injection
from agent.state import InputState, State
from agent.text import stems
from agent.tools import TOOLS, passage
from corpus.errors import LenswiseError
from index.search import find_ids

RETRY_NAME = "lenswise-retry"
"""Name of the human messages that carry a retry note (never shown as questions)."""
MAX_TOOL_ROUNDS = 4
MAX_RETRIES = 1
WEAK_SCORE = 0.05
"""Best fused score under which retrieval counts as weak (no query term and poor dense rank)."""


class ModelError(LenswiseError):
    """The chat model failed (throttled, denied, unreachable...): one clear line."""


def _turn_messages(state: State) -> list:
    return state.messages[state.turn_start :]


def _tool_rounds(state: State) -> int:
    return sum(1 for m in _turn_messages(state) if isinstance(m, AIMessage) and m.tool_calls)


def _edition_line(ctx: LensContext) -> str:
    corpus = ctx.index.corpus
    name = (corpus.name if corpus else None) or "AWS Well-Architected Generative AI Lens"
    if corpus and corpus.edition:
        return f"Source: {name}, {corpus.edition} edition ({corpus.source} corpus)."
    return f"Source: {name} ({corpus.source if corpus else 'configured'} corpus)."


# --- nodes ---------------------------------------------------------------------------------


def route(state: State, runtime: Runtime[LensContext]) -> dict:
    """Start the turn: record the question, classify it and plan the retrieval queries."""
    ctx = resolve(runtime)
    question, injected = strip_injection(state.question)
    previous = _last_question(state)
    follow_up = is_follow_up(question, previous)
    ids = find_ids(question, ctx.index.known_ids)
    queries, pillars = plan_queries(question, previous, follow_up)
    if state.pillar:
        pillars = [state.pillar] * len(queries)
    if state.diagram_path:
        kind = "diagram"
    elif ids:
        kind = "lookup"
    else:
        kind = "followup" if follow_up else "lens"
        probe = ctx.index.search(queries[0], k=1, mode="dense", pillar=pillars[0])
        if not in_scope(queries[0], probe[0].score if probe else 0.0):
            kind = "out_of_scope"
    warnings = []
    if injected:
        warnings.append(
            "the question contained text that looks like instructions to the assistant; "
            "it was treated as data and left out of the search"
        )
    return {
        "messages": [HumanMessage(content=state.question)],
        "turn_start": len(state.messages),
        "route": kind,
        "ids": ids,
        "queries": [f"{q}\t{p or ''}" for q, p in zip(queries, pillars, strict=True)],
        "passages": None,
        "warnings": warnings,
        "diagram": None,
        "draft": "",
        "answer": None,
        "attempts": 0,
        "verdict": "",
        "usage": {},
        "deadline": time.time() + ctx.settings.timeout_s,
    }


def _is_question(message) -> bool:
    """True for a user's question (not a retry note the graph added itself)."""
    return isinstance(message, HumanMessage) and message.name != RETRY_NAME


def _last_question(state: State) -> str | None:
    for message in reversed(state.messages):
        if _is_question(message):
            return str(message.content)
    return None


def decline(state: State, runtime: Runtime[LensContext]) -> dict:
    """Answer an out-of-scope question honestly, without retrieval or a model call."""
    return {"draft": extractive.DECLINE_TEXT, "verdict": "declined"}


def diagram(state: State, runtime: Runtime[LensContext]) -> dict:
    """Review the attached diagram and keep a summary (the gaps drive retrieval)."""
    ctx = resolve(runtime)
    if ctx.reviewer is None:
        return {"warnings": [*state.warnings, "diagram review is not available in this setup"]}
    review = ctx.reviewer(state.diagram_path)
    findings = [f for f in review.findings if f.status == "gap"]
    order = {"High": 0, "Medium": 1, "Low": 2}
    findings.sort(key=lambda f: (order.get(f.risk, 3), f.bp_id))
    arch = review.architecture
    labels = {c.id: c.name for c in arch.components}
    summary = {
        "format": arch.format,
        "component_count": len(arch.components),
        "services": sorted({c.service for c in arch.components if c.service}),
        "components": [
            f"{c.name} ({c.service or 'not an AWS service'})" for c in arch.components[:40]
        ],
        "coverage": {k: review.coverage[k] for k in ("addressed", "gap", "unknown", "total")},
        "gaps": [
            {
                "bp_id": f.bp_id,
                "title": f.title,
                "risk": f.risk,
                "explanation": f.explanation,
                "evidence": [labels.get(e, e) for e in f.evidence][:5],
            }
            for f in findings[:5]
        ],
    }
    return {
        "diagram": summary,
        "ids": [*state.ids, *(g["bp_id"] for g in summary["gaps"])],
        "warnings": [*state.warnings, *review.warnings],
    }


def diagram_text(summary: dict | None) -> str | None:
    """Render a diagram summary as plain text for a prompt (labels stay untrusted)."""
    if not summary:
        return None
    lines = [
        f"format: {summary['format']}; components: {summary['component_count']}",
        f"component labels: {'; '.join(summary.get('components', []))}",
        f"services: {', '.join(summary['services'])}",
        f"coverage: {summary['coverage']}",
    ]
    for gap in summary["gaps"]:
        lines.append(
            f"gap {gap['bp_id']} ({gap['risk']}): {gap['explanation']} "
            f"evidence: {', '.join(gap['evidence'])}"
        )
    return "\n".join(lines)


def _policy_calls(state: State) -> list[dict]:
    """The extractive mode's own tool calls: planned queries plus named / gap ids."""
    calls = []
    for ident in state.ids:
        calls.append({"name": "get_best_practice", "args": {"practice_id": ident}})
    if state.route != "lookup" or state.attempts:
        for line in state.queries:
            query, pillar = line.split("\t")
            calls.append(
                {"name": "search_lens", "args": {"query": query, "pillar": pillar or None}}
            )
    round_no = _tool_rounds(state)
    return [{**c, "id": f"call_{round_no}_{i}", "type": "tool_call"} for i, c in enumerate(calls)]


def _model_messages(state: State, ctx: LensContext) -> list:
    """Build the model's view: system prompt, earlier turns, then this turn's tool loop."""
    edition = ctx.index.corpus.edition if ctx.index.corpus else None
    out: list = [SystemMessage(content=system_prompt(edition))]
    earlier = state.messages[: state.turn_start]
    for message in earlier:
        if _is_question(message):
            out.append(HumanMessage(content=user_turn(str(message.content))))
        elif isinstance(message, AIMessage) and not message.tool_calls and message.content:
            out.append(AIMessage(content=message.content))
    if out and isinstance(out[-1], HumanMessage):
        out.pop()  # a turn that failed before answering: drop its question
    current = _turn_messages(state)
    out.append(HumanMessage(content=user_turn(state.question, diagram_text(state.diagram))))
    out += current[1:]
    return out


def plan(state: State, runtime: Runtime[LensContext]) -> dict:
    """Decide the next tool calls: the chat model's choice, or the extractive policy."""
    ctx = resolve(runtime)
    rounds = _tool_rounds(state)
    if time.time() > state.deadline:
        return {
            "warnings": [
                *state.warnings,
                "stopped early: the time limit for one answer was reached",
            ]
        }
    if rounds >= MAX_TOOL_ROUNDS:
        return {"warnings": [*state.warnings, f"stopped after {rounds} rounds of tool calls"]}
    if ctx.chat_model is None:
        if rounds > state.attempts:
            return {}
        return {"messages": [AIMessage(content="", tool_calls=_policy_calls(state))]}
    model = ctx.chat_model.bind_tools(TOOLS)
    try:
        reply = model.invoke(_model_messages(state, ctx))
    except Exception as exc:
        from agent.models import describe_model_error

        raise ModelError(describe_model_error(exc, ctx.settings.model)) from exc
    usage = dict(state.usage)
    for key, value in (getattr(reply, "usage_metadata", None) or {}).items():
        if isinstance(value, int):
            usage[key] = usage.get(key, 0) + value
    return {"messages": [reply], "usage": usage}


def compose(state: State, runtime: Runtime[LensContext]) -> dict:
    """Write the draft: the model's final message, or the extractive composition."""
    ctx = resolve(runtime)
    last = state.messages[-1] if state.messages else None
    if ctx.chat_model is not None and isinstance(last, AIMessage) and not last.tool_calls:
        if last.text.strip():
            return {"draft": last.text}
    warnings = list(state.warnings)
    if ctx.chat_model is not None:
        warnings.append("the model gave no final answer; showing an extractive answer instead")
    passages = _expanded(state, ctx)
    draft = _extractive_draft(state, ctx, {**state.passages, **passages})
    writer = get_stream_writer()
    for piece in _pieces(draft):
        writer({"type": "token", "text": piece})
    return {"draft": draft, "warnings": warnings, "passages": passages}


def _expanded(state: State, ctx: LensContext) -> dict[str, dict]:
    """Whole pages of the best retrieved practices, so the answer can quote their best lines."""
    if state.route == "lookup" and not state.attempts:
        return {}
    groups = extractive.group_passages(state.passages, first=state.ids)
    extra: dict[str, dict] = {}
    for group in [g for g in groups if g.score >= WEAK_SCORE][: extractive.MAX_PRACTICES]:
        if not group.is_practice and group.question_title:
            continue  # a question page: its practices are pages of their own
        for chunk in ctx.index.chunks_of(group.key):
            if chunk.chunk_id not in state.passages:
                extra[chunk.chunk_id] = passage(chunk, group.score * 0.999, "context")
    return extra


def _extractive_draft(state: State, ctx: LensContext, passages: dict[str, dict]) -> str:
    edition = _edition_line(ctx)
    groups = extractive.group_passages(passages, first=state.ids)
    if state.route == "lookup" and not state.attempts:
        return extractive.compose_lookup(state.ids, groups, edition)
    question, _ = strip_injection(state.question)
    strong = [g for g in groups if g.score >= WEAK_SCORE or g.key in state.ids]
    body = extractive.compose_lens_answer(
        question,
        strong,
        edition,
        ctx.index.term_weight,
        ctx.index.chunk_similarity(question),
    )
    if state.diagram:
        return extractive.compose_diagram_preface(state.diagram) + "\n\n" + body
    return body


def _pieces(text: str, size: int = 24) -> list[str]:
    words = text.split(" ")
    return [
        " ".join(words[i : i + size]) + (" " if i + size < len(words) else "")
        for i in range(0, len(words), size)
    ]


def verify(state: State, runtime: Runtime[LensContext]) -> dict:
    """Check the draft's citations and claims; decide whether to retry once."""
    ctx = resolve(runtime)
    if state.verdict == "declined":
        return {}
    embed = ctx.index.embedder.encode if ctx.chat_model is not None else None
    result = verify_citations(state.draft, state.passages, ctx.index.page_urls, embed)
    weak = not result.citations
    verdict = "ok" if result.ok and not weak else ("weak" if weak else "failed")
    update: dict = {
        "verdict": verdict,
        "draft": result.text,
        "answer": {
            "citations": [asdict(c) for c in result.citations],
            "verification_warnings": result.warnings,
        },
    }
    can_retry = state.attempts < MAX_RETRIES and time.time() < state.deadline
    if verdict != "ok" and can_retry and state.route != "lookup":
        update["attempts"] = state.attempts + 1
        update["verdict"] = "retry"
        if ctx.chat_model is not None:
            problems = "; ".join(result.warnings) or "no citation to a retrieved passage"
            note = RETRY_NOTE.format(problems=problems)
            update["messages"] = [HumanMessage(content=note, name=RETRY_NAME)]
        else:
            update["queries"] = _reformulate(state)
    return update


def _reformulate(state: State) -> list[str]:
    """Second-chance queries: the question's content words alone, and the question unfiltered."""
    question, _ = strip_injection(state.question)
    words = " ".join(dict.fromkeys(w for w in question.lower().split() if stems(w)))
    return [f"{words}\t", f"{question}\t"]


def finalize(state: State, runtime: Runtime[LensContext]) -> dict:
    """Publish the verified answer and append it to the thread."""
    checked = state.answer or {"citations": [], "verification_warnings": []}
    text = state.draft
    if state.verdict == "weak" and extractive.NO_COVERAGE_TEXT not in text:
        text = f"{extractive.NO_COVERAGE_TEXT}\n\n{text}"
    ranked = sorted(state.passages.values(), key=lambda p: -p["score"])
    answer = {
        "text": text,
        "hits": [[p["chunk_id"], p["score"]] for p in ranked],
        "citations": checked["citations"],
        "warnings": [*state.warnings, *checked["verification_warnings"]],
        "declined": state.route == "out_of_scope",
        "usage": state.usage,
        "model": resolve(runtime).settings.model,
    }
    message = AIMessage(content=text, additional_kwargs={"lenswise": answer})
    return {"answer": answer, "messages": [message]}


# --- routers -------------------------------------------------------------------------------


def after_route(state: State) -> Literal["decline", "diagram", "plan"]:
    """Out-of-scope questions are declined; attached diagrams are reviewed first."""
    if state.route == "out_of_scope":
        return "decline"
    return "diagram" if state.route == "diagram" else "plan"


def after_plan(state: State) -> Literal["tools", "compose"]:
    """Run tool calls when the last message asks for them; otherwise write the answer."""
    last = state.messages[-1] if state.messages else None
    return "tools" if isinstance(last, AIMessage) and last.tool_calls else "compose"


def after_verify(state: State) -> Literal["plan", "finalize"]:
    """Go back to planning once when verification asked for a retry, else finish."""
    return "plan" if state.verdict == "retry" else "finalize"


def build_graph(checkpointer=None):
    """Assemble and compile the lens agent graph."""
    builder = StateGraph(State, context_schema=LensContext, input_schema=InputState)
    builder.add_node("route", route)
    builder.add_node("decline", decline)
    builder.add_node("diagram", diagram)
    builder.add_node("plan", plan)
    builder.add_node("tools", ToolNode(TOOLS))
    builder.add_node("compose", compose)
    builder.add_node("verify", verify)
    builder.add_node("finalize", finalize)
    builder.add_edge(START, "route")
    builder.add_conditional_edges("route", after_route)
    builder.add_edge("decline", "finalize")
    builder.add_edge("diagram", "plan")
    builder.add_conditional_edges("plan", after_plan)
    builder.add_edge("tools", "plan")
    builder.add_edge("compose", "verify")
    builder.add_conditional_edges("verify", after_verify)
    builder.add_edge("finalize", END)
    return builder.compile(checkpointer=checkpointer, name="lenswise")
