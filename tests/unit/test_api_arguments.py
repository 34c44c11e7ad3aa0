"""Every public call of the Python API refuses wrong types and ranges with the project's errors."""

from __future__ import annotations

import asyncio
import math

import pytest

from agent import InputError, LensAssistant
from agent.config import Settings
from agent.conversations import Conversations
from tests.helpers import SHARED

QUESTION = "How do I stop prompt injection?"
NOT_TEXT = [None, 123, 1.5, True, ["x"], {"a": 1}, b"bytes", object()]
BLANK = ["", "   "]


def _wrong(name: str, values: list, call) -> list:
    return [pytest.param(call, value, id=f"{name}={value!r}"[:60]) for value in values]


def _drain(events) -> None:
    for _ in events:
        pass


async def _adrain(events) -> None:
    async for _ in events:
        pass


SWEEP = [
    *_wrong("ask.question", [*NOT_TEXT, *BLANK, "x" * 5000], lambda lens, v: lens.ask(v)),
    *_wrong(
        "ask.thread_id",
        [123, 1.5, True, ["x"], {}, b"x", *BLANK, "t" * 300],
        lambda lens, v: lens.ask(QUESTION, thread_id=v),
    ),
    *_wrong(
        "ask.diagram",
        [123, True, ["x"], b"<mxfile/>", "/no/such/diagram.drawio"],
        lambda lens, v: lens.ask(QUESTION, diagram=v),
    ),
    *_wrong("ask.pillar", [5, True, ["sec"], "nope"], lambda lens, v: lens.ask(QUESTION, pillar=v)),
    *_wrong("stream.question", [None, 5, ""], lambda lens, v: lens.stream(v)),
    *_wrong("stream.thread_id", [["x"], 5], lambda lens, v: lens.stream(QUESTION, thread_id=v)),
    *_wrong("stream.pillar", ["nope"], lambda lens, v: _drain(lens.stream(QUESTION, pillar=v))),
    *_wrong("aask.question", [None, 5], lambda lens, v: asyncio.run(lens.aask(v))),
    *_wrong(
        "aask.thread_id",
        [["x"]],
        lambda lens, v: asyncio.run(lens.aask(QUESTION, thread_id=v)),
    ),
    *_wrong("astream.question", [None, ""], lambda lens, v: asyncio.run(_adrain(lens.astream(v)))),
    *_wrong("search.query", [None, 5, ["x"], b"x", *BLANK], lambda lens, v: lens.search(v)),
    *_wrong("search.k", ["5", 0, -1, 1.5, True, None], lambda lens, v: lens.search("x", k=v)),
    *_wrong("search.mode", ["fuzzy", 1, None, ["bm25"]], lambda lens, v: lens.search("x", mode=v)),
    *_wrong("search.pillar", [5, "nope", ["sec"]], lambda lens, v: lens.search("x", pillar=v)),
    *_wrong("search.per_doc", [-1, "2", 1.5, None], lambda lens, v: lens.search("x", per_doc=v)),
    *_wrong("review.diagram", [None, 123, 1.5, ["x"], {}], lambda lens, v: lens.review(v)),
    *_wrong(
        "review.filename",
        [123, ["x"], ""],
        lambda lens, v: lens.review(b"graph TD; A-->B", v),
    ),
    *_wrong(
        "for_user.user", [None, 5, "", " ", "a\nb", "x" * 201], lambda lens, v: lens.for_user(v)
    ),
    *_wrong(
        "new_thread.title",
        [123, ["x"], b"x"],
        lambda lens, v: lens.conversations.new_thread(v),
    ),
    *_wrong(
        "rename_thread.id",
        [None, 123, ["x"], ""],
        lambda lens, v: lens.conversations.rename_thread(v, "t"),
    ),
    *_wrong(
        "rename_thread.title",
        [None, 123, ["x"], *BLANK],
        lambda lens, v: lens.conversations.rename_thread(lens.conversations.new_thread(), v),
    ),
    *_wrong(
        "rename_thread.unknown",
        ["no-such-thread"],
        lambda lens, v: lens.conversations.rename_thread(v, "t"),
    ),
    *_wrong(
        "delete_thread.id",
        [None, 123, ["x"], ""],
        lambda lens, v: lens.conversations.delete_thread(v),
    ),
    *_wrong(
        "detach_design.id",
        [None, 123, ["x"], ""],
        lambda lens, v: lens.conversations.detach_design(v),
    ),
    *_wrong("open_index.progress", [123, "x", ["x"]], lambda lens, v: lens.open_index(v)),
    *_wrong(
        "attached_design.id",
        [None, 123, ["x"], ""],
        lambda lens, v: lens.conversations.attached_design(v),
    ),
    *_wrong(
        "transcript.id",
        [None, 123, ["x"], ""],
        lambda lens, v: lens.conversations.transcript(v),
    ),
    *_wrong(
        "export_thread.id",
        [None, 123, ["x"]],
        lambda lens, v: lens.conversations.export_thread(v),
    ),
    *_wrong(
        "feedback_given.id",
        [None, 123, ["x"]],
        lambda lens, v: lens.conversations.feedback_given(v),
    ),
    *_wrong(
        "feedback.thread_id",
        [None, 123, ["x"]],
        lambda lens, v: lens.conversations.feedback(v, 0, 1),
    ),
    *_wrong(
        "feedback.turn",
        [-1, "0", 1.5, None, True, 99],
        lambda lens, v: lens.conversations.feedback("fb", v, 1),
    ),
    *_wrong(
        "feedback.score",
        [0, 2, True, "1", 1.5, None],
        lambda lens, v: lens.conversations.feedback("fb", 0, v),
    ),
    *_wrong(
        "feedback.comment",
        [None, 123, ["x"]],
        lambda lens, v: lens.conversations.feedback("fb", 0, 1, v),
    ),
]

CONSTRUCTOR = [
    *_wrong("settings", [123, "x", {"k": 3}], lambda lens, v: LensAssistant(v)),
    *_wrong("model", [123, "", ["x"]], lambda lens, v: LensAssistant(model=v)),
    *_wrong("source", [123, "", ["builtin"], 1.5], lambda lens, v: LensAssistant(source=v)),
    *_wrong("k", [0, -1, 101, "5", 1.5, True], lambda lens, v: LensAssistant(k=v)),
    *_wrong("index", [123, "index"], lambda lens, v: LensAssistant(index=v)),
    *_wrong("chat_model", [123, "model"], lambda lens, v: LensAssistant(chat_model=v)),
    *_wrong("notify", [123, "print"], lambda lens, v: LensAssistant(notify=v)),
    *_wrong("store", [123, "state.sqlite"], lambda lens, v: LensAssistant(store=v)),
    *_wrong("Settings.home", [123, ["x"]], lambda lens, v: Settings(home=v)),
    *_wrong(
        "Settings.timeout_s",
        [0, -1, "60", math.nan, math.inf, True],
        lambda lens, v: Settings(timeout_s=v),
    ),
    *_wrong(
        "Settings.max_upload_bytes",
        [0, 1.5, "1e6", 2**40],
        lambda lens, v: Settings(max_upload_bytes=v),
    ),
    *_wrong("Settings.recursion_limit", [0, "25"], lambda lens, v: Settings(recursion_limit=v)),
    *_wrong("Settings.docs_base_url", ["ftp://x", 5], lambda lens, v: Settings(docs_base_url=v)),
    *_wrong("Settings.region", [5, ""], lambda lens, v: Settings(region=v)),
    *_wrong("Settings.embedding_model", [None, 5], lambda lens, v: Settings(embedding_model=v)),
    *_wrong("Settings.query_encoder", [None, "torch"], lambda lens, v: Settings(query_encoder=v)),
]


@pytest.fixture(scope="module")
def lens(hash_index, tmp_path_factory):
    lens = LensAssistant(Settings(home=tmp_path_factory.mktemp("api-args")), index=hash_index)
    lens.ask(QUESTION, thread_id="fb")
    return lens


@pytest.mark.parametrize("call, value", SWEEP + CONSTRUCTOR)
def test_wrong_arguments_raise_input_error_in_one_line(lens, call, value):
    with pytest.raises(InputError) as caught:
        call(lens, value)
    message = str(caught.value)
    assert message and "\n" not in message and len(message) < 300


def test_the_sweep_covers_every_public_method():
    public = {
        name
        for cls in (LensAssistant, Conversations)
        for name in dir(cls)
        if not name.startswith("_") and callable(getattr(cls, name))
    }
    swept = {p.id.split(".")[0].split("=")[0] for p in SWEEP}
    no_arguments = {"threads", "catalog", "all_feedback", "warm_up", "owner"}
    assert public - no_arguments <= swept, public - no_arguments - swept
    assert len(SWEEP) + len(CONSTRUCTOR) >= 150


def test_k_zero_is_refused_instead_of_answering_not_covered(hash_index, tmp_path):
    with pytest.raises(InputError, match="k must be between 1 and 100, not 0"):
        LensAssistant(Settings(home=tmp_path), index=hash_index, k=0)


def test_valid_arguments_still_work(lens, tmp_path):
    answer = lens.ask(QUESTION, thread_id="valid", pillar="sec")
    assert answer.citations and all(c.pillar in (None, "Security") for c in answer.citations)
    assert [e.type for e in lens.stream(QUESTION, thread_id="valid")][-1] == "final"
    assert asyncio.run(lens.aask(QUESTION, thread_id="valid")).thread_id == "valid"
    assert len(lens.search("guardrails", k=3, per_doc=0, mode="bm25", pillar="security")) == 3
    assert lens.search("guardrails", k=10**6)  # a large k is fine: everything that matches
    lens.conversations.rename_thread("valid", "Renamed")
    lens.conversations.feedback("valid", 0, -1, "")
    lens.conversations.feedback("valid", 1, 1, "right on")
    assert set(lens.conversations.feedback_given("valid")) == {0, 1}
    assert len(lens.conversations.transcript("valid")) == 3
    lens.conversations.delete_thread("valid")
    assert lens.conversations.transcript("valid") == []
    sample = SHARED / "diagrams"
    if sample.is_dir():
        first = next(p for p in sorted(sample.iterdir()) if p.suffix == ".drawio")
        assert lens.review(first).architecture.components
        assert lens.review(first.read_bytes(), first.name).findings
    home = tmp_path / "settings-home"
    assert Settings(home=str(home), timeout_s=5, max_upload_bytes=1).home == home
