"""``lenswise corpus fetch`` against a local docs site served on 127.0.0.1 by the test."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from corpus import fetch
from corpus.errors import InputError, LenswiseError
from corpus.fetch import fetch_lens, toc_pages
from corpus.loaders import docs_pages
from corpus.sources import fetched_dir, load_source
from lenswise.cli import main

TOC = {
    "contents": [
        {"title": "Teapot Lens", "href": "teapot-lens.html"},
        {
            "title": "Pot readiness",
            "href": "genrel08.html",
            "contents": [
                {"title": "GENREL08-BP01 Warm the pot first", "href": "genrel08-bp01.html"},
                {"title": "GENREL08-BP02 Pour slowly", "href": "genrel08-bp02.html#steps"},
                {"title": "GENREL08-BP01 again", "href": "genrel08-bp01.html"},
            ],
        },
        {"title": "Framework", "href": "https://elsewhere.test/framework/welcome.html"},
        {"title": "Up a level", "href": "../other-lens/page.html"},
    ]
}
PAGES_MD = {
    "teapot-lens.md": "# Teapot Lens\n\nA lens about tea, written for this test.\n",
    "genrel08.md": (
        "# Pot readiness\n\n| GENREL08: How do you make sure the pot is ready? |\n| --- |\n\n"
        "A ready pot shortens the wait.\n"
    ),
    "genrel08-bp01.md": (
        "# GENREL08-BP01 Warm the pot first\n\nWarm pots keep tea hot.\n\n"
        "**Level of risk exposed when the practice is absent:** High\n"
    ),
}
PAGE_HTML = (
    "<html><head><title>GENREL08-BP02 Pour slowly - Teapot Lens</title></head><body>"
    "<div id='main-col-body'><h1>GENREL08-BP02 Pour slowly</h1><p>Slow pours do not splash.</p>"
    "<p><b>Level of risk exposed when the practice is absent:</b> Low</p></div>"
    "</body></html>"
)


class DocsSite:
    """A tiny docs site: toc, .md twins, one HTML-only page, one page that answers 503 first."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.agents: set[str] = set()
        self.fail_first = {"/generative-ai-lens/genrel08-bp01.md": 1}
        self.throttle_first = {"/generative-ai-lens/teapot-lens.md": 1}
        self.missing: set[str] = set()
        self.delay_s = 0.0
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with site.lock:
                    site.hits[self.path] += 1
                    site.agents.add(self.headers.get("User-Agent", ""))
                    site.in_flight += 1
                    site.most_in_flight = max(site.most_in_flight, site.in_flight)
                time.sleep(site.delay_s)
                status, kind, body = site.answer(self.path)
                with site.lock:
                    site.in_flight -= 1
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}/"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def answer(self, path: str) -> tuple[int, str, str]:
        prefix = "/generative-ai-lens/"
        if path in self.missing or not path.startswith(prefix):
            return 404, "text/html", "<html>not found</html>"
        if self.fail_first.get(path, 0) > 0:
            self.fail_first[path] -= 1
            return 503, "text/plain", "busy"
        if self.throttle_first.get(path, 0) > 0:
            self.throttle_first[path] -= 1
            return 429, "text/plain", "slow down"
        name = path[len(prefix) :]
        if name == "toc-contents.json":
            return 200, "application/json", json.dumps(TOC)
        if name in PAGES_MD:
            return 200, "text/markdown", PAGES_MD[name]
        if name == "genrel08-bp02.html":
            return 200, "text/html", PAGE_HTML
        return 404, "text/html", "<html>not found</html>"

    def page_hits(self) -> int:
        return sum(n for p, n in self.hits.items() if not p.endswith("toc-contents.json"))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    server = DocsSite()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch):
    monkeypatch.setattr(fetch, "BACKOFF_S", 0.01)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_fetch_downloads_toc_and_every_page(site, tmp_path):
    cache = tmp_path / "cache"
    result = fetch_lens(site.base, "generative-ai", cache, progress=False)
    assert (result.total, result.fetched, result.skipped, result.from_html) == (4, 4, 0, 1)
    assert sorted(p.name for p in cache.glob("*.md")) == [
        "genrel08-bp01.md",
        "genrel08-bp02.md",
        "genrel08.md",
        "teapot-lens.md",
    ]
    assert json.loads((cache / "toc-contents.json").read_text()) == TOC
    # The 503 and the 429 were retried; the HTML-only page was tried as .md, then as .html.
    assert site.hits["/generative-ai-lens/genrel08-bp01.md"] == 2
    assert site.hits["/generative-ai-lens/teapot-lens.md"] == 2
    assert site.hits["/generative-ai-lens/genrel08-bp02.md"] == 1
    assert site.hits["/generative-ai-lens/genrel08-bp02.html"] == 1
    assert site.agents == {fetch.USER_AGENT}
    manifest = json.loads((cache / "fetch.json").read_text())
    assert manifest["base_url"] == site.base
    assert manifest["lens"] == "generative-ai"
    assert manifest["page_count"] == 4
    assert manifest["pages"]["genrel08-bp02"]["format"] == "html"
    assert not list(cache.glob(".*"))  # no temporary files left behind


def test_fetched_cache_loads_with_page_urls(site, tmp_path):
    cache = tmp_path / "cache"
    fetch_lens(site.base, "generative-ai", cache, progress=False)
    corpus = docs_pages.load(cache)
    docs = {d.doc_id: d for d in corpus.documents}
    warm, pour = docs["GENREL08-BP01"], docs["GENREL08-BP02"]
    assert warm.url == f"{site.base}generative-ai-lens/genrel08-bp01.html"
    assert warm.risk == "High" and pour.risk == "Low"
    assert pour.title == "Pour slowly" and "do not splash" in pour.text
    assert warm.question_title == "Pot readiness"
    assert docs["GENREL08"].question_id == "GENREL08"
    assert "fetched" in corpus.name


def test_second_run_resumes_without_downloading_pages_again(site, tmp_path):
    cache = tmp_path / "cache"
    fetch_lens(site.base, "generative-ai", cache, progress=False)
    before = site.page_hits()
    (cache / ".genrel08.md.999.tmp").write_text("half a page from a killed run")
    result = fetch_lens(site.base, "generative-ai", cache, progress=False)
    assert (result.fetched, result.skipped) == (0, 4)
    assert site.page_hits() == before
    assert not (cache / ".genrel08.md.999.tmp").exists()
    assert json.loads((cache / "fetch.json").read_text())["pages"]["genrel08-bp02"]["format"] == (
        "html"
    )


def test_a_missing_page_fails_the_run_but_keeps_the_others(site, tmp_path):
    site.missing = {"/generative-ai-lens/genrel08.md", "/generative-ai-lens/genrel08.html"}
    cache = tmp_path / "cache"
    with pytest.raises(
        LenswiseError, match=r"1 of 4 pages could not be fetched .*genrel08: HTTP 404"
    ):
        fetch_lens(site.base, "generative-ai", cache, progress=False)
    assert len(list(cache.glob("*.md"))) == 3
    site.missing = set()
    result = fetch_lens(site.base, "generative-ai", cache, progress=False)
    assert (result.fetched, result.skipped) == (1, 3)


def test_retries_give_up_after_the_last_attempt(site, tmp_path):
    site.fail_first = {"/generative-ai-lens/genrel08-bp01.md": 10}
    with pytest.raises(LenswiseError, match="genrel08-bp01"):
        fetch_lens(site.base, "generative-ai", tmp_path / "c", attempts=3, progress=False)
    assert site.hits["/generative-ai-lens/genrel08-bp01.md"] == 3
    assert site.hits["/generative-ai-lens/genrel08-bp01.html"] == 1  # then tried the HTML


def test_refused_connection_is_one_clear_error_and_keeps_the_cache(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "genrel08.md").write_text("kept")
    with pytest.raises(LenswiseError, match=r"^cannot reach 127\.0\.0\.1: "):
        fetch_lens(f"http://127.0.0.1:{_closed_port()}", "generative-ai", cache, progress=False)
    assert [p.name for p in cache.iterdir()] == ["genrel08.md"]
    assert (cache / "genrel08.md").read_text() == "kept"


def test_unknown_lens_and_malformed_urls_are_input_errors(site, tmp_path):
    with pytest.raises(InputError, match="no lens at .*HTTP 404.*--lens"):
        fetch_lens(site.base, "no-such", tmp_path / "c", progress=False)
    with pytest.raises(InputError, match="malformed base URL"):
        fetch_lens("docs.aws.amazon.com/wellarchitected", "generative-ai", tmp_path / "c")
    with pytest.raises(InputError, match="malformed lens name"):
        fetch_lens(site.base, "../etc", tmp_path / "c")
    assert not (tmp_path / "c").exists()


def test_toc_pages_keeps_only_pages_under_the_lens_root():
    root = "https://docs.example.test/latest/generative-ai-lens/"
    pages = toc_pages(TOC, root)
    assert [p[0] for p in pages] == ["teapot-lens", "genrel08", "genrel08-bp01", "genrel08-bp02"]
    assert pages[3][1] == root + "genrel08-bp02.html"
    assert toc_pages({"oops": 1}, root) == []


def test_cli_fetch_then_use_the_cache_as_a_source(site, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("LENSWISE_DOCS_BASE_URL", site.base)
    assert main(["corpus", "fetch"]) == 0
    out = capsys.readouterr().out
    assert "fetched 4 pages (1 converted from HTML), 0 already cached, 4 in the lens" in out
    home = tmp_path / "home"
    assert (fetched_dir(home, "generative-ai") / "fetch.json").is_file()
    corpus = load_source("fetched", home=home)
    assert corpus.source == "fetched" and len(corpus.best_practices()) == 2
    assert main(["corpus", "info", "--source", "fetched", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["best_practices"] == 2 and facts["questions"] == 1


def test_cli_exit_codes_offline_and_bad_url(monkeypatch, capsys):
    port = _closed_port()
    assert main(["corpus", "fetch", "--base-url", f"http://127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lenswise: error: cannot reach 127.0.0.1:")
    assert main(["corpus", "fetch", "--base-url", "ftp//nowhere"]) == 2
    assert "malformed base URL" in capsys.readouterr().err
    assert main(["corpus", "fetch", "--concurrency", "0"]) == 2


def test_concurrency_limit_and_progress_bar(site, tmp_path, capsys):
    site.delay_s = 0.05
    fetch_lens(site.base, "generative-ai", tmp_path / "c", concurrency=2, progress=True)
    assert site.most_in_flight == 2
    err = capsys.readouterr().err
    assert "fetching" in err and "4/4" in err
