"""Test doubles shared by the test modules: a tiny deterministic embedder and path helpers."""

from __future__ import annotations

import hashlib
import re
import textwrap
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
"""Files written for the tests (diagrams, templates, labelled reviews)."""
SHARED = REPO.parent / "shared"
LENS = SHARED / "lens"
GENAI_MARKDOWN = LENS / "wa-references" / "lenses" / "generative-ai"
LENS_DOCS = "https://docs.aws.amazon.com/wellarchitected/latest/generative-ai-lens/"
"""Official docs folder of the lens; page URLs are ``LENS_DOCS + "<id>.html"``."""

HOLD_LOCK = textwrap.dedent(
    """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("CREATE TABLE IF NOT EXISTS holder(x)")
    print("locked", flush=True)
    time.sleep(120)
    """
)
"""A program (``python -c HOLD_LOCK <db>``) that locks an SQLite file, says "locked", and
holds it, as another tool holding the history file open in a write would."""


CLI_WITH_HASH_EMBEDDER = textwrap.dedent(
    """
    import sys
    from lenswise.cli import main
    from tests.helpers import use_hash_embedder

    use_hash_embedder()
    process, asks = sys.argv[1], int(sys.argv[2])
    for n in range(asks):
        code = main(["ask", f"process {process} question {n}: how do I use guardrails?",
                     "--thread", "C1", "--json"])
        if code:
            sys.exit(code)
    """
)
"""A program (``python -c CLI_WITH_HASH_EMBEDDER <name> <n>``) that asks ``n`` questions on
thread C1 through the CLI with the hash embedder, as one of several concurrent processes."""


class HashEmbedder:
    """Bag-of-words vectors from hashed tokens: deterministic, instant, no model files.

    Texts sharing words get similar vectors, which is enough to exercise dense search.
    ``calls`` counts encoded texts so tests can assert how much was (re-)embedded.
    """

    def __init__(self, dim: int = 64, name: str = "hash-test") -> None:
        self.name = name
        self._dim = dim
        self.calls = 0

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), self._dim), dtype="float32")
        for row, text in enumerate(texts):
            for token in re.findall(r"[a-z0-9]+", text.lower()):
                slot = int(hashlib.md5(token.encode()).hexdigest(), 16) % self._dim
                out[row, slot] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def use_hash_embedder(monkeypatch=None) -> None:
    """Stand the hash embedder in for the model when indexes are built and queried.

    Queries go to it as the reference encoder, so no ONNX export is made. Without
    ``monkeypatch`` (a child process) the module attributes are simply replaced.
    """
    import index.build

    patches = {
        "load_embedder": lambda spec: HashEmbedder(name=spec),
        "load_query_embedder": lambda spec, *, home, runtime, reference: reference(),
    }
    for name, value in patches.items():
        if monkeypatch is None:
            setattr(index.build, name, value)
        else:
            monkeypatch.setattr(index.build, name, value)


def scripted_model(replies):
    """A chat model that returns ``replies`` in order and records every prompt it was sent.

    Replies are AIMessages (with ``tool_calls`` to drive the tool loop) or plain strings.
    ``bind_tools`` returns the model itself, so the graph's tool-calling path runs unchanged.
    """
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    class ScriptedChatModel(BaseChatModel):
        replies: list = []
        calls: list = []

        @property
        def _llm_type(self) -> str:
            return "scripted"

        def bind_tools(self, tools, **kwargs):
            return self

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            self.calls.append(list(messages))
            if not self.replies:
                raise AssertionError("the scripted model ran out of replies")
            reply = self.replies.pop(0)
            if isinstance(reply, Exception):
                raise reply
            message = reply if isinstance(reply, AIMessage) else AIMessage(content=reply)
            return ChatResult(generations=[ChatGeneration(message=message)])

    return ScriptedChatModel(replies=list(replies), calls=[])


def tool_call(name: str, call_id: str = "c1", **args):
    """An AIMessage asking for one tool call."""
    from langchain_core.messages import AIMessage

    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])
