"""The index build at MCP server start, and what a tool call hears while it runs.

A new home has no index, and building one takes minutes, longer than an MCP client waits for
a reply. The server therefore starts the build as it starts; a tool that needs the index waits
a short while, sending progress notifications and log messages, and then answers with a tool
error that says how far the build is, rather than keeping the client waiting in silence.
"""

from __future__ import annotations

import threading
import time
import warnings
from typing import TYPE_CHECKING

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPDeprecationWarning

from agent.build_progress import BuildMeter
from corpus.errors import LenswiseError

if TYPE_CHECKING:
    from agent.api import LensAssistant

WAIT_S = 20.0
"""How long a tool call waits for the build before it answers "being built" (well under 60 s)."""
TICK_S = 1.0


class IndexWarmup:
    """Opens (building if needed) the assistant's index in a background thread."""

    def __init__(self, lens: LensAssistant, wait_s: float | None = None) -> None:
        """Prepare to open ``lens``'s index; calls wait up to ``wait_s`` (:data:`WAIT_S`) for it."""
        self.lens = lens
        self.wait_s = WAIT_S if wait_s is None else wait_s
        self.meter = BuildMeter()
        self._finished = threading.Event()

    def start(self) -> threading.Thread:
        """Start opening the index; a failure is left for the first tool call to say."""

        def load() -> None:
            try:
                self.lens.open_index(progress=self.meter.update)
            except LenswiseError:  # said again, clearly, by the first tool call that needs it
                pass
            finally:
                self._finished.set()

        thread = threading.Thread(target=load, name="lenswise-index-build", daemon=True)
        thread.start()
        return thread

    @property
    def finished(self) -> bool:
        """Whether the index is open (or its opening failed)."""
        return self._finished.is_set()

    def busy_message(self) -> str:
        """Return the tool error of a call that came while the index is being built."""
        meter = self.meter
        if not meter.total:
            done, counts = "0% done", ": reading the lens"
        elif not meter.done:
            done, counts = "0% done", f": loading the embedding model for {meter.total} chunks"
        elif meter.done >= meter.total:
            done, counts = "100% done", f": all {meter.total} chunks embedded, now calibrating"
        else:
            done, counts = f"{meter.percent}% done", f": {meter.summary()}"
        return (
            f"index being built, {done}{counts}. This happens once per lenswise home and "
            "source; call again shortly (get_best_practice and list_best_practices answer "
            "now), or run `lenswise index build` before starting the server."
        )

    async def wait(self, ctx: Context | None) -> None:
        """Wait up to ``wait_s`` for the index, telling ``ctx``'s client how far it is.

        Raises:
            ToolError: the index is still being built when the wait ends.
        """
        deadline = time.monotonic() + self.wait_s
        told = -1
        while not self.finished and time.monotonic() < deadline:
            if ctx is not None and self.meter.done != told:
                told = self.meter.done
                await _tell(ctx, self.meter)
            await anyio.sleep(TICK_S)
        if not self.finished:
            raise ToolError(self.busy_message())


async def _tell(ctx: Context, meter: BuildMeter) -> None:
    """Send one progress notification (if the client asked) and one log message."""
    line = f"lenswise: building the lens index, {meter.summary()}"
    await ctx.report_progress(meter.done, meter.total or None, line)  # no-op without a token
    await log_info(ctx, line)


async def log_info(ctx: Context, line: str) -> None:
    """Send ``line`` to the client as an info log message from the ``lenswise`` logger."""
    with warnings.catch_warnings():  # deprecated by a later protocol; clients still show it
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await ctx.info(line, logger_name="lenswise")
