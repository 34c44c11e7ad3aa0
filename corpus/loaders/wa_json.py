"""Load the structured JSON edition of a lens: a list of best-practice records per pillar.

This is the shape of ``awslabs-mcp-genai-older/json`` (``schema.json`` there): each file
is a JSON array of objects with ``id``, ``title``, ``pillar`` (``SECURITY``), ``risk``
(``HIGH``), ``href``, ``description``, ``area`` and ``relatedIds``; lens files add
``desired_outcome``, ``benefits``, ``implementation_guidance``, ``anti_patterns`` and
``resources``. A path is one such file or a folder of them (its own ``*.json`` files only).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from corpus.errors import InputError
from corpus.models import Corpus, Document, Section
from corpus.vocabulary import PILLARS, is_practice_id, question_of

REQUIRED = ("id", "title", "pillar")
_PILLARS = {p.upper().replace(" ", "_"): p for p in PILLARS}
_RISKS = {"HIGH": "High", "MEDIUM": "Medium", "LOW": "Low"}
_ARRAY_OF_OBJECTS = re.compile(r"^\ufeff?\s*\[\s*\{")


def read_json(path: Path) -> object:
    """Parse a JSON file, turning every failure into a one-line :class:`InputError`.

    Raises:
        InputError: the file is unreadable, not UTF-8, or malformed JSON (file and line named).
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a UTF-8 text file ({exc.reason})") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: malformed JSON: {exc.msg}") from exc


def sniff(path: Path) -> bool:
    """Return True for a JSON array of best-practice records, or a folder holding one."""
    try:
        if path.is_file():
            return _sniff_file(path)
        if path.is_dir():
            return any(_sniff_file(f) for f in sorted(path.glob("*.json"))[:20])
    except OSError:
        return False
    return False


def load(path: Path) -> Corpus:
    """Load a lens JSON file, or every lens JSON file of a folder.

    Raises:
        InputError: malformed JSON, or a file that is not a list of best-practice records.
    """
    if path.is_file():
        files = [path]
    else:
        # schema.json and other non-array files in the folder are not lens data.
        files = [f for f in sorted(path.glob("*.json")) if _sniff_file(f)]
        if not files:
            raise InputError(f"no lens JSON files (arrays of best practices) in {path}")
    documents: list[Document] = []
    for file in files:
        documents.extend(_load_file(file))
    lenses = sorted({d.lens for d in documents})
    return Corpus(
        source=str(path), documents=documents, name=f"{', '.join(lenses)} lens (structured JSON)"
    )


def _sniff_file(path: Path) -> bool:
    """Cheaply check that a file starts like an array of best-practice objects."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    with path.open(encoding="utf-8", errors="replace") as handle:
        head = handle.read(4096)
    return bool(_ARRAY_OF_OBJECTS.match(head)) and '"id"' in head and '"pillar"' in head


def _load_file(file: Path) -> list[Document]:
    """Turn one JSON file into documents, checking each record's required fields."""
    data = read_json(file)
    if not isinstance(data, list):
        raise InputError(f"{file}: not a lens JSON file (expected a list of best practices)")
    documents = []
    for position, record in enumerate(data, start=1):
        missing = [k for k in REQUIRED if not isinstance(record, dict) or not record.get(k)]
        if missing:
            raise InputError(
                f"{file}: record {position} is not a best practice (missing {', '.join(missing)})"
            )
        documents.append(_document(record, file))
    return documents


def _document(record: dict, file: Path) -> Document:
    """Map one best-practice record to a :class:`Document`."""
    bp_id = str(record["id"]).strip().upper()
    if not is_practice_id(bp_id):
        raise InputError(f"{file}: '{bp_id}' is not a best-practice id like GENSEC04-BP02")
    pillar = _PILLARS.get(str(record["pillar"]).upper())
    if pillar is None:
        raise InputError(f"{file}: {bp_id} has an unknown pillar '{record['pillar']}'")
    area = [a for a in record.get("area") or [] if isinstance(a, str) and a.strip()]
    return Document(
        lens=_lens_slug(record),
        doc_id=bp_id,
        title=str(record["title"]).strip(),
        url=str(record.get("href") or ""),
        source=str(file),
        sections=_sections(record),
        pillar=pillar,
        question_id=question_of(bp_id),
        # The practice's area: the question's short title in lens files (one entry there).
        question_title=area[-1] if area else None,
        bp_id=bp_id,
        risk=_RISKS.get(str(record.get("risk") or "").upper()),
        related=tuple(str(r) for r in record.get("relatedIds") or () if r != bp_id),
    )


def _sections(record: dict) -> tuple[Section, ...]:
    """Build the document sections from the record's text fields, in page order.

    The risk level is a field of the document, not a section (as for markdown pages).
    """
    outcome = record.get("desired_outcome") or record.get("outcome")
    parts = (
        ("Overview", record.get("description")),
        ("Desired outcome", outcome),
        ("Benefits", record.get("benefits")),
        ("Anti-patterns", record.get("anti_patterns")),
        ("Implementation steps", record.get("implementation_guidance")),
        ("Resources", record.get("resources")),
    )
    sections = [Section(h, _text(v)) for h, v in parts if _text(v)]
    return tuple(sections) or (Section("Overview", str(record["title"])),)


def _text(value: object) -> str:
    """Return a string field as is, a list of strings as bullet lines."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        items = [str(v).strip() for v in value if str(v).strip()]
        return "\n".join(f"- {item}" for item in items) if len(items) > 1 else "".join(items)
    return ""


def _lens_slug(record: dict) -> str:
    """Return the lens slug of a record (``GENERATIVE_AI`` -> ``generative-ai``)."""
    lens = str(record.get("lens") or "FRAMEWORK").strip().lower()
    return re.sub(r"[^a-z0-9]+", "-", lens).strip("-") or "framework"
