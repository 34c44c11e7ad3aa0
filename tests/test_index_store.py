import json
import multiprocessing
import os

import numpy as np
import pytest

from corpus.chunking import chunk_documents
from corpus.errors import InputError
from corpus.models import Document, Section
from corpus.sources import load_source
from index.build import ensure_index
from index.store import index_root, load_index, read_manifest
from tests.helpers import HashEmbedder


def _chunks(tmp_path):
    return chunk_documents(load_source("builtin", home=tmp_path).documents)


def _build(chunks, home, embedder, model="hash-test", **kw):
    return ensure_index(
        chunks,
        home=home,
        model=model,
        embedder=lambda: embedder,
        source="builtin",
        edition="2025-11",
        **kw,
    )


def test_build_then_reuse_writes_a_complete_manifest(tmp_path):
    chunks, emb = _chunks(tmp_path), HashEmbedder()
    first = _build(chunks, tmp_path, emb)
    assert not first.reused and first.embedded == len(chunks) == emb.calls
    manifest = read_manifest(first.path)
    assert manifest["chunk_count"] == len(chunks)
    assert manifest["model"] == "hash-test" and manifest["dim"] == 64
    assert manifest["source"] == "builtin" and manifest["edition"] == "2025-11"
    assert {"faiss-cpu", "bm25s"} <= set(manifest["versions"]) and manifest["created_at"]
    second = _build(chunks, tmp_path, emb)
    assert second.reused and second.path == first.path and emb.calls == len(chunks)
    assert not [p for p in index_root(tmp_path).iterdir() if p.name.startswith((".tmp", ".old"))]


def test_rebuild_embeds_only_changed_chunks(tmp_path):
    docs = load_source("builtin", home=tmp_path).documents
    emb = HashEmbedder()
    _build(chunk_documents(docs), tmp_path, emb)
    target = next(i for i, d in enumerate(docs) if d.bp_id == "GENSEC04-BP02")
    old = docs[target]
    docs[target] = Document(
        **{
            **old.__dict__,
            "sections": old.sections[:1]
            + (Section("Desired outcome", "A brand new sentence about prompt hygiene."),)
            + old.sections[2:],
        }
    )
    changed = chunk_documents(docs)
    before = emb.calls
    report = _build(changed, tmp_path, emb)
    assert not report.reused
    assert 1 <= report.embedded <= 2 and emb.calls - before == report.embedded
    index = load_index(report.path, "hash-test", lambda: emb)
    hits = index.search("brand new sentence about prompt hygiene", k=1, mode="bm25")
    assert hits[0].chunk.bp_id == "GENSEC04-BP02"


def test_index_from_another_model_is_refused(tmp_path):
    report = _build(_chunks(tmp_path), tmp_path, HashEmbedder())
    with pytest.raises(InputError, match="built with embedding model 'hash-test'"):
        load_index(report.path, "all-MiniLM-L6-v2", lambda: HashEmbedder())


def test_dimension_mismatch_is_refused_on_first_query(tmp_path):
    report = _build(_chunks(tmp_path), tmp_path, HashEmbedder(dim=64))
    index = load_index(report.path, "hash-test", lambda: HashEmbedder(dim=32))
    with pytest.raises(InputError, match="dimension"):
        index.search("guardrails", mode="dense")


def test_corrupt_faiss_file_is_reported_then_repaired_by_a_build(tmp_path):
    chunks, emb = _chunks(tmp_path), HashEmbedder()
    report = _build(chunks, tmp_path, emb)
    (report.path / "dense.faiss").write_bytes(b"not a faiss index")
    with pytest.raises(InputError, match="damaged"):
        load_index(report.path, "hash-test", lambda: emb)
    repaired = _build(chunks, tmp_path, emb)
    assert not repaired.reused and repaired.embedded == 0  # vectors came from vectors.npy
    assert load_index(repaired.path, "hash-test", lambda: emb).search("guardrails")


def test_garbage_manifest_is_an_input_error(tmp_path):
    report = _build(_chunks(tmp_path), tmp_path, HashEmbedder())
    (report.path / "manifest.json").write_text("{nope")
    with pytest.raises(InputError, match="unreadable"):
        read_manifest(report.path)


def _build_in_process(home: str, queue) -> None:
    chunks = chunk_documents(load_source("builtin", home=home).documents)
    report = _build(chunks, home=__import__("pathlib").Path(home), embedder=HashEmbedder())
    queue.put((str(report.path), report.reused))


def test_two_processes_building_at_once_do_not_corrupt(tmp_path):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_build_in_process, args=(str(tmp_path), queue)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    results = [queue.get(timeout=5) for _ in procs]
    assert len({path for path, _ in results}) == 1
    assert sorted(reused for _, reused in results) == [False, True]
    path = results[0][0]
    index = load_index(__import__("pathlib").Path(path), "hash-test", lambda: HashEmbedder())
    assert (
        len(index.chunks)
        == json.loads(open(os.path.join(path, "manifest.json")).read())["chunk_count"]
    )
    assert np.load(os.path.join(path, "vectors.npy")).shape[0] == len(index.chunks)
