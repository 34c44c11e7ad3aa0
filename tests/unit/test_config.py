"""Settings from the environment: wrong values are one clear line and exit code 2."""

from __future__ import annotations

import os
import subprocess

import pytest

from agent.config import Settings
from corpus.errors import InputError
from lenswise.cli import main


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("LENSWISE_TIMEOUT", "abc", "LENSWISE_TIMEOUT must be a number of seconds, not 'abc'"),
        ("LENSWISE_TIMEOUT", "-5", "timeout_s (LENSWISE_TIMEOUT) must be more than 0"),
        ("LENSWISE_TIMEOUT", "nan", "timeout_s (LENSWISE_TIMEOUT) must be a number"),
        ("LENSWISE_MAX_UPLOAD_BYTES", "1e6", "LENSWISE_MAX_UPLOAD_BYTES must be a whole number"),
        ("LENSWISE_MAX_UPLOAD_BYTES", "0", "max_upload_bytes (LENSWISE_MAX_UPLOAD_BYTES) must be"),
        ("LENSWISE_DOCS_BASE_URL", "file:///etc", "must be an http(s) URL"),
        ("LENSWISE_MODEL", "   ", "model (LENSWISE_MODEL) must not be empty"),
    ],
)
def test_bad_environment_values_are_usage_errors(monkeypatch, capsys, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env()
    for argv in (["search", "guardrails"], ["ask", "x"], ["ui"], ["index", "info"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("lenswise: error: ") and message in err
        assert len(err.strip().splitlines()) == 1 and "unexpected" not in err


def test_a_home_that_is_a_file_is_refused(monkeypatch, tmp_path, capsys):
    home = tmp_path / "home-file"
    home.write_text("not a folder")
    for value in (home, home / "below"):
        monkeypatch.setenv("LENSWISE_HOME", str(value))
        assert main(["search", "guardrails"]) == 2
        err = capsys.readouterr().err
        assert f"LENSWISE_HOME {value} is not a folder" in err and len(err.splitlines()) == 1


@pytest.fixture
def read_only(tmp_path):
    """A folder nobody may write to (as root, via the immutable attribute)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
            pytest.skip("cannot make a folder read-only for root here")
        yield folder
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


def test_a_read_only_home_is_refused(monkeypatch, read_only, capsys):
    for value in (read_only, read_only / "lenswise"):
        monkeypatch.setenv("LENSWISE_HOME", str(value))
        assert main(["ask", "How do I stop prompt injection?"]) == 2
        err = capsys.readouterr().err
        assert f"LENSWISE_HOME {value} is not writable" in err and len(err.splitlines()) == 1


def test_settings_are_checked_when_changed_too(tmp_path):
    settings = Settings(home=tmp_path)
    assert settings.with_(k=3).k == 3 and settings.with_(timeout_s=2).timeout_s == 2.0
    with pytest.raises(InputError, match="k must be between 1 and 100"):
        settings.with_(k=500)
    assert Settings.from_env({"LENSWISE_TIMEOUT": " 12.5 "}).timeout_s == 12.5
    assert Settings.from_env({"LENSWISE_MAX_UPLOAD_BYTES": "2048"}).max_upload_bytes == 2048
