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

:func:`check` validates all of it and returns a list of problems; :func:`load` refuses a
digest that has any.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from corpus.errors import InputError
from corpus.models import Corpus, Document, Section
from corpus.services import is_known
from corpus.vocabulary import PILLARS, RISKS

URL_PATTERN = re.compile(
    r"^https://docs\.aws\.amazon\.com/wellarchitected/latest/[a-z0-9-]+/[a-z0-9-]+\.html$"
)
BP_ID = re.compile(r"^[A-Z]+\d{2}-BP\d{2}$")
QUESTION_ID = re.compile(r"^[A-Z]+\d{2}$")
_BP_KEYS = ("id", "title", "risk", "summary", "desired_outcome", "steps", "anti_patterns")


def sniff(path: Path) -> bool:
    """Return True for a digest folder (or its parent): it holds a ``lens.yaml``."""
    try:
        return (path / "lens.yaml").is_file() or any(path.glob("*/lens.yaml"))
    except OSError:
        return False


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read digest file {path}: {str(exc).splitlines()[0]}") from exc
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
    problems: list[str] = []
    for key in ("lens", "name", "edition", "docs_url", "landing_page"):
        if not front.get(key):
            problems.append(f"lens.yaml: missing {key}")
    if not URL_PATTERN.match(page_url(front, str(front.get("landing_page")))):
        problems.append("lens.yaml: docs_url does not follow the official pattern")
    ids = {
        bp.get("id")
        for p in pillars
        for q in p.get("questions", [])
        for bp in q.get("best_practices", [])
    }
    for page in front.get("pages") or []:
        where = f"page {page.get('id')}"
        for key in ("id", "title", "sections"):
            if not page.get(key):
                problems.append(f"{where}: missing {key}")
        problems += [
            f"{where}: unknown related id {r}" for r in page.get("related", []) if r not in ids
        ]
    for pillar in pillars:
        if pillar.get("pillar") not in PILLARS:
            problems.append(f"unknown pillar {pillar.get('pillar')!r}")
        for q in pillar.get("questions", []):
            if not QUESTION_ID.match(str(q.get("id"))):
                problems.append(f"question {q.get('id')}: bad id")
            for bp in q.get("best_practices", []):
                problems += _check_practice(bp, q, ids)
    return problems


def _check_practice(bp: dict, question: dict, ids: set) -> list[str]:
    where = f"{bp.get('id')}"
    problems = [f"{where}: missing {k}" for k in _BP_KEYS if not bp.get(k)]
    if not BP_ID.match(str(bp.get("id"))) or not str(bp.get("id")).startswith(
        question.get("id", "?") + "-"
    ):
        problems.append(f"{where}: id does not belong to question {question.get('id')}")
    if bp.get("risk") not in RISKS:
        problems.append(f"{where}: risk must be one of {RISKS}")
    problems += [
        f"{where}: unknown service slug {s}" for s in bp.get("services", []) if not is_known(s)
    ]
    problems += [f"{where}: unknown related id {r}" for r in bp.get("related", []) if r not in ids]
    text = " ".join(
        str(v) for v in (bp.get("summary"), bp.get("desired_outcome"), *bp.get("steps", []))
    )
    if "TODO" in text:
        problems.append(f"{where}: unfinished text (TODO)")
    return problems


def load(path: Path) -> Corpus:
    """Load a digest folder (or a folder of digests) into documents; refuse an invalid one."""
    documents: list[Document] = []
    edition = name = None
    for folder in _lens_dirs(path):
        front, pillars = read_digest(folder)
        problems = check(front, pillars)
        if problems:
            raise InputError(
                f"digest {folder} is invalid: {problems[0]} (+{len(problems) - 1} more)"
            )
        edition, name = front["edition"], front["name"]
        documents += _front_documents(front)
        for pillar in pillars:
            documents += _pillar_documents(front, pillar)
    if not documents:
        raise InputError(f"no digest found in {path}")
    return Corpus(source=str(path), documents=documents, edition=str(edition), name=name)


def page_url(front: dict, page: str) -> str:
    """Return the official URL of ``page`` (a page name or a question / practice id)."""
    return f"{front.get('docs_url', '')}{page.lower()}.html"


def _front_documents(front: dict) -> list[Document]:
    docs = []
    for page in front.get("pages") or []:
        sections = [Section("Overview", page["summary"])] if page.get("summary") else []
        sections += [Section(s["heading"], s["text"].strip()) for s in page["sections"]]
        docs.append(
            Document(
                lens=front["lens"],
                doc_id=page["id"],
                title=page["title"],
                url=page_url(front, page.get("page") or front["landing_page"]),
                source="builtin",
                sections=tuple(sections),
                related=tuple(page.get("related", [])),
            )
        )
    return docs


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item.strip()}" for item in items)


def _pillar_documents(front: dict, pillar: dict) -> list[Document]:
    lens = front["lens"]
    docs = []
    for q in pillar["questions"]:
        q_sections = [Section("Question", q["question"])] if q.get("question") else []
        q_sections += [Section("Overview", q["summary"])] if q.get("summary") else []
        docs.append(
            Document(
                lens=lens,
                doc_id=q["id"],
                title=q["title"],
                url=page_url(front, q["id"]),
                source="builtin",
                sections=tuple(q_sections),
                pillar=pillar["pillar"],
                question_id=q["id"],
                question_title=q["title"],
            )
        )
        for bp in q["best_practices"]:
            sections = (
                Section("Overview", bp["summary"].strip()),
                Section("Desired outcome", bp["desired_outcome"].strip()),
                Section("Implementation steps", _bullets(bp["steps"])),
                Section("Anti-patterns", _bullets(bp["anti_patterns"])),
            )
            docs.append(
                Document(
                    lens=lens,
                    doc_id=bp["id"],
                    title=bp["title"],
                    url=page_url(front, bp["id"]),
                    source="builtin",
                    sections=sections,
                    pillar=pillar["pillar"],
                    question_id=q["id"],
                    question_title=q["title"],
                    bp_id=bp["id"],
                    risk=bp["risk"],
                    services=tuple(bp.get("services", [])),
                    related=tuple(bp.get("related", [])),
                )
            )
    return docs


def digest_practices() -> dict[str, Document]:
    """Return the built-in digest's best practices keyed by id (for reviews and benchmarks)."""
    from corpus.sources import BUILTIN_DIR

    return load(BUILTIN_DIR).best_practices()
