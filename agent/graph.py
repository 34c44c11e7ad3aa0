r"""The lens agent as a LangGraph ``StateGraph``: nodes first, the graph assembled at the bottom.

    route -> decline ............................................ -> finalize
          -> diagram -> plan <-> tools
          -> plan <-> tools -> compose -> verify -> finalize
                                             \\-> plan (one retry with reformulated queries)

One graph serves both modes: with a tool-calling chat model in the context, ``plan`` asks the
model, which drives the tools itself; without one (extractive mode), ``plan`` emits the tool
calls its own retrieval policy chooses once, and their results go straight to ``compose``.
The route record (``State.routing``) decides the pages and the answer's plan once, at the
start of the turn. Either way the same ``ToolNode`` runs them and the
same ``verify`` checks the answer. Every run stops at a recursion limit (LangGraph) and at a
wall-clock deadline, after a bounded number of tool rounds (GENREL03-BP02, GENCOST05-BP01).
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from typing import Literal

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime
from langgraph.types import Checkpointer

from agent import catalogue, extractive
from agent.citations import mark_unverified
from agent.citations import verify as verify_citations
from agent.context import LensContext, resolve
from agent.design import DesignSummary, prompt_text, summarise
from agent.models import ModelError, describe_model_error
from agent.prompts import RETRY_NOTE, system_prompt, user_turn
from agent.routing import (
    MIN_PART_WORDS,
    SUPPORT_PROBABILITY,
    Story,
    answer_kind,
    decide,
    split_parts,
)
from agent.state import (
    AnswerRecord,
    Checked,
    CitationRecord,
    InputState,
    Part,
    Query,
    Routing,
    State,
    Update,
)
from agent.text import stems
from agent.tools import TOOLS
from index.relevance import MAX_PAGES, PageScore

RETRY_NAME = "lenswise-retry"
"""Name of the human messages that carry a retry note (never shown as questions)."""
POLICY_NAME = "lenswise-policy"
"""Name of the tool-call messages of the extractive policy (their results go to ``compose``)."""
MAX_TOOL_ROUNDS = 4
MAX_RETRIES = 1
FALLBACK_RATIO = 0.5
"""Without a relevance model: pages within this share of the best fused score are named too."""
DESIGN_GAP_SHARE = 0.5
"""A design gap leads the answer when its relevance reaches this share of the best page's."""
STORY_PAGES = 3
"""Most practices a workload story names: its open request asks what matters most, so the
strongest few, each from a different question of the lens."""


def _turn_messages(state: State) -> list:
    return state.messages[state.turn_start :]


def _tool_rounds(state: State) -> int:
    return sum(1 for m in _turn_messages(state) if isinstance(m, AIMessage) and m.tool_calls)


# --- nodes ---------------------------------------------------------------------------------


def route(state: State, runtime: Runtime[LensContext]) -> Update:
    """Start the turn: classify the question, choose its pages and plan its answer, once."""
    ctx = resolve(runtime)
    has_design = bool(state.diagram_path or state.diagram)
    decision = decide(
        state.question,
        _last_question(state),
        ctx.index,
        pillar=state.pillar,
        has_design=has_design,
    )
    warnings = []
    if decision.injection:
        warnings.append(
            "the question contains text addressed to the assistant as instructions "
            f'("{_short(decision.injection[0])}"); it was treated as data and not followed'
        )
    answer = answer_kind(state.question, decision, has_design)
    if answer in ("decline", "howto", "explain", "list") and catalogue.whole_list(
        state.question, decision.query, decision.kind, ctx.index.chunks
    ):
        decision, answer = replace(decision, kind="lens"), "list"
    routing = Routing(
        kind=decision.kind,
        answer=answer,
        intent=decision.intent,
        pages=[],
        support=[],
        parts=[],
        explanation=decision.explanation,
        query=decision.query,
        pillar=decision.pillar,
        ids=decision.ids,
        unknown_ids=decision.unknown_ids,
    )
    if decision.kind in ("lens", "followup") and not (state.diagram and decision.intent):
        routing = _with_pages(ctx, routing, decision.parts, state.diagram, decision.story)
    return {
        "messages": [HumanMessage(content=state.question)],
        "turn_start": len(state.messages),
        "routing": routing,
        "queries": [Query(text=decision.query, pillar=decision.pillar)],
        "passages": None,
        "warnings": warnings,
        "draft": "",
        "drafted_by": "",
        "checked": None,
        "answer": None,
        "attempts": 0,
        "verdict": "",
        "usage": {},
        "deadline": time.time() + ctx.settings.timeout_s,
    }


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _with_pages(
    ctx: LensContext,
    routing: Routing,
    parts: list[str],
    design: DesignSummary | None,
    story: Story | None = None,
) -> Routing:
    """Return ``routing`` with the pages of the whole question and of each of its parts.

    A request for a whole list of the lens (:mod:`agent.catalogue`) names every page of it. A
    workload story is planned from its concerns (:func:`_story_pages`); when none of them
    clearly names a practice, the question is routed as a whole like any other.
    """
    if routing["answer"] == "list" and routing["kind"] == "lens":
        collection = catalogue.requested(routing["query"], ctx.index.chunks)
        if collection:
            return {**routing, "pages": collection.pages, "support": [], "parts": []}
    if story and not design:
        planned = _story_pages(ctx, story, routing["pillar"])
        if planned:  # one practice alone is no part: its steps are scored on the question
            pages = list(dict.fromkeys(p for part in planned for p in part["pages"]))
            parts_of = planned if len(planned) >= 2 else []
            return {**routing, "pages": pages, "support": [], "parts": parts_of}
    chosen, support = _chosen_pages(ctx, routing["query"], routing["pillar"], design)
    whole = {
        s.page_id: s.probability for s in ctx.index.rank_pages(routing["query"], routing["pillar"])
    }
    per_part = [
        Part(question=part, pages=_part_pages(ctx, part, routing, parts, whole)) for part in parts
    ]
    leads = [part["pages"][0] for part in per_part if part["pages"]]
    pages = list(dict.fromkeys([*chosen[:1], *leads, *chosen[1:]]))[:MAX_PAGES]
    support = [p for p in support if p not in pages]
    return {**routing, "pages": pages, "support": support, "parts": per_part}


def _in_context(question: str, part: str, parts: list[str]) -> str:
    """Return the question a part belongs to with the other parts left out.

    The part keeps the question's scene ("we fine-tune every month."), which it may lean on,
    but not the other requests, which would outweigh it: routed with them, "a way to replay
    every step our agent took" loses to the token dashboard asked just before it.
    """
    for other in parts:
        if other != part:
            question = question.replace(other, " ")
    return " ".join(question.split())


def _story_pages(ctx: LensContext, story: Story, pillar: str | None) -> list[Part]:
    """Plan a workload story: the practices its concerns need, the strongest first.

    The description without the open request is routed as a whole (the request, "what does
    the lens say we need?", only pulls towards overview pages); its best practice leads when
    it is more likely relevant than not. Then each constraint (the concerns after the first,
    which names the workload the description's routing already covers) is routed like a part,
    against the description's ranking, when it says enough on its own (``MIN_PART_WORDS``
    content words; "not the document index" leans on its sentence). Overview and scenario pages
    are left out: the request named none (else it would not be open), so the story asks for
    practices. At most ``STORY_PAGES``, each from a different question of the lens, so the
    answer covers different concerns.
    """
    ranked = [s for s in ctx.index.rank_pages(story.scene, pillar) if _is_practice(ctx, s.page_id)]
    whole = {s.page_id: s.probability for s in ranked}
    lead = [s.page_id for s in ranked[:1] if s.probability >= SUPPORT_PROBABILITY]
    planned = [Part(question=story.scene, pages=lead)] if lead else []
    questions = {_question_of(ctx, p) for p in lead}
    for concern in story.concerns[1:]:
        if len(questions) >= STORY_PAGES:
            break
        if len(stems(concern)) < MIN_PART_WORDS:
            continue
        pages = [
            p for p in _backed(ctx, concern, pillar, whole) if _question_of(ctx, p) not in questions
        ][:1]
        if pages:
            planned.append(Part(question=concern, pages=pages))
            questions.add(_question_of(ctx, pages[0]))
    return planned


def _is_practice(ctx: LensContext, page: str) -> bool:
    chunks = ctx.index.chunks_of(page)
    return bool(chunks) and chunks[0].bp_id is not None


def _question_of(ctx: LensContext, page: str) -> str:
    chunks = ctx.index.chunks_of(page)
    return (chunks[0].question_id if chunks else None) or page


def _part_pages(
    ctx: LensContext, part: str, routing: Routing, parts: list[str], whole: dict[str, float]
) -> list[str]:
    """Return the page that answers one part of a question, if one clearly does.

    It is the part's best page when the calibrated relevance model finds it more likely
    relevant than not (``SUPPORT_PROBABILITY``) both for the part on its own and for the whole
    question: a clause routed alone can drift to a page the question as a whole is not about (a
    scene-setting clause, "a new model version just came out", reads as a question about model
    versions), and a part too vague to route names none.

    The whole question's ranking can be taken over by its other parts (a token dashboard
    outweighs "a way to replay every step our agent took"). Then the part within its question
    (:func:`_in_context`) may back the page instead, when that context adds words of its own to
    the part (else the part would back itself), the page is the context's best one, and the part
    says enough on its own (at least ``MIN_PART_WORDS`` content words; "should we change it?"
    does not).
    """
    pillar = routing["pillar"]
    backed = _backed(ctx, part, pillar, whole)[:1]
    text = _in_context(routing["query"], part, parts)
    own = set(stems(part))
    if backed or len(own) < MIN_PART_WORDS or not set(stems(text)) - own:
        return backed
    best = ctx.index.rank_pages(text, pillar)[:1]
    return _backed(ctx, part, pillar, {s.page_id: s.probability for s in best})[:1]


def _backed(
    ctx: LensContext, clause: str, pillar: str | None, context: dict[str, float]
) -> list[str]:
    """Return the pages ``clause`` and ``context`` agree on, preferred first; else nothing.

    A page qualifies when both find it more likely relevant than not (``SUPPORT_PROBABILITY``);
    ``context`` holds page probabilities. Pages are compared by the lower of the two. The
    clause's own best page is taken when it qualifies and no page beats it so. A page that does
    beat it replaces it only when the clause's most similar step is on that page rather than on
    any other page the clause finds likely (:func:`_nearest_step_on`): a clause is short and the
    router was trained on whole questions, so its first page can be a near miss ("how do we make
    them shorter" reads as output length) while the page both agree on (prompt length) holds
    the step the clause names. No new cut-off: the step match only decides between pages the
    calibrated model already finds likely. The clause's own page then follows as the second
    choice, for a caller that has the first covered already (a story's lead).
    """
    ranked = ctx.index.rank_pages(clause, pillar)
    if not ranked:
        return []

    def agreed(score: PageScore) -> float:
        return min(score.probability, context.get(score.page_id, 0.0))

    first, best = ranked[0], max(ranked, key=agreed)
    own = [first.page_id] if agreed(first) >= SUPPORT_PROBABILITY else []
    if agreed(best) <= agreed(first) or agreed(best) < SUPPORT_PROBABILITY:
        return own
    rivals = [s.page_id for s in ranked if s.probability >= SUPPORT_PROBABILITY and s is not best]
    return [best.page_id, *own] if _nearest_step_on(ctx, clause, best.page_id, rivals) else own


def _nearest_step_on(ctx: LensContext, clause: str, page: str, rivals: list[str]) -> bool:
    """Return True when ``clause``'s most similar chunk is on ``page``, not on a rival page.

    A chunk is a step, guidance sentence or section of one page; similarity is the index's
    dense cosine (:meth:`index.store.LensIndex.chunk_similarity`).
    """
    similarity = ctx.index.chunk_similarity(clause)

    def nearest(ident: str) -> float:
        chunks = [c for c in ctx.index.chunks_of(ident) if c.page_id == ident]
        return max((similarity.get(c.chunk_id, -1.0) for c in chunks), default=-1.0)

    own = nearest(page)
    return all(own > nearest(rival) for rival in rivals)


def _chosen_pages(
    ctx: LensContext, query: str, pillar: str | None, design: DesignSummary | None
) -> tuple[list[str], list[str]]:
    """The pages an answer names, best first, and further likely pages that may support it.

    The calibrated relevance model chooses; pages it ranks more likely relevant than not
    (probability at least ``SUPPORT_PROBABILITY``) may lend the answer a step that fits the
    question. With a reviewed design, a question is about that design: its gaps that are
    relevant to the question (at least ``DESIGN_GAP_SHARE`` of the best page's probability)
    lead. A lens without example questions has no relevance model: then the best retrieved
    page leads, joined by pages whose fused score comes close to it.
    """
    index = ctx.index
    if index.router is None:
        hits = index.search(query, k=ctx.settings.k, pillar=pillar)
        best: dict[str, float] = {}
        for hit in hits:
            best.setdefault(hit.chunk.page_id, hit.score)
        top = max(best.values(), default=0.0)
        return [p for p, score in best.items() if score >= FALLBACK_RATIO * top][:3], []
    ranked = index.rank_pages(query, pillar)
    chosen = [s.page_id for s in index.router.select(ranked)]
    if design and ranked:
        gaps = {g["bp_id"] for g in design["gaps"]}
        floor = DESIGN_GAP_SHARE * ranked[0].probability
        relevant = [s.page_id for s in ranked if s.page_id in gaps and s.probability >= floor]
        chosen = list(dict.fromkeys([*relevant, *chosen]))
    support = [
        s.page_id
        for s in ranked[:MAX_PAGES]
        if s.probability >= SUPPORT_PROBABILITY and s.page_id not in chosen
    ]
    return chosen[:MAX_PAGES], support


def _routing(state: State) -> Routing:
    """The turn's route record (an empty one before ``route`` has run)."""
    return state.routing or Routing(
        kind="",
        answer="",
        intent=None,
        pages=[],
        support=[],
        parts=[],
        explanation="",
        query=state.question,
        pillar=state.pillar,
        ids=[],
        unknown_ids=[],
    )


def _is_question(message) -> bool:
    """True for a user's question (not a retry note the graph added itself)."""
    return isinstance(message, HumanMessage) and message.name != RETRY_NAME


def _last_question(state: State) -> str | None:
    for message in reversed(state.messages):
        if _is_question(message):
            return str(message.content)
    return None


def decline(state: State, runtime: Runtime[LensContext]) -> Update:
    """Answer an out-of-scope question honestly, without retrieval or a model call."""
    return {"draft": extractive.DECLINE_TEXT, "verdict": "declined"}


def diagram(state: State, runtime: Runtime[LensContext]) -> Update:
    """Review the attached diagram; its summary stays with the thread for later turns."""
    ctx = resolve(runtime)
    if state.diagram_path is None:  # routed here only when a diagram is attached
        return {}
    if ctx.reviewer is None:
        return {"warnings": [*state.warnings, "diagram review is not available in this setup"]}
    review = ctx.reviewer(state.diagram_path)
    design = summarise(review)
    update: Update = {"diagram": design, "warnings": [*state.warnings, *review.warnings]}
    routing = _routing(state)
    if routing["kind"] in ("lens", "followup") and not routing["intent"]:
        parts = split_parts(state.question) if routing["parts"] else []
        update["routing"] = _with_pages(ctx, routing, parts, design)
    return update


def _design_ids(state: State) -> list[str]:
    """Practices an answer about the thread's design needs: its gaps, or its strengths."""
    if not state.diagram:
        return []
    routing = _routing(state)
    gaps = [g["bp_id"] for g in state.diagram["gaps"]]
    if routing["intent"] == "prioritize":
        return gaps
    if extractive.about_design(state.question, routing):
        return [*gaps, *(s["bp_id"] for s in state.diagram["strengths"])]
    return gaps[:3]


def _policy_calls(state: State) -> list[dict]:
    """The extractive mode's own tool calls: the chosen pages, named ids and a search."""
    routing = _routing(state)
    support = routing["support"] if routing["answer"] == "compare" else []  # the other option
    named = [*routing["ids"], *routing["pages"], *support, *_design_ids(state)]
    wanted = list(dict.fromkeys(named))
    calls = [{"name": "get_best_practice", "args": {"practice_id": i}} for i in wanted]
    if routing["kind"] != "lookup" or state.attempts:
        for query in state.queries:
            calls.append(
                {"name": "search_lens", "args": {"query": query["text"], "pillar": query["pillar"]}}
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
    hints = _page_hints(ctx, [*_routing(state)["pages"], *_design_ids(state)])
    out.append(HumanMessage(content=user_turn(state.question, prompt_text(state.diagram), hints)))
    out += current[1:]
    return out


def _page_hints(ctx: LensContext, pages: list[str]) -> list[str]:
    """``id: title`` of the pages the relevance model found, for the model's first searches."""
    titles = {}
    for ident in dict.fromkeys(pages):
        chunks = ctx.index.chunks_of(ident)
        if chunks:
            titles[ident] = chunks[0].title
    return [f"{ident}: {title}" for ident, title in titles.items()]


def plan(state: State, runtime: Runtime[LensContext]) -> Update:
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
        calls = _policy_calls(state)
        return {"messages": [AIMessage(content="", tool_calls=calls, name=POLICY_NAME)]}
    model = ctx.chat_model.bind_tools(TOOLS)
    try:
        reply = model.invoke(_model_messages(state, ctx))
    except Exception as exc:
        raise ModelError(describe_model_error(exc, ctx.settings.model)) from exc
    usage = dict(state.usage)
    for key, value in (getattr(reply, "usage_metadata", None) or {}).items():
        if isinstance(value, int):
            usage[key] = usage.get(key, 0) + value
    return {"messages": [reply], "usage": usage}


def compose(state: State, runtime: Runtime[LensContext]) -> Update:
    """Write the draft: the model's final message, or the extractive composition."""
    ctx = resolve(runtime)
    last = state.messages[-1] if state.messages else None
    if ctx.chat_model is not None and isinstance(last, AIMessage) and not last.tool_calls:
        if last.text.strip():
            return {"draft": last.text, "drafted_by": "model"}
    warnings = list(state.warnings)
    if ctx.chat_model is not None:
        warnings.append("the model gave no final answer; showing an extractive answer instead")
    earlier = [
        str(m.content)
        for m in state.messages[: state.turn_start]
        if isinstance(m, AIMessage) and not m.tool_calls and m.content
    ]
    draft = extractive.draft(state, ctx, earlier)
    writer = get_stream_writer()
    for piece in _pieces(draft):
        writer({"type": "token", "text": piece})
    return {"draft": draft, "drafted_by": "extractive", "warnings": warnings}


def _pieces(text: str, size: int = 24) -> list[str]:
    words = text.split(" ")
    return [
        " ".join(words[i : i + size]) + (" " if i + size < len(words) else "")
        for i in range(0, len(words), size)
    ]


def verify(state: State, runtime: Runtime[LensContext]) -> Update:
    """Check the draft's citations and claims; decide whether to retry once."""
    ctx = resolve(runtime)
    if state.verdict == "declined":
        return {}
    embed = ctx.index.embedder.encode if ctx.chat_model is not None else None
    quoted = _routing(state)["unknown_ids"]
    generative = state.drafted_by == "model"
    result = verify_citations(
        state.draft, state.passages, ctx.index.page_urls, embed, quoted, every_claim=generative
    )
    weak = not result.citations
    verdict = "ok" if result.ok and not weak else ("weak" if weak else "failed")
    update: Update = {
        "verdict": verdict,
        "draft": mark_unverified(result.text, result),
        "checked": Checked(
            citations=[CitationRecord(**asdict(c)) for c in result.citations],
            verification_warnings=result.warnings,
        ),
    }
    can_retry = state.attempts < MAX_RETRIES and time.time() < state.deadline
    if verdict != "ok" and can_retry and _routing(state)["kind"] != "lookup":
        update["attempts"] = state.attempts + 1
        update["verdict"] = "retry"
        if ctx.chat_model is not None:
            problems = "; ".join(result.warnings) or "no citation to a retrieved passage"
            fix = "\n".join(f"- {s}" for s in result.unverified) or "- (none)"
            note = RETRY_NOTE.format(problems=problems, sentences=fix)
            update["messages"] = [HumanMessage(content=note, name=RETRY_NAME)]
        else:
            update["queries"] = _reformulate(state)
    return update


def _reformulate(state: State) -> list[Query]:
    """Second-chance queries: the question's content words alone, and the question unfiltered."""
    words = " ".join(dict.fromkeys(w for w in state.question.lower().split() if stems(w)))
    return [Query(text=words, pillar=None), Query(text=state.question, pillar=None)]


def finalize(state: State, runtime: Runtime[LensContext]) -> Update:
    """Publish the verified answer and append it to the thread."""
    checked = state.checked or Checked(citations=[], verification_warnings=[])
    text = state.draft
    if state.verdict == "weak" and extractive.NO_COVERAGE_TEXT not in text:
        text = f"{extractive.NO_COVERAGE_TEXT}\n\n{text}"
    ranked = sorted(state.passages.values(), key=lambda p: -p["score"])
    routing = _routing(state)
    answer = AnswerRecord(
        text=text,
        hits=[(p["chunk_id"], p["score"]) for p in ranked],
        citations=checked["citations"],
        warnings=[*state.warnings, *checked["verification_warnings"]],
        declined=routing["kind"] == "out_of_scope",
        usage=state.usage,
        model=resolve(runtime).settings.model,
        routing=routing,
    )
    message = AIMessage(content=text, additional_kwargs={"lenswise": answer})
    return {"answer": answer, "messages": [message]}


# --- routers -------------------------------------------------------------------------------


def after_route(state: State) -> Literal["decline", "diagram", "plan"]:
    """Out-of-scope questions are declined; attached diagrams are reviewed first."""
    if _routing(state)["kind"] == "out_of_scope":
        return "decline"
    return "diagram" if state.diagram_path else "plan"


def after_plan(state: State) -> Literal["tools", "compose"]:
    """Run tool calls when the last message asks for them; otherwise write the answer."""
    last = state.messages[-1] if state.messages else None
    return "tools" if isinstance(last, AIMessage) and last.tool_calls else "compose"


def after_tools(state: State) -> Literal["plan", "compose"]:
    """Back to the model after its tool calls; the extractive policy's results are composed."""
    calls = [m for m in _turn_messages(state) if isinstance(m, AIMessage) and m.tool_calls]
    return "compose" if calls and calls[-1].name == POLICY_NAME else "plan"


def after_verify(state: State) -> Literal["plan", "finalize"]:
    """Go back to planning once when verification asked for a retry, else finish."""
    return "plan" if state.verdict == "retry" else "finalize"


LensGraph = CompiledStateGraph[State, LensContext, InputState, State]
"""The compiled agent: :class:`State` inside, :class:`InputState` in, a :class:`LensContext`."""


def build_graph(checkpointer: Checkpointer = None) -> LensGraph:
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
    builder.add_conditional_edges("tools", after_tools)
    builder.add_edge("compose", "verify")
    builder.add_conditional_edges("verify", after_verify)
    builder.add_edge("finalize", END)
    return builder.compile(checkpointer=checkpointer, name="lenswise")
