"""What an MCP client reads when a call fails: one clear line, the reason, nothing echoed at length.

The SDK reports a tool's failed argument check as pydantic's full text (with the rejected
value and a documentation URL), a crash of a parser as "Error executing tool" with no reason,
and a prompt with a missing argument as an internal error logged with a traceback.
:class:`LensServer` turns each into one line the model can act on.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from pydantic import ValidationError

from corpus.errors import cut
from lenswise.mcp.stdio import AnsweringReadStream

READ_ERRORS = (ValueError, UnicodeError, RecursionError)
"""What a parser raises on a file it cannot read: its reason is about the input, so it is shown."""


def validation_message(exc: ValidationError) -> str:
    """Return pydantic's errors as ``name: reason`` parts, without values or URLs."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        parts.append(f"{where}: {cut(error['msg'], 200)}")
    return "; ".join(parts)


def tool_failure(name: str, exc: ToolError) -> ToolError:
    """Return the error a client reads for ``exc`` raised by the SDK around tool ``name``."""
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        return ToolError(f"invalid arguments for {name}: {validation_message(cause)}")
    if isinstance(exc, UnexpectedToolError) and isinstance(cause, READ_ERRORS):
        reason = cut(str(cause) or type(cause).__name__, 300)
        return ToolError(f"{name} could not read its input: {reason}")
    return exc


class LensServer(MCPServer):
    """The SDK's server with lenswise's one-line errors and a stdio that answers every line."""

    async def run_stdio_async(self) -> None:
        """Serve stdio; a line the SDK cannot read gets a JSON-RPC error, not silence."""
        async with stdio_server() as (read_stream, write_stream):
            await self._lowlevel_server.run(  # the SDK's own run_stdio_async does the same
                AnsweringReadStream(read_stream, write_stream),
                write_stream,
                self._lowlevel_server.create_initialization_options(),
            )

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context | None = None
    ) -> Any:
        """Call tool ``name``; argument and parse failures carry their reason in one line."""
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            failure = tool_failure(name, exc)
            if failure is exc:
                raise
            raise failure from exc.__cause__

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Context | None = None
    ) -> Any:
        """Render prompt ``name``; a missing or bad argument is one invalid-params line."""
        try:
            return await super().get_prompt(name, arguments, context)
        except MCPError:
            raise
        except ValueError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                message = validation_message(cause)
            else:
                message = cut(str(exc).splitlines()[0] if str(exc) else "bad arguments", 300)
            raise MCPError(INVALID_PARAMS, f"prompt {cut(name)}: {message}") from None
