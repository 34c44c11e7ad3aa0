"""Is this lenswise ready to serve? The state store answers and the lens index is built.

``lenswise serve-check`` prints it and the MCP HTTP server answers it on ``/healthz``, so a load
balancer (an ECS health check) sends traffic only to replicas that can answer.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, TypedDict

from agent.config import Settings
from corpus.errors import LenswiseError

if TYPE_CHECKING:
    from agent.api import LensAssistant


class Part(TypedDict):
    """The state of one part: ready or not, and one line saying where or why."""

    ready: bool
    detail: str


class Readiness(TypedDict):
    """The answer of a health check."""

    ready: bool
    store: Part
    index: Part


class HealthCheck:
    """Checks the store on every call and the index until it has once been found built."""

    def __init__(self, lens: LensAssistant) -> None:
        """Check the parts of ``lens`` (a LensAssistant); nothing is built or loaded here."""
        self._lens = lens
        self._index_ready: Part | None = None
        self._lock = threading.Lock()

    def store(self) -> Part:
        """Return whether the state store answers (it is opened on first use)."""
        try:
            return {"ready": True, "detail": self._lens.store.ping()}
        except LenswiseError as exc:
            return {"ready": False, "detail": str(exc)}

    def index(self) -> Part:
        """Return whether the index of the configured source is built (a built one stays so)."""
        with self._lock:
            if self._index_ready is not None:
                return self._index_ready
        part = index_part(self._lens.settings)
        if part["ready"]:
            with self._lock:
                self._index_ready = part
        return part

    def __call__(self) -> Readiness:
        """Return the readiness of both parts."""
        store, index = self.store(), self.index()
        return {"ready": store["ready"] and index["ready"], "store": store, "index": index}


def index_part(settings: Settings) -> Part:
    """Return whether the index for ``settings.source`` is built, without building it."""
    from index.build import index_status

    try:
        built, path = index_status(settings)
    except LenswiseError as exc:
        return {"ready": False, "detail": str(exc)}
    if built:
        return {"ready": True, "detail": str(path)}
    return {
        "ready": False,
        "detail": f"not built yet at {path}: run 'lenswise index build' (the image should)",
    }
