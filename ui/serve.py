"""Serve the Streamlit app with the assistant loaded at server start, not at the first visit.

``lenswise ui`` runs ``python -m ui.serve <streamlit run options>``. Before Streamlit starts, a
background thread builds the assistant the first page will ask for (same settings, same
``st.cache_resource`` entry, same process), so the index, the query encoder and the agent graph
are ready when the first question comes; a page that arrives earlier waits on that same entry.
"""

from __future__ import annotations

import math
import sys
import threading
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


def streamlit_command(
    port: int, max_upload_bytes: int | None = None, *, host: str = "127.0.0.1"
) -> list[str]:
    """Return the command line that serves the app locally, headless, without telemetry.

    It runs :mod:`ui.serve`, which loads the assistant at server start, then Streamlit.

    Args:
        port: TCP port.
        max_upload_bytes: largest upload Streamlit accepts (rounded up to whole MB); the app
            enforces the exact limit again in code. Defaults to the settings' limit.
        host: address to listen on (loopback unless the user asks otherwise).
    """
    from agent.config import Settings

    limit = max_upload_bytes or Settings().max_upload_bytes
    return [
        sys.executable,
        "-m",
        "ui.serve",
        "--server.address",
        host,
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


def warm_up() -> None:
    """Fill the app's cached assistant for the settings of a fresh session.

    A failure (e.g. a wrong ``LENSWISE_*`` value) is left for the page to show: it will try the
    same load and report it there.
    """
    from agent.config import Settings
    from ui import state
    from ui.settings import initial_choice

    try:
        state.assistant(initial_choice(Settings.from_env()))
    except Exception:  # noqa: BLE001, S110 - the first page repeats the load and shows the error
        pass


def main(options: list[str]) -> int:
    """Start the warm-up thread, then run Streamlit on the app with ``options``."""
    from streamlit.web import cli

    threading.Thread(target=warm_up, name="lenswise-warm-up", daemon=True).start()
    sys.argv = ["streamlit", "run", str(APP), *options]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
