"""Parse CloudFormation and SAM templates (YAML with short-form tags, or JSON) into a graph.

Resources become components, ``Ref``/``GetAtt``/``Sub`` references become edges, SAM function
events become edges from their sources, and properties become control facts.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import yaml

from corpus.errors import InputError
from diagrams import catalog, iac_facts
from diagrams.cfn_facts import read_facts
from diagrams.iac_json import load_json
from diagrams.limits import Budget
from diagrams.model import Architecture, Component, Edge

_INTRINSICS = (
    "Ref",
    "Condition",
    "GetAtt",
    "Sub",
    "Join",
    "Select",
    "Split",
    "FindInMap",
    "Base64",
    "Cidr",
    "ImportValue",
    "GetAZs",
    "If",
    "Equals",
    "And",
    "Or",
    "Not",
    "Transform",
    "ToJsonString",
    "Length",
    "ForEach",
    "ValueOf",
    "Contains",
    "EachMemberIn",
    "EachMemberEquals",
    "RefAll",
    "ValueOfAll",
)
_SUB_VAR = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")
_SAM_GLOBALS = {
    "AWS::Serverless::Function": "Function",
    "AWS::Serverless::Api": "Api",
    "AWS::Serverless::HttpApi": "HttpApi",
}
"""The Globals section each SAM resource type takes its defaults from."""
_EVENT_SOURCE_KEYS = ("Bucket", "Queue", "Topic", "Stream", "RestApiId", "ApiId", "Table")


if TYPE_CHECKING:  # the C loader has the same interface; a checker cannot take a runtime base
    _SafeLoader = yaml.SafeLoader
else:  # libyaml: ten times faster
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """SafeLoader that turns CloudFormation short-form tags into their long-form dicts."""


def _intrinsic(name: str):
    key = name if name in ("Ref", "Condition") else f"Fn::{name}"

    def construct(
        loader: yaml.SafeLoader, node: yaml.ScalarNode | yaml.SequenceNode | yaml.MappingNode
    ) -> dict:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {key: value}

    return construct


for _name in _INTRINSICS:
    _Loader.add_constructor(f"!{_name}", _intrinsic(_name))


def _yaml_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


# CloudFormation reads an unquoted date as text, so timestamps stay text here too (an invalid
# one such as 2024-13-45 would otherwise fail, and a date key would not be a string).
_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)
_Loader.add_constructor("tag:yaml.org,2002:int", _yaml_int)


_RESOURCE_TYPE = re.compile(r"\b(?:AWS|Alexa|Custom)::\w+::\w+")
"""A resource type string (``AWS::Lambda::Function``): a cheap upper bound of the resources."""


def load_template(text: str, budget: Budget) -> dict:
    """Load a template from YAML or JSON text.

    Raises:
        InputError: the text is not valid YAML/JSON, uses unknown tags, has no Resources map,
            or declares more resources than ``budget`` allows (checked before parsing too).
    """
    budget.check_resources(len(_RESOURCE_TYPE.findall(text)), "template")
    try:
        if text.lstrip().startswith("{"):
            doc = load_json(text)
        else:
            doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except json.JSONDecodeError as exc:
        raise InputError(f"template is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise InputError(f"template is not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise InputError("template nests too deeply to read") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise InputError("not a CloudFormation/SAM template: no 'Resources' section")
    if not doc["Resources"]:
        raise InputError("template has an empty 'Resources' section")
    return doc


def _refs(value: Any, known: dict, budget: list[int]) -> set[str]:
    found: set[str] = set()
    for node in iac_facts.walk(value, budget=budget):
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("Ref"), str):
            found.add(node["Ref"])
        att = node.get("Fn::GetAtt")
        if isinstance(att, list) and att and isinstance(att[0], str):
            found.add(att[0])
        elif isinstance(att, str):
            found.add(att.split(".", 1)[0])
        sub = node.get("Fn::Sub")
        template = sub[0] if isinstance(sub, list) and sub else sub
        if isinstance(template, str):
            found.update(_SUB_VAR.findall(template))
    return {name for name in found if name in known}


def _label(logical_id: str, resource: dict) -> str:
    """Prefer the CDK construct path (``Stack/ChatFunction/Resource`` -> ``ChatFunction``)."""
    metadata = resource.get("Metadata")
    path = metadata.get("aws:cdk:path") if isinstance(metadata, dict) else None
    if not isinstance(path, str):
        return logical_id
    parts = [p for p in path.split("/")[1:] if p not in ("Resource", "Default")]
    return "/".join(parts[-2:]) or logical_id


def _component(logical_id: str, resource: Any, globals_: dict) -> Component:
    if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
        raise InputError(f"resource '{logical_id[:60]}' has no Type")
    rtype = resource["Type"]
    slug = catalog.from_cloudformation_type(rtype)
    comp = Component(
        logical_id,
        _label(logical_id, resource),
        slug,
        kind="service" if slug else "box",
        source=f"type {rtype}",
        resource_type=rtype,
    )
    comp.facts = read_facts(rtype, resource.get("Properties"), globals_)
    return comp


class _Template:
    """Builds the graph of one loaded template."""

    def __init__(self, doc: dict, arch: Architecture) -> None:
        self.doc, self.arch = doc, arch
        self.resources: dict = doc["Resources"]
        self.globals = (doc.get("Globals") or {}) if isinstance(doc.get("Globals"), dict) else {}
        self.comps: dict[str, Component] = {}
        self.edges: dict[tuple[str, str], str] = {}
        self.budget = [iac_facts.MAX_NODES]
        self.routes: list[tuple[str, str, str, Any]] = []
        """SAM API events: (API, function, path, the authorizer the event chooses or None)."""

    def sam_globals(self, resource: Any) -> dict:
        """Return the SAM Globals section that applies to ``resource`` (empty when none)."""
        rtype = resource.get("Type") if isinstance(resource, dict) else None
        section = _SAM_GLOBALS.get(str(rtype))
        found = self.globals.get(section) if section else None
        return found if isinstance(found, dict) else {}

    def edge(self, source: str, target: str, label: str) -> None:
        if source != target and source in self.comps and target in self.comps:
            self.edges.setdefault((source, target), label)

    def build(self) -> None:
        for logical_id, resource in self.resources.items():
            self.comps[logical_id] = _component(
                str(logical_id), resource, self.sam_globals(resource)
            )
        for logical_id, resource in self.resources.items():
            props = resource.get("Properties")
            if not isinstance(props, dict):
                continue
            for key, value in props.items():
                if key == "Events" and resource["Type"].startswith("AWS::Serverless::"):
                    continue
                for target in _refs(value, self.resources, self.budget):
                    self.edge(logical_id, target, str(key))
            events = props.get("Events")
            if isinstance(events, dict) and resource["Type"].startswith("AWS::Serverless::"):
                self.sam_events(logical_id, events)
        self.implicit_services()
        self.route_auth()
        iac_facts.mark_shared_roles(
            (self.comps[i].facts, (r.get("Properties") or {}).get("AgentResourceRoleArn"), False)
            for i, r in self.resources.items()
            if r.get("Type") == "AWS::Bedrock::Agent" and isinstance(r.get("Properties"), dict)
        )
        self.arch.components.extend(self.comps.values())
        self.arch.edges.extend(Edge(s, t, label) for (s, t), label in self.edges.items())

    def sam_events(self, function_id: str, events: dict) -> None:
        for name, event in events.items():
            if not isinstance(event, dict):
                continue
            kind, props = str(event.get("Type", "")), event.get("Properties") or {}
            if not isinstance(props, dict):
                continue
            sources = [_refs(props.get(k), self.resources, self.budget) for k in _EVENT_SOURCE_KEYS]
            targets = set().union(*sources)
            if kind in ("Api", "HttpApi") and not targets:
                targets = {self.implicit_api(kind)}
            if kind in ("Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"):
                rule_id = f"{function_id}{name}"
                self.comps[rule_id] = Component(
                    rule_id, rule_id, "eventbridge", source=f"SAM {kind} event", resource_type=kind
                )
                targets = {rule_id}
            label = " ".join(str(props.get(k, "")) for k in ("Method", "Path")).strip() or kind
            for source in targets:
                self.edge(source, function_id, label)
                if kind in ("Api", "HttpApi"):
                    self.api_event_auth(source, function_id, props)

    def implicit_api(self, kind: str) -> str:
        api_id = "ServerlessRestApi" if kind == "Api" else "ServerlessHttpApi"
        if api_id not in self.comps:
            auth = (
                ((self.globals.get(kind) or {}).get("Auth") or {}) if kind in self.globals else {}
            )
            rtype = f"AWS::Serverless::{kind}"
            self.comps[api_id] = Component(
                api_id,
                api_id,
                "api-gateway",
                source="SAM implicit API",
                resource_type=rtype,
                facts={
                    **read_facts(rtype, {}, self.sam_globals({"Type": rtype})),
                    "authorizer": bool(auth.get("DefaultAuthorizer")),
                },
            )
        return api_id

    def api_event_auth(self, api_id: str, function_id: str, props: dict) -> None:
        """Record whether the route of one SAM API event asks callers to authenticate."""
        if str(props.get("Method", "")).upper() == "OPTIONS":
            return
        auth = props.get("Auth")
        chosen = auth.get("Authorizer") if isinstance(auth, dict) else None
        self.routes.append((api_id, function_id, str(props.get("Path", "/")), chosen))

    def route_auth(self) -> None:
        """Set each SAM API's ``authorizer`` from its routes, those into the model first.

        An authorizer on a route whose function never calls the model (an admin page) says
        nothing about who may reach the model, so when some routes lead to a model caller,
        only they count. A route without its own choice takes the API's default.
        """
        by_api: dict[str, list[tuple[str, bool, bool]]] = {}
        for api_id, function_id, path, chosen in self.routes:
            api = self.comps[api_id]
            guarded = bool(api.facts.get("authorizer")) if chosen is None else chosen != "NONE"
            model = self.calls_model(function_id)
            by_api.setdefault(api_id, []).append((path, bool(guarded), model))
        for api_id, routes in by_api.items():
            chosen = [r for r in routes if r[2]] or routes
            open_paths = [path for path, guarded, _ in chosen if not guarded]
            self.comps[api_id].facts["authorizer"] = not open_paths
            if open_paths:
                self.comps[api_id].facts["open_routes"] = open_paths

    def calls_model(self, comp_id: str) -> bool:
        """Return True when the resource, its role or a policy on its role may call Bedrock."""
        roles = {t for s, t in self.edges if s == comp_id and self.comps[t].service == "iam"}
        policies = {s for s, t in self.edges if t in roles and self.comps[s].service == "iam"}
        holders = {comp_id} | roles | policies
        return any(self.comps[i].facts.get("bedrock_access") for i in holders)

    def implicit_services(self) -> None:
        texts = iac_facts.strings([self.doc.get("Parameters"), self.resources], self.budget)
        iac_facts.add_implicit_services(self.comps, self.edges, texts)


def parse_cloudformation(text: str, filename: str, budget: Budget) -> Architecture:
    """Parse a CloudFormation or SAM template (YAML or JSON) into an :class:`Architecture`.

    Raises:
        InputError: malformed YAML/JSON, unknown tags, no Resources section, or more
            resources than ``budget`` allows.
    """
    doc = load_template(text, budget)
    budget.check_resources(len(doc["Resources"]), "template")
    arch = Architecture(file=filename, format="cloudformation")
    _Template(doc, arch).build()
    arch.part_of = _part_of(doc)
    return arch


_NESTED = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")


def _part_of(doc: dict) -> str:
    """Return why ``doc`` is only part of a deployment (empty when it stands alone)."""
    types = {r.get("Type") for r in doc["Resources"].values() if isinstance(r, dict)}
    if types & set(_NESTED):
        return "a parent stack: part of the deployment lives in its nested stacks"
    budget = [iac_facts.MAX_NODES]
    for node in iac_facts.walk([doc["Resources"], doc.get("Conditions")], budget=budget):
        if isinstance(node, dict) and "Fn::ImportValue" in node:
            return "a stack that imports values exported by other stacks"
    return ""
