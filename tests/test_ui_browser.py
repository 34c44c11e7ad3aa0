"""End to end in a real browser: the app served by ``lenswise ui``, driven in headless Chromium."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers import SHARED
from ui.screenshots import (
    ask,
    browser_page,
    chromium_path,
    full_screenshot,
    open_app,
    serve_app,
    show_screen,
    upload,
    wait_idle,
)

pytestmark = pytest.mark.browser

DIAGRAM = SHARED / "diagrams" / "aws-samples_serverless-pdf-chat__backend_template.yaml"
QUESTION = "How do I protect a chatbot against prompt injection?"


@pytest.fixture(scope="module")
def chromium():
    path = chromium_path()
    if path is None:
        pytest.skip("no chromium binary on PATH (make browser installs Debian's chromium)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    return path


def test_ask_cite_upload_and_review_in_chromium(chromium, real_home, tmp_path):
    if not DIAGRAM.is_file():
        pytest.skip("../shared/diagrams is not present")
    home = tmp_path / "home"
    shutil.copytree(real_home / "indexes", home / "indexes")
    with serve_app(home, log=tmp_path / "app.log") as url, browser_page() as page:
        try:
            open_app(page, url)
            assert page.get_by_text("Ask a design question").is_visible()

            ask(page, QUESTION)
            answer = page.get_by_test_id("stChatMessage").nth(1)
            assert answer.get_by_text("GENSEC04-BP02").first.is_visible()
            link = answer.locator('a[href$="/generative-ai-lens/gensec04-bp02.html"]').first
            assert link.get_attribute("href").startswith("https://docs.aws.amazon.com/")
            chip = answer.get_by_test_id("stLinkButton").locator("a").first
            assert chip.get_attribute("href").startswith("https://docs.aws.amazon.com/")
            assert chip.get_attribute("target") == "_blank"
            sidebar = page.get_by_test_id("stSidebar")
            assert sidebar.get_by_text(QUESTION[:20]).first.is_visible()
            full_screenshot(page, tmp_path / "chat.png")

            show_screen(page, "Diagram review")
            upload(page, DIAGRAM)
            assert page.get_by_text("Coverage by pillar").is_visible()
            cells = page.get_by_test_id("stDataFrame").locator("td")
            assert "GENOPS01-BP01" in cells.all_inner_texts()
            assert page.get_by_text("51 of 51 best practices").is_visible()
            gaps = (
                page.get_by_test_id("stMetric")
                .filter(has_text="Gaps")
                .get_by_test_id("stMetricValue")
            )
            expected = int(gaps.inner_text())
            page.get_by_test_id("stMultiSelect").nth(1).locator("input").click()
            page.keyboard.type("Gap", delay=50)  # typing opens the option list
            page.get_by_role("option", name="Gap", exact=True).click()
            page.keyboard.press("Escape")
            page.get_by_text(f"{expected} of 51 best practices").wait_for()
            wait_idle(page)
            statuses = set(cells.all_inner_texts()) & {"Addressed", "Gap", "Unknown"}
            assert statuses == {"Gap"}
            svg = page.get_by_test_id("stGraphVizChart").locator("svg").first
            assert svg.locator("g.node").count() > 5
            shot = full_screenshot(page, tmp_path / "review.png")
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            raise

    assert shot.stat().st_size > 20_000
    assert "Traceback" not in (tmp_path / "app.log").read_text(errors="replace")
