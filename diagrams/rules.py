"""Load and check the review rule table (``rules.yaml``): one entry per lens best practice."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from corpus.services import SERVICES
from diagrams.model import FORMATS, GROUP_KINDS

RULES_FILE = Path(__file__).with_name("rules.yaml")
MATCHER_KINDS = ("services", "facts", "labels", "edges", "groups", "formats")
ABSENT = ("gap", "gap-in-iac", "unknown")


@dataclass(frozen=True)
class Rule:
    """How a design shows one best practice addressed, or missing."""

    bp_id: str
    concerns: frozenset[str] = frozenset()
    """Service slugs the practice is about; empty means it applies to every design."""
    addressed: tuple[dict[str, Any], ...] = ()
    gap: tuple[dict[str, Any], ...] = ()
    weak: tuple[dict[str, Any], ...] = ()
    """Look-alikes of the control that do not show it (a queue for throttling): a hit keeps
    the practice ``unknown`` and says why, instead of claiming it addressed."""
    absent: str = "unknown"
    absent_requires: frozenset[str] = frozenset()
    absent_when_drawn: frozenset[str] = frozenset()
    """For ``gap-in-iac``: services or group kinds whose presence in a drawing shows that the
    author drew this level of detail, so a missing control there is a gap too."""
    addressed_text: str = ""
    gap_text: str = ""
    absent_text: str = ""
    """Why it is a gap when the control is simply missing (defaults to ``gap_text``)."""
    unknown_text: str = ""
    weak_text: str = ""
    question: str = ""


@dataclass(frozen=True)
class RuleBook:
    """All rules, keyed by best-practice id."""

    rules: dict[str, Rule] = field(default_factory=dict)
    fact_words: dict[str, dict[Any, str]] = field(default_factory=dict)
    """Plain words for a fact value that makes a gap, e.g. ``authorizer: false``."""

    def get(self, bp_id: str) -> Rule | None:
        """Return the rule for ``bp_id``, or None."""
        return self.rules.get(bp_id)


def _expand(items: list[Any], sets: dict[str, list[str]], where: str) -> frozenset[str]:
    slugs: set[str] = set()
    for item in items or []:
        name = str(item)
        if name.startswith("@"):
            if name[1:] not in sets:
                raise ValueError(f"{where}: unknown set {name}")
            slugs.update(sets[name[1:]])
        else:
            slugs.add(name)
    unknown = slugs - set(SERVICES)
    if unknown:
        raise ValueError(f"{where}: unknown service slugs {sorted(unknown)}")
    return frozenset(slugs)


def _matcher(raw: dict, sets: dict, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in MATCHER_KINDS:
        raise ValueError(f"{where}: a matcher is one of {MATCHER_KINDS}, got {raw!r}")
    kind, value = next(iter(raw.items()))
    if kind == "services":
        return {kind: _expand(value, sets, where)}
    if kind == "edges":
        return {kind: [(_expand([a], sets, where), _expand([b], sets, where)) for a, b in value]}
    if kind == "groups" and not set(value) <= set(GROUP_KINDS):
        raise ValueError(f"{where}: unknown group kinds {sorted(set(value) - set(GROUP_KINDS))}")
    if kind == "formats" and not set(value) <= set(FORMATS):
        raise ValueError(f"{where}: unknown formats {value}")
    if kind == "labels":
        phrases = [str(v).lower().strip() for v in value]
        if any(not p.rstrip("*") or "*" in p.rstrip("*") for p in phrases):
            raise ValueError(f"{where}: a label is a word or phrase, '*' only at its end")
        return {kind: phrases}
    return {kind: value}


def parse_rules(data: dict) -> RuleBook:
    """Validate the rule table's structure and build a :class:`RuleBook`.

    Raises:
        ValueError: an unknown key, set, slug, matcher or ``absent`` value.
    """
    sets = {name: list(slugs) for name, slugs in (data.get("sets") or {}).items()}
    rules: dict[str, Rule] = {}
    allowed = set(Rule.__dataclass_fields__) - {"bp_id"}
    for bp_id, raw in (data.get("rules") or {}).items():
        extra = set(raw) - allowed
        if extra:
            raise ValueError(f"{bp_id}: unknown rule keys {sorted(extra)}")
        if raw.get("absent", "unknown") not in ABSENT:
            raise ValueError(f"{bp_id}: absent must be one of {ABSENT}")
        if bool(raw.get("weak")) != bool(raw.get("weak_text")):
            raise ValueError(f"{bp_id}: 'weak' matchers and 'weak_text' go together")
        rules[bp_id] = Rule(
            bp_id=bp_id,
            concerns=_expand(raw.get("concerns", []), sets, bp_id),
            addressed=tuple(_matcher(m, sets, bp_id) for m in raw.get("addressed", [])),
            gap=tuple(_matcher(m, sets, bp_id) for m in raw.get("gap", [])),
            weak=tuple(_matcher(m, sets, bp_id) for m in raw.get("weak", [])),
            absent=raw.get("absent", "unknown"),
            absent_requires=_expand(raw.get("absent_requires", []), sets, bp_id),
            absent_when_drawn=frozenset(raw.get("absent_when_drawn", [])),
            addressed_text=raw.get("addressed_text", ""),
            gap_text=raw.get("gap_text", ""),
            absent_text=raw.get("absent_text", ""),
            unknown_text=raw.get("unknown_text", ""),
            weak_text=raw.get("weak_text", ""),
            question=raw.get("question", ""),
        )
    return RuleBook(rules, dict(data.get("fact_words") or {}))


@lru_cache(maxsize=1)
def load_rules(path: Path = RULES_FILE) -> RuleBook:
    """Load the rule table shipped with lenswise (cached)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return parse_rules(yaml.load(path.read_text(encoding="utf-8"), Loader=loader))  # noqa: S506
