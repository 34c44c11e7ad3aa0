"""The serving half of the local fake endpoints: HTTP on a free port of 127.0.0.1, in a thread.

The scripted Bedrock endpoint of the faithfulness suite and the fakes of the tests (Bedrock,
the Well-Architected API) differ only in what they answer. Each subclasses
:class:`LoopbackServer` with its request handler, which reaches the fake through
:func:`owner_of`.
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseRequestHandler
from typing import Any, ClassVar, Generic, Self, TypeVar

Owner = TypeVar("Owner")


class QuietServer(ThreadingHTTPServer, Generic[Owner]):
    """A threading HTTP server that knows its fake and ignores clients hanging up mid-answer."""

    daemon_threads = True
    owner: Owner

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hangs up (timeouts, bad frames); report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def owner_of(handler: BaseRequestHandler, kind: type[Owner]) -> Owner:
    """Return the fake that ``handler``'s server answers for, checked to be a ``kind``."""
    owner = getattr(handler.server, "owner", None)
    if not isinstance(owner, kind):
        raise TypeError(f"this handler serves only a {kind.__name__}")
    return owner


class LoopbackServer:
    """Serve ``handler`` on 127.0.0.1 from a daemon thread; a context manager.

    Only the loopback address is ever bound, so a fake can never answer another machine.
    """

    handler: ClassVar[type[BaseHTTPRequestHandler]]
    poll_s: ClassVar[float] = 0.02
    _server: QuietServer[Self] | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Listen on a free port of 127.0.0.1, serving from a daemon thread."""
        self._server = QuietServer(("127.0.0.1", 0), self.handler)
        self._server.owner = self
        thread = threading.Thread(target=self._server.serve_forever, args=(self.poll_s,))
        thread.daemon = True
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
