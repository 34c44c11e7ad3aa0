"""Shared fixtures: an isolated LENSWISE_HOME, no network, the shared lens folder, indexes."""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
import socket
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest

from agent.config import Settings
from tests.helpers import GENAI_MARKDOWN, LENS, use_hash_embedder


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own LENSWISE_HOME and no AWS settings from the machine."""
    monkeypatch.setenv("LENSWISE_HOME", str(tmp_path / "home"))
    for name in ("LENSWISE_CORPUS", "LENSWISE_MODEL", "LENSWISE_EMBEDDING_MODEL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("LENSWISE_STATE_URL", "LENSWISE_TEAM", "LENSWISE_USER", "LENSWISE_MCP_TOKENS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def hash_home(monkeypatch, tmp_path):
    """A LENSWISE_HOME whose default index was built with the hash embedder."""
    from lenswise.cli import main

    use_hash_embedder(monkeypatch)
    home = tmp_path / "home"
    monkeypatch.setenv("LENSWISE_HOME", str(home))
    assert main(["index", "build"]) == 0
    return home


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the session (skipped, saying why, if none starts)."""
    from evals.pg_server import Postgres

    try:
        server = Postgres()
        server.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"no PostgreSQL server for the team tests: {exc}")
    yield server
    server.remove()


@pytest.fixture
def pg_url(postgres_server):
    """A fresh database on the throwaway server, dropped after the test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield postgres_server.url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


REAL_MODEL_FIXTURES = {"real_home", "real_index", "real_lens"}
UNIT = Path(__file__).resolve().parent / "unit"


def pytest_collection_modifyitems(items):
    """Keep ``tests/unit`` (``make test-quick``) free of the real embedding model.

    Building the real-model index embeds the digest and the example questions with MiniLM,
    about two minutes on two cores, so a test that asks for one of these fixtures belongs in
    ``tests/integration``; collection stops with that advice instead of slowing the quick run.
    """
    for item in items:
        needs_model = REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ()))
        if needs_model and UNIT in Path(str(item.path)).parents:
            raise pytest.UsageError(
                f"{item.nodeid} uses {sorted(needs_model)}: move it to tests/integration"
            )


class NetworkBlocked(RuntimeError):
    """A test tried to reach a host other than this machine."""


LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).split("%", 1)[0]  # an IPv6 scope id
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # any other host name would need the network to resolve


def _check_address(family, address) -> None:
    if family == getattr(socket, "AF_UNIX", None) or not isinstance(address, tuple):
        return  # a Unix socket path
    if not _is_loopback(address[0]):
        raise NetworkBlocked(f"tests must not use the network: connect to {address[:2]} blocked")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Fail loudly when a test (in this process) connects anywhere but the loopback.

    Local fakes on 127.0.0.1 (Bedrock, the Well-Architected API, the UI) stay reachable; Unix
    sockets are allowed. Child processes are out of its reach.
    """
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create_connection = socket.create_connection

    def connect(self, address):
        _check_address(self.family, address)
        return real_connect(self, address)

    def connect_ex(self, address):
        _check_address(self.family, address)
        return real_connect_ex(self, address)

    def create_connection(address, *args, **kwargs):
        _check_address(socket.AF_INET, address)  # before any name lookup
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)


_FITS: dict[str, object] = {}
"""Router calibrations of this session, by a hash of everything they are computed from."""


def _fingerprint(*parts):
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(f"{part.dtype}{part.shape}".encode())
            part = np.ascontiguousarray(part).tobytes()
        elif not isinstance(part, bytes):
            part = json.dumps(part, sort_keys=True, default=str).encode()
        digest.update(part)
    return digest


@pytest.fixture(scope="session", autouse=True)
def _calibrate_once_per_input():
    """Reuse a router calibration already fitted in this session on exactly the same input.

    Calibration (``index.calibrate.calibrate``, some 20 s on two cores) is a pure function of
    the chunks, their texts and vectors, and the example questions with their vectors; most
    tests build the same hash-embedder digest index only to exercise other logic (damage,
    repair, the CLI). The first build with a given input fits for real; later ones get a
    copy of that result. Everything else a build does (embedding, files, locks) still runs.
    """
    import index.build
    import index.router

    real_build_router, real_calibrate = index.build.build_router, index.router.calibrate

    def build_router(folder, chunks, texts, chunk_vectors, sparse, examples, previous, encoder):
        corpus = _fingerprint([c.to_dict() for c in chunks], list(texts), examples.digest)

        def calibrate(table, vectors, *args):
            vector_of = args[-1]
            key = _fingerprint(
                corpus.hexdigest(),
                vectors,
                np.array([vector_of(e.text) for e in args[-2].examples], dtype="float32"),
            ).hexdigest()
            if key not in _FITS:
                _FITS[key] = copy.deepcopy(real_calibrate(table, vectors, *args))
            return copy.deepcopy(_FITS[key])

        index.router.calibrate = calibrate
        try:
            return real_build_router(
                folder, chunks, texts, chunk_vectors, sparse, examples, previous, encoder
            )
        finally:
            index.router.calibrate = real_calibrate

    with pytest.MonkeyPatch.context() as patch:  # session-wide: module fixtures build too
        patch.setattr(index.build, "build_router", build_router)
        yield


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
