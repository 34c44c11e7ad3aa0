"""Fixtures of the integration tests that need a tool from the machine."""

from __future__ import annotations

import pytest

from ui.screenshots import chromium_path


@pytest.fixture(scope="module")
def chromium():
    """The headless Chromium binary; the test is skipped, saying why, without one."""
    path = chromium_path()
    if path is None:
        pytest.skip("no chromium binary on PATH (make browser installs Debian's chromium)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    return path
