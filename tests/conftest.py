"""Shared fixtures: an isolated LENSWISE_HOME, the shared lens folder, a real-model index."""

from __future__ import annotations

import pytest

from agent.config import Settings
from tests.helpers import GENAI_MARKDOWN, LENS


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own LENSWISE_HOME and no AWS settings from the machine."""
    monkeypatch.setenv("LENSWISE_HOME", str(tmp_path / "home"))
    for name in ("LENSWISE_CORPUS", "LENSWISE_MODEL", "LENSWISE_EMBEDDING_MODEL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def shared_lens():
    """The shared lens copies; tests needing them skip when the folder is absent."""
    if not GENAI_MARKDOWN.is_dir():
        pytest.skip("../shared/lens is not present")
    return LENS


@pytest.fixture(scope="session")
def real_home(tmp_path_factory):
    """A LENSWISE_HOME holding the builtin index built once with the real MiniLM model."""
    from index.build import open_index

    home = tmp_path_factory.mktemp("real-home")
    open_index(Settings(home=home))
    return home


@pytest.fixture(scope="session")
def real_index(real_home):
    """The builtin digest index with the real embedding model (built once per session)."""
    from index.build import open_index

    index, _ = open_index(Settings(home=real_home))
    return index


@pytest.fixture
def real_lens(real_index, tmp_path):
    """An extractive LensAssistant over the real index, with its own thread store."""
    from agent import LensAssistant

    return LensAssistant(Settings(home=tmp_path / "lens"), index=real_index)


@pytest.fixture(scope="session")
def hash_index(tmp_path_factory):
    """The builtin digest indexed with the tiny hash embedder (instant, no model files)."""
    from corpus.chunking import chunk_documents
    from corpus.sources import load_source
    from index.build import ensure_index
    from index.store import load_index
    from tests.helpers import HashEmbedder

    home = tmp_path_factory.mktemp("hash")
    corpus = load_source("builtin", home=home)
    emb = HashEmbedder()
    report = ensure_index(
        chunk_documents(corpus.documents),
        home=home,
        model="hash-test",
        embedder=lambda: emb,
        source="builtin",
        edition=corpus.edition,
    )
    index = load_index(report.path, "hash-test", lambda: emb)
    index.corpus = corpus
    return index
