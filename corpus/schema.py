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

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import ErrorDetails

from corpus.errors import SchemaError, shown

M = TypeVar("M", bound=BaseModel)
_PREDICATES = {
    "missing": "is missing",
    "extra_forbidden": "is not a known key",
}


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


def validated(model: type[M], data: Any, where: str, context: dict | None = None) -> M:
    """Return ``data`` validated as ``model``.

    Args:
        model: the schema.
        data: parsed YAML.
        where: what the data is, for the message (``suite x.yaml: case 3 (q3)``).
        context: passed to the validators (e.g. the rule table's service sets).

    Raises:
        SchemaError: the first problem, on one line (``(+N more)`` counts the others).
    """
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise SchemaError(f"{where}: {describe(errors[0])}{more}") from None


def describe(error: ErrorDetails) -> str:
    """Return one pydantic error as ``'place' predicate`` (just the predicate at the top)."""
    place = location(error["loc"])
    return f"'{place}' {predicate(error)}" if place else predicate(error)


def predicate(error: ErrorDetails) -> str:
    """Return what is wrong, as a predicate: ``should be a valid integer (got str 'x')``."""
    if error["type"] in _PREDICATES:
        return _PREDICATES[error["type"]]
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Input ")
    message = re.sub(r" or instance of \w+", "", message)
    return message if error["type"] == "value_error" else f"{message} (got {shown(error['input'])})"


def location(loc: tuple[int | str, ...]) -> str:
    """Return a pydantic location as a path, ``addressed[0].services``.

    A tagged union repeats its tag (the matcher kind) in the location; the repeat is dropped.
    """
    parts: list[str] = []
    for i, step in enumerate(loc):
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif i == 0 or step != loc[i - 1]:
            parts.append(f".{step}" if parts else str(step))
    return "".join(parts)
