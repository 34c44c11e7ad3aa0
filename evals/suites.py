"""Eval suites: load a YAML suite file, validate it, and return typed cases.

Three kinds of suite (``kind:`` at the top of the file): ``retrieval`` (question -> expected
best-practice ids), ``answers`` (question -> expected citations, facts that must or must not
appear, or a decline) and ``diagrams`` (file -> expected services and findings). The schema
is documented in ``evals/README.md``. Anything malformed raises :class:`InputError` naming the
file, the case and the field to fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from corpus.errors import InputError
from evals.cases import Suite

if TYPE_CHECKING:
    from corpus.examples import Split

SUITES_DIR = Path(__file__).resolve().parent / "suites"
REPO_ROOT = Path(__file__).resolve().parents[1]


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
        InputError: the file is unreadable or does not follow the schema
            (:mod:`evals.suite_schema`); the one-line message names the file, the case and
            the field to fix.
    """
    from corpus.schema import validated  # pydantic only once a suite is read
    from evals.suite_schema import SUITE_FILE, AnswerCaseIn, DiagramCaseIn, RetrievalCaseIn

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
    head = validated(SUITE_FILE, data, f"suite {path}")
    suite = Suite(
        kind=head.kind,
        name=str(head.name or path.stem),
        path=path,
        cases=[],
        description=str(head.description or "").strip(),
        thresholds=list(head.thresholds),
    )
    raw_cases = list(head.cases)
    if head.kind == "retrieval":
        suite.k, suite.modes = head.k, head.modes
    else:
        suite.base_dir = _base_dir(head.base_dir, path, diagrams_dir)
        suite.fixtures_dir = _fixtures_dir(head.fixtures_dir, path)
    if head.kind == "answers" and head.examples:
        raw_cases += _example_cases(head.examples.lens, head.examples.split, path)
    if head.kind == "answers":
        suite.scripted_model = head.scripted_model
    if not raw_cases:
        raise InputError(f"suite {path}: 'cases' must be a non-empty list")
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
        written = validated(head.case_model, raw, where)
        if isinstance(written, RetrievalCaseIn):
            suite.cases.append(written.case(case_id))
        elif isinstance(written, AnswerCaseIn):
            case = written.case(case_id, suite.base_dir, suite.fixtures_dir)
            if bool(case.model_turns) != bool(suite.scripted_model) and not case.should_decline:
                raise InputError(
                    f"{where}: 'model_turns' belong to every case of a suite with "
                    "'scripted_model', and only there"
                )
            if case.diagram is None or case.diagram.is_file():
                suite.cases.append(case)
            else:
                suite.skipped.append(f"{case_id}: diagram not found, skipped: {case.diagram}")
        elif isinstance(written, DiagramCaseIn):
            case = written.case(case_id, suite.base_dir, suite.fixtures_dir)
            if case.path.is_file():
                suite.cases.append(case)
            else:
                suite.skipped.append(f"{case_id}: file not found, skipped: {case.path}")
    if not suite.cases:
        raise InputError(f"suite {path}: no runnable cases ({'; '.join(suite.skipped)})")
    return suite


def _example_cases(lens: str, split: Split, path: Path) -> list[dict[str, Any]]:
    """Answer cases made from a split of a lens's labelled example questions.

    ``examples: {lens: generative-ai, split: test}`` turns every question of the split into a
    case: a page's question expects that page, a multi-page question its pages, an
    out-of-scope question a decline. Design intents need a design, so they are left out.
    """
    from corpus.examples import load_examples

    examples = load_examples(lens)
    if examples is None:
        raise InputError(f"suite {path}: the lens '{lens}' has no example questions")
    cases = []
    for number, example in enumerate(examples.split(split), 1):
        if example.kind == "intent":
            continue
        case: dict[str, Any] = {"id": f"{split}-{number}", "question": example.text}
        if example.in_scope:
            case["expected_citations"] = list(example.labels)
            case["tags"] = [example.kind]
        else:
            case["should_decline"] = True
            case["tags"] = [example.note]
        cases.append(case)
    return cases


def _base_dir(value: str | None, path: Path, override: str | Path | None) -> Path:
    if override:
        return Path(override).expanduser()
    base = Path(value or "../shared/diagrams").expanduser()
    if base.is_absolute():
        return base
    for root in (path.resolve().parent, REPO_ROOT):
        if (root / base).is_dir():
            return (root / base).resolve()
    return (REPO_ROOT / base).resolve()


def _fixtures_dir(value: str | None, path: Path) -> Path:
    folder = Path(value or "diagram-fixtures").expanduser()
    return folder if folder.is_absolute() else (path.resolve().parent / folder).resolve()
