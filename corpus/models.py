"""Typed records that flow from the corpus loaders to the index: documents and chunks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from corpus.vocabulary import page_key


@dataclass(frozen=True)
class Section:
    """One titled part of a document, e.g. ``Desired outcome`` or ``Implementation steps``."""

    heading: str
    text: str


@dataclass(frozen=True)
class Document:
    """One lens page: a best practice, a question overview, or a general page (preamble, scenario).

    Loaders of every source produce these; the chunker turns them into :class:`Chunk` records.
    """

    lens: str
    """Lens slug, e.g. ``generative-ai``; ``framework`` for the Well-Architected pillars."""
    doc_id: str
    """Stable identifier inside the lens: the bp id, question id, or a page slug."""
    title: str
    """Best-practice title, or the page title for other documents."""
    url: str
    """Official documentation page (empty when the source has none)."""
    source: str
    """``builtin``, ``fetched`` or the path / URL the document came from."""
    sections: tuple[Section, ...]
    pillar: str | None = None
    question_id: str | None = None
    question_title: str | None = None
    bp_id: str | None = None
    risk: str | None = None
    services: tuple[str, ...] = ()
    """Service slugs the practice concerns (digest only)."""
    related: tuple[str, ...] = ()
    """Related best-practice ids."""

    @property
    def text(self) -> str:
        """Return the whole document as plain text, section headings included."""
        return "\n\n".join(f"{s.heading}\n{s.text}" if s.heading else s.text for s in self.sections)


@dataclass(frozen=True)
class Chunk:
    """What the index stores and search returns (DESIGN.md data model)."""

    chunk_id: str
    lens: str
    pillar: str | None
    question_id: str | None
    question_title: str | None
    bp_id: str | None
    title: str
    section: str
    risk: str | None
    url: str
    source: str
    text: str
    context: str = ""
    """Heading line prepended for embedding and BM25 (lens, question, practice title)."""

    @property
    def page_id(self) -> str:
        """The citable id of the chunk's page (bp id, question id or page slug)."""
        return page_key(self.bp_id, self.chunk_id)

    def to_dict(self) -> dict:
        """Return a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Chunk:
        """Rebuild a chunk from :meth:`to_dict` output, ignoring unknown keys."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Corpus:
    """Documents of one source plus what is known about the source itself."""

    source: str
    documents: list[Document] = field(default_factory=list)
    edition: str | None = None
    """Lens edition the source reflects (``2025-11`` for the digest), when known."""
    name: str | None = None

    def best_practices(self) -> dict[str, Document]:
        """Return best-practice documents keyed by bp id."""
        return {d.bp_id: d for d in self.documents if d.bp_id}
