"""Check parsed YAML against a pydantic model; a failure becomes one :class:`SchemaError` line.

The project's file schemas (review rules, eval suites, the built-in digest) derive from
:class:`Schema`. Their validators raise ``ValueError`` with a predicate about the value
(``must be a non-empty list of best-practice ids``); :func:`validated` puts the file, the
place and that predicate on one line, e.g.
``suite s.yaml: case 2 (q2): 'expected' must be a non-empty list of best-practice ids``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    model_validator,
    with_config,
)
from pydantic_core import ErrorDetails

from corpus.errors import SchemaError, shown

M = TypeVar("M", bound=BaseModel)
_UNSEEN = object()
"""No data to walk: keep every step of a location."""
_PREDICATES = {
    "missing": "is missing",
    "extra_forbidden": "is not a known key",
}


output_shape = with_config(ConfigDict(use_attribute_docstrings=True, extra="forbid"))
"""Decorate a ``TypedDict`` that is part of a ``--json`` contract (see ``agent.contracts``).

Its field docstrings become the descriptions of the generated JSON Schema, and a key the type
does not declare fails validation, so real output cannot outgrow its documented shape."""


class Schema(BaseModel):
    """Base of a file schema: immutable, and no key it does not know."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    noun: ClassVar[str | None] = None
    """When set, unknown keys are one error naming them all (``unknown rule keys [...]``),
    found before anything else of the entry is checked; else each is an error of its own."""

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if cls.noun and isinstance(data, dict):
            extra = sorted(str(k) for k in data if k not in cls.model_fields)
            if extra:
                raise ValueError(f"unknown {cls.noun} keys {extra}")
        return data


def validated(
    model: type[M] | TypeAdapter[M], data: Any, where: str, context: dict | None = None
) -> M:
    """Return ``data`` validated as ``model``.

    Args:
        model: the schema: a model, or an adapter of a type such as a tagged union.
        data: parsed YAML.
        where: what the data is, for the message (``suite x.yaml: case 3 (q3)``).
        context: passed to the validators (e.g. the rule table's service sets).

    Raises:
        SchemaError: the first problem, on one line (``(+N more)`` counts the others).
    """
    try:
        validate = model.validate_python if isinstance(model, TypeAdapter) else model.model_validate
        return validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise SchemaError(f"{where}: {describe(errors[0], data)}{more}") from None


def describe(error: ErrorDetails, data: Any = _UNSEEN) -> str:
    """Return one pydantic error as ``'place' predicate`` (just the predicate at the top).

    Args:
        error: one of ``ValidationError.errors()``.
        data: the validated input (see :func:`location`).
    """
    place = location(error["loc"], data)
    return f"'{place}' {predicate(error)}" if place else predicate(error)


def predicate(error: ErrorDetails) -> str:
    """Return what is wrong, as a predicate: ``should be a valid integer (got str 'x')``."""
    if error["type"] in _PREDICATES:
        return _PREDICATES[error["type"]]
    ctx = error.get("ctx", {})
    if error["type"] == "union_tag_invalid":  # a tagged union's tag names no member
        return f"{ctx['discriminator']} must be one of {ctx['expected_tags']} (got {ctx['tag']!r})"
    if error["type"] == "union_tag_not_found":
        return f"{ctx['discriminator']} is missing"
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Input ")
    message = re.sub(r" or instance of \w+", "", message)
    if error["type"] == "value_error":  # our validators' own words
        return message
    return f"{message[:1].lower()}{message[1:]} (got {shown(error['input'])})"


def location(loc: tuple[int | str, ...], data: Any = _UNSEEN) -> str:
    """Return a pydantic location as a path, ``addressed[0].services``.

    Args:
        loc: the error's location.
        data: the validated input. When given, a tagged union's tag (the suite or matcher
            kind), which pydantic puts in the location, is left out: a step repeating the one
            before (a matcher's tag is its key), a step before the last that is no key of the
            data, or a last step that is no key but the tag's value (``kind: retrieval``).
            Another absent last step is a missing key, and is kept.
    """
    parts: list[str] = []
    node = data
    for i, step in enumerate(loc):
        if i and step == loc[i - 1] and isinstance(step, str):
            continue
        if isinstance(step, str) and node is not _UNSEEN and not has_step(node, step):
            last = i == len(loc) - 1
            if not last or isinstance(node, dict) and step in node.values():
                continue
        node = step_into(node, step, _UNSEEN)
        parts.append(f"[{step}]" if isinstance(step, int) else f".{step}" if parts else str(step))
    return "".join(parts)


def has_step(node: object, step: int | str) -> bool:
    """Return True when ``node[step]`` exists in parsed YAML (a mapping key or a list index)."""
    if isinstance(node, dict):
        return step in node
    return isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)


def step_into(node: object, step: int | str, missing: object = None) -> object:
    """Return ``node[step]`` in parsed YAML, or ``missing`` when :func:`has_step` is False."""
    if isinstance(node, dict):
        return node[step] if step in node else missing
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return missing
