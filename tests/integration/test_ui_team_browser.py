"""Team mode in a real browser: two people behind the proxy, each sees only their own threads."""

from __future__ import annotations

import shutil

import pytest

from ui.screenshots import ask, browser_page, open_app, serve_app, wait_idle

pytestmark = pytest.mark.browser

HEADER = "X-Amzn-Oidc-Identity"
QUESTION = "How do I protect a chatbot against prompt injection?"


def test_one_user_cannot_see_or_open_anothers_thread(
    chromium,
    real_home,
    pg_url,
    tmp_path,
    monkeypatch,
):
    home = tmp_path / "home"
    shutil.copytree(real_home / "indexes", home / "indexes")
    monkeypatch.setenv("LENSWISE_STATE_URL", pg_url)  # team mode: on with a shared store
    with serve_app(home, log=tmp_path / "app.log") as url:
        with browser_page(headers={HEADER: "alice@example.com"}) as page:
            open_app(page, url)
            ask(page, QUESTION)
            sidebar = page.get_by_test_id("stSidebar")
            assert sidebar.get_by_text(QUESTION[:20]).first.is_visible()
            thread = page.url.split("thread=", 1)[1]

        with browser_page(headers={HEADER: "bob@example.com"}) as page:
            open_app(page, f"{url}/?thread={thread}")  # Bob holds Alice's link
            wait_idle(page)
            assert page.get_by_test_id("stChatMessage").count() == 0
            assert page.get_by_text(QUESTION[:20]).count() == 0
            assert "thread=" not in page.url

        with browser_page() as page:  # nobody signed in: refused
            page.goto(url)
            page.get_by_text("sign in first").wait_for(timeout=120_000)
            assert page.get_by_test_id("stChatInputTextArea").count() == 0
    assert "Traceback" not in (tmp_path / "app.log").read_text(errors="replace")
