"""``lenswise ui``: start the Streamlit app on 127.0.0.1 with usage statistics off."""

from __future__ import annotations

import argparse
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


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run Streamlit in the foreground until interrupted; stopping lenswise stops it too."""
    from agent.cli.foreground import run_foreground
    from ui.serve import streamlit_command

    env = {**os.environ, "LENSWISE_CORPUS": settings.source, "LENSWISE_HOME": str(settings.home)}
    print(f"lenswise UI on http://127.0.0.1:{args.port} (Ctrl+C to stop)", file=sys.stderr)
    return run_foreground(streamlit_command(args.port, settings.max_upload_bytes), env)
