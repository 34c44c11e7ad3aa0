"""Eval suites: load a YAML suite file, validate it, and return typed cases.

Three kinds of suite (``kind:`` at the top of the file): ``retrieval`` (question -> expected
best-practice ids), ``answers`` (question -> expected citations, facts that must or must not
appear, or a decline) and ``diagrams`` (file -> expected services and findings). The schema
is documented in ``evals/README.md``. Anything malformed raises :class:`InputError` naming the
file, the case and the field to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from corpus.errors import InputError

SUITES_DIR = Path(__file__).resolve().parent / "suites"
REPO_ROOT = Path(__file__).resolve().parents[1]
KINDS = ("retrieval", "answers", "diagrams")
MODES = ("bm25", "dense", "hybrid")
BP_ID = re.compile(r"^[A-Z]{3,12}\d{2}-BP\d{2}$")
PAGE_ID = re.compile(r"^(?:[A-Z]{3,12}\d{2}(?:-BP\d{2})?|[a-z0-9]+(?:-[a-z0-9]+)*)$")
"""What answer cases may expect to be cited: a practice, a question or a general page."""
PILLAR_OF_PREFIX = {
    "OPS": "Operational Excellence",
    "SEC": "Security",
    "REL": "Reliability",
    "PERF": "Performance Efficiency",
    "COST": "Cost Optimization",
    "SUS": "Sustainability",
}


@dataclass(frozen=True)
class Threshold:
    """A suite-level gate on one metric: ``value >= minimum`` and/or ``value <= maximum``."""

    metric: str
    minimum: float | None = None
    maximum: float | None = None

    def passes(self, value: float) -> bool:
        """Return True when ``value`` is inside the allowed range."""
        if self.minimum is not None and value < self.minimum:
            return False
        return self.maximum is None or value <= self.maximum

    def describe(self) -> str:
        """Return the rule as text, e.g. ``>= 0.6``."""
        parts = []
        if self.minimum is not None:
            parts.append(f">= {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"<= {self.maximum:g}")
        return " and ".join(parts)


@dataclass(frozen=True)
class Fact:
    """Something an answer must (or must not) state: a substring or a regex, case-insensitive."""

    text: str
    is_regex: bool = False

    def pattern(self) -> re.Pattern[str]:
        """Return the compiled, case-insensitive pattern."""
        return re.compile(self.text if self.is_regex else re.escape(self.text), re.I)

    def found_in(self, response: str) -> bool:
        """Return True when the fact appears in ``response``."""
        return bool(self.pattern().search(response or ""))

    def __str__(self) -> str:
        return f"/{self.text}/" if self.is_regex else self.text


@dataclass(frozen=True)
class RetrievalCase:
    """A question and the best practices that answer it, best first."""

    id: str
    question: str
    expected: tuple[str, ...]
    pillar: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnswerCase:
    """A question, what a good answer cites and states, or that it must be declined."""

    id: str
    question: str
    expected_citations: tuple[str, ...] = ()
    must_state: tuple[Fact, ...] = ()
    must_not_state: tuple[Fact, ...] = ()
    should_decline: bool = False
    pillar: str | None = None
    lead: tuple[str, ...] = ()
    """Acceptable first-named pages (default: the first expected citation)."""
    previous: tuple[str, ...] = ()
    """Earlier questions of the same thread, asked first (follow-up cases)."""
    diagram: Path | None = None
    """A design attached to the question."""
    tags: tuple[str, ...] = ()

    @property
    def leads(self) -> tuple[str, ...]:
        """The pages an answer may name first."""
        return self.lead or self.expected_citations[:1]


@dataclass(frozen=True)
class DiagramCase:
    """A diagram or IaC file and what a lens review of it should find."""

    id: str
    file: str
    path: Path
    services: tuple[str, ...]
    optional_services: tuple[str, ...] = ()
    addressed: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()
    not_addressed: tuple[str, ...] = ()
    annotations: tuple[str, ...] = ()
    """Texts (legends, step badges, notes) that must be kept as annotations, not components."""


Case = RetrievalCase | AnswerCase | DiagramCase


@dataclass
class Suite:
    """A loaded, validated suite."""

    kind: Literal["retrieval", "answers", "diagrams"]
    name: str
    path: Path
    cases: list[Any]
    description: str = ""
    thresholds: list[Threshold] = field(default_factory=list)
    k: int = 10
    """Retrieval: hits retrieved per question (metrics are computed up to this depth)."""
    modes: tuple[str, ...] = MODES
    """Retrieval: modes run by default (``--mode all``)."""
    base_dir: Path | None = None
    """Diagrams: folder the case files are relative to."""
    fixtures_dir: Path | None = None
    """Diagrams: folder of the project's own small diagrams (``fixture:`` cases)."""
    skipped: list[str] = field(default_factory=list)
    """Notes about cases left out (e.g. a diagram file that is missing)."""


def pillar_of(bp_id: str) -> str | None:
    """Return the pillar of a Generative AI Lens id such as ``GENSEC04-BP02`` (None if unknown)."""
    match = re.match(r"^GEN([A-Z]+)\d", bp_id)
    return PILLAR_OF_PREFIX.get(match.group(1)) if match else None


def resolve_suite_path(name: str | Path) -> Path:
    """Return the suite file for a path, or for a built-in suite name (``retrieval``)."""
    path = Path(name)
    if path.is_file():
        return path
    builtin = SUITES_DIR / f"{name}.yaml"
    if not path.suffix and builtin.is_file():
        return builtin
    known = ", ".join(sorted(p.stem for p in SUITES_DIR.glob("*.yaml")))
    raise InputError(f"suite file not found: {name} (built-in suites: {known})")


def load_suite(name: str | Path, *, diagrams_dir: str | Path | None = None) -> Suite:
    """Load and validate a suite file.

    Args:
        name: path to a suite YAML file, or the name of a built-in suite.
        diagrams_dir: overrides a diagram suite's ``base_dir`` (``LENSWISE_DIAGRAMS_DIR``).

    Raises:
        InputError: the file is unreadable or does not follow the schema.
    """
    path = resolve_suite_path(name)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read suite {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where else ""
        raise InputError(f"suite {path}{line}: not valid YAML") from exc
    if not isinstance(data, dict):
        raise InputError(f"suite {path}: expected a mapping with 'kind' and 'cases'")
    kind = data.get("kind")
    if kind not in KINDS:
        raise InputError(f"suite {path}: 'kind' must be one of {', '.join(KINDS)} (got {kind!r})")
    raw_cases = data.get("cases")
    if kind == "answers" and "examples" in data:
        raw_cases = (raw_cases or []) + _example_cases(data["examples"], path)
    if not isinstance(raw_cases, list) or not raw_cases:
        raise InputError(f"suite {path}: 'cases' must be a non-empty list")
    suite = Suite(
        kind=kind,
        name=str(data.get("name") or path.stem),
        path=path,
        cases=[],
        description=str(data.get("description") or "").strip(),
        thresholds=_thresholds(data.get("thresholds"), path),
    )
    if kind == "retrieval":
        suite.k = _positive_int(data.get("k", 10), path, "k")
        suite.modes = _modes(data.get("modes", list(MODES)), path)
    if kind in ("diagrams", "answers"):
        suite.base_dir = _base_dir(data.get("base_dir"), path, diagrams_dir)
        suite.fixtures_dir = _fixtures_dir(data.get("fixtures_dir"), path)
    seen: set[str] = set()
    for number, raw in enumerate(raw_cases, 1):
        where = f"suite {path}: case {number}"
        if not isinstance(raw, dict):
            raise InputError(f"{where}: expected a mapping")
        case_id = str(raw.get("id") or f"case-{number}")
        where += f" ({case_id})"
        if case_id in seen:
            raise InputError(f"{where}: duplicate id")
        seen.add(case_id)
        if kind == "retrieval":
            suite.cases.append(_retrieval_case(raw, case_id, where))
        elif kind == "answers":
            case = _answer_case(raw, case_id, where, suite.base_dir)
            if case.diagram is None or case.diagram.is_file():
                suite.cases.append(case)
            else:
                suite.skipped.append(f"{case_id}: diagram not found, skipped: {case.diagram}")
        else:
            case = _diagram_case(raw, case_id, where, suite.base_dir, suite.fixtures_dir)
            if case.path.is_file():
                suite.cases.append(case)
            else:
                suite.skipped.append(f"{case_id}: file not found, skipped: {case.path}")
    if not suite.cases:
        raise InputError(f"suite {path}: no runnable cases ({'; '.join(suite.skipped)})")
    return suite


def _example_cases(spec: Any, path: Path) -> list[dict]:
    """Answer cases made from a split of a lens's labelled example questions.

    ``examples: {lens: generative-ai, split: test}`` turns every question of the split into a
    case: a page's question expects that page, a multi-page question its pages, an
    out-of-scope question a decline. Design intents need a design, so they are left out.
    """
    from corpus.examples import load_examples

    if not isinstance(spec, dict) or set(spec) != {"lens", "split"}:
        raise InputError(f"suite {path}: 'examples' must be {{lens: LENS, split: dev|test}}")
    examples = load_examples(str(spec["lens"]))
    if examples is None:
        raise InputError(f"suite {path}: the lens '{spec['lens']}' has no example questions")
    cases = []
    for number, example in enumerate(examples.split(spec["split"]), 1):
        if example.kind == "intent":
            continue
        case: dict[str, Any] = {"id": f"{spec['split']}-{number}", "question": example.text}
        if example.in_scope:
            case["expected_citations"] = list(example.labels)
            case["tags"] = [example.kind]
        else:
            case["should_decline"] = True
            case["tags"] = [example.note]
        cases.append(case)
    return cases


def _question(raw: dict, where: str) -> str:
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"{where}: 'question' must be non-empty text")
    return question.strip()


def _ids(
    raw: dict, key: str, where: str, *, required: bool = False, pages: bool = False
) -> tuple[str, ...]:
    """Read a list of best-practice ids (or, with ``pages``, any citable page id)."""
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or (required and not value):
        raise InputError(f"{where}: '{key}' must be a non-empty list of best-practice ids")
    ids = tuple(_normal_id(str(v).strip()) if pages else str(v).strip().upper() for v in value)
    for bp in ids:
        if not (PAGE_ID if pages else BP_ID).match(bp):
            kind = (
                "a page id like GENSEC01-BP01 or responsible-ai"
                if pages
                else ("a best-practice id like GENSEC01-BP01")
            )
            raise InputError(f"{where}: '{key}' holds '{bp}', not {kind}")
    return ids


def _normal_id(ident: str) -> str:
    """Upper-case practice and question ids; keep general page slugs as they are."""
    return ident.upper() if re.match(r"^[A-Za-z]{3,12}\d{2}(-bp\d{2})?$", ident, re.I) else ident


def _texts(raw: dict, key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(f"{where}: '{key}' must be a list of texts")
    return tuple(v.strip() for v in value)


def _slugs(raw: dict, key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(f"{where}: '{key}' must be a list of service slugs such as bedrock, s3")
    return tuple(v.strip().lower() for v in value)


def _facts(raw: dict, key: str, where: str) -> tuple[Fact, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise InputError(f"{where}: '{key}' must be a list of texts or {{regex: ...}} items")
    facts = []
    for item in value:
        if isinstance(item, str) and item.strip():
            facts.append(Fact(item.strip()))
        elif (
            isinstance(item, dict) and isinstance(item.get("regex"), str) and set(item) == {"regex"}
        ):
            try:
                re.compile(item["regex"])
            except re.error as exc:
                raise InputError(f"{where}: bad regex in '{key}': {exc}") from exc
            facts.append(Fact(item["regex"], is_regex=True))
        else:
            raise InputError(f"{where}: '{key}' items must be text or {{regex: PATTERN}}")
    return tuple(facts)


def _retrieval_case(raw: dict, case_id: str, where: str) -> RetrievalCase:
    expected = _ids(raw, "expected", where, required=True)
    pillar = raw.get("pillar") or pillar_of(expected[0]) or "Other"
    tags = raw.get("tags", [])
    if not isinstance(tags, list):
        raise InputError(f"{where}: 'tags' must be a list")
    return RetrievalCase(
        case_id, _question(raw, where), expected, str(pillar), tuple(map(str, tags))
    )


def _answer_case(raw: dict, case_id: str, where: str, base_dir: Path | None) -> AnswerCase:
    decline = raw.get("should_decline", False)
    if not isinstance(decline, bool):
        raise InputError(f"{where}: 'should_decline' must be true or false")
    citations = _ids(raw, "expected_citations", where, pages=True)
    lead = _ids(raw, "lead", where, pages=True)
    if set(lead) - set(citations):
        raise InputError(f"{where}: every 'lead' id must also be an expected citation")
    diagram = raw.get("diagram")
    if diagram is not None and not (isinstance(diagram, str) and diagram.strip()):
        raise InputError(f"{where}: 'diagram' must be a file name (relative to base_dir)")
    if diagram:
        diagram = Path(diagram).expanduser()
        if not diagram.is_absolute() and base_dir is not None:
            diagram = base_dir / diagram
    must = _facts(raw, "must_state", where)
    if not decline and not (citations or must):
        raise InputError(f"{where}: give 'expected_citations' or 'must_state' (or should_decline)")
    if decline and citations:
        raise InputError(f"{where}: a case that should be declined cannot expect citations")
    return AnswerCase(
        case_id,
        _question(raw, where),
        expected_citations=citations,
        must_state=must,
        must_not_state=_facts(raw, "must_not_state", where),
        should_decline=decline,
        pillar=raw.get("pillar") or (pillar_of(citations[0]) if citations else None),
        lead=lead,
        previous=_texts(raw, "previous", where),
        diagram=diagram or None,
        tags=_texts(raw, "tags", where),
    )


def _diagram_case(
    raw: dict, case_id: str, where: str, base_dir: Path | None, fixtures_dir: Path | None
) -> DiagramCase:
    file, fixture = raw.get("file"), raw.get("fixture")
    if (file is None) == (fixture is None):
        raise InputError(f"{where}: give either 'file' (relative to base_dir) or 'fixture'")
    name = file if file is not None else fixture
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{where}: 'file' / 'fixture' must be a path")
    path = Path(name).expanduser()
    folder = base_dir if file is not None else fixtures_dir
    if not path.is_absolute() and folder is not None:
        path = folder / path
    annotations = raw.get("annotations", [])
    if not isinstance(annotations, list) or not all(
        isinstance(a, str | int) and str(a).strip() for a in annotations
    ):
        raise InputError(f"{where}: 'annotations' must be a list of texts")
    case = DiagramCase(
        case_id,
        name,
        path,
        services=_slugs(raw, "services", where),
        optional_services=_slugs(raw, "optional_services", where),
        addressed=_ids(raw, "addressed", where),
        gaps=_ids(raw, "gaps", where),
        not_addressed=_ids(raw, "not_addressed", where),
        annotations=tuple(str(a).strip() for a in annotations),
    )
    clash = (set(case.addressed) & set(case.gaps)) | (set(case.addressed) & set(case.not_addressed))
    if clash:
        raise InputError(f"{where}: {', '.join(sorted(clash))} listed with two statuses")
    if not (case.services or case.addressed or case.gaps or case.not_addressed or case.annotations):
        raise InputError(
            f"{where}: expects nothing (give services, addressed, gaps, not_addressed "
            "or annotations)"
        )
    return case


def _thresholds(value: Any, path: Path) -> list[Threshold]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise InputError(f"suite {path}: 'thresholds' must map metric names to minimums")
    out = []
    for metric, rule in value.items():
        if isinstance(rule, bool):
            rule = None  # reject below: true/false is not a number
        if isinstance(rule, int | float):
            out.append(Threshold(str(metric), minimum=float(rule)))
        elif (
            isinstance(rule, dict)
            and rule
            and set(rule) <= {"min", "max"}
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in rule.values())
        ):
            out.append(Threshold(str(metric), rule.get("min"), rule.get("max")))
        else:
            raise InputError(
                f"suite {path}: threshold '{metric}' must be a number (minimum) "
                "or {min: X, max: Y}"
            )
    return out


def _positive_int(value: Any, path: Path, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"suite {path}: '{key}' must be a positive integer")
    return value


def _modes(value: Any, path: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or any(m not in MODES for m in value):
        raise InputError(f"suite {path}: 'modes' must list some of {', '.join(MODES)}")
    return tuple(value)


def _base_dir(value: Any, path: Path, override: str | Path | None) -> Path:
    if override:
        return Path(override).expanduser()
    if value is not None and not isinstance(value, str):
        raise InputError(f"suite {path}: 'base_dir' must be a folder path")
    base = Path(value or "../shared/diagrams").expanduser()
    if base.is_absolute():
        return base
    for root in (path.resolve().parent, REPO_ROOT):
        if (root / base).is_dir():
            return (root / base).resolve()
    return (REPO_ROOT / base).resolve()


def _fixtures_dir(value: Any, path: Path) -> Path:
    if value is not None and not isinstance(value, str):
        raise InputError(f"suite {path}: 'fixtures_dir' must be a folder path")
    folder = Path(value or "diagram-fixtures").expanduser()
    return folder if folder.is_absolute() else (path.resolve().parent / folder).resolve()
