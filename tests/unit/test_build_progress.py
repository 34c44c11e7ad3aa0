"""Progress of an index build: the meter, the CLI's bar on a terminal and its plain lines."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

from agent.build_progress import BuildMeter
from lenswise.cli import main
from tests.helpers import REPO, use_hash_embedder

BUILD_ON_A_TTY = """
import sys
from tests.helpers import REPO, use_hash_embedder
from tests.helpers import REPO
use_hash_embedder()
from lenswise.cli import main
sys.exit(main(["index", "build"]))
"""


def test_meter_counts_chunks_and_estimates_the_time_left():
    now = [100.0]
    meter = BuildMeter(clock=lambda: now[0])
    assert meter.eta_seconds() is None and meter.percent == 0
    meter.update(0, 400)
    now[0] = 110.0
    meter.update(100, 400)
    assert meter.percent == 25
    assert meter.eta_seconds() == 30.0  # 100 chunks took 10 s, 300 are left
    assert meter.summary() == "100/400 chunks embedded (25%), about 30 s left"


def test_index_build_off_a_terminal_prints_plain_progress_lines(monkeypatch, tmp_path, capsys):
    use_hash_embedder(monkeypatch)
    monkeypatch.setenv("LENSWISE_HOME", str(tmp_path / "home"))
    assert main(["index", "build"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("building the index for source 'builtin'")
    lines = [line for line in err[1:] if "chunks embedded" in line]
    assert "\r" not in "".join(err) and "\x1b" not in "".join(err)
    done = [int(re.match(r"(\d+)/(\d+)", line).group(1)) for line in lines]
    total = int(re.match(r"\d+/(\d+)", lines[-1]).group(1))
    assert len(lines) >= 5 and done == sorted(done) and done[-1] == total > 300
    assert lines[-1].startswith(f"{total}/{total} chunks embedded (100%)")


def test_index_build_on_a_terminal_redraws_a_bar_with_an_eta(tmp_path):
    parent, child = pty.openpty()
    env = {**os.environ, "LENSWISE_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", BUILD_ON_A_TTY],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=child,
    )
    os.close(child)
    shown = b""
    while True:
        try:
            data = os.read(parent, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        shown += data
    os.close(parent)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, shown
    text = shown.decode()
    frames = re.findall(
        r"\r\[([#-]{30})\] (\d+)/(\d+) chunks embedded \((\d+)%\)([^\r\n\x1b]*)", text
    )
    assert len(frames) >= 3, text
    assert frames[0][0] == "-" * 30 and frames[-1][0] == "#" * 30
    assert frames[-1][1] == frames[-1][2] and frames[-1][3] == "100"
    assert any(", about " in f[4] and f[4].endswith(" s left") for f in frames[1:])
    assert b"built index for source 'builtin'" in out
