"""Facts the review reads from the graph as a whole, not from one component's own settings.

A drawing rarely states a control as a property: it shows where things sit and what connects
to what. These facts come from that shape: which components lie on the path that reaches the
model, a lone always-on server that carries all traffic, code that does retrieval itself, and
IAM permissions drawn as nodes. They are kept apart from the parsed components so that
reviewing one diagram of a file never changes the facts seen when reviewing another.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from diagrams.model import Architecture, Component

COMPUTE = frozenset({"lambda", "fargate", "ecs", "eks", "batch", "ec2"})
"""Services that run the application's own code."""
DATA_STORES = frozenset(
    {"s3", "opensearch", "dynamodb", "kendra", "s3-vectors", "aurora", "rds", "documentdb"}
)
"""Stores a drawn permission can be about (the reach a least-privilege role limits)."""
_RAG_WORDS = re.compile(r"(?<![a-z])(embed|vector|faiss|retriev|rag(?![a-z]))", re.IGNORECASE)
_SEARCH_ACTIONS = (
    "aoss:",
    "es:eshttp",
    "kendra:query",
    "kendra:retrieve",
    "s3vectors:query",
    "bedrock:retrieve",
)
"""Permissions to search a vector store or knowledge base."""
_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_ACTION = re.compile(r"\b[A-Z][A-Za-z]+\b")
_READS = ("Get", "List", "Query", "Scan", "Retrieve", "Search", "Read", "Describe", "APIAccess")
_CHANGES = ("Put", "Delete", "Update", "Create", "Write", "Batch", "Invoke", "Full")


def component_facts(arch: Architecture) -> dict[str, dict[str, Any]]:
    """Return extra facts per component id, derived from the shape of ``arch``."""
    found: dict[str, dict[str, Any]] = {}
    for comp_id, facts in [*_lone_server(arch), *_retrieval_code(arch), *_drawn_policies(arch)]:
        found.setdefault(comp_id, {}).update(facts)
    return found


@dataclass
class ModelPath:
    """The drawn path that requests take into the model, and the front doors around it."""

    on: set[str]
    """Components that lead into the model along arrows, those drawn touching it (a response
    arrow drawn back), and the first hop of each person who reaches it."""
    entries: list[str]
    """Front doors on the path: entry services on it and the first hops of its users."""
    off: list[str]
    """Front doors drawn elsewhere (an admin site): controls there do not guard the model."""
    connected: set[str]
    """Every component that any arrow touches."""
    elsewhere: frozenset[str] | None = None
    """Templates only: front-door resources, and the web ACLs attached to them, that serve
    another path (a site's distribution, a route to a function that never calls the model).
    Everything else in a template refers to something, so only these are ruled out."""

    def holds(self, comp_id: str) -> bool:
        """Return True when evidence on ``comp_id`` guards the path into the model.

        Evidence drawn beside the path, with no arrow (a WAF icon next to the front door),
        counts unless every front door drawn is off the path.
        """
        if comp_id in self.on:
            return True
        if self.elsewhere is not None:
            return comp_id not in self.elsewhere
        return comp_id not in self.connected and bool(self.entries or not self.off)


def model_path(
    arch: Architecture, targets: frozenset[str], entry_services: frozenset[str]
) -> ModelPath | None:
    """Return the drawn path into a component of ``targets`` (the model).

    None when the design cannot tell: templates (whose references are read by
    :mod:`diagrams.iac_path` instead) and drawings where no arrow leads into a target.
    """
    if arch.is_iac:
        return None
    ends = {c.id for c in arch.components if c.service in targets}
    into: dict[str, set[str]] = {}
    for edge in arch.edges:
        into.setdefault(edge.target, set()).add(edge.source)
    if not any(into.get(end) for end in ends):
        return None
    seen, todo = set(ends), list(ends)
    while todo:
        for source in into.get(todo.pop(), ()):
            if source not in seen:
                seen.add(source)
                todo.append(source)
    seen |= {e.target for e in arch.edges if e.source in ends}
    actors = {c.id for c in arch.components if c.kind == "actor" and c.id in seen}
    firsts = [e.target for e in arch.edges if e.source in actors and e.target not in ends]
    on = seen | set(firsts)
    doors = [c.id for c in arch.components if c.service in entry_services]
    return ModelPath(
        on,
        list(dict.fromkeys([d for d in doors if d in on] + firsts)),
        [d for d in doors if d not in on],
        {i for e in arch.edges for i in (e.source, e.target)},
    )


def _lone_server(arch: Architecture) -> Iterable[tuple[str, dict[str, Any]]]:
    """One EC2 instance runs all the code, nothing scales it: always on, one failure domain."""
    servers = [c for c in arch.components if c.kind == "service" and c.service in COMPUTE]
    scaled = any(
        c.service in ("auto-scaling", "elb") or c.facts.get("autoscaling") for c in arch.components
    )
    if len(servers) != 1 or servers[0].service != "ec2" or scaled:
        return
    server = servers[0]
    kinds = {g.id: g for g in arch.groups}
    group, in_subnet, seen = kinds.get(server.group or ""), False, set()
    while group is not None and not in_subnet and group.id not in seen:  # parents may loop
        seen.add(group.id)
        in_subnet = group.kind == "subnet"
        group = kinds.get(group.parent or "")
    zones = sum(g.kind == "availability-zone" for g in arch.groups)
    yield server.id, {"always_on": True, "single_path": in_subnet and zones < 2}


def _retrieval_code(arch: Architecture) -> Iterable[tuple[str, dict[str, Any]]]:
    """Code that calls a model and embeds or searches vectors itself is a retrieval step.

    It shows by its name or settings (embeddings, vectors, FAISS, retrieval) or by the
    permissions it holds on a vector store or knowledge base next to the model ones.
    """
    for comp in arch.components:
        if comp.service in COMPUTE and comp.facts.get("bedrock_access"):
            words = " ".join([_SPLIT.sub(" ", comp.id), comp.label, *map(str, _hints(comp))])
            actions = [str(a).lower() for a in comp.facts.get("actions", [])]
            if _RAG_WORDS.search(words) or any(a.startswith(_SEARCH_ACTIONS) for a in actions):
                yield comp.id, {"rag": True}


def _drawn_policies(arch: Architecture) -> Iterable[tuple[str, dict[str, Any]]]:
    """An IAM node drawn with only read actions on a store shows that store's access scoped."""
    if arch.is_iac:
        return
    services = {c.id: c.service for c in arch.components}
    on_store: set[str] = set()  # components with an arrow to or from a data store
    for edge in arch.edges:
        for end, other in ((edge.source, edge.target), (edge.target, edge.source)):
            if services.get(other) in DATA_STORES:
                on_store.add(end)
    for comp in arch.components:
        if comp.service != "iam" or "*" in comp.label or comp.id not in on_store:
            continue
        actions = [a for a in _ACTION.findall(comp.label) if a.startswith(_READS + _CHANGES)]
        if actions:
            yield comp.id, {"scoped_data": not any(a.startswith(_CHANGES) for a in actions)}


def _hints(comp: Component) -> list[Any]:
    hints = comp.facts.get("hints", [])
    return hints if isinstance(hints, list) else []
