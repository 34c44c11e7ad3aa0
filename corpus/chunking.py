"""Split documents into chunks that follow their structure.

A chunk never crosses a section boundary and never splits a sentence or a list item (a
single sentence longer than ``hard_max`` characters is the only exception: it is cut at
word boundaries so no chunk is unbounded). Each chunk carries a context line naming the
lens, question and practice, so a passage stays meaningful on its own. Chunk ids are
``<lens>/<doc_id>#<n>``: the same documents always give the same ids.
"""

from __future__ import annotations

from collections.abc import Iterable

from corpus.models import Chunk, Document
from corpus.text import split_units

CHUNKER_VERSION = "1"
TARGET_CHARS = 700
HARD_MAX_CHARS = 1200
MIN_CHARS = 120
SKIPPED_SECTIONS = frozenset({"Resources"})


def _cut_long(unit: str, hard_max: int) -> list[str]:
    if len(unit) <= hard_max:
        return [unit]
    pieces, current = [], ""
    for word in unit.split(" "):
        if current and len(current) + 1 + len(word) > hard_max:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return pieces + ([current] if current else [])


def pack(
    units: Iterable[str], target: int = TARGET_CHARS, hard_max: int = HARD_MAX_CHARS
) -> list[str]:
    """Greedily pack whole units into pieces of about ``target`` characters."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for unit in (p for u in units for p in _cut_long(u, hard_max)):
        if current and size + len(unit) + 1 > target:
            pieces.append(_joined(current))
            current, size = [], 0
        current.append(unit)
        size += len(unit) + 1
    if current:
        pieces.append(_joined(current))
    return pieces


def _joined(units: list[str]) -> str:
    """Join units: list items stay on their own lines, sentences flow as a paragraph."""
    text = units[0]
    for previous, unit in zip(units, units[1:], strict=False):
        is_list = unit.startswith("- ") or previous.startswith("- ")
        text += ("\n" if is_list else " ") + unit
    return text


def context_line(doc: Document) -> str:
    """Return the heading line that puts a chunk of ``doc`` in context."""
    parts = []
    if doc.bp_id:
        parts.append(f"{doc.bp_id} {doc.title}")
    else:
        parts.append(doc.title)
    if doc.question_id and doc.question_title and doc.question_title != doc.title:
        parts.append(f"{doc.question_id} {doc.question_title}")
    if doc.pillar:
        parts.append(doc.pillar)
    return " | ".join(parts)


def chunk_document(doc: Document, target: int = TARGET_CHARS) -> list[Chunk]:
    """Chunk one document; short trailing pieces join the previous chunk of the same section."""
    chunks: list[Chunk] = []
    context = context_line(doc)
    for section in doc.sections:
        if section.heading in SKIPPED_SECTIONS:
            continue
        pieces = pack(split_units(section.text), target)
        if len(pieces) > 1 and len(pieces[-1]) < MIN_CHARS:
            pieces[-2:] = [_joined([pieces[-2], pieces[-1]])]
        for piece in pieces:
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.lens}/{doc.doc_id}#{len(chunks)}",
                    lens=doc.lens,
                    pillar=doc.pillar,
                    question_id=doc.question_id,
                    question_title=doc.question_title,
                    bp_id=doc.bp_id,
                    title=doc.title,
                    section=section.heading,
                    risk=doc.risk,
                    url=doc.url,
                    source=doc.source,
                    text=piece,
                    context=context,
                )
            )
    return chunks


def chunk_documents(docs: Iterable[Document], target: int = TARGET_CHARS) -> list[Chunk]:
    """Chunk every document; duplicate document ids keep their first occurrence."""
    seen: set[tuple[str, str]] = set()
    out: list[Chunk] = []
    for doc in docs:
        key = (doc.lens, doc.doc_id)
        if key in seen:
            continue
        seen.add(key)
        out.extend(chunk_document(doc, target))
    return out
