"""The docs-pages loader: the site's .md twins, saved .html pages, toc-contents.json."""

from __future__ import annotations

import json

import pytest

from corpus.errors import InputError
from corpus.loaders import docs_pages
from corpus.loaders.docs_pages import html_to_markdown

BP_MD = """# GENSEC09-BP03 Keep the teapots apart
<a name="gensec09-bp03"></a>

Teapots that touch may crack, so shelve them with a gap.

**Desired outcome:** Every teapot sits on its own
cushion.

**Benefits of establishing this best
practice:** Fewer shards on the floor.

**Level of risk exposed when the
practice is absent:** Medium

## Implementation guidance

Measure the shelf before buying more teapots.

### Implementation steps

1. Count the teapots.
1. Buy cushions.

## Resources

**Related best practices:**
+ [GENSEC09-BP01 Dust the shelf](gensec09-bp01.md)
"""

QUESTION_MD = """# Teapot storage
<a name="gensec09"></a>

| GENSEC09: How do you store fragile teapots? |
| --- |
|   |

Storage decides how long a teapot lives.

**Topics**
+ [GENSEC09-BP03 Keep the teapots apart](gensec09-bp03.md)
"""

GENERAL_MD = """# Design principles

Brew small batches and taste often.
"""

BP_HTML = """<!DOCTYPE html><html><head><title>GENSEC09-BP01 Dust the shelf - Teapot Lens</title>
<link rel="canonical" href="https://docs.example.test/teapot-lens/gensec09-bp01.html"/>
<script>var tracking = "do not index me";</script></head><body>
<nav>Breadcrumbs Home Lenses</nav>
<div id="main-col-body"><h1 class="topictitle" id="gensec09-bp01">GENSEC09-BP01 Dust the shelf</h1>
<p>Dust dulls the glaze.</p>
<p><b>Level of risk exposed when the practice is absent:</b> High</p>
<h2>Implementation guidance</h2><ul><li>Use a soft cloth.</li></ul>
</div><div id="main-col-footer">Did this page help you? Feedback</div></body></html>
"""


@pytest.fixture
def pages(tmp_path):
    folder = tmp_path / "generative-ai-lens"
    folder.mkdir()
    (folder / "gensec09-bp03.md").write_text(BP_MD)
    (folder / "gensec09.md").write_text(QUESTION_MD)
    (folder / "design-principles.md").write_text(GENERAL_MD)
    (folder / "gensec09-bp01.html").write_text(BP_HTML)
    return folder


def _by_id(corpus):
    return {d.doc_id: d for d in corpus.documents}


def test_best_practice_page(pages):
    doc = _by_id(docs_pages.load(pages))["GENSEC09-BP03"]
    assert doc.bp_id == "GENSEC09-BP03"
    assert doc.title == "Keep the teapots apart"
    assert doc.pillar == "Security"
    assert doc.question_id == "GENSEC09"
    assert doc.question_title == "Teapot storage"  # from the question page
    assert doc.risk == "Medium"
    assert doc.lens == "generative-ai"
    assert doc.url == (
        "https://docs.aws.amazon.com/wellarchitected/latest/generative-ai-lens/gensec09-bp03.html"
    )
    sections = {s.heading: s.text for s in doc.sections}
    assert list(sections) == [
        "Overview",
        "Desired outcome",
        "Benefits",
        "Implementation guidance",
        "Implementation steps",
        "Resources",
    ]
    assert sections["Desired outcome"] == "Every teapot sits on its own cushion."
    assert "<a name" not in doc.text
    assert doc.related == ("GENSEC09-BP01",)


def test_question_and_general_pages(pages):
    docs = _by_id(docs_pages.load(pages))
    question = docs["GENSEC09"]
    assert question.bp_id is None and question.question_id == "GENSEC09"
    assert question.title == "Teapot storage"
    assert question.sections[0].heading == "Question"
    assert question.sections[0].text == "How do you store fragile teapots?"
    assert "Topics" not in question.text and "| ---" not in question.text
    general = docs["design-principles"]
    assert general.bp_id is None and general.question_id is None and general.pillar is None
    assert general.title == "Design principles"


def test_html_page_keeps_only_the_main_column(pages):
    doc = _by_id(docs_pages.load(pages))["GENSEC09-BP01"]
    assert doc.title == "Dust the shelf"
    assert doc.risk == "High"
    assert doc.url == "https://docs.example.test/teapot-lens/gensec09-bp01.html"  # canonical
    assert "Breadcrumbs" not in doc.text and "Feedback" not in doc.text
    assert "do not index me" not in doc.text
    assert "soft cloth" in doc.text


def test_toc_and_file_names_fill_what_the_page_lacks(tmp_path):
    (tmp_path / "genops07-bp02.md").write_text("Plain text without a heading or markers.\n")
    toc = {
        "contents": [
            {
                "title": "Kettle care",
                "href": "genops07.html",
                "contents": [
                    {"title": "GENOPS07-BP02 Descale monthly", "href": "genops07-bp02.html"}
                ],
            }
        ]
    }
    (tmp_path / "toc-contents.json").write_text(json.dumps(toc))
    doc = docs_pages.load(tmp_path).documents[0]
    assert doc.bp_id == "GENOPS07-BP02"
    assert doc.title == "Descale monthly"
    assert doc.question_title == "Kettle care"
    assert doc.pillar == "Operational Excellence"


def test_front_matter_url_wins(tmp_path):
    page = tmp_path / "x.md"
    page.write_text('---\nurl: "http://127.0.0.1:1/lens/x.html"\n---\n\n' + BP_MD)
    doc = docs_pages.load(page).documents[0]
    assert doc.url == "http://127.0.0.1:1/lens/x.html"
    assert doc.bp_id == "GENSEC09-BP03"


def test_framework_pages(tmp_path):
    (tmp_path / "sec_keep_keys.md").write_text(
        "# SEC55-BP01 Keep the keys on a hook\n\nKeys on hooks do not get lost.\n"
    )
    doc = docs_pages.load(tmp_path).documents[0]
    assert doc.lens == "framework"
    assert doc.pillar == "Security"
    assert doc.url.endswith("/wellarchitected/latest/framework/sec_keep_keys.html")


def test_sniff(tmp_path, pages):
    assert docs_pages.sniff(pages)
    assert docs_pages.sniff(pages / "gensec09.md")
    notes = tmp_path / "notes.md"
    notes.write_text("# Shopping\n\n- eggs\n")
    assert not docs_pages.sniff(notes)
    only_toc = tmp_path / "toc"
    only_toc.mkdir()
    (only_toc / "toc-contents.json").write_text('{"contents": []}')
    assert docs_pages.sniff(only_toc)
    assert not docs_pages.sniff(tmp_path / "missing")


def test_folder_without_pages_is_an_input_error(tmp_path):
    (tmp_path / "toc-contents.json").write_text('{"contents": []}')
    with pytest.raises(InputError, match="no .md or .html docs pages"):
        docs_pages.load(tmp_path)


def test_html_to_markdown_uses_title_when_there_is_no_heading():
    text = html_to_markdown(
        "<html><head><title>Scenarios - Teapot Lens</title></head>"
        "<body><p>Three scenarios.</p></body></html>"
    )
    assert text.startswith("# Scenarios\n")


def test_shared_markdown_twins(shared_lens):
    folder = shared_lens / "awslabs-mcp-genai-older" / "md" / "lens" / "gen-ai"
    corpus = docs_pages.load(folder)
    practices = corpus.best_practices()
    assert len(practices) == 49
    assert all(d.risk in ("High", "Medium", "Low") for d in practices.values())
    assert all(d.url.endswith(f"/{d.bp_id.lower()}.html") for d in practices.values())
    headings = {s.heading for d in practices.values() for s in d.sections}
    assert {"Overview", "Desired outcome", "Implementation guidance", "Resources"} <= headings


def test_a_question_row_deep_in_a_page_does_not_make_it_a_question(tmp_path):
    (tmp_path / "scenario-tea-party.md").write_text(
        "# Tea party scenario\n\nHosting twenty guests.\n\nMore about cups.\n\nEven more.\n\n"
        "| GENREL08: How do you make sure the pot is ready? |\n"
    )
    doc = docs_pages.load(tmp_path).documents[0]
    assert doc.doc_id == "scenario-tea-party"
    assert doc.question_id is None and doc.bp_id is None
    assert doc.source == str(tmp_path / "scenario-tea-party.md")
