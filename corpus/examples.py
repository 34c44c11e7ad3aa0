"""Labelled example questions of a lens: what users ask, and which page answers it.

``corpus/data/examples/<lens>.yaml`` holds, in lenswise's own words, realistic questions for
every best practice and general page, questions that need several practices, questions the
lens does not answer (near misses included), and design intents ("what should we fix
first?"). Each question belongs to a split: ``dev`` questions are the routing keys and the
calibration data; ``test`` questions are kept aside to report how routing does on questions
it never saw. The file also lists injection attempts and look-alike benign questions, which
test the injection detector.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from corpus.errors import InputError

EXAMPLES_DIR = Path(__file__).resolve().parent / "data" / "examples"
Split = Literal["dev", "test"]
Kind = Literal["page", "multi", "out_of_scope", "intent"]
INTENT_PREFIX = "intent:"
"""Labels of design intents are ``intent:<name>`` (``intent:prioritize``)."""


class _Splits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dev: list[str] = Field(min_length=1)
    test: list[str] = Field(default_factory=list)


class _Multi(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str
    ids: list[str] = Field(min_length=2)
    split: Split


class _Outside(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str
    kind: Literal["near-miss", "off-topic"]


class _OutsideSplits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dev: list[_Outside] = Field(min_length=1)
    test: list[_Outside] = Field(default_factory=list)


class _Injection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attacks: list[str] = Field(default_factory=list)
    benign: list[str] = Field(default_factory=list)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lens: str
    pages: dict[str, _Splits]
    multi: list[_Multi] = Field(default_factory=list)
    out_of_scope: _OutsideSplits
    intents: dict[str, _Splits] = Field(default_factory=dict)
    injection: _Injection = Field(default_factory=_Injection)


@dataclass(frozen=True)
class Example:
    """One labelled question."""

    text: str
    labels: tuple[str, ...]
    """Page ids that answer it, best first; ``()`` when the lens does not answer it;
    ``("intent:<name>",)`` for a design intent."""
    split: Split
    kind: Kind
    note: str = ""
    """For out-of-scope questions: ``near-miss`` or ``off-topic``."""

    @property
    def in_scope(self) -> bool:
        """True unless the lens does not answer the question."""
        return self.kind != "out_of_scope"


@dataclass(frozen=True)
class ExampleSet:
    """Every labelled question of one lens, plus the injection test texts."""

    lens: str
    examples: tuple[Example, ...]
    injection_attacks: tuple[str, ...] = ()
    injection_benign: tuple[str, ...] = ()
    digest: str = ""
    """Content hash of the file (indexes record it to know when to recalibrate)."""

    def split(self, name: Split) -> list[Example]:
        """Return the examples of one split, in file order."""
        return [e for e in self.examples if e.split == name]


def examples_path(lens: str) -> Path:
    """Return the example file of ``lens`` (it may not exist)."""
    return EXAMPLES_DIR / f"{lens}.yaml"


@cache
def load_examples(lens: str) -> ExampleSet | None:
    """Load the labelled questions of ``lens``; None when the lens has none.

    Raises:
        InputError: the file exists but does not follow the schema.
    """
    path = examples_path(lens)
    if not path.is_file():
        return None
    raw = path.read_bytes()
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: faster
        data = _File.model_validate(yaml.load(raw, Loader=loader))  # noqa: S506
    except (yaml.YAMLError, ValidationError) as exc:
        first = str(exc).splitlines()[0:3]
        raise InputError(f"example questions {path} are malformed: {' '.join(first)}") from exc
    examples: list[Example] = []
    for page, splits in data.pages.items():
        examples += _plain(splits, (page,), "page")
    for item in data.multi:
        examples.append(Example(item.question.strip(), tuple(item.ids), item.split, "multi"))
    for split in ("dev", "test"):
        for item in getattr(data.out_of_scope, split):
            examples.append(Example(item.question.strip(), (), split, "out_of_scope", item.kind))
    for intent, splits in data.intents.items():
        examples += _plain(splits, (INTENT_PREFIX + intent,), "intent")
    return ExampleSet(
        lens=data.lens,
        examples=tuple(examples),
        injection_attacks=tuple(data.injection.attacks),
        injection_benign=tuple(data.injection.benign),
        digest=hashlib.sha256(raw).hexdigest()[:16],
    )


def _plain(splits: _Splits, labels: tuple[str, ...], kind: Kind) -> list[Example]:
    return [
        Example(text.strip(), labels, split, kind)
        for split in ("dev", "test")
        for text in getattr(splits, split)
    ]
