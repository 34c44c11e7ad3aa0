import re

from corpus.chunking import HARD_MAX_CHARS, chunk_document, chunk_documents, pack, split_units
from corpus.models import Document, Section
from corpus.sources import load_source


def _doc(text: str, heading: str = "Implementation guidance") -> Document:
    return Document(
        lens="generative-ai",
        doc_id="GENSEC04-BP02",
        title="Sanitize and validate user inputs to foundation models",
        url="https://example.invalid/gensec04-bp02.html",
        source="test",
        sections=(Section("Overview", "Short intro sentence here."), Section(heading, text)),
        pillar="Security",
        question_id="GENSEC04",
        question_title="Prompt security",
        bp_id="GENSEC04-BP02",
        risk="High",
    )


def test_sentences_and_list_items_are_never_split():
    sentences = [f"Sentence number {i} talks about guardrails and prompts." for i in range(60)]
    chunks = chunk_document(_doc(" ".join(sentences)), target=300)
    assert len(chunks) > 3
    rebuilt = []
    for chunk in chunks:
        assert len(chunk.text) <= 300 + 60  # target plus at most one unit
        rebuilt += split_units(chunk.text)
    assert rebuilt[1:] == sentences  # first unit is the overview sentence
    items = "\n".join(f"- step {i} configures something specific." for i in range(30))
    for chunk in chunk_document(_doc(items, "Implementation steps"), target=200)[1:]:
        assert all(line.startswith("- step ") for line in chunk.text.splitlines())


def test_chunks_carry_context_and_stable_ids():
    doc = _doc("One. Two. Three.")
    first = chunk_document(doc)
    again = chunk_document(doc)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert first[0].chunk_id == "generative-ai/GENSEC04-BP02#0"
    assert all(
        "GENSEC04-BP02 Sanitize" in c.context and "Prompt security" in c.context for c in first
    )
    assert {c.section for c in first} == {"Overview", "Implementation guidance"}


def test_one_giant_sentence_is_bounded():
    giant = " ".join(["word"] * 1000) + "."
    pieces = pack([giant])
    assert all(len(p) <= HARD_MAX_CHARS for p in pieces)
    assert " ".join(pieces).split() == giant.split()


def test_real_corpora_chunk_within_bounds(tmp_path):
    chunks = chunk_documents(load_source("builtin", home=tmp_path).documents)
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert max(len(c.text) for c in chunks) <= HARD_MAX_CHARS
    # A chunk ends at a sentence or list-item boundary, never mid-word of a sentence.
    assert all(re.search(r"[.!?:)\"'\w]$", c.text) for c in chunks)
