"""``lenswise review``: exit codes, JSON contract, human summary and the markdown report."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lenswise.cli import main
from tests.samples import mxfile, rag_page


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def test_json_output_follows_the_contract(tmp_path, capsys):
    path = _write(tmp_path, "rag.drawio", mxfile(rag_page()))
    assert main(["review", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["file"] == "rag.drawio" and data["format"] == "drawio"
    assert data["services"] == ["api-gateway", "bedrock", "lambda", "opensearch", "vpc"]
    assert data["coverage"]["total"] == 51 and len(data["findings"]) == 51
    assert {f["status"] for f in data["findings"]} <= {"addressed", "gap", "unknown"}
    guard = next(f for f in data["findings"] if f["bp_id"] == "GENSEC02-BP01")
    assert guard["status"] == "gap" and guard["evidence"] == ["llm"]
    assert guard["url"].endswith("gensec02-bp01.html")


def test_human_summary_and_report(tmp_path, capsys):
    path = _write(tmp_path, "rag.drawio", mxfile(rag_page()))
    report = tmp_path / "out.md"
    assert main(["review", str(path), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "drawio" in out and "coverage:" in out and "top gaps:" in out
    assert "GENSEC02-BP01" in out and f"report written to {report}" in out
    text = report.read_text()
    assert text.startswith("# Generative AI Lens review") and "## Coverage by pillar" in text


@pytest.mark.parametrize("kind", ["same", "symlink", "hardlink", "fifo", "folder", "device"])
def test_report_refuses_the_input_and_paths_that_are_not_regular_files(tmp_path, capsys, kind):
    path = _write(tmp_path, "rag.drawio", mxfile(rag_page()))
    original = path.read_bytes()
    target = {"same": path, "device": Path("/dev/null")}.get(kind, tmp_path / "out.md")
    if kind == "symlink":
        target.symlink_to(path)
    elif kind == "hardlink":
        os.link(path, target)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    assert main(["review", str(path), "--report", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lenswise: error: --report") and err.count("\n") == 1
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_report_is_written_atomically_over_an_earlier_report(tmp_path, capsys):
    path = _write(tmp_path, "rag.drawio", mxfile(rag_page()))
    report = _write(tmp_path, "out.md", "old report")
    inode = report.stat().st_ino
    assert main(["review", str(path), "--report", str(report)]) == 0
    assert report.read_text().startswith("# Generative AI Lens review")
    assert report.stat().st_ino != inode  # a new file renamed into place, not rewritten in place
    assert {p.name for p in tmp_path.iterdir()} == {"rag.drawio", "out.md"}


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    bad = _write(tmp_path, "broken.drawio", "<mxfile><diagram>")
    assert main(["review", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lenswise: error:") and err.count("\n") == 1
    assert main(["review", str(tmp_path / "missing.tf")]) == 2
    image = _write(tmp_path, "photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    assert main(["review", str(image)]) == 2
    assert "--model" in capsys.readouterr().err


def test_upload_limit_from_settings(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LENSWISE_MAX_UPLOAD_BYTES", "50")
    path = _write(tmp_path, "rag.drawio", mxfile(rag_page()))
    assert main(["review", str(path)]) == 2
    assert "limit" in capsys.readouterr().err


def test_subprocess_entry_point(tmp_path):
    import subprocess
    import sys

    path = _write(tmp_path, "a.mmd", "graph LR\n  A[Amazon Bedrock] --> B[Amazon S3]\n")
    done = subprocess.run(
        [sys.executable, "-m", "lenswise.cli", "review", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["services"] == ["bedrock", "s3"]
