"""The path requests take into the model in a template, read from references between resources.

A template draws no arrows; its references stand in for them. An integration names the
function it runs, a function its role, the role the model actions it may call, a distribution
its origin. Following references backwards from the model gives the resources that requests
pass through on their way to it. The pieces of one API (stages, routes, methods, deployment)
refer to the API rather than to each other in request order, so they are judged together: the
API and its stages are on the path when one of its routes leads to the model, while a route
whose integration runs something else serves another path. A web ACL counts where it is
attached: on the path when it guards a front door on it, elsewhere otherwise; a function
URL's settings count only when its function calls the model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from diagrams.derived import COMPUTE, DATA_STORES, ModelPath
from diagrams.model import Architecture

_HANDLERS = COMPUTE | DATA_STORES | {"step-functions", "sqs", "sns", "eventbridge", "kinesis"}
"""Services a route hands requests to: a route that leads to one off the path serves another."""
_FRONTS = (
    re.compile(r"stage$", re.IGNORECASE),
    re.compile(r"(distribution|loadbalancer|_lb|graphqlapi|graphql_api)$", re.IGNORECASE),
    re.compile(r"(restapi|::api|httpapi|rest_api|apigatewayv2_api)$", re.IGNORECASE),
)
"""Resource types that a change to a front door goes on, in order of preference: the API
stage (where a web ACL and throttling sit), a distribution, load balancer or GraphQL API, and
the API itself."""
_URL = re.compile(r"^(AWS::Lambda::Url|aws_lambda_function_url)$")
"""A function URL: the front door of one function, whatever service it is filed under."""
_WAF = "waf"
_IAM = "iam"

Links = dict[str, set[str]]


@dataclass
class _Graph:
    """The references of a template, both ways, and each resource's service."""

    into: Links
    out: Links
    service: dict[str, str]


def model_path(
    arch: Architecture, targets: frozenset[str], doors: frozenset[str]
) -> ModelPath | None:
    """Return the path into ``targets`` through the front doors of ``doors`` in a template.

    Code configured with a model id ends the path too. None when no resource refers to a
    target (the callers are declared elsewhere).
    """
    ends = {c.id for c in arch.components if c.service in targets or c.facts.get("names_model")}
    into: Links = {}
    out: Links = {}
    for edge in arch.edges:
        into.setdefault(edge.target, set()).add(edge.source)
        out.setdefault(edge.source, set()).add(edge.target)
    if not any(into.get(end) for end in ends):
        return None
    order = [c.id for c in arch.components]
    service = {c.id: c.service or "" for c in arch.components}
    rtype = {c.id: c.resource_type or "" for c in arch.components}
    door_ids = [i for i in order if service[i] in doors]
    clusters = _clusters(door_ids, service, into, out)
    on, done = set(ends), set()
    todo = list(ends)
    while todo:
        _reach(todo, on, _Graph(into, out, service), clusters)
        for members in dict.fromkeys(clusters.values()):
            if members not in done and members & on:
                done.add(members)
                new = _on_route(members, on, service, into, out) - on
                on |= new
                todo += sorted(new)
    elsewhere = {i for i in door_ids if i not in on}
    elsewhere |= {i for i in order if _URL.search(rtype[i]) and i not in on}
    wafs = _clusters([i for i in order if service[i] == _WAF], service, into, out)
    for members in dict.fromkeys(wafs.values()):
        attached = {n for m in members for n in into.get(m, set()) | out.get(m, set())} - members
        if attached & on:
            on |= members
        elif attached:
            elsewhere |= members
    groups = list(dict.fromkeys(clusters[i] for i in door_ids))
    return ModelPath(
        on,
        [f for g in groups if g & on for f in _fronts(g & on, order, rtype)],
        [f for g in groups if not g & on for f in _fronts(g, order, rtype)],
        {i for e in arch.edges for i in (e.source, e.target)},
        frozenset(elsewhere),
    )


def _clusters(ids: list[str], service: dict[str, str], into: Links, out: Links) -> dict:
    """Group ``ids`` into the resources of one front door: referring to each other, one service."""
    group = {i: {i} for i in ids}
    for i in ids:
        for j in out.get(i, set()) | into.get(i, set()):
            if j in group and service[j] == service[i] and group[j] is not group[i]:
                merged = group[i] | group[j]
                for k in merged:
                    group[k] = merged
    return {i: frozenset(members) for i, members in group.items()}


def _reach(todo: list[str], on: set[str], graph: _Graph, clusters: dict) -> None:
    """Add to ``on`` whatever refers, directly or not, to ``todo``, in place.

    A reference from one piece of an API to another (a method to its API) is no request hop:
    the API's own routes are judged by :func:`_on_route`. A policy refers to the role it
    grants to, so a role is on the path when a policy on it is.
    """
    while todo:
        target = todo.pop()
        granted = graph.out.get(target, set()) if graph.service[target] == _IAM else set()
        for source in graph.into.get(target, set()) | {
            t for t in granted if graph.service[t] == _IAM
        }:
            same = source in clusters and clusters[source] == clusters.get(target)
            if source not in on and not same:
                on.add(source)
                todo.append(source)


def _on_route(
    members: frozenset[str], on: set[str], service: dict[str, str], into: Links, out: Links
) -> set[str]:
    """Return the pieces of an API on the path: all but the routes that lead somewhere else.

    A route leads elsewhere when it hands requests to code or a store off the path, or when
    only such routes refer to it (a method whose integration, declared apart, runs another
    function).
    """
    off = {
        m
        for m in members - on
        if any(t not in members and t not in on and service[t] in _HANDLERS for t in out.get(m, ()))
    }
    changed = True
    while changed:
        changed = False
        for m in members - on - off:
            refs = into.get(m, set()) & members
            if refs and refs <= off:
                off.add(m)
                changed = True
    return set(members - off)


def _fronts(members: Iterable[str], order: list[str], rtype: dict[str, str]) -> list[str]:
    """Return the resources of one front door that a change to it goes on."""
    ordered = [i for i in order if i in set(members)]
    for pattern in _FRONTS:
        hits = [i for i in ordered if pattern.search(rtype[i])]
        if hits:
            return hits
    return ordered[:1]
