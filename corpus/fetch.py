"""Download a lens from the official docs site into the local cache (``lenswise corpus fetch``).

The lens root (``<base>/<lens>-lens/``) publishes ``toc-contents.json``: nested ``contents``
entries with ``title`` and ``href`` (``gensec04-bp02.html``). Every page has a markdown twin
next to it (``gensec04-bp02.md``); when the twin is missing the HTML page is converted to
markdown instead. Each page lands in the cache as ``<page>.md`` with a small front matter
(official URL, toc title, what it was fetched from), written to a temporary file and renamed,
so a page file that exists is complete: a second run skips it (resume). ``fetch.json``
records the base URL, the time and the page count. Nothing in the cache is touched when
the site cannot be reached.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from corpus.errors import InputError, LenswiseError
from corpus.loaders.docs_pages import MANIFEST_FILE, TOC_FILE, html_to_markdown, read_json_object

USER_AGENT = "lenswise/0.1 (Well-Architected lens reader; 4 connections at most)"
CONCURRENCY = 4
ATTEMPTS = 4
BACKOFF_S = 0.5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 30.0


@dataclass
class FetchResult:
    """What one ``fetch_lens`` run did."""

    folder: Path
    """The cache folder of the lens."""
    total: int = 0
    """Pages listed in the table of contents."""
    fetched: int = 0
    """Pages downloaded by this run."""
    skipped: int = 0
    """Pages already complete in the cache (not downloaded again)."""
    from_html: int = 0
    """Pages of this run converted from HTML because their ``.md`` twin was missing."""
    failed: dict[str, str] = field(default_factory=dict)
    """Page -> reason, for pages that could not be fetched."""


class _Unreachable(Exception):
    """The host did not answer (connection refused, DNS failure, timeouts) after retries."""


def lens_root(base_url: str, lens: str) -> str:
    """Return the lens's docs folder URL, ending in ``/``.

    Raises:
        InputError: the base URL is not an http(s) URL, or the lens is not a slug.
    """
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"malformed base URL '{base_url}': expected http(s)://host/path")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", lens):
        raise InputError(f"malformed lens name '{lens}': expected a slug like generative-ai")
    folder = "framework" if lens == "framework" else f"{lens}-lens"
    return f"{base_url.strip().rstrip('/')}/{folder}/"


def toc_pages(toc: object, root: str) -> list[tuple[str, str, str]]:
    """Return ``(page, href, title)`` for each page of the lens in toc order, without repeats."""
    pages: dict[str, tuple[str, str, str]] = {}

    def walk(items: object) -> None:
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            href = str(item.get("href") or "").split("#")[0].split("?")[0]
            url = urljoin(root, href) if href else ""
            page = url[len(root) :].removesuffix(".html") if url.startswith(root) else ""
            if page and url.endswith(".html") and re.fullmatch(r"[A-Za-z0-9_.-]+", page):
                pages.setdefault(page, (page, url, str(item.get("title") or "")))
            walk(item.get("contents"))

    walk(toc.get("contents") if isinstance(toc, dict) else None)
    return list(pages.values())


def fetch_lens(
    base_url: str,
    lens: str,
    cache: Path,
    *,
    concurrency: int = CONCURRENCY,
    attempts: int | None = None,
    backoff_s: float | None = None,
    progress: bool | None = None,
) -> FetchResult:
    """Download the lens's toc and pages into ``cache``, skipping pages already there.

    Args:
        base_url: root of the docs site, e.g. ``https://docs.aws.amazon.com/wellarchitected/latest``.
        lens: lens slug, e.g. ``generative-ai``.
        cache: the lens's cache folder (created when missing).
        concurrency: requests in flight at once.
        attempts: tries per request on 429/5xx and connection errors (default ``ATTEMPTS``).
        backoff_s: first retry delay, doubling on every further try (default ``BACKOFF_S``).
        progress: show a progress bar on stderr (None: only on a terminal).

    Raises:
        InputError: malformed URL or lens name, or no such lens on the site (exit code 2).
        LenswiseError: the site cannot be reached, or some pages failed (exit code 1).
    """
    root = lens_root(base_url, lens)
    fetcher = _Fetcher(
        root,
        cache,
        concurrency,
        ATTEMPTS if attempts is None else attempts,
        BACKOFF_S if backoff_s is None else backoff_s,
        progress,
    )
    try:
        return asyncio.run(fetcher.run(base_url))
    except _Unreachable as exc:
        raise LenswiseError(f"cannot reach {urlsplit(root).hostname}: {exc}") from exc


class _Fetcher:
    """One fetch run: an HTTP client, a concurrency limit, and the cache it writes to."""

    def __init__(self, root, cache, concurrency, attempts, backoff_s, progress) -> None:
        self.root, self.cache = root, cache
        self.attempts, self.backoff_s = max(1, attempts), backoff_s
        self.slots = asyncio.Semaphore(max(1, concurrency))
        self.concurrency = max(1, concurrency)
        self.progress = progress
        self.result = FetchResult(folder=cache)

    async def run(self, base_url: str) -> FetchResult:
        """Fetch the toc, then every page not yet cached; write the manifest."""
        limits = httpx.Limits(max_connections=self.concurrency)
        timeout = httpx.Timeout(30.0, connect=10.0)
        headers = {"User-Agent": USER_AGENT}
        async with httpx.AsyncClient(
            headers=headers, timeout=timeout, limits=limits, follow_redirects=True
        ) as client:
            self.client = client
            toc = await self._toc()
            self.cache.mkdir(parents=True, exist_ok=True)
            _remove_stale_temp_files(self.cache)
            _write_atomic(self.cache / TOC_FILE, json.dumps(toc, indent=1))
            pages = toc_pages(toc, self.root)
            todo = [p for p in pages if not (self.cache / f"{p[0]}.md").is_file()]
            self.result.total, self.result.skipped = len(pages), len(pages) - len(todo)
            records = await self._pages(todo)
        self._write_manifest(base_url, pages, records)
        self._raise_for_failures()
        return self.result

    async def _toc(self) -> object:
        """Download and parse ``toc-contents.json``."""
        url = urljoin(self.root, TOC_FILE)
        response = await self._get(url)
        if response.status_code == 404:
            raise InputError(
                f"no lens at {self.root} (toc-contents.json: HTTP 404): check --lens and --base-url"
            )
        if response.status_code != 200:
            raise LenswiseError(f"{url}: HTTP {response.status_code}")
        try:
            toc = response.json()
        except ValueError as exc:
            raise LenswiseError(f"{url}: not a table of contents (invalid JSON)") from exc
        if not toc_pages(toc, self.root):
            raise LenswiseError(f"{url}: the table of contents lists no pages of the lens")
        return toc

    async def _pages(self, todo: list[tuple[str, str, str]]) -> dict[str, dict]:
        """Fetch the pages with a bounded number in flight, updating a progress bar."""
        from tqdm import tqdm

        records: dict[str, dict] = {}
        bar = tqdm(
            total=self.result.total,
            initial=self.result.skipped,
            unit="page",
            desc="fetching",
            file=sys.stderr,
            disable=None if self.progress is None else not self.progress,
        )

        async def one(page: tuple[str, str, str]) -> None:
            async with self.slots:
                try:
                    records[page[0]] = await self._page(*page)
                except _Unreachable as exc:
                    self.result.failed[page[0]] = f"unreachable: {exc}"
                bar.update(1)

        try:
            await asyncio.gather(*(one(page) for page in todo))
        finally:
            bar.close()
        return records

    async def _page(self, page: str, html_url: str, title: str) -> dict:
        """Fetch one page's markdown twin (or its HTML) and write it to the cache."""
        md_url = html_url.removesuffix(".html") + ".md"
        response = await self._get(md_url)
        body, source, kind = response.text, md_url, "md"
        if response.status_code != 200 or _is_html(response):
            response = await self._get(html_url)
            if response.status_code != 200:
                self.result.failed[page] = f"HTTP {response.status_code}"
                return {}
            body, source, kind = html_to_markdown(response.text), html_url, "html"
            self.result.from_html += 1
        meta = {"url": html_url, "title": title, "fetched_from": source, "format": kind}
        front = "".join(f"{key}: {json.dumps(value)}\n" for key, value in meta.items())
        _write_atomic(self.cache / f"{page}.md", f"---\n{front}---\n\n{body.strip()}\n")
        self.result.fetched += 1
        return meta

    async def _get(self, url: str) -> httpx.Response:
        """GET with retries and exponential backoff on 429/5xx and connection errors.

        Raises:
            _Unreachable: every try failed to connect or timed out.
            InputError: the URL itself is unusable.
        """
        for attempt in range(self.attempts):
            last = attempt == self.attempts - 1
            try:
                response = await self.client.get(url)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise InputError(f"malformed URL '{url}': {exc}") from exc
            except httpx.TransportError as exc:
                if last:
                    raise _Unreachable(_reason(exc)) from exc
                await self._sleep(attempt)
                continue
            if response.status_code not in RETRY_STATUSES or last:
                return response
            await self._sleep(attempt, response.headers.get("Retry-After"))
        raise AssertionError("unreachable")  # the loop always returns or raises

    async def _sleep(self, attempt: int, retry_after: str | None = None) -> None:
        """Wait before the next try: Retry-After when the server sets it, else backoff."""
        delay = self.backoff_s * (2**attempt) * (1 + random.random() / 4)
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, min(float(retry_after), MAX_RETRY_AFTER_S))
        await asyncio.sleep(delay)

    def _write_manifest(self, base_url: str, pages: list, records: dict[str, dict]) -> None:
        """Record what the cache holds, keeping what earlier runs knew about skipped pages."""
        old = read_json_object(self.cache / MANIFEST_FILE).get("pages", {})
        entries = {}
        for page, url, title in pages:
            if (self.cache / f"{page}.md").is_file():
                entries[page] = records.get(page) or old.get(page) or {"url": url, "title": title}
        manifest = {
            "lens": self.root.rstrip("/").rsplit("/", 1)[-1].removesuffix("-lens"),
            "base_url": base_url,
            "lens_url": self.root,
            "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "page_count": len(entries),
            "pages": entries,
        }
        _write_atomic(self.cache / MANIFEST_FILE, json.dumps(manifest, indent=1))

    def _raise_for_failures(self) -> None:
        """Turn failed pages into one error line (the cache keeps every completed page)."""
        failed = self.result.failed
        if not failed:
            return
        done = self.result.total - len(failed)
        unreachable = [r for r in failed.values() if r.startswith("unreachable: ")]
        if unreachable:
            host = urlsplit(self.root).hostname
            raise LenswiseError(
                f"cannot reach {host}: {unreachable[0].removeprefix('unreachable: ')} "
                f"({done} of {self.result.total} pages cached; run again to resume)"
            )
        page, reason = next(iter(failed.items()))
        raise LenswiseError(
            f"{len(failed)} of {self.result.total} pages could not be fetched "
            f"(first: {page}: {reason}); {done} cached, run again to retry the rest"
        )


def _is_html(response: httpx.Response) -> bool:
    """Tell an HTML answer (some servers send a page instead of a 404 for a missing twin)."""
    if "html" in response.headers.get("content-type", "").lower():
        return True
    return response.text.lstrip()[:15].lower().startswith(("<!doctype", "<html"))


def _reason(exc: Exception) -> str:
    """Return a short reason for a transport error."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a hidden temporary file beside ``path``, then rename it into place."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def _remove_stale_temp_files(folder: Path) -> None:
    """Delete temporary files an interrupted run left behind."""
    for temp in folder.glob(".*.tmp"):
        temp.unlink(missing_ok=True)
