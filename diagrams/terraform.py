"""Parse Terraform (``.tf`` through a real HCL2 parser, or ``.tf.json``) into a graph.

Resources and well-known modules become components, references between them become edges,
and resource arguments become control facts.
"""

from __future__ import annotations

import json
import re
from typing import Any

import hcl2

from corpus.errors import InputError
from diagrams import catalog, iac_facts
from diagrams.iac_json import load_json
from diagrams.limits import Budget
from diagrams.model import Architecture, Component, Edge
from diagrams.tf_facts import ATTACHMENTS, LOADS_FILE, read_facts

_REF = re.compile(
    r"\b(?:(data)\.)?(aws_[a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*)|\bmodule\.([A-Za-z_][\w-]*)"
)
_META = ("__is_block__", "__comments__", "__start_line__", "__end_line__")


def _clean(value: Any) -> Any:
    """Strip python-hcl2's quoting and bookkeeping keys from a parsed value."""
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items() if k not in _META}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _load(text: str, json_syntax: bool) -> dict:
    try:
        doc = load_json(text) if json_syntax else hcl2.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"Terraform JSON is not valid ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise InputError("Terraform file nests too deeply to read") from None
    except Exception as exc:  # lark raises many error types; all mean the HCL is invalid
        line = getattr(exc, "line", None)
        where = f" at line {line}" if isinstance(line, int) and line > 0 else ""
        raise InputError(f"Terraform file is not valid HCL{where} ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise InputError("Terraform file has no top-level blocks")
    return _clean(doc)


def _entries(section: Any, depth: int) -> list[tuple[tuple[str, ...], Any]]:
    """Flatten ``{"type": {"name": body}}`` (HCL lists of them, or JSON dicts) into (keys, body)."""
    items = section if isinstance(section, list) else [section]
    out: list[tuple[tuple[str, ...], Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            if depth == 1:
                out.append(((str(key),), value))
            else:
                for keys, body in _entries(value, depth - 1):
                    out.append(((str(key), *keys), body))
    return out


class _Config:
    """Builds the graph of one Terraform file."""

    def __init__(self, doc: dict, arch: Architecture) -> None:
        self.doc, self.arch = doc, arch
        self.comps: dict[str, Component] = {}
        self.bodies: dict[str, Any] = {}
        self.edges: dict[tuple[str, str], str] = {}
        self.budget = [iac_facts.MAX_NODES]

    def add(self, comp_id: str, label: str, slug: str | None, rtype: str, body: Any, source: str):
        comp = Component(
            comp_id,
            label,
            slug,
            kind="service" if slug else "box",
            source=source,
            resource_type=rtype,
            facts=read_facts(rtype, body),
        )
        self.comps[comp_id], self.bodies[comp_id] = comp, body

    def build(self) -> None:
        for (rtype, name), body in _entries(self.doc.get("resource", []), 2):
            slug = catalog.from_terraform_type(rtype)
            self.add(f"{rtype}.{name}", name, slug, rtype, body, f"type {rtype}")
        for (rtype, name), body in _entries(self.doc.get("data", []), 2):
            if rtype == "aws_iam_policy_document":
                self.add(f"data.{rtype}.{name}", name, "iam", rtype, body, f"data {rtype}")
        for (name,), body in _entries(self.doc.get("module", []), 1):
            source = str(body.get("source", "")) if isinstance(body, dict) else ""
            slug = catalog.from_terraform_module(source, name)
            self.add(f"module.{name}", name, slug, f"module {source}"[:120], body, "module source")
        if not self.comps:
            raise InputError("Terraform file declares no resources or modules")
        for comp_id, body in self.bodies.items():
            if isinstance(body, dict):
                for key, value in body.items():
                    for target in self.refs(value):
                        self.link(comp_id, target, str(key))
        self.implicit_services()
        iac_facts.mark_shared_roles(
            (c.facts, body.get("agent_resource_role_arn"), "for_each" in body or "count" in body)
            for c, body in ((self.comps[i], b) for i, b in self.bodies.items())
            if c.resource_type == "aws_bedrockagent_agent" and isinstance(body, dict)
        )
        self.arch.components.extend(self.comps.values())
        self.arch.edges.extend(Edge(s, t, label) for (s, t), label in self.edges.items())

    def refs(self, value: Any) -> set[str]:
        found = set()
        for text in iac_facts.strings(value, self.budget):
            for data, rtype, name, module in _REF.findall(text):
                target = (
                    f"module.{module}" if module else f"{'data.' if data else ''}{rtype}.{name}"
                )
                if target in self.comps:
                    found.add(target)
        return found

    def link(self, source: str, target: str, label: str) -> None:
        if source == target:
            return
        self.edges.setdefault((source, target), label)
        holder, other = self.comps[source], self.comps[target]
        fact = ATTACHMENTS.get(holder.resource_type or "")
        if fact:
            other.facts[fact] = True
            if (
                fact == "encryption"
                and holder.resource_type
                and "kms" in json.dumps(self.bodies[source])
            ):
                other.facts["kms_encryption"] = True
        if other.resource_type == "aws_iam_policy_document":
            iac_facts.merge(holder.facts, other.facts)

    def part_of(self) -> str:
        """Return why this file is only part of a deployment (empty for a whole one).

        A module takes variables and configures no provider; one file of a root module refers
        to resources that its other files declare, or loads content (a workflow definition,
        a policy) from files next to it, which the review cannot see.
        """
        if self.doc.get("variable") and not (self.doc.get("provider") or self.doc.get("terraform")):
            return "a Terraform module: it takes variables and configures no provider"
        missing = sorted(self.undeclared())
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            return (
                "one file of a Terraform configuration: it refers to "
                f"{missing[0]}{more}, declared in another file"
            )
        sections = [self.doc.get(k) for k in ("resource", "module", "locals", "output")]
        if any(LOADS_FILE.search(t) for t in iac_facts.strings(sections, [iac_facts.MAX_NODES])):
            return "one file of a Terraform configuration: it loads content from other files"
        return ""

    def undeclared(self) -> set[str]:
        """Return the resources, data sources and modules referred to but not declared here."""
        declared = {f"{t}.{n}" for (t, n), _ in _entries(self.doc.get("resource", []), 2)}
        declared |= {f"data.{t}.{n}" for (t, n), _ in _entries(self.doc.get("data", []), 2)}
        declared |= {f"module.{n}" for (n,), _ in _entries(self.doc.get("module", []), 1)}
        sections = [self.doc.get(k) for k in ("resource", "data", "module", "locals", "output")]
        found = set()
        for text in iac_facts.strings(sections, [iac_facts.MAX_NODES]):
            for data, rtype, name, module in _REF.findall(text):
                found.add(
                    f"module.{module}" if module else f"{'data.' if data else ''}{rtype}.{name}"
                )
        return found - declared

    def implicit_services(self) -> None:
        texts = iac_facts.strings(
            [self.doc.get("variable"), self.doc.get("resource"), self.doc.get("locals")],
            self.budget,
        )
        iac_facts.add_implicit_services(self.comps, self.edges, texts)


_BLOCK_HEADER = re.compile(r'(?<![\w.-])(?:resource|data|module)[ \t]+"')
"""The start of a resource, data or module block, wherever it sits on its line: a cheap upper
bound of the blocks, counted before parsing (blocks may share one line)."""


def parse_terraform(
    text: str, filename: str, budget: Budget, *, json_syntax: bool = False
) -> Architecture:
    """Parse Terraform configuration text into an :class:`Architecture`.

    Raises:
        InputError: invalid HCL/JSON, no resources or modules at all, or more blocks than
            ``budget`` allows (counted before the HCL parser runs, which is slow on huge files).
    """
    if not json_syntax:
        budget.check_resources(len(_BLOCK_HEADER.findall(text)), "Terraform file")
        budget.check_hcl(text)
    arch = Architecture(file=filename, format="terraform")
    config = _Config(_load(text, json_syntax), arch)
    config.build()
    budget.check_resources(len(config.comps), "Terraform file")
    arch.part_of = config.part_of()
    return arch
