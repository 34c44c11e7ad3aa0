"""Load and check the built-in lens digest (``corpus/data/<lens>/``).

Format (one folder per lens):
- ``lens.yaml``: ``lens``, ``name``, ``edition``, ``edition_note``, ``docs_url`` (the
  official docs folder of the lens), ``landing_page`` and ``pages``, a list of general pages
  (design principles, preambles, scenarios), each with ``id``, ``title``, ``page`` (its
  official page name, when it has its own; else the landing page), ``summary``, ``sections``
  (``heading`` + ``text``) and ``related`` ids;
- one YAML file per pillar: ``pillar`` and ``questions``, each with ``id``, ``title``,
  ``question`` (may be null), ``summary`` and ``best_practices``, each with ``id``,
  ``title``, ``risk``, ``summary``, ``desired_outcome``, ``steps`` (list),
  ``anti_patterns`` (list), ``services`` (service slugs) and ``related`` (practice ids).

Official URLs are not stored per page: they follow one pattern, ``<docs_url><id>.html``
with the id in lower case, so they are derived (and cannot drift).

:func:`check` validates all of it against the schema (:mod:`corpus.loaders.builtin_schema`)
and the id grammar, and returns a list of problems; :func:`load` refuses a digest that has any.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from corpus.errors import InputError
from corpus.models import Corpus, Document, Section
from corpus.vocabulary import is_practice_id, is_question_id

if TYPE_CHECKING:
    from corpus.loaders.builtin_schema import LensFront, PillarFile

URL_PATTERN = re.compile(
    r"^https://docs\.aws\.amazon\.com/wellarchitected/latest/[a-z0-9-]+/[a-z0-9-]+\.html$"
)
BUILTIN_DIR = Path(__file__).resolve().parents[1] / "data"
"""The project's own digest of the lens (one folder per lens)."""


def sniff(path: Path) -> bool:
    """Return True for a digest folder (or its parent): it holds a ``lens.yaml``."""
    try:
        return (path / "lens.yaml").is_file() or any(path.glob("*/lens.yaml"))
    except OSError:
        return False


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read digest file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"digest file {path}{line}: not valid YAML ({problem})") from exc
    if not isinstance(data, dict):
        raise InputError(f"digest file {path} does not hold a mapping")
    return data


def _lens_dirs(path: Path) -> list[Path]:
    return (
        [path]
        if (path / "lens.yaml").is_file()
        else sorted(p.parent for p in path.glob("*/lens.yaml"))
    )


def read_digest(folder: Path) -> tuple[dict, list[dict]]:
    """Return ``(lens front matter, pillar files)`` of one digest folder as plain data."""
    front = _read_yaml(folder / "lens.yaml")
    pillars = [_read_yaml(p) for p in sorted(folder.glob("*.yaml")) if p.name != "lens.yaml"]
    return front, pillars


def check(front: dict, pillars: list[dict]) -> list[str]:
    """Return every schema problem of a digest (empty when it is valid)."""
    return _validate(front, pillars)[2]


def _validate(
    front: dict, pillars: list[dict]
) -> tuple[LensFront | None, list[PillarFile], list[str]]:
    """Return the validated front matter and pillar files, and every problem found."""
    from corpus.loaders import builtin_schema as schema  # pydantic only once a digest is read

    ids = {
        bp.get("id")
        for pillar in pillars
        for q in _entries(pillar, "questions")
        for bp in _entries(q, "best_practices")
    }
    problems: list[str] = []
    lens = schema.parsed(schema.LensFront, front, "lens.yaml", ids, problems)
    files = [schema.parsed(schema.PillarFile, p, "pillar file", ids, problems) for p in pillars]
    files = [f for f in files if f is not None]
    if lens and not URL_PATTERN.match(page_url(lens, lens.landing_page)):
        problems.append("lens.yaml: docs_url does not follow the official pattern")
    for q in (q for f in files for q in f.questions):
        if not is_question_id(q.id):
            problems.append(f"question {q.id}: bad id")
        problems += [
            f"{bp.id}: id does not belong to question {q.id}"
            for bp in q.best_practices
            if not is_practice_id(bp.id) or not bp.id.startswith(q.id + "-")
        ]
    return lens, files, problems


def _entries(data: object, key: str) -> list[dict]:
    """Return the mappings listed under ``key`` of raw ``data`` (none when it is malformed)."""
    items = data.get(key) if isinstance(data, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def load(path: Path) -> Corpus:
    """Load a digest folder (or a folder of digests) into documents; refuse an invalid one."""
    documents: list[Document] = []
    edition = name = None
    for folder in _lens_dirs(path):
        lens, pillars, problems = _validate(*read_digest(folder))
        if problems or lens is None:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            raise InputError(f"digest {folder} is invalid: {problems[0]}{more}")
        edition, name = lens.edition, lens.name
        documents += _front_documents(lens)
        for pillar in pillars:
            documents += _pillar_documents(lens, pillar)
    if not documents:
        raise InputError(f"no digest found in {path}")
    return Corpus(source=str(path), documents=documents, edition=str(edition), name=name)


def page_url(front: LensFront, page: str) -> str:
    """Return the official URL of ``page`` (a page name or a question / practice id)."""
    return f"{front.docs_url}{page.lower()}.html"


def _front_documents(front: LensFront) -> list[Document]:
    docs = []
    for page in front.pages:
        sections = [Section("Overview", page.summary)] if page.summary else []
        sections += [Section(s.heading, s.text.strip()) for s in page.sections]
        docs.append(
            Document(
                lens=front.lens,
                doc_id=page.id,
                title=page.title,
                url=page_url(front, page.page or front.landing_page),
                source="builtin",
                sections=tuple(sections),
                related=tuple(page.related),
            )
        )
    return docs


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item.strip()}" for item in items)


def _pillar_documents(front: LensFront, pillar: PillarFile) -> list[Document]:
    docs = []
    for q in pillar.questions:
        q_sections = [Section("Question", q.question)] if q.question else []
        q_sections += [Section("Overview", q.summary)] if q.summary else []
        docs.append(
            Document(
                lens=front.lens,
                doc_id=q.id,
                title=q.title,
                url=page_url(front, q.id),
                source="builtin",
                sections=tuple(q_sections),
                pillar=pillar.pillar,
                question_id=q.id,
                question_title=q.title,
            )
        )
        for bp in q.best_practices:
            sections = (
                Section("Overview", bp.summary.strip()),
                Section("Desired outcome", bp.desired_outcome.strip()),
                Section("Implementation steps", _bullets(bp.steps)),
                Section("Anti-patterns", _bullets(bp.anti_patterns)),
            )
            docs.append(
                Document(
                    lens=front.lens,
                    doc_id=bp.id,
                    title=bp.title,
                    url=page_url(front, bp.id),
                    source="builtin",
                    sections=sections,
                    pillar=pillar.pillar,
                    question_id=q.id,
                    question_title=q.title,
                    bp_id=bp.id,
                    risk=bp.risk,
                    services=tuple(bp.services),
                    related=tuple(bp.related),
                )
            )
    return docs


def digest_practices() -> dict[str, Document]:
    """Return the built-in digest's best practices keyed by id (for reviews and benchmarks)."""
    return load(BUILTIN_DIR).best_practices()
