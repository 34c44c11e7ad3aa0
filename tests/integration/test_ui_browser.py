"""End to end in a real browser: the app served by ``lenswise ui``, driven in headless Chromium."""

from __future__ import annotations

import shutil

import pytest

from corpus.vocabulary import is_practice_id
from tests.helpers import SHARED
from ui.screenshots import (
    ask,
    browser_page,
    full_screenshot,
    graph_viewer,
    open_app,
    serve_app,
    show_screen,
    upload,
    wait_idle,
)

pytestmark = pytest.mark.browser

DIAGRAM = SHARED / "diagrams" / "aws-samples_serverless-pdf-chat__backend_template.yaml"
DRAWIO = (
    SHARED
    / "diagrams"
    / ("aws-samples_sample-bedrock-spend-budget-guardrails__docs_architecture.drawio")
)
QUESTION = "How do I protect a chatbot against prompt injection?"


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
            shown = cells.all_inner_texts()
            assert shown[0] == "Gap"  # gaps first
            assert any(is_practice_id(text) for text in shown)
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
            _zoom_pan_and_export(page, tmp_path)
            shot = full_screenshot(page, tmp_path / "review.png")
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            raise

    assert shot.stat().st_size > 20_000
    assert "Traceback" not in (tmp_path / "app.log").read_text(errors="replace")


def _scale(view) -> float:
    return float(view.get_attribute("data-scale"))


def _inside(box: dict, frame: dict) -> bool:
    """True when ``box`` lies within ``frame`` (a pixel of rounding allowed)."""
    return (
        box["x"] >= frame["x"] - 1
        and box["y"] >= frame["y"] - 1
        and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
        and box["y"] + box["height"] <= frame["y"] + frame["height"] + 1
    )


def _zoom_pan_and_export(page, tmp_path) -> None:
    """Zoom with the buttons and the wheel, pan by dragging, download the SVG and the PNG."""
    if not shutil.which("dot"):
        svg = page.get_by_test_id("stGraphVizChart").locator("svg").first
        assert svg.locator("g.node").count() > 5  # the browser-drawn fallback
        return
    viewer = graph_viewer(page)
    view = viewer.locator("#view")
    assert view.locator("svg g.node").count() > 5
    start = _scale(view)
    assert 0 < start <= 1.0
    assert _inside(viewer.locator("#stage svg").bounding_box(), view.bounding_box())  # fitted
    viewer.locator("#zoom-in").click()
    assert _scale(view) > start
    viewer.locator("#zoom-fit").click()
    fitted = _scale(view)
    box = view.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(300)
    assert _scale(view) > fitted
    stage = viewer.locator("#stage")
    before = stage.evaluate("e => e.style.transform")
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 120, box["y"] + box["height"] / 2 - 60)
    page.mouse.up()
    assert stage.evaluate("e => e.style.transform") != before
    for label, head in (("Graph (SVG)", b"<svg"), ("Graph (PNG)", b"\x89PNG")):
        with page.expect_download() as info:
            page.get_by_role("button", name=label).click()
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        assert saved.read_bytes().startswith(head), label


def _export_panel(page):
    return page.get_by_test_id("stExpander").filter(has_text="Export to Well-Architected Tool")


def _export_target(page) -> str:
    """Open the export panel and return the workload its field holds."""
    panel = _export_panel(page)
    field = panel.get_by_role("textbox", name="Workload name or id")
    if not field.is_visible():
        panel.get_by_text("Export to Well-Architected Tool").first.click()
        wait_idle(page)
    return field.input_value()


@pytest.fixture
def app(chromium, real_home, tmp_path):
    """The app served on a copy of the built index and opened in Chromium; no traceback logged."""
    if not (DIAGRAM.is_file() and DRAWIO.is_file()):
        pytest.skip("../shared/diagrams is not present")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "indexes").symlink_to(real_home / "indexes", target_is_directory=True)
    log = tmp_path / "app.log"
    with serve_app(tmp_path / "home", log=log) as url, browser_page() as page:
        open_app(page, url)
        yield page
        page.screenshot(path=str(tmp_path / "last.png"))
    assert "Traceback" not in log.read_text(errors="replace")


def test_two_reviews_then_the_export_preview_and_a_reload_with_the_design(app):
    page = app
    show_screen(page, "Diagram review")
    upload(page, DRAWIO)
    assert _export_target(page) == f"lenswise {DRAWIO.name}"
    _export_panel(page).get_by_role("textbox", name="Workload name or id").fill(
        "first design workload"
    )
    page.keyboard.press("Enter")
    wait_idle(page)

    upload(page, DIAGRAM)  # a second file in the same session
    page.get_by_role("heading", name=DIAGRAM.name).wait_for()
    assert _export_target(page) == f"lenswise {DIAGRAM.name}"
    panel = _export_panel(page)
    target = panel.get_by_text("Writes the review of").inner_text()
    assert DIAGRAM.name in target and f"lenswise {DIAGRAM.name}" in target
    panel.get_by_role("button", name="Preview export (dry run)").click()
    wait_idle(page)
    preview = panel.get_by_test_id("stCode").inner_text()
    assert f"review of {DIAGRAM.name}" in preview
    assert f'workload "lenswise {DIAGRAM.name}"' in preview
    assert "first design workload" not in preview and DRAWIO.name not in preview

    page.get_by_role("button", name="Ask about this design in chat").click()
    page.get_by_test_id("stChatMessage").nth(1).get_by_role("link").first.wait_for()
    wait_idle(page)
    banner = f"Questions are asked about the reviewed design: {DIAGRAM.name}"
    assert page.get_by_text(banner).is_visible()
    assert "thread=" in page.url

    page.reload()  # a new session: the review is gone, the thread's design is not
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=120_000)
    wait_idle(page)
    assert page.get_by_text(banner).is_visible()
    page.get_by_role("button", name="Detach design").click()
    wait_idle(page)
    assert not page.get_by_text(banner).is_visible()
