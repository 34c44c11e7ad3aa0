import dataclasses

import pytest

from agent.events import (
    CitationEvent,
    FinalEvent,
    RetrievalEvent,
    StatusEvent,
    TokenEvent,
    final_answer,
)
from agent.results import Answer, Citation
from corpus.errors import LenswiseError

CITATION = Citation("GENSEC04-BP02", "Sanitize inputs", "https://x", ("c#1",), "Screen prompts.")


def _turn(answer: Answer):
    yield StatusEvent("searching the lens")
    yield RetrievalEvent(())
    yield TokenEvent("Screen ")
    yield TokenEvent("prompts.")
    yield CitationEvent(CITATION)
    yield FinalEvent(answer)


def test_final_answer_returns_the_answer_and_hands_over_the_text_pieces():
    answer = Answer("q", "Screen prompts.", [CITATION])
    heard: list[str] = []
    assert final_answer(_turn(answer), heard.append) is answer
    assert heard == ["Screen ", "prompts."]


def test_a_stream_without_its_final_event_is_an_error():
    events = [StatusEvent("checking citations"), TokenEvent("partial")]
    with pytest.raises(LenswiseError, match="without its final answer"):
        final_answer(events)


def test_each_event_names_its_kind_and_is_frozen():
    answer = Answer("q", "a")
    events = list(_turn(answer))
    assert [e.type for e in events] == [
        "status",
        "retrieval",
        "token",
        "token",
        "citation",
        "final",
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[2].text = "changed"
