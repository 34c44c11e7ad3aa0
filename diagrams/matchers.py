"""The rule table's matchers: what in a design counts as evidence, one model per kind.

In ``rules.yaml`` a matcher is a one-key mapping whose key is its kind, e.g.
``{services: [cloudwatch, xray]}`` or ``{groups: {vpc: 1}}``; :data:`Matcher` is the tagged
union of the kinds, told apart by that key. Service lists may name a set (``@models``) of the
table; validation expands it, so it needs the table's sets as the validation context
(``{"sets": {name: [slugs]}}``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, ValidationInfo, field_validator

from corpus.schema import Schema
from corpus.services import SERVICES
from diagrams.model import FORMATS, GROUP_KINDS


def expand(names: Any, info: ValidationInfo) -> frozenset[str]:
    """Return the service slugs that ``names`` (slugs and ``@set`` names) stand for."""
    if not isinstance(names, list | tuple | set | frozenset):
        raise ValueError(f"must be a list of service slugs or @sets, not {type(names).__name__}")
    sets = (info.context or {}).get("sets", {})
    slugs: set[str] = set()
    for name in map(str, names):
        if name.startswith("@") and name[1:] not in sets:
            raise ValueError(f"names an unknown set {name}")
        slugs.update(sets[name[1:]] if name.startswith("@") else [name])
    unknown = slugs - set(SERVICES)
    if unknown:
        raise ValueError(f"holds unknown service slugs {sorted(unknown)}")
    return frozenset(slugs)


class Services(Schema):
    """Hit: a component of one of these services (evidence: those components)."""

    services: frozenset[str]

    _expand = field_validator("services", mode="before")(expand)


class Facts(Schema):
    """Hit: a component whose IaC facts hold all these values (``"*"``: declared at all)."""

    facts: dict[str, Any] = Field(min_length=1)


class Labels(Schema):
    """Hit: a whole word or phrase in a label or IaC hint (a trailing ``*`` allows any ending)."""

    labels: tuple[str, ...] = Field(min_length=1)

    @field_validator("labels", mode="before")
    @classmethod
    def _phrases(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        phrases = tuple(str(v).lower().strip() for v in value)
        bad = [p for p in phrases if not p.rstrip("*") or "*" in p.rstrip("*")]
        if bad:
            raise ValueError(f"holds {bad[0]!r}: a label is a word or phrase, '*' only at its end")
        return phrases


class Edges(Schema):
    """Hit: an arrow, either way, between a service of the first set and one of the second."""

    edges: tuple[tuple[frozenset[str], frozenset[str]], ...] = Field(min_length=1)

    @field_validator("edges", mode="before")
    @classmethod
    def _pairs(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, list) or not all(
            isinstance(p, list | tuple) and len(p) == 2 for p in value
        ):
            raise ValueError("must be a list of [service or @set, service or @set] pairs")
        return tuple((expand([a], info), expand([b], info)) for a, b in value)


class Groups(Schema):
    """Hit: at least this many groups of each kind (``{vpc: 1, subnet: 2}``)."""

    groups: dict[str, int] = Field(min_length=1)

    @field_validator("groups")
    @classmethod
    def _kinds(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(GROUP_KINDS))
        if unknown:
            raise ValueError(
                f"holds unknown group kinds {unknown} (known: {', '.join(GROUP_KINDS)})"
            )
        return value


class Formats(Schema):
    """Hit: the design is in one of these formats (evidence: its first few components)."""

    formats: frozenset[str] = Field(min_length=1)

    @field_validator("formats")
    @classmethod
    def _known(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = sorted(value - set(FORMATS))
        if unknown:
            raise ValueError(f"holds unknown formats {unknown} (known: {', '.join(FORMATS)})")
        return value


KINDS = {cls.__name__.lower(): cls for cls in (Services, Facts, Labels, Edges, Groups, Formats)}


def _kind(raw: Any) -> str | None:
    """Return the tag of a raw matcher (its one key), None when it has not exactly one."""
    return next(iter(raw)) if isinstance(raw, dict) and len(raw) == 1 else None


Matcher = Annotated[
    Annotated[Services, Tag("services")]
    | Annotated[Facts, Tag("facts")]
    | Annotated[Labels, Tag("labels")]
    | Annotated[Edges, Tag("edges")]
    | Annotated[Groups, Tag("groups")]
    | Annotated[Formats, Tag("formats")],
    Discriminator(
        _kind,
        custom_error_type="matcher",
        custom_error_message=f"is not a matcher: a matcher is one key of {', '.join(KINDS)}",
    ),
]
"""One matcher of a rule, validated as the model its key names."""
