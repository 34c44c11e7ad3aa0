"""Serve the app on a free local port and drive it in headless Chromium (tests, screenshots).

    python -m ui.screenshots docs/screenshots     # chat, diagram review and lens browser PNGs

Uses Playwright with the system Chromium (Debian's ``chromium`` package), never a
downloaded browser, and a throwaway ``LENSWISE_HOME`` unless one is given.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
CHROMIUM_NAMES = ("chromium", "chromium-browser")
DEFAULT_QUESTION = "How do I protect a Bedrock chatbot against prompt injection?"
DEFAULT_DIAGRAM = "aws-samples_serverless-pdf-chat__backend_template.yaml"


def chromium_path() -> str | None:
    """Return the system Chromium binary, or None when none is installed."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@contextmanager
def serve_app(home: Path, log: Path | None = None, timeout: float = 180.0) -> Iterator[str]:
    """Run ``lenswise ui`` on a free port with ``LENSWISE_HOME=home``; yield its base url.

    The server runs in its own process group and is stopped (SIGTERM, then SIGKILL) on exit.
    """
    from ui.serve import streamlit_command

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LENSWISE_HOME": str(home)}
    env.pop("LENSWISE_MODEL", None)
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        streamlit_command(port),
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited with code {proc.returncode} (log: {log})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the app did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.3)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if not isinstance(out, int):  # the log file, not DEVNULL
            out.close()


@contextmanager
def browser_page(width: int = 1440, height: int = 1000, headers: dict[str, str] | None = None):
    """Yield a Playwright page in headless system Chromium.

    ``headers`` go with every request, as a proxy in front of the app adds them.
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise RuntimeError("no chromium binary found (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(
                viewport={"width": width, "height": height}, extra_http_headers=headers
            )
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def wait_idle(page, timeout: float = 90_000) -> None:
    """Wait until Streamlit has finished running the script after the last interaction."""
    page.wait_for_timeout(300)  # let a rerun triggered by the last action start
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=timeout,
    )
    page.wait_for_timeout(200)


def open_app(page, url: str) -> None:
    """Open the app and wait for its first full render (index loaded, chat box shown)."""
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=120_000)
    wait_idle(page)


def ask(page, question: str) -> None:
    """Type ``question`` in the chat box, send it, and wait for a cited answer."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    page.get_by_test_id("stChatMessage").nth(1).get_by_role("link").first.wait_for()
    wait_idle(page)


def show_screen(page, name: str) -> None:
    """Switch to one of the app's screens by its sidebar label."""
    page.get_by_test_id("stSidebar").get_by_test_id("stRadio").get_by_text(name).click()
    wait_idle(page)


def upload(page, path: Path) -> None:
    """Upload ``path`` on the diagram review screen and wait for the findings and the graph."""
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    findings = page.get_by_test_id("stDataFrame").filter(has_text=re.compile(r"GEN[A-Z]+\d\d-BP"))
    findings.first.wait_for()
    graph = page.get_by_test_id("stGraphVizChart").locator("svg")
    graph.or_(page.get_by_test_id("stIFrame")).first.wait_for()
    wait_idle(page)


def graph_viewer(page):
    """Return the frame of the pan/zoom graph viewer (shown when Graphviz is installed)."""
    return page.frame_locator('[data-testid="stIFrame"]').first


def full_screenshot(page, path: Path, max_height: int = 4000) -> Path:
    """Save a screenshot of the whole main area (Streamlit scrolls inside it, not the page)."""
    height = page.evaluate(
        "() => { const b = document.querySelector('[data-testid=\"stMainBlockContainer\"]');"
        " return Math.ceil(b.getBoundingClientRect().height); }"
    )
    size = page.viewport_size
    page.set_viewport_size(
        {"width": size["width"], "height": max(size["height"], min(max_height, height + 120))}
    )
    page.wait_for_timeout(700)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path


def capture(
    out_dir: Path, diagram: Path, home: Path, question: str = DEFAULT_QUESTION
) -> list[Path]:
    """Take the README screenshots: chat with an answer, diagram review, lens browser."""
    out_dir.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    shots = []
    with serve_app(home, log=home / "ui.log") as url, browser_page() as page:
        open_app(page, url)
        ask(page, question)
        shots.append(full_screenshot(page, out_dir / "chat.png"))
        show_screen(page, "Diagram review")
        upload(page, diagram)
        page.wait_for_timeout(1500)  # let the graph and chart finish drawing
        shots.append(full_screenshot(page, out_dir / "review.png"))
        show_screen(page, "Lens browser")
        page.get_by_label("Search").fill("GENSEC04")
        page.keyboard.press("Enter")
        wait_idle(page)
        shots.append(full_screenshot(page, out_dir / "browser.png"))
    return shots


def main(argv: list[str] | None = None) -> int:
    """Command line: take the screenshots into a folder."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/screenshots"))
    parser.add_argument("--diagram", type=Path, help="file to review (default: a shared sample)")
    parser.add_argument("--home", type=Path, help="LENSWISE_HOME to use (default: a temp dir)")
    args = parser.parse_args(argv)
    shared = Path(__file__).resolve().parents[2] / "shared" / "diagrams"
    diagram = args.diagram or shared / DEFAULT_DIAGRAM
    with tempfile.TemporaryDirectory(prefix="lenswise-shots-") as tmp:
        home = args.home or Path(tmp)
        for shot in capture(args.out, diagram, home):
            print(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
