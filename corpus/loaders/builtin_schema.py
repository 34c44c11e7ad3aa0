"""The built-in digest's schema: ``lens.yaml`` and one file per pillar, as pydantic models.

Structure, types and vocabulary (risk levels, pillars, service slugs, related ids) live here;
the id grammar checks stay with the loader (:mod:`corpus.loaders.builtin`). Related ids are
checked against every practice of the digest, given as the validation context
(``{"ids": {...}}``). :func:`problems` words each failure the way the digest check always has:
``GENSEC01-BP01: missing steps``.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from corpus.schema import Schema, location, predicate, step_into
from corpus.services import is_known
from corpus.vocabulary import PILLARS, RISKS

M = TypeVar("M", bound=Schema)
Text = Annotated[str, StringConstraints(min_length=1)]
Texts = Annotated[list[Text], Field(min_length=1)]
_EMPTY = ("missing", "string_too_short", "too_short")
_ENTRIES = {"pages": "page ", "questions": "question ", "best_practices": ""}
"""How an entry of each list is named in a problem (``page agentic-ai``, ``GENSEC01-BP01``)."""


def _known_related(value: list[str], info: ValidationInfo) -> list[str]:
    ids = (info.context or {}).get("ids", set())
    unknown = [r for r in value if r not in ids]
    if unknown:
        raise ValueError(f"unknown related id {', '.join(map(str, unknown))}")
    return value


class PageSection(Schema):
    """One headed section of a general page."""

    heading: Text
    text: Text


class Page(Schema):
    """A general page of the lens: design principles, a preamble, a scenario."""

    id: Text
    title: Text
    page: str | None = None
    """Its official page name, when it has its own (else the landing page)."""
    summary: str = ""
    sections: Annotated[list[PageSection], Field(min_length=1)]
    related: list[str] = []

    _related = field_validator("related")(_known_related)


class LensFront(Schema):
    """``lens.yaml``: what the lens is, where its official pages live, its general pages."""

    model_config = ConfigDict(coerce_numbers_to_str=True)
    lens: Text
    name: Text
    edition: Text
    edition_note: str = ""
    docs_url: Text
    """The official docs folder; a page's URL is ``<docs_url><id in lower case>.html``."""
    landing_page: Text
    pages: list[Page] = []


class Practice(Schema):
    """One best practice, in the project's own words."""

    id: Text
    title: Text
    risk: str
    summary: Text
    desired_outcome: Text
    steps: Texts
    anti_patterns: Texts
    services: list[str] = []
    related: list[str] = []

    _related = field_validator("related")(_known_related)

    @field_validator("risk")
    @classmethod
    def _risk(cls, value: str) -> str:
        if value not in RISKS:
            raise ValueError(f"risk must be one of {RISKS}")
        return value

    @field_validator("services")
    @classmethod
    def _services(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if not is_known(s)]
        if unknown:
            raise ValueError(f"unknown service slug {', '.join(unknown)}")
        return value

    @model_validator(mode="after")
    def _finished(self) -> Practice:
        if "TODO" in " ".join((self.summary, self.desired_outcome, *self.steps)):
            raise ValueError("unfinished text (TODO)")
        return self


class Question(Schema):
    """One lens question and its best practices."""

    id: Text
    title: Text
    question: str | None = None
    summary: str = ""
    best_practices: list[Practice] = []


class PillarFile(Schema):
    """One pillar file: the pillar and its questions."""

    pillar: str
    questions: list[Question] = []

    @field_validator("pillar")
    @classmethod
    def _pillar(cls, value: str) -> str:
        if value not in PILLARS:
            raise ValueError(f"unknown pillar {value!r}")
        return value


def parsed(model: type[M], data: Any, top: str, ids: set, problems: list[str]) -> M | None:
    """Return ``data`` validated as ``model``, or None after adding its problems to ``problems``.

    Args:
        model: :class:`LensFront` or :class:`PillarFile`.
        data: the parsed file; entries (page, question, practice) are named by their ids.
        top: what to call the file itself in a problem (``lens.yaml``).
        ids: every practice id of the digest, for the related ids.
        problems: where each error goes, as ``<entry>: <problem>``
            (``GENSEC01-BP01: missing steps``).
    """
    try:
        return model.model_validate(data, context={"ids": ids})
    except ValidationError as exc:
        problems += [_problem(error, data, top) for error in exc.errors(include_url=False)]
        return None


def _problem(error: ErrorDetails, data: Any, top: str) -> str:
    entry, field, node, parent = top, [], data, None
    for step in error["loc"]:
        node = step_into(node, step)
        if isinstance(step, int) and parent in _ENTRIES and isinstance(node, dict):
            entry, field = f"{_ENTRIES[parent]}{node.get('id')}", []
        else:
            field.append(step)
        parent = step
    place = location(tuple(field))
    if error["type"] in _EMPTY:
        return f"{entry}: missing {place}"
    if error["type"] == "extra_forbidden":
        return f"{entry}: unknown key {place}"
    if error["type"] == "value_error":  # our validators' messages name what is wrong
        return f"{entry}: {predicate(error)}"
    return f"{entry}: {place} {predicate(error)}".replace(":  ", ": ")
