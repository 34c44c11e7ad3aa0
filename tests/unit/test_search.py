import numpy as np
import pytest

from corpus.chunking import chunk_documents
from corpus.errors import InputError
from corpus.ids import find_ids
from corpus.sources import load_source
from index.build import ensure_index
from index.search import normalise_pillar, rrf
from index.store import load_index
from tests.helpers import HashEmbedder


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    home = tmp_path_factory.mktemp("idx")
    chunks = chunk_documents(load_source("builtin", home=home).documents)
    emb = HashEmbedder()
    report = ensure_index(
        chunks, home=home, model="hash-test", embedder=lambda: emb, source="builtin"
    )
    return load_index(report.path, "hash-test", lambda: emb)


def test_rrf_rewards_agreement_between_rankings():
    scores = rrf([np.array([2, 0, 1]), np.array([2, 1])], n=3, k=60)
    assert scores[2] == pytest.approx(2 / 61)
    assert scores[1] == pytest.approx(1 / 63 + 1 / 62)
    assert scores[0] == pytest.approx(1 / 62)


def test_id_forms_are_recognised():
    known = {"GENSEC02-BP01", "GENSEC02", "GENCOST03-BP04"}
    assert find_ids("GENSEC02-BP01", known) == ["GENSEC02-BP01"]
    assert find_ids("what does gensec02 ask?", known) == ["GENSEC02"]
    assert find_ids("gencost03 bp04 and gensec2", known) == ["GENCOST03-BP04", "GENSEC02"]
    assert find_ids("no ids here sec99", known) == []


def test_loose_id_forms_name_real_ids_only():
    known = {"GENOPS03-BP01", "GENOPS03", "GENPERF04-BP02", "GENREL05-BP03", "GENCOST03-BP02"}
    assert find_ids("genops 3 bp 1 in a nutshell please", known) == ["GENOPS03-BP01"]
    assert find_ids("perf04-bp02, how risky is it to skip?", known) == ["GENPERF04-BP02"]
    assert find_ids("GENREL5 bp3", known) == ["GENREL05-BP03"]
    assert find_ids("tell me about cost practice 3.2", known) == ["GENCOST03-BP02"]
    assert find_ids("operational excellence question 3", known) == ["GENOPS03"]
    for text in ("reduce cost 3 times", "we run ec2 and s3", "ops 3 is down", "perf 99"):
        assert find_ids(text, known) == [], text


def test_exact_id_lookup_returns_only_that_page(index):
    hits = index.search("GENSEC02-BP01", k=5, per_doc=0)
    assert hits and {h.chunk.bp_id for h in hits} == {"GENSEC02-BP01"}
    assert [h.chunk.chunk_id for h in hits] == sorted(
        (h.chunk.chunk_id for h in hits), key=lambda c: int(c.split("#")[1])
    )
    question = index.search("gensec04", k=10)
    assert {h.chunk.question_id for h in question} == {"GENSEC04"}
    assert {h.chunk.bp_id for h in question} >= {"GENSEC04-BP01", "GENSEC04-BP02"}


def test_an_id_inside_a_question_goes_first(index):
    hits = index.search("how do I implement GENCOST05-BP01 with step functions", k=5)
    assert hits[0].chunk.bp_id == "GENCOST05-BP01"
    assert len({h.chunk.chunk_id.split("#")[0] for h in hits}) == 5


def test_filters_and_grouping(index):
    for mode in ("hybrid", "dense", "bm25"):
        hits = index.search("monitor guardrails and cost of tokens", k=8, mode=mode, pillar="cost")
        assert hits and all(h.chunk.pillar == "Cost Optimization" for h in hits)
    high = index.search("prompt", k=10, risk="high")
    assert all(h.chunk.risk == "High" for h in high)
    grouped = index.search("guardrail", k=10, per_doc=1)
    docs = [h.chunk.chunk_id.split("#")[0] for h in grouped]
    assert len(docs) == len(set(docs)) == 10
    ungrouped = index.search("guardrail", k=10, per_doc=0)
    assert len({h.chunk.chunk_id.split("#")[0] for h in ungrouped}) < 10
    assert [h.rank for h in grouped] == list(range(1, 11))


def test_question_pages_do_not_crowd_free_text_results(index):
    hits = index.search("how do you secure system and user prompts", k=10)
    assert all(h.chunk.bp_id or not h.chunk.question_id for h in hits)


def test_bad_queries_are_input_errors(index):
    for kwargs in (
        {"query": "  "},
        {"query": "x", "mode": "fuzzy"},
        {"query": "x", "pillar": "speed"},
        {"query": "x", "risk": "extreme"},
        {"query": "x", "k": 0},
    ):
        with pytest.raises(InputError):
            index.search(**kwargs)
    assert normalise_pillar("performance-efficiency") == "Performance Efficiency"


def test_hit_json_has_the_documented_keys(index):
    hit = index.search("vector store latency", k=1)[0].to_dict()
    assert list(hit) == [
        "rank",
        "chunk_id",
        "bp_id",
        "title",
        "pillar",
        "section",
        "score",
        "url",
        "text",
    ]
