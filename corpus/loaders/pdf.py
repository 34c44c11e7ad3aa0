"""Load a PDF of a lens: its text, split at best-practice headings, becomes documents.

The text is extracted with pypdf. Running headers and footers (lines repeated on most
pages) are dropped; ``GENSEC04-BP02 Title`` lines start a best practice and
``GENSEC04: How do you ...?`` lines start a question. A heading line counts only when the
text after it reads like a page of its own (risk line, desired outcome, guidance, or
enough text), so table-of-contents entries and "related best practices" lists do not
split pages. Text before the first heading (cover, contents, introduction) is skipped.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

from corpus.errors import InputError
from corpus.loaders.docs_pages import DOCS_BASE, slugify
from corpus.markdown import parse_page_body
from corpus.models import Corpus, Document, Section
from corpus.vocabulary import PRACTICE_ID, PRACTICE_IN_TEXT, QUESTION_ID, pillar_of

_BP_LINE = re.compile(rf"^({PRACTICE_ID})\s+(\S.*?)\s*$")
_QUESTION_LINE = re.compile(rf"^({QUESTION_ID})\s*:\s+(\S.*?)\s*$")
_TOC_ENTRY = re.compile(r"(\.\s*){3,}\s*\d+\s*$|\s\d{1,4}$")
_PAGE_NUMBER = re.compile(r"^\s*(page\s+)?\d{1,4}(\s+of\s+\d+)?\s*$", re.I)
_STRUCTURE = re.compile(r"desired\s+outcome|level\s+of\s+risk|implementation\s+guidance", re.I)
_LEAD_IN = re.compile(
    # The lens words these labels in several ways ("if this practice is not established"...),
    # so only their first words are fixed.
    r"^[ \t]*(desired\s+outcome|benefits\s+of\s+establishing[^:\n]{0,60}"
    r"|level\s+of\s+risk[^:]{0,90}|common\s+anti-patterns)\s*:",
    re.I | re.M,
)
_PLAIN_HEADING = re.compile(
    r"^[ \t]*(implementation guidance|implementation steps|resources)[ \t]*$", re.I | re.M
)
MIN_PAGE_CHARS = 400
# Lenses whose official page names are their ids (``gensec04-bp02.html``).
_LENS_OF_PREFIX = {"GEN": "generative-ai", "": "framework"}


def sniff(path: Path) -> bool:
    """Return True for a ``.pdf`` file that starts like a PDF, or a folder holding one."""
    try:
        files = [path] if path.is_file() else sorted(path.glob("*.pdf")) if path.is_dir() else []
        return any(_is_pdf(f) for f in files)
    except OSError:
        return False


def load(path: Path) -> Corpus:
    """Load one lens PDF (or every PDF of a folder) into documents.

    Raises:
        InputError: the file is not a readable PDF, is encrypted, or has no extractable text.
    """
    files = [path] if path.is_file() else [f for f in sorted(path.glob("*.pdf")) if _is_pdf(f)]
    documents: list[Document] = []
    titles = []
    for file in files:
        title, pages = _read_pdf(file)
        titles.append(title)
        documents.extend(_documents(_strip_running_lines(pages), file, title))
    return Corpus(source=str(path), documents=documents, name="; ".join(titles))


def _is_pdf(path: Path) -> bool:
    """Check the file name and the ``%PDF-`` magic bytes."""
    if path.suffix.lower() != ".pdf" or not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.read(1024).lstrip().startswith(b"%PDF-")


def _read_pdf(file: Path) -> tuple[str, list[str]]:
    """Return the PDF's title and the text of each page."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs repairs of damaged files; the one-line error below is what the user sees.
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        reader = PdfReader(file)
        if reader.is_encrypted:
            raise InputError(f"{file}: the PDF is encrypted; save an unencrypted copy")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise InputError(f"{file}: not a readable PDF ({exc})") from exc
    finally:
        logger.setLevel(level)
    if not any(p.strip() for p in pages):
        raise InputError(f"{file}: the PDF has no extractable text (scanned images?)")
    return title or file.stem, pages


def _strip_running_lines(pages: list[str]) -> list[str]:
    """Drop page numbers and lines repeated on most pages (running headers and footers)."""
    per_page = [[ln.strip() for ln in page.splitlines()] for page in pages]
    counts = Counter(line for lines in per_page for line in set(lines) if line)
    repeated = {ln for ln, n in counts.items() if len(pages) >= 4 and n >= 0.6 * len(pages)}
    return [
        "\n".join(ln for ln in lines if ln not in repeated and not _PAGE_NUMBER.match(ln))
        for lines in per_page
    ]


def _documents(pages: list[str], file: Path, file_title: str) -> list[Document]:
    """Split the running text at headings and turn each part into a document."""
    lines = "\n".join(pages).splitlines()
    heads = _heading_positions(lines)
    # A question's short title ("Prompt security") is the line above its id line.
    short_titles = {
        ident: lines[start - 1].strip()
        for start, kind, ident, _ in heads
        if kind == "question" and start > 0 and _is_short_title(lines[start - 1])
    }
    parts: dict[str, tuple[str, str, list[str]]] = {}
    for index, (start, kind, ident, title) in enumerate(heads):
        end = heads[index + 1][0] if index + 1 < len(heads) else len(lines)
        if index + 1 < len(heads) and heads[index + 1][2] in short_titles:
            end -= 1
        body = lines[start + 1 : end]
        if kind == "bp" and body and _continues_title(body[0]):
            title, body = f"{title} {body[0].strip()}", body[1:]
        while kind == "question" and not title.endswith("?") and body and len(title) < 300:
            title, body = f"{title} {body[0].strip()}", body[1:]
        previous = parts.get(ident)
        if previous is None or len("".join(body)) > len("".join(previous[2])):
            parts[ident] = (kind, title, body)
    lens = _lens(parts, title=file_title)
    return [
        _document(ident, kind, title, body, lens=lens, file=file, short_titles=short_titles)
        for ident, (kind, title, body) in parts.items()
    ]


def _heading_positions(lines: list[str]) -> list[tuple[int, str, str, str]]:
    """Return (line, kind, id, title) for every heading line that starts a real page."""
    candidates = []
    for number, line in enumerate(lines):
        bp = _BP_LINE.match(line.strip())
        question = _QUESTION_LINE.match(line.strip()) if not bp else None
        match = bp or question
        if match and pillar_of(match.group(1)) and not _TOC_ENTRY.search(line):
            candidates.append((number, "bp" if bp else "question", match.group(1), match.group(2)))
    kept = []
    for index, candidate in enumerate(candidates):
        end = candidates[index + 1][0] if index + 1 < len(candidates) else len(lines)
        text = "\n".join(lines[candidate[0] + 1 : end])
        if candidate[1] == "question" or _STRUCTURE.search(text) or len(text) >= MIN_PAGE_CHARS:
            kept.append(candidate)
    return kept


def _continues_title(line: str) -> bool:
    """Tell a wrapped heading's second line (short, lowercase start, no full stop)."""
    line = line.strip()
    return bool(line) and line[0].islower() and len(line) < 70 and not line.endswith(".")


def _is_short_title(line: str) -> bool:
    """Tell a question's short title line: short, capitalised, not a sentence."""
    line = line.strip()
    return 0 < len(line) <= 60 and line[0].isupper() and not line.endswith((".", ":", ","))


def _document(
    ident: str,
    kind: str,
    title: str,
    body: list[str],
    *,
    lens: str,
    file: Path,
    short_titles: dict[str, str],
) -> Document:
    """Build a best-practice or question document from its lines."""
    text = _PLAIN_HEADING.sub(lambda m: "## " + m.group(1), "\n".join(body))
    text = _LEAD_IN.sub(lambda m: "**" + " ".join(m.group(1).split()) + ":**", text)
    sections, risk, _ = parse_page_body(text.splitlines())
    question_id = ident.split("-BP")[0]
    url = f"{DOCS_BASE}/{lens}-lens/{ident.lower()}.html" if lens == "generative-ai" else ""
    common = {
        "lens": lens,
        "doc_id": ident,
        "url": url,
        "source": str(file),
        "pillar": pillar_of(ident),
        "question_id": question_id,
        "question_title": short_titles.get(question_id),
    }
    if kind == "question":
        sections = [Section("Question", title), *sections]
        return Document(**common, title=short_titles.get(ident) or title, sections=tuple(sections))
    sections = sections or [Section("Overview", title)]
    resources = " ".join(s.text for s in sections if s.heading == "Resources")
    related = tuple(dict.fromkeys(i for i in PRACTICE_IN_TEXT.findall(resources) if i != ident))
    return Document(
        **common,
        title=title,
        sections=tuple(sections),
        bp_id=ident,
        risk=risk,
        related=related,
    )


def _lens(parts: dict, title: str) -> str:
    """Return the lens slug: known id prefixes first, else the PDF's title."""
    prefixes = {re.sub(r"(PERF|COST|OPS|SEC|REL|SUS)?\d.*$", "", ident) for ident in parts}
    if len(prefixes) == 1 and next(iter(prefixes)) in _LENS_OF_PREFIX:
        return _LENS_OF_PREFIX[next(iter(prefixes))]
    return slugify(re.sub(r"(?i)\blens\b", "", title))
