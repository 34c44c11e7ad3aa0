"""The shapes of ``lenswise review --json``: one file's review, a folder's, and the changes.

The ``to_dict`` methods of the review types return these, so a type checker holds the code to
the contract, and ``agent.contracts`` turns them into the JSON Schema stored in ``docs/schemas``.
"""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict

from corpus.schema import output_shape

Status = Literal["addressed", "gap", "unknown"]
"""A finding's verdict on one best practice."""


@output_shape
class LocationJSON(TypedDict):
    """Where a component is written in the reviewed files."""

    file: str
    line: int | None
    """1-based; null when no line names it (compressed draw.io pages, images)."""


@output_shape
class ComponentJSON(TypedDict):
    """One box of the design: an AWS service, a person or a generic box."""

    id: str
    label: str
    """Text as drawn: untrusted, from the file's author."""
    service: str | None
    """Service slug (``bedrock``, ``lambda``...), null when no AWS service."""
    service_name: str | None
    group: str | None
    """Id of the innermost boundary box holding it."""
    page: str | None
    """Diagram (page) it is drawn in, for files holding several."""
    kind: str
    """``service``, ``actor``, ``box`` or ``group``."""
    diagrams: list[str]
    """Every diagram that draws it."""
    location: NotRequired[LocationJSON]
    """Folder and CI reviews: where it is written."""
    files: NotRequired[list[str]]
    """Folder review, combined view: the files that show it."""


@output_shape
class EdgeJSON(TypedDict):
    """A connection drawn (or referenced in IaC) between two components."""

    source: str
    target: str
    label: str
    step: str
    """Number of the step badge on the arrow, or empty."""
    page: str
    """Diagram (page) the arrow is drawn in, or empty."""


@output_shape
class AnnotationJSON(TypedDict):
    """Text on a diagram that describes the design without being part of it (never evidence)."""

    id: str
    text: str
    kind: str
    """``title``, ``legend``, ``step``, ``label`` or ``note``."""
    page: str | None
    attached_to: str | None
    """What it annotates: a group id, a legend id or ``source->target`` of an arrow."""
    step: str


class GraphJSON(TypedDict):
    """The parsed design: the part of :class:`ReviewJSON` that needs no review."""

    file: str
    format: str
    components: list[ComponentJSON]
    edges: list[EdgeJSON]
    services: list[str]
    annotations: list[AnnotationJSON]
    warnings: list[str]


@output_shape
class FixJSON(TypedDict):
    """The fix of a gap, with ``--fix``/``--fix-out``/``--in-place``."""

    verified: bool
    """True for a patch re-reviewed and linted on a copy; false for steps only."""
    diff: str
    """Unified diff of the patch (empty without one)."""
    closes: list[str]
    """Ids the patch turns from gap to addressed."""
    params: list[str]
    """Parameters the patch adds: facts the team must supply."""
    resources: list[str]
    """Logical ids the patch adds or edits."""
    notes: str
    """What to check; for an unverified fix, the steps and why there is no patch."""


@output_shape
class EvidenceLocationJSON(TypedDict):
    """Where one evidence component of a finding is written."""

    id: str
    file: str
    line: int | None


@output_shape
class FindingJSON(TypedDict):
    """The review's verdict on one best practice."""

    bp_id: str
    title: str
    pillar: str
    risk: str
    """``High``, ``Medium`` or ``Low``: the lens's risk if the practice is missing."""
    status: Status
    evidence: list[str]
    """Ids of the components that support the status."""
    explanation: str
    """Why, in plain sentences; an unknown one ends with the question for the team."""
    url: str
    resource: list[str]
    """Ids of the declared resources to change for a gap."""
    fix: NotRequired[FixJSON]
    """Present when fixes were asked for and the practice is a gap."""
    locations: NotRequired[list[EvidenceLocationJSON]]
    """Folder and CI reviews: where the evidence is written."""


@output_shape
class CountsJSON(TypedDict):
    """How many practices have each status."""

    addressed: int
    gap: int
    unknown: int
    total: int


@output_shape
class CoverageJSON(TypedDict):
    """Counts over every practice and per pillar, so a partial review never reads as whole."""

    addressed: int
    gap: int
    unknown: int
    total: int
    by_pillar: dict[str, CountsJSON]


@output_shape
class DiagramFindingJSON(TypedDict):
    """A practice's status in one diagram alone."""

    bp_id: str
    status: Status


@output_shape
class DiagramJSON(TypedDict):
    """The review of one diagram of a file that holds several."""

    name: str
    components: list[str]
    """Ids of the components drawn in it."""
    services: list[str]
    coverage: CountsJSON
    findings: list[DiagramFindingJSON]


ChangeJSON = output_shape(
    TypedDict(
        "ChangeJSON",
        {
            "design": str,
            "bp_id": str,
            "title": str,
            "risk": str,
            "url": str,
            "pillar": str,
            "from": Status | None,
            "to": Status,
            "explanation": str,
            "evidence": list[str],
            "file": str,
            "line": int | None,
        },
    )
)
"""A practice whose status changed since the baseline, or a new gap: its ``design`` (path),
the status ``from`` (null when new) and ``to``, and the ``file`` and ``line`` to look at
(the first located evidence, else the design's first file). The functional form because
``from`` is a Python keyword."""


@output_shape
class ComponentChangeJSON(TypedDict):
    """A component added or removed since the baseline."""

    design: str
    id: str
    label: str
    service: str | None
    file: str
    line: int | None


@output_shape
class StatusTotalsJSON(TypedDict):
    """Addressed, gap and unknown counts summed over every design."""

    addressed: int
    gap: int
    unknown: int


@output_shape
class CoverageChangeJSON(TypedDict):
    """Totals in the baseline and now."""

    before: StatusTotalsJSON
    after: StatusTotalsJSON


@output_shape
class ChangesJSON(TypedDict):
    """What changed since ``--baseline``/``--since`` (only with one of them)."""

    regressed: list[ChangeJSON]
    """Practices that were addressed and now are a gap or unknown."""
    improved: list[ChangeJSON]
    """Practices that were a gap or unknown and now are addressed."""
    new_gaps: list[ChangeJSON]
    """Gaps not in the baseline, highest risk first."""
    components_added: list[ComponentChangeJSON]
    components_removed: list[ComponentChangeJSON]
    coverage: CoverageChangeJSON


@output_shape
class ReviewJSON(TypedDict):
    """``lenswise review FILE --json``: the parsed design and a finding per best practice."""

    file: str
    format: str
    """``drawio``, ``mermaid``, ``cloudformation``, ``terraform`` or ``image``."""
    components: list[ComponentJSON]
    edges: list[EdgeJSON]
    services: list[str]
    """Distinct service slugs of the design, sorted."""
    findings: list[FindingJSON]
    """One per best practice, in lens order."""
    coverage: CoverageJSON
    annotations: list[AnnotationJSON]
    diagrams: list[DiagramJSON]
    """Each diagram alone, for a file holding several (else empty)."""
    warnings: list[str]
    changes: NotRequired[ChangesJSON]


@output_shape
class DesignReviewJSON(ReviewJSON):
    """One design of a folder review."""

    path: str
    """The design's path in the folder."""


@output_shape
class ReviewErrorJSON(TypedDict):
    """A file of the folder that could not be reviewed."""

    path: str
    error: str


@output_shape
class RepoReviewJSON(TypedDict):
    """``lenswise review DIR --json``: every design, the combined system and the failures."""

    designs: list[DesignReviewJSON]
    combined: ReviewJSON
    """Every design together, components drawn in several merged."""
    errors: list[ReviewErrorJSON]
    changes: NotRequired[ChangesJSON]
