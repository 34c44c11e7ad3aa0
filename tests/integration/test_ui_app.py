"""Streamlit AppTest flows of the UI over the real extractive LensAssistant.

One LENSWISE_HOME per module shares the builtin index built once per session; each test
makes its own threads, so tests do not depend on each other.
"""

from __future__ import annotations

import re

import pytest
import yaml
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from agent import RISKS
from agent.config import Settings
from agent.events import CitationEvent, FinalEvent, StatusEvent, TokenEvent
from agent.results import Answer, Citation
from tests.fake_bedrock import (  # noqa: F401  (fake_bedrock fixture)
    access_denied_error,
    fake_bedrock_fixture,
)
from tests.helpers import LENS_DOCS, REPO, SHARED
from ui.graph_view import graphviz_available

APP = str(REPO / "ui" / "app.py")
DIAGRAMS = SHARED / "diagrams"
SAM = DIAGRAMS / "aws-samples_serverless-pdf-chat__backend_template.yaml"
QUESTION = "How do I protect a chatbot against prompt injection?"
GENSEC04_BP02 = LENS_DOCS + "gensec04-bp02.html"


@pytest.fixture(scope="module")
def ui_home(real_home, tmp_path_factory):
    """A home of its own (threads, feedback) that reuses the session's built index."""
    home = tmp_path_factory.mktemp("ui-home")
    (home / "indexes").symlink_to(real_home / "indexes", target_is_directory=True)
    return home


@pytest.fixture(autouse=True)
def _home(ui_home, monkeypatch):
    monkeypatch.setenv("LENSWISE_HOME", str(ui_home))


@pytest.fixture(scope="module")
def lens(ui_home):
    """A second assistant on the same home: what a restarted app would see."""
    from agent import LensAssistant

    return LensAssistant(Settings(home=ui_home))


@pytest.fixture
def downloads(monkeypatch):
    """Record what each download button offers, by file name."""
    files: dict[str, str] = {}
    original = MediaFileManager.add

    def add(self, path_or_data, mimetype, coordinates, file_name=None, **kwargs):
        data = path_or_data.decode() if isinstance(path_or_data, bytes) else path_or_data
        files[file_name or coordinates] = data
        return original(self, path_or_data, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", add)
    return files


def start(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def markdown_of(block) -> str:
    return "\n".join(m.value for m in block.markdown)


def texts_of(block) -> list[str]:
    return [t.value for t in block.text]


def thread_buttons(at: AppTest) -> dict[str, str]:
    """Return thread id -> label of the sidebar's conversation buttons."""
    controls = ("thread-rename", "thread-delete")
    return {
        b.key[len("thread-") :]: b.label
        for b in at.sidebar.button
        if (b.key or "").startswith("thread-") and b.key not in controls
    }


def unescape(markdown: str) -> str:
    """Undo :func:`ui.render.escape_markdown`."""
    return re.sub(r"\\(.)", r"\1", markdown)


def current_thread(at: AppTest) -> str:
    return at.session_state["thread_id"]


# --- chat -------------------------------------------------------------------------------


def test_empty_chat_offers_examples_and_asking_one_answers_it():
    at = start()
    assert "Generative AI Lens" in at.markdown[0].value
    example = next(b for b in at.button if (b.key or "").startswith("example-"))
    example.click().run()
    assert not at.exception
    user, assistant = at.chat_message[0], at.chat_message[1]
    assert texts_of(user) == [example.label]
    assert "[" in markdown_of(assistant)


def test_answer_shows_linked_citations_chips_and_sources(lens):
    at = ask(start(), QUESTION)
    user, assistant = at.chat_message[0], at.chat_message[1]
    assert user.name == "user" and texts_of(user) == [QUESTION]
    answer = assistant.markdown[0].value
    # The citation markers in the text link to the official page.
    assert f"[GENSEC04-BP02]({GENSEC04_BP02})" in answer
    chips = assistant.get("link_button")
    assert chips, "citations are shown as chips"
    chip = next(c for c in chips if c.proto.url == GENSEC04_BP02)
    assert chip.value.startswith("GENSEC04\\-BP02 · High risk · Sanitize")
    assert all(c.proto.url.startswith("https://docs.aws.amazon.com/") for c in chips)
    sources = next(e for e in assistant.expander if e.label.startswith("Sources"))
    quotes = texts_of(sources)
    saved = lens.conversations.transcript(current_thread(at))[-1]
    assert [c.quote for c in saved.citations if c.quote][0] in quotes
    assert "passages" in sources.label and len(quotes) > len(saved.citations)


def test_a_pasted_question_over_the_limit_is_cut_with_a_visible_notice(lens):
    pasted = QUESTION + " " + ("Here is our whole design document. " * 300).strip()
    assert len(pasted) > 10_000
    at = ask(start(), pasted)
    asked = texts_of(at.chat_message[0])[0]
    assert pasted.startswith(asked) and len(asked) <= 4000
    notices = [w.value for w in at.warning if "characters long" in w.value]
    assert notices == [
        f"Your question was {len(pasted):,} characters long: only its first "
        "4,000 were used. Put the question itself first, or shorten it."
    ]
    assert re.search(r"\[GEN[A-Z]+\d\d-BP\d\d\]", at.chat_message[1].markdown[0].value)  # answered
    assert lens.conversations.transcript(current_thread(at))[-1].question == asked
    at = ask(at, "what about cost?")  # the next, short question clears the notice
    assert not [w for w in at.warning if "characters long" in w.value]


def test_thread_is_saved_and_survives_a_restart(lens):
    at = ask(start(), "How should I version prompts?")
    thread_id = current_thread(at)
    assert at.query_params["thread"] in (thread_id, [thread_id])
    assert thread_id in {t.id for t in lens.conversations.threads()}
    assert "How should I version prompts?" in thread_buttons(at)[thread_id]

    import streamlit as st

    st.cache_resource.clear()  # a restart: nothing shared but the home
    fresh = start()
    assert not fresh.chat_message, "a new session opens on an empty chat"
    next(b for b in fresh.sidebar.button if b.key == f"thread-{thread_id}").click().run()
    assert texts_of(fresh.chat_message[0]) == ["How should I version prompts?"]
    assert "](https://docs.aws.amazon.com/" in fresh.chat_message[1].markdown[0].value

    # A reload of the page keeps the thread open through the URL.
    reloaded = start(thread=thread_id)
    assert texts_of(reloaded.chat_message[0]) == ["How should I version prompts?"]
    second = ask(reloaded, "And how do I roll a prompt back?")
    assert current_thread(second) == thread_id
    assert [a.question for a in lens.conversations.transcript(thread_id)] == [
        "How should I version prompts?",
        "And how do I roll a prompt back?",
    ]


def test_new_rename_and_delete_thread(lens):
    at = ask(start(), "What should I log for a RAG application?")
    thread_id = current_thread(at)
    at.text_input(key="thread-title").set_value("RAG logging").run()
    at.button(key="thread-rename").click().run()
    assert {t.id: t.title for t in lens.conversations.threads()}[thread_id] == "RAG logging"
    assert thread_buttons(at)[thread_id] == "RAG logging"

    assert at.button(key="thread-delete").disabled
    at.checkbox(key=f"thread-sure-{thread_id}").check().run()
    at.button(key="thread-delete").click().run()
    assert thread_id not in {t.id for t in lens.conversations.threads()}
    assert thread_id not in thread_buttons(at)
    assert current_thread(at) is None and not at.chat_message

    ask(at, "How do I cache model responses?")
    other = current_thread(at)
    at.sidebar.button[0].click().run()  # New conversation
    assert current_thread(at) is None and not at.chat_message
    assert other in thread_buttons(at)


def test_feedback_is_stored_and_exported_as_eval_suite(lens, downloads):
    at = ask(start(), "How do I reduce token costs?")
    thread_id = current_thread(at)
    at.get("feedback")[0].set_value(1).run()
    stored = {(f.thread_id, f.turn): f for f in lens.store.feedback()}
    assert stored[(thread_id, 0)].score == 1
    assert "Feedback saved" in at.toast[0].value

    at.text_area(key=f"fbc-{thread_id}-0").set_value("Cited the right practice").run()
    at.button(key=f"fbs-{thread_id}-0").click().run()
    stored = {(f.thread_id, f.turn): f for f in lens.store.feedback()}
    assert stored[(thread_id, 0)].comment == "Cited the right practice"

    at.get("feedback")[0].set_value(0).run()  # thumbs down keeps the comment
    fb = {(f.thread_id, f.turn): f for f in lens.store.feedback()}[(thread_id, 0)]
    assert (fb.score, fb.comment) == (-1, "Cited the right practice")

    at.run()
    suite = yaml.safe_load(downloads["lenswise-feedback-suite.yaml"])
    case = next(c for c in suite["cases"] if c["id"] == f"feedback-{thread_id}-0")
    assert case["question"] == "How do I reduce token costs?"
    assert case["disliked_answer"] and case["note"].endswith("Cited the right practice")


def test_answer_and_thread_export_keep_citations_and_links(downloads):
    at = ask(start(), "How do I evaluate a RAG system?")
    ask(at, "Which evaluation metrics should I track for a RAG application?")
    thread_md = downloads[next(n for n in downloads if n.startswith("lenswise-thread-"))]
    assert "How do I evaluate a RAG system?" in thread_md
    assert "Which evaluation metrics should I track for a RAG application?" in thread_md
    assert "](https://docs.aws.amazon.com/wellarchitected/" in thread_md
    answer_md = downloads[next(n for n in downloads if n.startswith("lenswise-answer-which-"))]
    assert answer_md.startswith("### Which evaluation metrics should I track")
    assert "**Sources**" in answer_md


def test_pillar_filter_and_passages_setting_reach_the_api(lens):
    at = start()
    at.selectbox(key="set_pillar").set_value("Cost Optimization").run()
    at.slider(key="set_k").set_value(3).run()
    ask(at, "How do I keep my vector store fast?")
    saved = lens.conversations.transcript(current_thread(at))[-1]
    assert saved.citations
    assert {c.pillar for c in saved.citations if c.bp_id} == {"Cost Optimization"}


class ScriptedLens:
    """The real assistant, except that answers are scripted (text, warnings, errors)."""

    def __init__(self, real, text: str, warnings=(), error: Exception | None = None):
        self._real, self.text, self.warnings, self.error = real, text, list(warnings), error
        self._answers: dict[str, list[Answer]] = {}

    def __getattr__(self, name):
        return getattr(self._real, name)

    def stream(self, question, thread_id=None, diagram=None, pillar=None):
        yield StatusEvent("routing: lens")
        if self.error:
            raise self.error
        citation = Citation(
            "GENSEC04-BP02",
            "Sanitize inputs",
            GENSEC04_BP02,
            ("c#1",),
            "Screen every prompt.",
            risk="High",
            pillar="Security",
            page_id="GENSEC04-BP02",
        )
        answer = Answer(
            question, self.text, [citation], warnings=self.warnings, thread_id=thread_id
        )
        yield TokenEvent(self.text)
        yield CitationEvent(citation)
        self._answers.setdefault(thread_id, []).append(answer)
        yield FinalEvent(answer)

    @property
    def conversations(self):
        return ScriptedConversations(self._real.conversations, self._answers)


class ScriptedConversations:
    """The real threads and feedback, except that transcripts hold the scripted answers."""

    def __init__(self, real, answers: dict[str, list[Answer]]):
        self._real, self._answers = real, answers

    def __getattr__(self, name):
        return getattr(self._real, name)

    def transcript(self, thread_id):
        return list(self._answers.get(thread_id, []))


@pytest.fixture
def scripted(lens, monkeypatch):
    """Make the app use a :class:`ScriptedLens` built by the returned function."""
    import ui.state

    def use(**kwargs) -> ScriptedLens:
        fake = ScriptedLens(lens, **kwargs)
        monkeypatch.setattr(ui.state, "assistant", lambda settings: fake)
        return fake

    return use


def test_citation_warnings_are_visible(scripted):
    scripted(
        text="Screen prompts [GENSEC04-BP02] and log them [GENOPS09-BP09].",
        warnings=["dropped citation GENOPS09-BP09: it is not in the retrieved passages"],
    )
    at = ask(start(), "How do I screen prompts?")
    warnings = [w.value for w in at.chat_message[1].warning]
    assert warnings == ["dropped citation GENOPS09\\-BP09\\: it is not in the retrieved passages"]
    answer = at.chat_message[1].markdown[0].value
    assert f"[GENSEC04-BP02]({GENSEC04_BP02})" in answer
    assert "[GENOPS09-BP09]" in answer and "GENOPS09-BP09](" not in answer


def test_untrusted_text_renders_as_text(scripted):
    scripted(text="See ![x](http://evil.example/x.png) and [here](http://evil.example) <b>hi</b>")
    question = "**bold** <img src=x onerror=alert(1)> [link](http://evil.example)"
    at = ask(start(), question)
    assert texts_of(at.chat_message[0]) == [question]
    answer = at.chat_message[1].markdown[0].value
    assert "![" not in answer and "http://evil.example" not in answer
    assert "\\<b\\>" in answer
    assert not at.get("html")
    titles = thread_buttons(at).values()
    assert any(t.startswith("\\*\\*bold\\*\\*") for t in titles)


def test_api_errors_show_as_a_message_not_a_traceback(scripted, lens):
    from corpus.errors import LenswiseError

    scripted(text="", error=LenswiseError("the model is not available in this Region"))
    at = ask(start(), "Anything?")
    assert not at.exception
    assert [e.value for e in at.error] == ["the model is not available in this Region"]
    # The failed first question leaves no empty conversation behind.
    assert current_thread(at) is None
    assert "Anything?" not in [t.title for t in lens.conversations.threads()]


def test_bedrock_errors_are_shown_clearly(fake_bedrock):
    for _ in range(4):
        fake_bedrock.enqueue(access_denied_error())
    at = start()
    at.radio(key="set_model_kind").set_value("Amazon Bedrock").run()
    at.text_input(key="set_model_id").set_value("anthropic.claude-3-haiku-20240307-v1:0").run()
    ask(at, "How do I protect against prompt injection?")
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "\n" not in errors[0]
    assert "access" in errors[0].lower()
    assert not at.exception


def test_bad_corpus_path_is_an_error_in_the_page(tmp_path):
    at = start()
    at.selectbox(key="set_source_kind").set_value("path").run()
    at.text_input(key="set_source_path").set_value(str(tmp_path / "missing")).run()
    assert not at.exception
    assert at.error and "missing" in at.error[0].value
    assert any("Change the settings" in i.value for i in at.info)


# --- diagram review -----------------------------------------------------------------------


def open_review(at: AppTest) -> AppTest:
    at.radio(key="view").set_value("Diagram review").run()
    assert not at.exception
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, at.exception
    return at


def review_key(at: AppTest) -> str:
    """Return the key the open review's widgets are named with."""
    return at.session_state["review"].key


def test_review_screen_starts_empty():
    at = open_review(start())
    assert any("Upload a diagram" in i.value for i in at.info)
    assert not at.get("graphviz_chart") and not at.dataframe


def test_uploaded_template_is_reviewed_drawn_and_filterable(downloads):
    at = upload(open_review(start()), SAM.name, SAM.read_bytes())
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Components"]) > 5 and int(metrics["Services"]) > 3
    dot = downloads[next(n for n in downloads if n.endswith(".dot"))]
    assert dot.startswith("digraph") and "Amazon Bedrock" in dot and "->" in dot
    assert at.get("iframe") or at.get("graphviz_chart"), "architecture graph"
    assert at.get("vega_lite_chart"), "coverage chart"
    table = at.dataframe[0].value
    assert len(table) == 51 and set(table["Status"]) <= {"Addressed", "Gap", "Unknown"}
    gaps = int(metrics["Gaps"])
    # Gaps first, each status by risk: what to fix leads the table.
    order = [("Gap", "Addressed", "Unknown").index(v) for v in table["Status"]]
    assert order == sorted(order) and table["Status"].iloc[0] == "Gap"
    gap_risks = [RISKS.index(r) for r in table[table["Status"] == "Gap"]["Risk"] if r in RISKS]
    assert gap_risks == sorted(gap_risks)
    key = review_key(at)
    at.multiselect(key=f"f-status-{key}").set_value(["Gap"]).run()
    assert len(at.dataframe[0].value) == gaps
    assert set(at.dataframe[0].value["Status"]) == {"Gap"}
    at.multiselect(key=f"f-pillar-{key}").set_value(["Security"]).run()
    assert set(at.dataframe[0].value["Pillar"]) == {"Security"}
    report = downloads[next(n for n in downloads if n.startswith("lenswise-review-"))]
    assert report.startswith("# Generative AI Lens review") and "gensec" in report
    # issue 24: each gap's verified fix, and the whole patched file, can be downloaded
    patched = downloads[next(n for n in downloads if n.startswith("fixed-"))]
    assert patched != SAM.read_text() and "## Fixes" in report
    assert any(n.endswith(".diff") for n in downloads)


def test_follow_up_question_about_the_reviewed_design(lens, ui_home, monkeypatch):
    from agent.api import LensAssistant

    diagrams = []
    real_stream = LensAssistant.stream

    def stream(self, question, thread_id=None, diagram=None, pillar=None):
        diagrams.append(diagram)
        return real_stream(self, question, thread_id=thread_id, diagram=diagram, pillar=pillar)

    monkeypatch.setattr(LensAssistant, "stream", stream)
    at = upload(open_review(start()), SAM.name, SAM.read_bytes())
    next(b for b in at.button if b.label == "Ask about this design in chat").click().run()
    assert not at.exception
    assert at.session_state["view"] == "Chat"
    assert any(SAM.name in unescape(i.value) for i in at.info)
    saved = lens.conversations.transcript(current_thread(at))
    assert saved and "gaps" in saved[-1].question
    assert at.chat_message[1].markdown[0].value
    # The API got the design as a file holding exactly the uploaded bytes.
    kept = list((ui_home / "uploads").glob(f"*/{SAM.name}"))
    assert [p.read_bytes() for p in kept] == [SAM.read_bytes()]
    assert diagrams == [str(kept[0])]
    # A reload forgets the session's review, not the thread's design: still shown, detachable.
    reloaded = start(thread=current_thread(at))
    assert any(SAM.name in unescape(i.value) for i in reloaded.info)
    next(b for b in reloaded.button if b.label == "Detach design").click().run()
    assert lens.conversations.attached_design(current_thread(at)) is None
    assert not any(SAM.name in unescape(i.value) for i in start(thread=current_thread(at)).info)
    # Detached, the next question is about the lens only.
    next(b for b in at.button if b.label == "Detach design").click().run()
    ask(at, "How do I log model invocations?")
    assert diagrams == [str(kept[0]), None]
    detached = lens.conversations.transcript(current_thread(at))[-1]
    assert "Your design" not in detached.text and detached.citations
    # Back on the review screen the review is still there, until cleared.
    open_review(at)
    assert unescape(at.subheader[0].value) == SAM.name and at.dataframe
    next(b for b in at.button if b.label == "Clear review").click().run()
    assert not at.dataframe and any("Upload a diagram" in i.value for i in at.info)


def test_pasted_mermaid_is_reviewed_and_its_labels_escaped_for_dot(downloads):
    at = open_review(start())
    at.text_area(key="paste").set_value(
        'flowchart LR\n  u["<b>Users</b> say \\"hi\\" C:\\\\temp"] --> b[Amazon Bedrock]\n'
    ).run()
    next(b for b in at.button if b.label == "Review pasted Mermaid").click().run()
    assert not at.exception
    assert unescape(at.subheader[0].value) == "pasted.mmd"
    dot = downloads[next(n for n in downloads if n.endswith(".dot"))]
    labels = re.findall(r'label="((?:[^"\\]|\\.)*)"', dot)
    assert len(labels) == dot.count("label=")  # every label is one well-formed DOT string
    assert any("Users" in label and "hi" in label for label in labels)
    assert not at.get("html")


needs_dot = pytest.mark.skipif(
    not graphviz_available(),
    reason="no Graphviz dot on PATH (make test installs Debian's graphviz)",
)


@needs_dot
def test_graph_is_a_zoomable_svg_with_svg_and_png_downloads(downloads):
    at = upload(open_review(start()), SAM.name, SAM.read_bytes())
    page = at.get("iframe")[0].proto.srcdoc
    drawing = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'id="zoom-in"' in page and "<script" not in drawing and "Amazon Bedrock" in drawing
    svg = downloads[next(n for n in downloads if n.endswith(".svg"))]
    assert svg.startswith("<svg") and "Amazon Bedrock" in svg
    assert any(b.label == "Graph (PNG)" for b in at.get("download_button"))
    loose = b"flowchart LR\n  A[Amazon API Gateway] --> B[AWS Lambda]\n  C[Amazon S3 archive]\n"
    at = upload(open_review(start()), "loose.mmd", loose)
    assert "Amazon S3 archive" in at.get("iframe")[0].proto.srcdoc
    at.toggle(key="graph-hide").set_value(True).run()
    page = at.get("iframe")[0].proto.srcdoc
    assert "Amazon S3 archive" not in page and "AWS Lambda" in page


def test_without_graphviz_the_browser_chart_is_drawn(monkeypatch):
    monkeypatch.setattr("ui.review_graph.graphviz_available", lambda: False)
    at = upload(open_review(start()), SAM.name, SAM.read_bytes())
    assert at.get("graphviz_chart") and not at.get("iframe")
    assert any("Install Graphviz" in c.value for c in at.caption)
    assert not any(b.label == "Graph (SVG)" for b in at.get("download_button"))


def test_multi_diagram_file_has_a_view_per_diagram_and_its_annotations():
    path = DIAGRAMS / "abental_bedrock-chatbot__docs_ARCHITECTURE_DIAGRAM.md"
    if not path.is_file():
        pytest.skip("../shared/diagrams is not present")
    at = upload(open_review(start()), path.name, path.read_bytes())
    table = next(d.value for d in at.dataframe if "Diagram" in d.value.columns)
    assert list(table["Diagram"])[:2] == [
        "Complete System Architecture",
        "Data Flow Diagram",  # a sequence diagram is a view too
    ]
    at.selectbox(key="graph-view").set_value("Network Architecture").run()
    assert not at.exception
    spec = (at.get("iframe") or at.get("graphviz_chart"))[0].proto
    drawn = spec.srcdoc if at.get("iframe") else spec.spec
    assert "Internet" in drawn and "Admin Users" not in drawn  # drawn in another diagram


def test_oversized_and_broken_uploads_are_refused(monkeypatch):
    monkeypatch.setenv("LENSWISE_MAX_UPLOAD_BYTES", "1000")
    at = upload(open_review(start()), "big.drawio", b"<mxfile>" + b" " * 2000 + b"</mxfile>")
    assert "limit" in at.error[0].value and not at.dataframe
    at = upload(open_review(start()), "broken.yaml", b"\x00\x01\x02 not a template")
    assert at.error and not at.dataframe and not at.exception


@pytest.fixture
def fake_wa(lens, monkeypatch):
    from tests.fake_wellarchitected import FRAMEWORK, build_genai_lens, serve

    yield from serve([build_genai_lens(lens.catalog())[0], FRAMEWORK], monkeypatch)


def buttons(at: AppTest) -> set[str]:
    return {b.key for b in at.button if b.key}


def plain_code(at: AppTest) -> list:
    """The plain-text code blocks (the WA Tool plan and report), not the fixes' diffs."""
    return [block for block in at.code if block.language != "diff"]


def test_review_is_previewed_then_exported_to_the_wa_tool(fake_wa):
    at = upload(open_review(start()), SAM.name, SAM.read_bytes())
    key = review_key(at)
    assert f"wa-preview-{key}" in buttons(at) and f"wa-export-{key}" not in buttons(at)
    at.text_input(key=f"wa-workload-{key}").set_value("ui workload").run()
    at.button(key=f"wa-preview-{key}").click().run()
    assert not at.exception
    preview = at.code[-1].value
    assert preview.startswith("Dry run: nothing is sent to AWS.")
    assert 'workload "ui workload"' in preview and fake_wa.requests == []
    assert f"review of {SAM.name}" in preview
    at.button(key=f"wa-export-{key}").click().run()
    assert not at.exception
    (workload,) = fake_wa.workloads.values()
    assert workload.name == "ui workload"
    written = workload.answers["arn:aws:wellarchitected::aws:lens/genai"]
    assert written and all("\nlenswise review of " in a["Notes"] for a in written.values())
    assert "Exported to the Well-Architected Tool" in at.success[-1].value
    assert f"answered {len(written)} questions" in at.code[-1].value
    # Other inputs make the preview stale: the export needs a new preview first.
    at.text_input(key=f"wa-workload-{key}").set_value("another workload").run()
    assert f"wa-export-{key}" not in buttons(at) and not plain_code(at)


def test_a_second_review_gets_its_own_export_target_and_fresh_filters(fake_wa):
    at = upload(open_review(start()), SAM.name, SAM.read_bytes())
    first = review_key(at)
    at.text_input(key=f"wa-workload-{first}").set_value("first design").run()
    at.multiselect(key=f"f-status-{first}").set_value(["Gap"]).run()
    at.button(key=f"wa-preview-{first}").click().run()
    assert 'workload "first design"' in at.code[-1].value

    other = DIAGRAMS / "aws-samples_amazon-bedrock-multiagent-orchestrator-terraform__main.tf"
    upload(at, other.name, other.read_bytes())
    second = review_key(at)
    assert second != first
    workload = at.text_input(key=f"wa-workload-{second}")
    assert workload.value == f"lenswise {other.name}"  # its own default, not the first's
    assert not at.multiselect(key=f"f-status-{second}").value  # filters start cleared
    assert len(at.dataframe[0].value) == 51
    assert not plain_code(at)  # the first design's preview is not offered for the second
    target = unescape("\n".join(m.value for m in at.markdown if "Writes the review of" in m.value))
    assert other.name in target and f"lenswise {other.name}" in target
    at.button(key=f"wa-preview-{second}").click().run()
    preview = at.code[-1].value
    assert f"review of {other.name}" in preview and f'workload "lenswise {other.name}"' in preview
    assert fake_wa.requests == []


def test_wa_tool_errors_are_one_line_in_the_page(fake_wa):
    fake_wa.fail("CreateWorkload", "AccessDeniedException")
    at = upload(open_review(start()), SAM.name, SAM.read_bytes())
    key = review_key(at)
    at.button(key=f"wa-preview-{key}").click().run()
    at.button(key=f"wa-export-{key}").click().run()
    assert not at.exception
    assert "access denied to CreateWorkload" in at.error[-1].value
    assert "nothing was written" in at.code[-1].value
    at.text_input(key=f"wa-workload-{key}").set_value("ab").run()
    at.button(key=f"wa-preview-{key}").click().run()
    assert "the workload must be a workload id" in unescape(at.error[-1].value)


# --- lens browser -------------------------------------------------------------------------


def test_lens_browser_lists_pillars_questions_and_practices():
    at = start()
    at.radio(key="view").set_value("Lens browser").run()
    assert not at.exception
    subheaders = [s.value for s in at.subheader]
    assert subheaders[:6] == [
        "Operational Excellence",
        "Security",
        "Reliability",
        "Performance Efficiency",
        "Cost Optimization",
        "Sustainability",
    ]
    practices = [m.value for m in at.markdown if m.value.startswith("##### ")]
    assert len([p for p in practices if "-BP" in p]) == 51
    at.text_input(key="browse-query").set_value("GENSEC04").run()
    shown = [m.value for m in at.markdown if m.value.startswith("##### ")]
    assert shown and all("GENSEC04" in s for s in shown)
    assert f"]({GENSEC04_BP02})" in "\n".join(shown)
    assert all(e.proto.expanded for e in at.expander if e.label.startswith("GENSEC04"))
    at.text_input(key="browse-query").set_value("zzqxv nothing").run()
    assert any("Nothing in the lens matches" in i.value for i in at.info)


# --- a damaged or locked history file -------------------------------------------------------


@pytest.fixture
def own_home(real_home, tmp_path, monkeypatch):
    """A fresh home (its own history file) that reuses the session's built index."""
    home = tmp_path / "own-home"
    home.mkdir()
    (home / "indexes").symlink_to(real_home / "indexes", target_is_directory=True)
    monkeypatch.setenv("LENSWISE_HOME", str(home))
    return home


def test_a_damaged_history_file_is_moved_aside_and_the_user_told_once(own_home):
    (own_home / "state.sqlite").write_bytes(b"garbage, not a database" * 100)
    with pytest.warns(RuntimeWarning, match="was damaged"):  # the server log hears it too
        at = start()
    notices = [w.value for w in at.warning if "was damaged" in w.value]
    assert len(notices) == 1 and "moved it to" in unescape(notices[0])
    assert [p.name for p in own_home.iterdir() if ".damaged-" in p.name]
    at.button(key="history-notice-ok").click().run()
    assert not [w for w in at.warning if "was damaged" in w.value]
    ask(at, QUESTION)  # the new history works
    assert len(at.chat_message) == 2 and not at.exception


def test_a_locked_history_file_is_a_clear_error_in_the_page(own_home):
    import subprocess
    import sys

    from agent.threads import ThreadStore
    from tests.helpers import HOLD_LOCK

    ThreadStore(own_home / "state.sqlite").close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(own_home / "state.sqlite")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        at = start()
    finally:
        holder.kill()
        holder.wait()
    assert not at.exception
    assert [e.value for e in at.error if "locked by another program" in e.value]


def test_server_start_loads_the_assistant_the_first_page_then_reuses(monkeypatch):
    from agent import LensAssistant
    from ui import serve, state

    warmed = []
    original = LensAssistant.warm_up

    def recording_warm_up(self):
        original(self)
        warmed.append(self)

    monkeypatch.setattr(LensAssistant, "warm_up", recording_warm_up)
    state._load_assistant.clear()
    serve.warm_up()  # what `lenswise ui` runs before Streamlit serves the first page
    assert len(warmed) == 1
    lens = warmed[0]
    assert lens._index is not None and lens._index._embedder is not None
    assert lens._graph is not None  # index, query encoder and agent graph are all loaded
    at = ask(start(), QUESTION)
    assert "[" in markdown_of(at.chat_message[1])
    assert warmed == [lens]  # the page and its first answer used the assistant built at start


def test_ui_command_serves_through_the_warm_up_entry_point():
    from ui.serve import streamlit_command

    command = streamlit_command(8501)
    assert command[1:3] == ["-m", "ui.serve"] and "--server.port" in command


def test_the_start_up_load_is_described_with_its_step_and_real_build_progress():
    from ui.state import Startup

    startup = Startup()
    assert startup.describe() is None
    startup.begin()
    assert "opening the lens index and query encoder. 0 s so far." in startup.describe()
    with pytest.warns(RuntimeWarning, match="411 chunks"):  # the server log hears it too
        startup.note("building the index for source 'builtin' (411 chunks)...")
    line = startup.describe()
    assert "building the index for source 'builtin' (411 chunks). 0 s so far" in line
    assert "once per lenswise home and source" in line and "server start" not in line
    startup.progress(0, 411)
    startup.progress(128, 411)
    line = startup.describe()
    assert "(411 chunks): 128/411 chunks embedded (31%)" in line and " s left" in line
    startup.end()
    assert startup.describe() is None


def test_a_page_opened_during_the_server_start_load_waits_for_it_then_opens(monkeypatch):
    import threading

    from ui import state

    shown: list[str] = []
    original = state.Startup.describe

    def recording(self):
        line = original(self)
        if line:
            shown.append(line)
        return line

    monkeypatch.setattr(state.Startup, "describe", recording)
    state.STARTUP.begin()
    with pytest.warns(RuntimeWarning):
        state.STARTUP.note("building the index for source 'builtin' (411 chunks)...")
    threading.Timer(1.2, state.STARTUP.end).start()
    at = start()
    assert shown and "411 chunks" in shown[0] and "once per lenswise home and source" in shown[0]
    assert state.STARTUP.describe() is None
    assert at.chat_input  # the page went on to the chat once the load was done
