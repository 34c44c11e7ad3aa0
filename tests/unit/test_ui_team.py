"""The UI in team mode without a browser (AppTest): no identity, no page; no store, one line."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from evals.pg_server import free_port
from lenswise.cli import main
from tests.helpers import REPO, use_hash_embedder

APP = str(REPO / "ui" / "app.py")


def test_team_mode_without_an_identity_shows_sign_in_and_nothing_else(monkeypatch):
    monkeypatch.setenv("LENSWISE_TEAM", "1")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    shown = [e.value.replace("\\", "") for e in at.error]  # as markdown escapes it
    assert len(shown) == 1 and "sign in first" in shown[0]
    assert "X-Amzn-Oidc-Identity header" in shown[0]
    assert not at.chat_input and not at.button  # no threads, no chat, no login without [auth]


def test_an_unreachable_state_store_is_one_visible_line(monkeypatch):
    use_hash_embedder(monkeypatch)
    assert main(["index", "build"]) == 0
    url = f"postgresql://lenswise@127.0.0.1:{free_port()}/lenswise"
    monkeypatch.setenv("LENSWISE_STATE_URL", url)
    monkeypatch.setenv("LENSWISE_TEAM", "0")
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    errors = [e.value.replace("\\", "") for e in at.error]
    assert len(errors) == 1
    assert errors[0].startswith("the state store postgresql://lenswise@127.0.0.1:")
    assert "cannot be reached" in errors[0] and "\n" not in errors[0]
