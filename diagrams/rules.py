"""Load and check the review rule table (``rules.yaml``): one entry per lens best practice."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationInfo, field_validator, model_validator

from corpus.errors import InputError
from corpus.schema import Schema, validated
from diagrams.matchers import Matcher, expand
from diagrams.model import GROUP_KINDS

RULES_FILE = Path(__file__).with_name("rules.yaml")


class Rule(Schema):
    """How a design shows one best practice addressed, or missing."""

    noun = "rule"
    bp_id: str
    concerns: frozenset[str] = frozenset()
    """Service slugs the practice is about; empty means it applies to every design."""
    addressed: tuple[Matcher, ...] = ()
    gap: tuple[Matcher, ...] = ()
    weak: tuple[Matcher, ...] = ()
    """Look-alikes of the control that do not show it (a queue for throttling): a hit keeps
    the practice ``unknown`` and says why, instead of claiming it addressed."""
    absent: Literal["gap", "gap-in-iac", "unknown"] = "unknown"
    absent_requires: frozenset[str] = frozenset()
    absent_when_drawn: frozenset[str] = frozenset()
    """For ``gap-in-iac``: services or group kinds whose presence in a drawing shows that the
    author drew this level of detail, so a missing control there is a gap too."""
    concern_facts: frozenset[str] = frozenset()
    """Facts that make a component a concern too, whatever its service (``rag``: code that
    does retrieval itself)."""
    on_path: frozenset[str] = frozenset()
    """Front-door services of the path into the model (the concerns) that the control guards:
    in a drawing or template that shows that path (arrows, or references: ``iac_path``), only
    evidence on it counts, and only front doors on it count for ``absent_requires``."""
    on_resource: bool = False
    """The control is a setting of the concerned resources themselves (tracing on a state
    machine), not an account-wide one: a part of a deployment that declares them shows it
    missing, so ``gap-in-iac`` is a gap there too."""
    addressed_text: str = ""
    gap_text: str = ""
    absent_text: str = ""
    """Why it is a gap when the control is simply missing (defaults to ``gap_text``)."""
    unknown_text: str = ""
    weak_text: str = ""
    question: str = ""

    _expand = field_validator("concerns", "absent_requires", "on_path", mode="before")(expand)

    @field_validator("absent_when_drawn", mode="before")
    @classmethod
    def _drawn(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, list):
            return value
        kinds = {str(v) for v in value if str(v) in GROUP_KINDS}
        return frozenset(kinds | expand([v for v in value if str(v) not in kinds], info))

    @model_validator(mode="after")
    def _weak_has_text(self) -> Rule:
        if bool(self.weak) != bool(self.weak_text):
            raise ValueError("'weak' matchers and 'weak_text' go together")
        return self


class RuleBook(Schema):
    """All rules, keyed by best-practice id."""

    rules: dict[str, Rule] = Field(default_factory=dict)
    fact_words: dict[str, dict[Any, str]] = Field(default_factory=dict)
    """Plain words for a fact value that makes a gap, e.g. ``authorizer: false``."""

    def get(self, bp_id: str) -> Rule | None:
        """Return the rule for ``bp_id``, or None."""
        return self.rules.get(bp_id)


class _Table(Schema):
    """The file's top level; each rule is validated on its own, to name it in an error."""

    noun = "rule table"
    sets: dict[str, list[str]] = Field(default_factory=dict)
    """Named service lists a rule refers to as ``@name``."""
    fact_words: dict[str, dict[Any, str]] = Field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)


def parse_rules(data: Any, where: str = "rule table") -> RuleBook:
    """Validate the rule table's structure and build a :class:`RuleBook`.

    Args:
        data: the parsed ``rules.yaml``.
        where: what to call the table in an error (its file name).

    Raises:
        SchemaError: an unknown key, set, slug, matcher or ``absent`` value (one line, naming
            the rule and the place in it; also a ``ValueError``).
    """
    table = validated(_Table, data if data is not None else {}, where)
    context = {"sets": table.sets}
    rules = {
        bp_id: validated(Rule, {**raw, "bp_id": bp_id}, f"{where}: rule {bp_id}", context)
        for bp_id, raw in table.rules.items()
    }
    return RuleBook(rules=rules, fact_words=table.fact_words)


@lru_cache(maxsize=1)
def load_rules(path: Path = RULES_FILE) -> RuleBook:
    """Load the rule table shipped with lenswise (cached).

    Raises:
        InputError: the file is unreadable or not YAML (SchemaError: it breaks the schema).
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read rule table {path}: {str(exc).splitlines()[0]}") from exc
    return parse_rules(data, str(path))
