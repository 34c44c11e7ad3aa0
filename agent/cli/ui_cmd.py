"""``lenswise ui``: start the Streamlit app on 127.0.0.1 with usage statistics off."""

from __future__ import annotations

import argparse
import math
import os
import sys

from agent.cli import add_common, whole_number
from agent.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``ui`` command."""
    parser = sub.add_parser("ui", help="start the chat UI (Streamlit) on 127.0.0.1")
    add_common(parser)
    parser.add_argument(
        "--port", type=whole_number(1, 65535), default=8501, help="port (default 8501)"
    )
    parser.set_defaults(handler=run)


def streamlit_command(port: int, max_upload_bytes: int | None = None) -> list[str]:
    """Return the command line that serves the app locally, headless, without telemetry.

    It runs :mod:`ui.serve`, which loads the assistant at server start, then Streamlit.

    Args:
        port: TCP port on 127.0.0.1.
        max_upload_bytes: largest upload Streamlit accepts (rounded up to whole MB); the app
            enforces the exact limit again in code. Defaults to the settings' limit.
    """
    limit = max_upload_bytes or Settings().max_upload_bytes
    return [
        sys.executable,
        "-m",
        "ui.serve",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.maxUploadSize",
        str(max(1, math.ceil(limit / 2**20))),
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "minimal",
        "--theme.primaryColor",
        "#1f5fa8",
    ]


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run Streamlit in the foreground until interrupted; stopping lenswise stops it too."""
    from agent.cli.foreground import run_foreground

    env = {**os.environ, "LENSWISE_CORPUS": settings.source, "LENSWISE_HOME": str(settings.home)}
    print(f"lenswise UI on http://127.0.0.1:{args.port} (Ctrl+C to stop)", file=sys.stderr)
    return run_foreground(streamlit_command(args.port, settings.max_upload_bytes), env)
