"""Typed records of a parsed architecture: components, edges, groups and the graph itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corpus.services import SERVICES
from diagrams.contracts import AnnotationJSON, ComponentJSON, EdgeJSON, GraphJSON, LocationJSON

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

ANNOTATION_KINDS: tuple[str, ...] = ("title", "legend", "step", "label", "note")
"""Kinds of :class:`Annotation`: a page or group title, a legend entry, a numbered step badge,
a free text that labels an arrow, and any other note."""


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
    """``service``, ``actor`` (users, clients), ``box`` (generic shape) or ``group`` (a boundary
    that is a service too, such as a Step Functions workflow). Notes are annotations instead."""
    source: str = ""
    """Which evidence named the service: e.g. ``shape mxgraph.aws4.lambda`` or ``label``."""
    resource_type: str | None = None
    """IaC resource type (``AWS::Lambda::Function``, ``aws_lambda_function``), for IaC input."""
    facts: dict[str, Any] = field(default_factory=dict)
    """Control facts read from IaC properties (``authorizer``, ``encryption``, ``guardrail``...)."""
    diagrams: list[str] = field(default_factory=list)
    """Every diagram (page) the component is drawn in, when views of one system repeat it."""
    names: tuple[str, ...] = ()
    """Names that identify it across the diagrams of one file: the first line of its label
    and, in Mermaid, the node id (defaults to the label)."""
    location: LocationJSON | None = None
    """Where it is written: ``{"file", "line"}`` (1-based), when known (see ``diagrams.locate``)."""

    @property
    def service_name(self) -> str | None:
        """Return the display name of :attr:`service`, or None."""
        return SERVICES.get(self.service) if self.service else None

    @property
    def name(self) -> str:
        """Return a short human name: the label, else the service name, else the id."""
        return self.label or self.service_name or self.id

    def to_dict(self) -> ComponentJSON:
        """Return the ``review --json`` shape of this component."""
        shape: ComponentJSON = {
            "id": self.id,
            "label": self.label,
            "service": self.service,
            "service_name": self.service_name,
            "group": self.group,
            "page": self.page,
            "kind": self.kind,
            "diagrams": list(self.diagrams or ([self.page] if self.page else [])),
        }
        if self.location:
            shape["location"] = LocationJSON(file=self.location["file"], line=self.location["line"])
        return shape


@dataclass
class Edge:
    """A connection drawn (or referenced in IaC) from one component to another."""

    source: str
    target: str
    label: str = ""
    step: str = ""
    """Number of the step badge drawn on the arrow (or its numeric label), e.g. ``"3"``."""
    page: str | None = None
    """Diagram (page) the arrow is drawn in."""

    def to_dict(self) -> EdgeJSON:
        """Return the ``review --json`` shape of this edge."""
        return {
            "source": self.source,
            "target": self.target,
            "label": self.label,
            "step": self.step,
            "page": self.page or "",
        }


@dataclass
class Annotation:
    """Text drawn on a diagram that describes the architecture rather than being part of it.

    Legends, titles, step badges and notes are shown to the reader but never count as
    components or as evidence that a design has a control.
    """

    id: str
    text: str
    """Plain text as drawn; untrusted text from the file's author."""
    kind: str = "note"
    """One of :data:`ANNOTATION_KINDS`."""
    page: str | None = None
    attached_to: str | None = None
    """What it annotates: a group id (titles, notes inside a box), a legend annotation's id
    (its entries), or ``source->target`` of the arrow a step badge or label sits on."""
    step: str = ""
    """Step number, for badges and numbered legend entries."""

    def to_dict(self) -> AnnotationJSON:
        """Return the ``review --json`` shape of this annotation."""
        return {
            "id": self.id,
            "text": self.text,
            "kind": self.kind,
            "page": self.page,
            "attached_to": self.attached_to,
            "step": self.step,
        }


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
    """The graph parsed from one file: what :func:`diagrams.review_architecture` reviews."""

    file: str
    format: str
    components: list[Component] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    """Legends, titles, step badges and notes: shown, never counted as architecture."""
    part_of: str = ""
    """Why this IaC file is only part of a deployment (empty for a whole one): a module
    without a provider, a template importing other stacks' values or nesting stacks."""

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

    @property
    def is_whole_iac(self) -> bool:
        """Return True for IaC that deploys a whole workload, where account-wide controls belong."""
        return self.is_iac and not self.part_of

    @property
    def diagrams(self) -> list[str]:
        """Return the names of the diagrams (pages) that hold components, in file order."""
        drawn = {name for c in self.components for name in c.diagrams or [c.page]}
        return [page for page in self.pages if page in drawn]

    def view(self, diagram: str) -> Architecture:
        """Return the part of the architecture drawn in one diagram (page)."""
        comps = [c for c in self.components if diagram in (c.diagrams or [c.page])]
        ids = {c.id for c in comps}
        by_id = {g.id: g for g in self.groups}
        wanted = {g.id for g in self.groups if g.page == diagram}
        todo = [c.group for c in comps if c.group]
        while todo:  # groups of components merged from another diagram, and their parents
            gid = todo.pop()
            if gid in by_id and gid not in wanted:
                wanted.add(gid)
                todo.append(by_id[gid].parent or "")
        return Architecture(
            file=self.file,
            format=self.format,
            components=comps,
            edges=[e for e in self.edges if e.page == diagram and {e.source, e.target} <= ids],
            groups=[g for g in self.groups if g.id in wanted],
            pages=[diagram],
            annotations=[a for a in self.annotations if a.page == diagram],
            part_of=self.part_of,
        )

    def to_dict(self) -> GraphJSON:
        """Return the graph part of the ``review --json`` shape."""
        return {
            "file": self.file,
            "format": self.format,
            "components": [c.to_dict() for c in self.components],
            "edges": [e.to_dict() for e in self.edges],
            "services": self.services,
            "annotations": [a.to_dict() for a in self.annotations],
            "warnings": list(self.warnings),
        }
