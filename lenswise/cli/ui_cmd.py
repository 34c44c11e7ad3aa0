"""``lenswise ui``: start the Streamlit app (on 127.0.0.1 by default) with usage statistics off."""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import sys

from agent.config import Settings
from corpus.errors import InputError
from lenswise.cli import add_common, checked, whole_number

HOST_NAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*\.?")
"""A host name: dot-separated labels of letters, digits, '-' and '_' (container names)."""
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``ui`` command."""
    parser = sub.add_parser("ui", help="start the chat UI (Streamlit) on 127.0.0.1")
    add_common(parser)
    parser.add_argument(
        "--port", type=whole_number(1, 65535), default=8501, help="port (default 8501)"
    )
    parser.add_argument(
        "--host",
        type=checked(check_host),
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 in a container, "
        "behind a proxy: the UI has no login)",
    )
    parser.set_defaults(handler=run)


def check_host(text: str) -> str:
    """Return ``text`` if it can be a listening address (an IP or a host name), else InputError."""
    host = text.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not HOST_NAME.fullmatch(host):
        raise InputError(f"--host must be an IP address or a host name, not {text[:80]!r}")
    return host


def is_loopback(host: str) -> bool:
    """Return True when ``host`` only accepts connections from this machine."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower().rstrip(".") in LOOPBACK_NAMES


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run Streamlit in the foreground until interrupted; stopping lenswise stops it too."""
    from lenswise.cli.foreground import run_foreground
    from ui.serve import streamlit_command

    env = {**os.environ, "LENSWISE_CORPUS": settings.source, "LENSWISE_HOME": str(settings.home)}
    if not is_loopback(args.host):
        print(
            f"lenswise: warning: the UI listens on {args.host}, not only on this machine: anyone "
            "who can reach it can read every conversation and use the assistant (there is no "
            "login); keep it behind a firewall or an authenticating proxy",
            file=sys.stderr,
        )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"lenswise UI on http://{shown}:{args.port} (Ctrl+C to stop)", file=sys.stderr)
    command = streamlit_command(args.port, settings.max_upload_bytes, host=args.host)
    return run_foreground(command, env)
