"""The events of :meth:`LensAssistant.stream`: one small frozen dataclass per kind.

A consumer matches on the class (``case TokenEvent(text=t)``) and gets a typed payload, so
there is no ``data: Any`` to guess at and no ``assert final is not None``. Each class also
carries its kind as a ``type`` class attribute, for callers that only want to tell them apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar, Literal

from agent.results import Answer, Citation
from corpus.errors import LenswiseError
from index.search import Hit


@dataclass(frozen=True)
class StatusEvent:
    """Progress of the turn in a few words (``searching the lens``, ``checking citations``)."""

    type: ClassVar[Literal["status"]] = "status"
    text: str


@dataclass(frozen=True)
class RetrievalEvent:
    """The lens passages the answer was built from, best first."""

    type: ClassVar[Literal["retrieval"]] = "retrieval"
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class TokenEvent:
    """A piece of answer text as it is written (the whole text when the model does not stream)."""

    type: ClassVar[Literal["token"]] = "token"
    text: str


@dataclass(frozen=True)
class CitationEvent:
    """One verified citation of the answer."""

    type: ClassVar[Literal["citation"]] = "citation"
    citation: Citation


@dataclass(frozen=True)
class FinalEvent:
    """The finished answer; always the last event of a turn."""

    type: ClassVar[Literal["final"]] = "final"
    answer: Answer


Event = StatusEvent | RetrievalEvent | TokenEvent | CitationEvent | FinalEvent
"""Any item of :meth:`LensAssistant.stream`."""


def final_answer(events: Iterable[Event], on_token: Callable[[str], None] | None = None) -> Answer:
    """Read a stream up to its final answer and return it; ``on_token`` hears the text pieces.

    Raises:
        LenswiseError: the stream ended without a final event (it always ends with one).
    """
    for event in events:
        match event:
            case TokenEvent(text=text) if on_token is not None:
                on_token(text)
            case FinalEvent(answer=answer):
                return answer
    raise LenswiseError("the answer stream ended without its final answer")
