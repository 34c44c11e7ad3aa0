"""Load lens markdown in the crawl layout of ``wa-references``.

Recognised shapes:
- a lens folder ``lenses/<lens>/`` with one file per question (``GENSEC04.md``) or per pillar,
  ``# <ID> — <title>`` file headings, ``# GENSEC04-BP02 Title`` practice headings and
  ``*Source: <url>*`` lines;
- the ``lenses/`` root holding many such folders (every lens is loaded);
- the Framework ``pillars/`` folder (``## Question SEC01`` then ``# SEC 1 — <question>``),
  loaded as lens ``framework``.
"""

from __future__ import annotations

import re
from pathlib import Path

from corpus.errors import InputError
from corpus.markdown import clean_inline, parse_page_body
from corpus.models import Corpus, Document, Section
from corpus.vocabulary import PILLARS, PRACTICE_ID, PRACTICE_IN_TEXT, QUESTION_ID, question_of

_PILLAR_LINE = re.compile(r"^\*\*Pillar\*\*:\s*(.+?)\s*$")
_META_LINE = re.compile(r"^\*\*(Pillar|Best Practices|Saga|Capability)\*\*:")
_H1 = re.compile(r"^#\s+(.*?)\s*$")
_BP_HEADING = re.compile(rf"^({PRACTICE_ID})\s+(.*)$")
_QUESTION_HEADING = re.compile(rf"^({QUESTION_ID})(?:\s+[—-]|:)\s+(.*)$")
_FRAMEWORK_QUESTION = re.compile(rf"^## Question ({QUESTION_ID})\s*$")


def _lens_dirs(path: Path) -> list[Path]:
    if path.is_file():
        return [path.parent]
    if any(path.glob("*.md")):
        return [path]
    return sorted(p for p in path.iterdir() if p.is_dir() and any(p.glob("*.md")))


def _looks_like_lens_file(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="ignore")[:6000]
    except OSError:
        return False
    return bool(re.search(r"^\*\*Pillar\*\*:", head[:800], re.M)) or bool(
        re.search(r"^\*Source: https://docs\.aws\.amazon\.com/wellarchitected/", head, re.M)
    )


def sniff(path: Path) -> bool:
    """Return True for a crawl-layout lens file, lens folder, lenses root or pillars folder."""
    try:
        if path.is_file():
            return path.suffix == ".md" and _looks_like_lens_file(path)
        return any(
            _looks_like_lens_file(f) for d in _lens_dirs(path) for f in sorted(d.glob("*.md"))[:3]
        )
    except OSError:
        return False


def load(path: Path) -> Corpus:
    """Load every lens page under ``path`` (a file, a lens folder, or a folder of lenses)."""
    files = (
        [path] if path.is_file() else [f for d in _lens_dirs(path) for f in sorted(d.glob("*.md"))]
    )
    documents: list[Document] = []
    for file in files:
        if file.name == "manifest.md" or not _looks_like_lens_file(file):
            continue
        documents.extend(_load_file(file))
    if not documents:
        raise InputError(f"no lens pages found in {path}")
    return Corpus(source=str(path), documents=documents)


def _lens_slug(file: Path) -> str:
    """Name the lens after its folder (``lenses/<lens>/``); the pillars folder is the Framework."""
    return "framework" if file.parent.name == "pillars" else file.parent.name


def _load_file(file: Path) -> list[Document]:
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {file}: {exc}") from exc
    # Each block is (heading, body, pillar); a "**Pillar**:" line sets the pillar from there on.
    blocks: list[tuple[str, list[str], str | None]] = []
    framework_q: dict[int, str] = {}
    pillar: str | None = None
    for line in lines:
        if (found := _PILLAR_LINE.match(line)) and found.group(1) in PILLARS:
            pillar = found.group(1)
        if fq := _FRAMEWORK_QUESTION.match(line):
            framework_q[len(blocks)] = fq.group(1)
        if h1 := _H1.match(line):
            blocks.append((h1.group(1), [], pillar))
        elif blocks and not _META_LINE.match(line):
            blocks[-1][1].append(line)
    blocks = [(h, body, p or pillar) for h, body, p in blocks]
    lens = _lens_slug(file)
    questions: dict[str, str] = {}
    documents: list[Document] = []
    for position, (heading, body, pillar) in enumerate(blocks):
        heading = clean_inline(heading)
        bp = _BP_HEADING.match(heading)
        if bp:
            documents.append(
                _practice(lens, pillar, bp.group(1), bp.group(2), body, questions, file)
            )
            continue
        qid = framework_q.get(position)
        question = _QUESTION_HEADING.match(heading)
        if not qid and question and not PRACTICE_IN_TEXT.search(heading):
            qid = question.group(1)
        if qid:
            title = (
                re.sub(r"^[A-Z]+\s*\d+\s+[—-]\s+", "", heading)
                if framework_q
                else (question.group(2) if question else heading)
            )
            questions[qid] = title
            sections, _, url = parse_page_body(body)
            if sections:
                documents.append(_page(lens, pillar, qid, title, sections, url, file, qid))
            continue
        sections, _, url = parse_page_body(body)
        if sections:
            slug = (url or "").rsplit("/", 1)[-1].removesuffix(".html") or _slug(heading)
            documents.append(_page(lens, pillar, slug, heading, sections, url, file, None))
    return documents


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "page"


def _practice(
    lens: str,
    pillar: str | None,
    bp_id: str,
    title: str,
    body: list[str],
    questions: dict[str, str],
    file: Path,
) -> Document:
    sections, risk, url = parse_page_body(body)
    question_id = question_of(bp_id)
    related = tuple(
        dict.fromkeys(
            m
            for s in sections
            if s.heading == "Resources"
            for m in PRACTICE_IN_TEXT.findall(s.text)
            if m != bp_id
        )
    )
    return Document(
        lens=lens,
        doc_id=bp_id,
        title=title,
        url=url or "",
        source=str(file),
        sections=tuple(sections) or (Section("Overview", title),),
        pillar=pillar,
        question_id=question_id,
        question_title=questions.get(question_id),
        bp_id=bp_id,
        risk=risk,
        related=related,
    )


def _page(
    lens: str,
    pillar: str | None,
    doc_id: str,
    title: str,
    sections: list[Section],
    url: str | None,
    file: Path,
    question_id: str | None,
) -> Document:
    return Document(
        lens=lens,
        doc_id=doc_id,
        title=title,
        url=url or "",
        source=str(file),
        sections=tuple(sections),
        pillar=pillar,
        question_id=question_id,
        question_title=title if question_id else None,
    )
