"""Typed records of a parsed architecture: components, edges, groups and the graph itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corpus.services import SERVICES

FORMATS: tuple[str, ...] = (
    "drawio",
    "drawio.png",
    "drawio.svg",
    "mermaid",
    "cloudformation",
    "terraform",
    "image",
)
"""Values of :attr:`Architecture.format` (the ``format`` key of ``review --json``)."""

GROUP_KINDS: tuple[str, ...] = (
    "cloud",
    "account",
    "region",
    "availability-zone",
    "vpc",
    "subnet",
    "security-group",
    "cluster",
)
"""Kinds of boundary a :class:`Group` can be; ``cluster`` is any other named box."""


@dataclass
class Component:
    """One box of the design: an AWS service, a person, a generic box, or a free text note."""

    id: str
    """Identifier unique inside the architecture (page-prefixed for multi-page diagrams)."""
    label: str
    """Plain-text label as drawn (HTML stripped); untrusted text from the file's author."""
    service: str | None = None
    """Service slug from ``corpus.services.SERVICES``, or None when not an AWS service."""
    group: str | None = None
    """Id of the innermost :class:`Group` that holds the component."""
    page: str | None = None
    """Page (diagram tab) name, for multi-page files."""
    kind: str = "service"
    """``service``, ``actor`` (users, clients), ``text`` (notes) or ``box`` (generic shape)."""
    source: str = ""
    """Which evidence named the service: e.g. ``shape mxgraph.aws4.lambda`` or ``label``."""
    resource_type: str | None = None
    """IaC resource type (``AWS::Lambda::Function``, ``aws_lambda_function``), for IaC input."""
    facts: dict[str, Any] = field(default_factory=dict)
    """Control facts read from IaC properties (``authorizer``, ``encryption``, ``guardrail``...)."""

    @property
    def service_name(self) -> str | None:
        """Return the display name of :attr:`service`, or None."""
        return SERVICES.get(self.service) if self.service else None

    @property
    def name(self) -> str:
        """Return a short human name: the label, else the service name, else the id."""
        return self.label or self.service_name or self.id

    def to_dict(self) -> dict[str, Any]:
        """Return the ``review --json`` shape of this component."""
        return {
            "id": self.id,
            "label": self.label,
            "service": self.service,
            "service_name": self.service_name,
            "group": self.group,
            "page": self.page,
        }


@dataclass
class Edge:
    """A connection drawn (or referenced in IaC) from one component to another."""

    source: str
    target: str
    label: str = ""

    def to_dict(self) -> dict[str, str]:
        """Return the ``review --json`` shape of this edge."""
        return {"source": self.source, "target": self.target, "label": self.label}


@dataclass
class Group:
    """A boundary box: account, region, VPC, subnet, security group or a named cluster."""

    id: str
    label: str
    kind: str = "cluster"
    parent: str | None = None
    page: str | None = None


@dataclass
class Architecture:
    """The graph parsed from one file: what :func:`agent.diagrams.review_architecture` reviews."""

    file: str
    format: str
    components: list[Component] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def services(self) -> list[str]:
        """Return the distinct service slugs present, sorted.

        A family icon refined by its label (a Bedrock icon labelled "Knowledge Base") counts
        for both the specific service and the family's own.
        """
        found = {c.service for c in self.components if c.service}
        found |= {c.facts["icon_service"] for c in self.components if c.facts.get("icon_service")}
        return sorted(found)

    def component(self, component_id: str) -> Component | None:
        """Return the component with ``component_id``, or None."""
        for comp in self.components:
            if comp.id == component_id:
                return comp
        return None

    @property
    def is_iac(self) -> bool:
        """Return True for IaC input, where a missing resource means more than in a drawing."""
        return self.format in ("cloudformation", "terraform")

    def to_dict(self) -> dict[str, Any]:
        """Return the graph part of the ``review --json`` shape."""
        return {
            "file": self.file,
            "format": self.format,
            "components": [c.to_dict() for c in self.components],
            "edges": [e.to_dict() for e in self.edges],
            "services": self.services,
            "warnings": list(self.warnings),
        }
