"""``lenswise mcp``: serve the lens tools to MCP hosts (stdio by default, or streamable HTTP)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from agent.config import Settings
from corpus.extras import require_extra
from lenswise.cli import add_common, whole_number


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``mcp`` command."""
    parser = sub.add_parser(
        "mcp",
        help="run the MCP server (search, ask, review tools) for Kiro, Claude Code, Q, Cursor...",
    )
    add_common(parser)
    parser.add_argument("--model", help="extractive (default) or bedrock_converse:<model-id>")
    parser.add_argument(
        "--root",
        action="append",
        type=Path,
        help="folder whose files review_architecture may read (repeatable; default: the "
        "current folder)",
    )
    parser.add_argument(
        "--http", action="store_true", help="serve streamable HTTP on 127.0.0.1 instead of stdio"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address of the HTTP server (default 127.0.0.1; any other needs LENSWISE_MCP_TOKENS)",
    )
    parser.add_argument(
        "--port",
        type=whole_number(1, 65535),
        default=8000,
        help="port of the HTTP server (default 8000)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Build the server over a LensAssistant and serve until the host disconnects."""
    require_extra("mcp", "lenswise mcp")
    from agent import LensAssistant
    from lenswise.mcp.http import tokens_for
    from lenswise.mcp.inputs import http_body_limit
    from lenswise.mcp.server import build_server

    tokens = tokens_for(args.host, settings.mcp_tokens, settings.team_mode) if args.http else {}
    lens = LensAssistant(
        settings, model=args.model, notify=lambda line: print(line, file=sys.stderr)
    )
    if args.http:  # load everything before listening: /healthz then means full speed
        lens.warm_up()
    server = build_server(lens, args.root or [Path.cwd()], warm=not args.http)
    # The SDK installs a root log handler; keep libraries' debug chatter off the host's log.
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    if args.http:
        from agent.health import HealthCheck
        from lenswise.mcp.http import serve

        guarded = f" ({len(tokens)} bearer tokens)" if tokens else ""
        print(
            f"lenswise MCP server on http://{args.host}:{args.port}/mcp{guarded}", file=sys.stderr
        )
        serve(
            server,
            HealthCheck(lens),
            host=args.host,
            port=args.port,
            tokens=tokens,
            body_limit=http_body_limit(settings.max_upload_bytes),
        )
    else:
        server.run("stdio")
    return 0
