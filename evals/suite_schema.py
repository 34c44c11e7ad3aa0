"""The eval suite file as pydantic schemas: one header model per ``kind``, one case model each.

:data:`SuiteFile` is the tagged union of the headers, told apart by ``kind``. Cases are
validated one at a time (:mod:`evals.suites` names each in its errors) and turned into the
frozen dataclasses the runner and the metrics read. Validators raise ``ValueError`` with a
predicate about the field (``must be non-empty text``), which :func:`corpus.schema.validated`
puts after the field's name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    field_validator,
    model_validator,
)

from corpus.schema import Schema
from corpus.vocabulary import is_page_id, is_practice_id, pillar_of
from evals.cases import MODES, AnswerCase, DiagramCase, Fact, RetrievalCase, Threshold


def _listed(value: Any) -> Any:
    """Accept one text where a list is expected (``tags: design``)."""
    return [value] if isinstance(value, str) else value


def _ids(*, pages: bool = False, required: bool = False):
    """Return a validator of a list of best-practice ids (or, with ``pages``, any page id)."""
    what = "page ids" if pages else "best-practice ids"
    like = "a page id like GENSEC01-BP01 or responsible-ai" if pages else "a best-practice id"

    def check(value: Any) -> tuple[str, ...]:
        value = _listed(value)
        if not isinstance(value, list) or (required and not value):
            raise ValueError(f"must be a {'non-empty ' if required else ''}list of {what}")
        ids = tuple(_normal_id(str(v).strip()) if pages else str(v).strip().upper() for v in value)
        for ident in ids:
            if not (is_page_id if pages else is_practice_id)(ident):
                raise ValueError(f"holds '{ident}', not {like} like GENSEC01-BP01")
        return ids

    return check


def _normal_id(ident: str) -> str:
    """Upper-case practice and question ids; keep general page slugs as they are."""
    return ident.upper() if re.match(r"^[A-Za-z]{3,12}\d{2}(-bp\d{2})?$", ident, re.I) else ident


def _texts(value: Any) -> tuple[str, ...]:
    value = _listed(value)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("must be a list of texts")
    return tuple(v.strip() for v in value)


def _slugs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("must be a list of service slugs such as bedrock, s3")
    return tuple(v.strip().lower() for v in value)


def _facts(value: Any) -> tuple[Fact, ...]:
    if not isinstance(value, list):
        raise ValueError("must be a list of texts or {regex: ...} items")
    facts = []
    for item in value:
        if isinstance(item, str) and item.strip():
            facts.append(Fact(item.strip()))
        elif isinstance(item, dict) and set(item) == {"regex"} and isinstance(item["regex"], str):
            try:
                re.compile(item["regex"])
            except re.error as exc:
                raise ValueError(f"holds a bad regex {item['regex']!r}: {exc}") from None
            facts.append(Fact(item["regex"], is_regex=True))
        else:
            raise ValueError("items must be text or {regex: PATTERN}")
    return tuple(facts)


def _question(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be non-empty text")
    return value.strip()


class _Case(Schema):
    noun = "case"
    id: Any = None
    """Named in reports and errors; defaults to ``case-N``."""


class RetrievalCaseIn(_Case):
    """A retrieval case as written: a question and the practices that answer it, best first."""

    question: str = Field(validate_default=True, default="")
    expected: tuple[str, ...] = Field(validate_default=True, default=())
    pillar: str | None = None
    tags: list[Any] = []

    _question = field_validator("question", mode="before")(_question)
    _expected = field_validator("expected", mode="before")(_ids(required=True))

    def case(self, case_id: str) -> RetrievalCase:
        """Return the case the runner reads (pillar defaults from the first expected id)."""
        pillar = self.pillar or pillar_of(self.expected[0]) or "Other"
        return RetrievalCase(
            case_id, self.question, self.expected, pillar, tuple(map(str, self.tags))
        )


class AnswerCaseIn(_Case):
    """An answer case as written: what a good answer cites and states, or that it declines."""

    question: str = Field(validate_default=True, default="")
    expected_citations: tuple[str, ...] = ()
    must_state: tuple[Fact, ...] = ()
    must_not_state: tuple[Fact, ...] = ()
    should_decline: StrictBool = False
    pillar: str | None = None
    lead: tuple[str, ...] = ()
    previous: tuple[str, ...] = ()
    diagram: str | None = None
    fixture: str | None = None
    """A design from the suite's ``fixtures_dir``, instead of ``diagram``."""
    tags: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    model_turns: tuple[dict[str, Any], ...] = ()
    disliked_answer: str | None = None
    """An answer a user marked unhelpful: the same answer must not come back."""
    note: str | None = None
    """Why the case exists, for people (a user's comment); the runner never reads it."""

    _question = field_validator("question", mode="before")(_question)
    _pages = field_validator("expected_citations", "lead", mode="before")(_ids(pages=True))
    _facts = field_validator("must_state", "must_not_state", mode="before")(_facts)
    _texts = field_validator("previous", "tags", "facts", mode="before")(_texts)

    @field_validator("diagram", "fixture")
    @classmethod
    def _file(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be a file name (relative to base_dir or fixtures_dir)")
        return value

    @field_validator("model_turns", mode="before")
    @classmethod
    def _turns(cls, value: Any) -> tuple[dict[str, Any], ...]:
        if not isinstance(value, list) or not value:
            raise ValueError("must be a non-empty list of {text: ...} or {tool: NAME, args: {...}}")
        for turn in value:
            text = (
                isinstance(turn, dict) and set(turn) == {"text"} and isinstance(turn["text"], str)
            )
            tool = (
                isinstance(turn, dict)
                and set(turn) <= {"tool", "args"}
                and isinstance(turn.get("tool"), str)
                and isinstance(turn.get("args", {}), dict)
            )
            if not (text or tool):
                raise ValueError("items must be {text: ...} or {tool: NAME, args: {...}}")
        return tuple(value)

    @model_validator(mode="after")
    def _consistent(self) -> AnswerCaseIn:
        if set(self.lead) - set(self.expected_citations):
            raise ValueError("every 'lead' id must also be an expected citation")
        if not (
            self.should_decline
            or self.expected_citations
            or self.must_state
            or self.facts
            or self.disliked_answer
        ):
            raise ValueError(
                "give 'expected_citations', 'must_state' or 'facts'"
                " (or should_decline, disliked_answer)"
            )
        if self.should_decline and (self.expected_citations or self.facts):
            raise ValueError("a case that should be declined cannot expect citations or facts")
        if self.diagram is not None and self.fixture is not None:
            raise ValueError("give either 'diagram' (relative to base_dir) or 'fixture'")
        return self

    def case(
        self, case_id: str, base_dir: Path | None, fixtures_dir: Path | None = None
    ) -> AnswerCase:
        """Return the case the runner reads, its design resolved against its folder."""
        name, folder = (self.fixture, fixtures_dir) if self.fixture else (self.diagram, base_dir)
        diagram = Path(name).expanduser() if name else None
        if diagram and not diagram.is_absolute() and folder is not None:
            diagram = folder / diagram
        fields = {k: v for k, v in self if k not in ("id", "diagram", "fixture", "note")}
        fields["pillar"] = self.pillar or (
            pillar_of(self.expected_citations[0]) if self.expected_citations else None
        )
        return AnswerCase(case_id, diagram=diagram, **fields)


class DiagramCaseIn(_Case):
    """A diagram case as written: a file (or one of the project's fixtures) and its findings."""

    file: str | None = None
    fixture: str | None = None
    services: tuple[str, ...] = ()
    optional_services: tuple[str, ...] = ()
    addressed: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()
    not_addressed: tuple[str, ...] = ()
    annotations: tuple[str, ...] = ()

    _slugs = field_validator("services", "optional_services", mode="before")(_slugs)
    _ids = field_validator("addressed", "gaps", "not_addressed", mode="before")(_ids())

    @field_validator("file", "fixture")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be a path")
        return value

    @field_validator("annotations", mode="before")
    @classmethod
    def _annotations(cls, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(
            isinstance(a, str | int) and str(a).strip() for a in value
        ):
            raise ValueError("must be a list of texts")
        return tuple(str(a).strip() for a in value)

    @model_validator(mode="after")
    def _consistent(self) -> DiagramCaseIn:
        if (self.file is None) == (self.fixture is None):
            raise ValueError("give either 'file' (relative to base_dir) or 'fixture'")
        addressed = set(self.addressed)
        clash = (addressed & set(self.gaps)) | (addressed & set(self.not_addressed))
        if clash:
            raise ValueError(f"{', '.join(sorted(clash))} listed with two statuses")
        if not (self.services or self.addressed or self.gaps or self.not_addressed):
            if not self.annotations:
                raise ValueError(
                    "expects nothing (give services, addressed, gaps, not_addressed or annotations)"
                )
        return self

    def case(self, case_id: str, base_dir: Path | None, fixtures_dir: Path | None) -> DiagramCase:
        """Return the case the runner reads, its file resolved against its folder."""
        name = self.file if self.file is not None else str(self.fixture)
        path = Path(name).expanduser()
        folder = base_dir if self.file is not None else fixtures_dir
        if not path.is_absolute() and folder is not None:
            path = folder / path
        fields = {k: v for k, v in self if k not in ("id", "file", "fixture")}
        return DiagramCase(case_id, name, path, **fields)


def _thresholds(value: Any) -> list[Threshold]:
    if not isinstance(value, dict):
        raise ValueError("must map metric names to minimums")
    out = []
    for metric, rule in value.items():
        if isinstance(rule, int | float) and not isinstance(rule, bool):
            out.append(Threshold(str(metric), minimum=float(rule)))
        elif (
            isinstance(rule, dict)
            and rule
            and set(rule) <= {"min", "max"}
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in rule.values())
        ):
            out.append(Threshold(str(metric), rule.get("min"), rule.get("max")))
        else:
            raise ValueError(
                f"holds threshold '{metric}', which must be a number (minimum) "
                "or {min: X, max: Y}"
            )
    return out


class Examples(Schema):
    """Answer cases taken from a split of a lens's labelled example questions."""

    lens: str
    split: Literal["dev", "test"]


class _Suite(Schema):
    model_config = ConfigDict(coerce_numbers_to_str=True)
    noun = "suite"
    case_model: ClassVar[type[_Case]]
    name: str | None = None
    description: str | None = None
    thresholds: list[Threshold] = []
    cases: list[Any] = []
    """Checked one by one by the loader (an answers suite may take them from ``examples``)."""

    _thresholds = field_validator("thresholds", mode="before")(_thresholds)


class RetrievalSuite(_Suite):
    """A retrieval suite: questions and the practices that answer them."""

    case_model = RetrievalCaseIn
    kind: Literal["retrieval"]
    k: Annotated[StrictInt, Field(ge=1)] = 10
    """Hits retrieved per question (metrics are computed up to this depth)."""
    modes: tuple[str, ...] = MODES

    @field_validator("modes", mode="before")
    @classmethod
    def _modes(cls, value: Any) -> Any:
        value = _listed(value)
        if not isinstance(value, list) or not value or any(m not in MODES for m in value):
            raise ValueError(f"must list some of {', '.join(MODES)}")
        return tuple(value)


class _FileSuite(_Suite):
    base_dir: str | None = None
    """Diagram files (and answer-case diagrams) are relative to it."""
    fixtures_dir: str | None = None
    """The project's own small diagrams (``fixture:`` cases)."""


class AnswersSuite(_FileSuite):
    """An answers suite: questions, what good answers cite and state, what they decline."""

    case_model = AnswerCaseIn
    kind: Literal["answers"]
    examples: Examples | None = None
    scripted_model: str | None = None
    """A Bedrock model id served locally from the cases' ``model_turns``."""

    @field_validator("scripted_model")
    @classmethod
    def _model_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[\w.:-]+", value.strip()):
            raise ValueError("must be a Bedrock model id such as anthropic.claude-3-haiku")
        return value.strip() if value else value


class DiagramsSuite(_FileSuite):
    """A diagrams suite: files and what a lens review of each should find."""

    case_model = DiagramCaseIn
    kind: Literal["diagrams"]


SuiteFile = Annotated[RetrievalSuite | AnswersSuite | DiagramsSuite, Field(discriminator="kind")]
"""A suite file's top level (its cases are validated one by one afterwards)."""
SUITE_FILE = TypeAdapter(SuiteFile)
