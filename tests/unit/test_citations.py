"""Citation verification on hand-made answers (exists, retrieved, supported)."""

from agent.citations import verify

PASSAGES = {
    "generative-ai/GENSEC04-BP02#2": {
        "chunk_id": "generative-ai/GENSEC04-BP02#2",
        "bp_id": "GENSEC04-BP02",
        "title": "Sanitize and validate user inputs to foundation models",
        "section": "Steps",
        "risk": "High",
        "pillar": "Security",
        "url": "https://example.invalid/gensec04-bp02.html",
        "score": 1.0,
        "question_id": "GENSEC04",
        "text": "Route every prompt through a validation layer before it reaches the model. "
        "Test the guardrail against a curated set of prompt injection attempts.",
    },
}
URLS = {
    "GENSEC04-BP02": "https://docs.example/gensec04-bp02.html",
    "GENCOST01-BP01": "https://docs.example/gencost01-bp01.html",
    "GENSEC04": "https://docs.example/gensec04.html",
}


def test_valid_citation_gets_quote_and_url():
    text = "Test the guardrail against curated prompt injection attempts [GENSEC04-BP02]."
    result = verify(text, PASSAGES, URLS)
    assert result.ok and result.text == text
    (citation,) = result.citations
    assert citation.url == URLS["GENSEC04-BP02"]
    assert citation.quote.startswith("Test the guardrail")
    assert citation.chunk_ids == ("generative-ai/GENSEC04-BP02#2",)


def test_nonexistent_and_unretrieved_ids_are_removed():
    text = (
        "Validate prompts in a layer before the model [GENSEC04-BP02, GENXYZ01-BP01]. "
        "Pick a small model [GENCOST01-BP01]. GENFAKE02-BP03 says more."
    )
    result = verify(text, PASSAGES, URLS)
    assert "GENXYZ01-BP01" not in result.text and "[GENCOST01-BP01]" not in result.text
    assert "GENFAKE02-BP03" not in result.text
    assert set(result.removed) == {"GENXYZ01-BP01", "GENCOST01-BP01", "GENFAKE02-BP03"}
    assert any("not among the retrieved" in w for w in result.warnings)
    assert [c.bp_id for c in result.citations] == ["GENSEC04-BP02"]


def test_brackets_that_are_not_ids_are_left_alone():
    text = "Use a [placeholder] word and a list [1] here [GENSEC04-BP02]. Validate prompts first."
    result = verify(text, PASSAGES, URLS)
    assert "[placeholder]" in result.text and "[1]" in result.text


def test_markdown_links_and_bracketed_words_are_not_citations():
    text = (
        "Route every prompt [end-to-end] through a validation layer, such as "
        "[guardrails](https://example.invalid/g), before the model [GENSEC04-BP02]."
    )
    result = verify(text, PASSAGES, URLS)
    assert result.ok and not result.removed and not result.warnings
    assert "[end-to-end]" in result.text and "[guardrails](" in result.text
    assert [c.bp_id for c in result.citations] == ["GENSEC04-BP02"]


def test_general_page_ids_cite_only_when_the_corpus_has_them():
    passages = {
        "generative-ai/responsible-ai#0": {
            **PASSAGES["generative-ai/GENSEC04-BP02#2"],
            "chunk_id": "generative-ai/responsible-ai#0",
            "bp_id": None,
            "question_id": None,
            "title": "Responsible AI",
            "text": "Fairness means outcomes do not differ unjustly between groups of people.",
        }
    }
    urls = {"responsible-ai": "https://docs.example/responsible-ai.html"}
    result = verify(
        "Outcomes should not differ unjustly between groups [responsible-ai].", passages, urls
    )
    assert result.ok and result.citations[0].url == urls["responsible-ai"]
    plain = "Keep it [well-architected]."
    assert verify(plain, passages, urls).text == plain
