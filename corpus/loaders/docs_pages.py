"""Load official docs pages saved as ``.md`` (the site's markdown twin) or ``.html``.

Used for a user's folder of saved pages and for the ``fetched`` cache that
``lenswise corpus fetch`` fills. A page is a best practice (``# GENSEC04-BP02 Title``
or a file named ``gensec04-bp02.md``), a question (``gensec04.md``, or a
``| GENSEC04: How do you ...? |`` row) or a general page (design principles, scenarios).
Page bodies are split by :func:`corpus.markdown.parse_page_body`, like every markdown
source; :func:`html_to_markdown` is shared with the PDF loader
and the fetcher.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import yaml

from corpus.errors import InputError
from corpus.markdown import parse_page_body
from corpus.models import Corpus, Document, Section
from corpus.vocabulary import (
    PILLARS,
    PRACTICE_ID,
    PRACTICE_IN_TEXT,
    QUESTION_ID,
    is_practice_id,
    pillar_of,
    question_of,
)

DOCS_BASE = "https://docs.aws.amazon.com/wellarchitected/latest"
PAGE_SUFFIXES = (".md", ".html", ".htm")
TOC_FILE = "toc-contents.json"
MANIFEST_FILE = "fetch.json"

BP_HEADING = re.compile(rf"^({PRACTICE_ID})\b[\s:.\-–—]*(.*)$")
QUESTION_LINE = re.compile(rf"^\|?\s*({QUESTION_ID})\s*:\s*(.+?)\s*\|?\s*$", re.M)
BP_FILE = re.compile(rf"^({QUESTION_ID})-bp(\d{{2}})$", re.I)
"""A best-practice page saved under its id (``gensec04-bp02.md``)."""
QUESTION_FILE = re.compile(r"^([a-z]{2,12}\d{2})$", re.I)
LENS_URL = re.compile(r"/wellarchitected/[^/]+/([a-z0-9-]+?)(?:-lens)?/", re.I)

_RISK = {"HIGH": "High", "MEDIUM": "Medium", "LOW": "Low"}
_ANCHOR = re.compile(r"<a\s+name=\"[^\"]*\"\s*>\s*</a>", re.I)


def slugify(text: str) -> str:
    """Return a lowercase, hyphenated slug of ``text``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "page"


def html_to_markdown(html: str) -> str:
    """Convert a docs HTML page to markdown, keeping only its main content."""
    import html2text

    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    text = converter.handle(_main_content(html))
    if not re.search(r"^# ", text, re.M):
        title = re.search(r"<title[^>]*>(.*?)</title>", html, re.I | re.S)
        if title:
            text = f"# {title.group(1).split(' - ')[0].strip()}\n\n{text}"
    return text


def sniff(path: Path) -> bool:
    """Return True for a docs page file, or a folder holding docs pages or ``toc-contents.json``."""
    try:
        if path.is_file():
            return path.suffix.lower() in PAGE_SUFFIXES and _looks_like_page(path)
        if path.is_dir():
            if (path / TOC_FILE).is_file():
                return True
            return any(_looks_like_page(p) for p in _page_files(path)[:50])
    except OSError:
        return False
    return False


def load(path: Path) -> Corpus:
    """Load one saved page or a folder of them into a :class:`Corpus`.

    Raises:
        InputError: the path is unreadable or holds no docs pages.
    """
    files = [path] if path.is_file() else _page_files(path)
    if not files:
        raise InputError(f"no .md or .html docs pages in {path}")
    folder = path if path.is_dir() else path.parent
    toc = _read_toc(folder)
    manifest = read_json_object(folder / MANIFEST_FILE) if path.is_dir() else {}
    pages = [_parse_page(file, toc) for file in files]
    lens = manifest.get("lens") or _guess_lens(pages, folder)
    documents = [_to_document(page, lens, str(page["file"])) for page in pages]
    documents = _fill_question_titles(documents, toc)
    name = f"{lens} lens (docs pages)"
    if manifest.get("fetched_at"):
        name = f"{lens} lens (fetched {manifest['fetched_at'][:10]})"
    return Corpus(source=str(path), documents=documents, name=name)


# -- page parsing ---------------------------------------------------------------------------


def _parse_page(file: Path, toc: dict[str, dict]) -> dict:
    """Return the parts of one page: kind, id, title, url, body, front matter."""
    try:
        raw = file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}") from exc
    text = html_to_markdown(raw) if file.suffix.lower() in (".html", ".htm") else raw
    meta, text = _front_matter(text)
    text = _ANCHOR.sub("", text)
    heading = re.search(r"^#[ \t]+(.+?)[ \t]*$", text, re.M)
    title = heading.group(1).strip() if heading else ""
    page = {
        "file": file,
        "stem": file.stem.lower(),
        "meta": meta,
        "body": text[heading.end() :] if heading else text,
        "url": meta.get("url") or _canonical_url(raw) or "",
    }
    page.update(_classify(title, page, toc.get(page["stem"], {})))
    return page


def _classify(title: str, page: dict, entry: dict) -> dict:
    """Tell a best-practice page from a question page and a general page."""
    meta, stem = page["meta"], page["stem"]
    toc_title = str(entry.get("title", ""))
    bp = BP_HEADING.match(title) or BP_HEADING.match(str(meta.get("title_full", "")))
    meta_id = str(meta.get("id") or "").upper()
    file_bp = BP_FILE.match(stem)
    if bp:
        practice = bp.group(1), bp.group(2)
    elif is_practice_id(meta_id):
        practice = meta_id, str(meta.get("title") or "")
    elif file_bp:
        practice = f"{file_bp.group(1).upper()}-BP{file_bp.group(2)}", title
    else:
        practice = None
    if practice:
        bp_id, bp_title = practice
        toc_bp = BP_HEADING.match(toc_title)
        bp_title = bp_title or (toc_bp.group(2) if toc_bp else toc_title) or bp_id
        return {"kind": "bp", "id": bp_id, "title": bp_title}
    # The question row opens a question page; further down a page it is only a mention.
    opening = "\n".join([ln for ln in page["body"].splitlines() if ln.strip()][:3])
    row = QUESTION_LINE.search(opening)
    file_q = QUESTION_FILE.match(stem) and pillar_of(stem)
    if row and not pillar_of(row.group(1)):
        row = None
    if row and (not file_q or row.group(1).lower() == stem) or file_q:
        qid = row.group(1) if row else stem.upper()
        question = row.group(2) if row else None
        return {
            "kind": "question",
            "id": qid,
            "title": title or toc_title or qid,
            "question": question,
        }
    return {"kind": "general", "id": slugify(stem), "title": title or toc_title or stem}


def _to_document(page: dict, lens: str, source: str) -> Document:
    """Turn a parsed page into a :class:`Document`."""
    body = page["body"]
    if page["kind"] == "question":
        body = QUESTION_LINE.sub("", body, count=1)
        body = re.sub(r"^\|[\s|:-]*\|?\s*$", "", body, flags=re.M)  # table rules, empty rows
        body = re.split(r"^\s*\*\*Topics\*\*\s*$", body, flags=re.M)[0]  # the page's own toc
    sections, risk, source_url = parse_page_body(body.splitlines())
    url = page["url"] or source_url or _official_url(lens, page["stem"])
    common = {
        "lens": lens,
        "doc_id": page["id"],
        "title": page["title"],
        "url": url,
        "source": source,
    }
    if page["kind"] == "bp":
        meta = page["meta"]
        risk = risk or _RISK.get(str(meta.get("risk_level") or meta.get("risk") or "").upper())
        qid = question_of(page["id"])
        pillar = meta.get("pillar") if meta.get("pillar") in PILLARS else pillar_of(qid)
        return Document(
            **common,
            sections=tuple(sections) or (Section("Overview", page["title"]),),
            pillar=pillar,
            question_id=qid,
            bp_id=page["id"],
            risk=risk,
            related=_related(page["id"], sections),
        )
    if page["kind"] == "question":
        if page.get("question"):
            sections.insert(0, Section("Question", page["question"]))
        return Document(
            **common,
            sections=tuple(sections),
            pillar=pillar_of(page["id"]),
            question_id=page["id"],
            question_title=page["title"],
        )
    return Document(**common, sections=tuple(sections))


def _related(bp_id: str, sections: list[Section]) -> tuple[str, ...]:
    """Return the other bp ids a page's Resources section names."""
    resources = " ".join(s.text for s in sections if s.heading == "Resources")
    found = PRACTICE_IN_TEXT.findall(resources)
    return tuple(dict.fromkeys(i for i in found if i != bp_id))


def _fill_question_titles(documents: list[Document], toc: dict[str, dict]) -> list[Document]:
    """Give best practices the short title of their question (question page, else the toc)."""
    titles: dict[str, str | None] = {
        d.question_id: d.title for d in documents if d.question_id and not d.bp_id
    }
    for entry in toc.values():
        parent = entry.get("parent") or ""
        if QUESTION_FILE.match(parent) and parent.upper() not in titles:
            titles[parent.upper()] = entry.get("parent_title")
    return [
        replace(d, question_title=titles.get(d.question_id or ""))
        if d.bp_id and not d.question_title
        else d
        for d in documents
    ]


def _front_matter(text: str) -> tuple[dict, str]:
    """Split YAML front matter (``---`` lines) from the page text."""
    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n", text, re.S)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}, text
    return (meta if isinstance(meta, dict) else {}), text[match.end() :]


def _main_content(html: str) -> str:
    """Return the main column of a docs page (no navigation, header or footer) when found."""
    start = re.search(r"<div[^>]+id=[\"']main-col-body[\"']|<main\b", html, re.I)
    if not start:
        return html
    end = re.compile(r"<div[^>]+id=[\"']main-col-footer|<awsdocs-|<footer\b|</main>", re.I)
    stop = end.search(html, start.end())
    return html[start.start() : stop.start() if stop else len(html)]


def _canonical_url(html: str) -> str | None:
    """Return the ``<link rel="canonical">`` of an HTML page, if any."""
    match = re.search(r"<link[^>]+rel=[\"']canonical[\"'][^>]*>", html[:20000], re.I)
    href = re.search(r"href=[\"']([^\"']+)[\"']", match.group(0)) if match else None
    return href.group(1) if href else None


def _official_url(lens: str, stem: str) -> str:
    """Return the docs-site URL of page ``stem`` (empty when the name is not a docs page name)."""
    if not re.fullmatch(r"[a-z0-9_.-]+", stem):
        return ""
    root = "framework" if lens == "framework" else f"{lens}-lens"
    return f"{DOCS_BASE}/{root}/{stem}.html"


def _guess_lens(pages: list[dict], folder: Path) -> str:
    """Return the lens slug: from page URLs, else the id prefixes, else the folder name."""
    for page in pages:
        match = LENS_URL.search(page["url"])
        if match:
            return match.group(1).lower()
    prefixes = {re.sub(r"\d.*", "", p["id"]) for p in pages if p["kind"] != "general"}
    prefixes = {re.sub(r"(PERF|COST|OPS|SEC|REL|SUS)$", "", p) for p in prefixes}
    if prefixes == {"GEN"}:
        return "generative-ai"
    if prefixes == {""}:
        return "framework"
    return slugify(re.sub(r"-lens$", "", folder.resolve().name))


# -- folder helpers -------------------------------------------------------------------------


def _page_files(folder: Path) -> list[Path]:
    """Return the page files of a folder, sorted, ignoring hidden and temporary files."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in PAGE_SUFFIXES and not p.name.startswith(".")
    )


def _looks_like_page(path: Path) -> bool:
    """Cheaply tell whether a file is a lens docs page (ids, lens markers, docs URL)."""
    if BP_FILE.match(path.stem) or QUESTION_FILE.match(path.stem) and pillar_of(path.stem):
        return True
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return bool(
        PRACTICE_IN_TEXT.search(head)
        or QUESTION_LINE.search(head)
        or re.search(r"wellarchitected|well-architected", head, re.I)
    )


def _read_toc(folder: Path) -> dict[str, dict]:
    """Map page stem -> {title, parent, parent_title} from ``toc-contents.json`` if present."""
    data = read_json_object(folder / TOC_FILE)
    entries: dict[str, dict] = {}

    def walk(items: list, parent: dict) -> None:
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            stem = Path(str(item.get("href", "")).split("#")[0]).stem.lower()
            if stem:
                entries.setdefault(
                    stem,
                    {
                        "title": item.get("title", ""),
                        "parent": parent.get("stem"),
                        "parent_title": parent.get("title"),
                    },
                )
            walk(item.get("contents", []), {"stem": stem, "title": item.get("title")})

    walk(data.get("contents", []), {})
    return entries


def read_json_object(path: Path) -> dict:
    """Return a JSON object from ``path``, or {} when it is absent or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
