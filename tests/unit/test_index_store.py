import json
import multiprocessing
import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest

from corpus.chunking import chunk_documents
from corpus.errors import InputError
from corpus.examples import load_examples
from corpus.models import Document, Section
from corpus.sources import load_source
from index.build import ensure_index
from index.locks import file_lock
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
    questions = {e.text for e in load_examples("generative-ai").examples}
    assert not first.reused and first.embedded == len(chunks)
    assert emb.calls == len(chunks) + len(questions)  # chunks and example questions, once
    manifest = read_manifest(first.path)
    assert manifest["router"]["keys"] > 0 and set(manifest["router"]["report"]) >= {"dev", "test"}
    assert manifest["chunk_count"] == len(chunks)
    assert manifest["model"] == "hash-test" and manifest["dim"] == 64
    assert manifest["source"] == "builtin" and manifest["edition"] == "2025-11"
    assert {"faiss-cpu", "bm25s"} <= set(manifest["versions"]) and manifest["created_at"]
    second = _build(chunks, tmp_path, emb)
    assert second.reused and second.path == first.path
    assert emb.calls == len(chunks) + len(questions)
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


def _damage_manifest(path, content: bytes) -> None:
    (path / "manifest.json").write_bytes(content)


def _damage_chunk_line(path, line: str) -> None:
    lines = (path / "chunks.jsonl").read_text().splitlines()
    lines[3] = line
    (path / "chunks.jsonl").write_text("\n".join(lines) + "\n")


def _damage_field(path, key, value) -> None:
    manifest = json.loads((path / "manifest.json").read_text())
    manifest[key] = value
    (path / "manifest.json").write_text(json.dumps(manifest))


DAMAGE = {
    "manifest is a list": (lambda p: _damage_manifest(p, b"[]"), "manifest.json"),
    "manifest is a string": (lambda p: _damage_manifest(p, b'"index"'), "manifest.json"),
    "manifest is binary": (lambda p: _damage_manifest(p, bytes(range(256))), "manifest.json"),
    "manifest is empty": (lambda p: _damage_manifest(p, b""), "manifest.json"),
    "manifest lacks keys": (lambda p: _damage_manifest(p, b'{"format_version": 2}'), "manifest"),
    "dim is text": (lambda p: _damage_field(p, "dim", "64"), "dim"),
    "chunk count is negative": (lambda p: _damage_field(p, "chunk_count", -1), "chunk_count"),
    "versions is a list": (lambda p: _damage_field(p, "versions", []), "versions"),
    "chunk line is a list": (lambda p: _damage_chunk_line(p, "[1, 2]"), "chunks.jsonl line 4"),
    "chunk line is a number": (lambda p: _damage_chunk_line(p, "7"), "chunks.jsonl line 4"),
    "chunk line is not JSON": (lambda p: _damage_chunk_line(p, "{oops"), "chunks.jsonl line 4"),
    "chunk lacks its text": (
        lambda p: _damage_chunk_line(p, '{"chunk_id": "x", "lens": "l"}'),
        "chunks.jsonl line 4",
    ),
    "chunk title is a number": (
        lambda p: _damage_chunk_line(
            p,
            json.dumps(
                {
                    **json.loads((p / "chunks.jsonl").read_text().splitlines()[3]),
                    "title": 5,
                }
            ),
        ),
        "title",
    ),
    "chunks file is binary": (
        lambda p: (p / "chunks.jsonl").write_bytes(b"\xff\xfe\x00garbage"),
        "chunks.jsonl",
    ),
    "faiss file is garbage": (lambda p: (p / "dense.faiss").write_bytes(b"\x00" * 64), "dense"),
    "bm25 params are a list": (
        lambda p: (p / "bm25" / "params.index.json").write_text("[]"),
        "bm25",
    ),
    "bm25 vocab is garbage": (lambda p: (p / "bm25" / "vocab.index.json").write_text("7"), "bm25"),
    "bm25 folder is missing": (lambda p: shutil.rmtree(p / "bm25"), "bm25"),
    "index folder is a file": (lambda p: shutil.rmtree(p) or p.write_text("x"), "manifest.json"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_any_damage_is_named_and_a_build_repairs_it(tmp_path, damage):
    chunks, emb = _chunks(tmp_path), HashEmbedder()
    report = _build(chunks, tmp_path, emb)
    harm, named = DAMAGE[damage]
    harm(report.path)
    with pytest.raises(InputError) as caught:
        load_index(report.path, "hash-test", lambda: emb)
    message = str(caught.value)
    assert named in message and "\n" not in message, message
    assert str(report.path) in message and "lenswise index build" in message
    repaired = _build(chunks, tmp_path, emb)  # an ordinary build notices and rebuilds
    assert not repaired.reused and repaired.path == report.path
    assert load_index(repaired.path, "hash-test", lambda: emb).search("guardrails")
    harm(report.path)
    forced = _build(chunks, tmp_path, emb, force=True)
    assert load_index(forced.path, "hash-test", lambda: emb).search("guardrails")
    assert [p.name for p in index_root(tmp_path).iterdir() if p.name.startswith(".")] == [
        f".{report.path.name}.lock"
    ]  # nothing left over but the build lock


def test_damaged_vectors_are_not_reused_by_a_rebuild(tmp_path):
    chunks, emb = _chunks(tmp_path), HashEmbedder()
    report = _build(chunks, tmp_path, emb)
    np.save(report.path / "vectors.npy", np.zeros((3, 5), dtype="float32"))
    rebuilt = _build(chunks, tmp_path, emb, force=True)
    assert rebuilt.embedded == len(chunks)  # nothing came from the damaged vectors
    assert np.load(rebuilt.path / "vectors.npy").shape == (len(chunks), 64)


def _build_until_killed(home: str, started) -> None:
    import time

    import index.build

    def hang(texts):
        started.set()
        time.sleep(600)

    index.build.SparseIndex.build = hang
    _build(chunk_documents(load_source("builtin", home=home).documents), Path(home), HashEmbedder())


def test_a_killed_build_leaves_nothing_behind_after_the_next_run(tmp_path):
    ctx = multiprocessing.get_context("fork")
    started = ctx.Event()
    proc = ctx.Process(target=_build_until_killed, args=(str(tmp_path), started))
    proc.start()
    assert started.wait(60)
    root = index_root(tmp_path)
    assert [p.name for p in root.iterdir() if p.name.startswith(".tmp-")]  # mid-build
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(10)
    report = _build(_chunks(tmp_path), tmp_path, HashEmbedder())
    assert not [p for p in root.iterdir() if p.name.startswith((".tmp-", ".old-"))]
    assert load_index(report.path, "hash-test", lambda: HashEmbedder()).search("guardrails")
    assert _build(_chunks(tmp_path), tmp_path, HashEmbedder()).reused


def test_the_temporary_folder_of_a_running_build_is_left_alone(tmp_path):
    report = _build(_chunks(tmp_path), tmp_path, HashEmbedder())
    root = index_root(tmp_path)
    live = root / f".tmp-{report.path.name}-0123abcd"
    live.mkdir()
    with file_lock(root / f".{report.path.name}.lock"):  # as a running build holds it
        assert _build(_chunks(tmp_path), tmp_path, HashEmbedder()).reused
        assert live.is_dir()
    _build(_chunks(tmp_path), tmp_path, HashEmbedder())
    assert not live.exists()


def test_a_query_is_scored_once_per_turn_however_many_parts_ask(hash_index, monkeypatch):
    """Routing, search and step scoring share one dense scoring of the same text."""
    dense = hash_index._dense
    calls = []

    class Counting:
        def search(self, vector, k):
            calls.append(k)
            return dense.search(vector, k)

    monkeypatch.setattr(hash_index, "_dense", Counting())
    query = "how do we screen prompts for injection before the model sees them, scored once?"
    first = hash_index.chunk_similarity(query)
    hash_index.search(query, k=3)
    assert hash_index.chunk_similarity(query) == first
    assert len(calls) == 1
