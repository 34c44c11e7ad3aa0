"""The lens PDF loader, on small text PDFs built by the test itself (no files, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.errors import InputError
from corpus.loaders import pdf


def write_pdf(path: Path, pages: list[list[str]], title: str = "") -> Path:
    """Write ``pages`` (lists of text lines, Helvetica) as a minimal PDF pypdf can read."""

    def esc(text: str) -> bytes:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1")

    objects = {
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids = []
    for number, lines in enumerate(pages):
        content, page = 4 + 2 * number, 5 + 2 * number
        stream = b"BT /F1 10 Tf 14 TL 50 800 Td\n"
        stream += b"".join(b"(" + esc(line) + b") Tj T*\n" for line in lines) + b"ET"
        objects[content] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
        objects[page] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content
        )
        kids.append(b"%d 0 R" % page)
    info = 4 + 2 * len(pages)
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    objects[info] = b"<< /Title (" + esc(title) + b") >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (info + 1)
    out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, info + 1))
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (info + 1, info)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


HEADER = "Teapot Lens  AWS Well-Architected"
PAGES = [
    [
        HEADER,
        "Teapot Lens",
        "Contents",
        "GENREL08-BP01 Warm the pot first ........ 2",
        "GENREL08-BP02 Pour slowly ........ 3",
        "1",
    ],
    [
        HEADER,
        "Pot readiness",
        "GENREL08: How do you make sure the pot is ready when",
        "guests arrive?",
        "A ready pot shortens the wait for tea.",
        "GENREL08-BP01 Warm the pot first so the tea",
        "stays hot",
        "Warm pots keep the brew at the right temperature for longer.",
        "Desired outcome: Tea reaches the cup hot.",
        "Level of risk exposed when the",
        "practice is absent: High",
        "Implementation guidance",
        "Rinse the pot with boiling water.",
        "2",
    ],
    [
        HEADER,
        "Implementation steps",
        "1. Boil the kettle.",
        "2. Swirl and empty.",
        "Resources",
        "Related best practices:",
        "GENREL08-BP02 Pour slowly",
        "GENREL08-BP02 Pour slowly",
        "Pouring slowly avoids splashes on the tablecloth.",
        "Common anti-patterns:",
        "Pouring from a height.",
        "Level of risk exposed when the practice is absent: Low",
        "Implementation guidance",
        "Tilt the pot gently and keep the lid on.",
        "3",
    ],
    [HEADER, "Document revisions", "None yet.", "4"],
]


@pytest.fixture
def lens_pdf(tmp_path):
    return write_pdf(tmp_path / "teapot-lens.pdf", PAGES, title="Teapot Lens")


def test_best_practices_are_split_at_their_headings(lens_pdf):
    corpus = pdf.load(lens_pdf)
    practices = corpus.best_practices()
    assert sorted(practices) == ["GENREL08-BP01", "GENREL08-BP02"]
    warm = practices["GENREL08-BP01"]
    assert warm.title == "Warm the pot first so the tea stays hot"  # wrapped heading joined
    assert warm.pillar == "Reliability"
    assert warm.risk == "High"  # the risk line wrapped over two lines
    assert warm.question_id == "GENREL08"
    assert warm.question_title == "Pot readiness"
    assert warm.lens == "generative-ai"
    assert warm.url.endswith("/generative-ai-lens/genrel08-bp01.html")
    sections = {s.heading: s.text for s in warm.sections}
    assert list(sections) == [
        "Overview",
        "Desired outcome",
        "Implementation guidance",
        "Implementation steps",
        "Resources",
    ]
    assert sections["Desired outcome"] == "Tea reaches the cup hot."
    # The related-practice line in Resources did not start a page of its own.
    assert "Related best practices" in sections["Resources"]
    assert warm.related == ("GENREL08-BP02",)
    assert corpus.name == "Teapot Lens"


def test_running_headers_page_numbers_and_contents_are_dropped(lens_pdf):
    corpus = pdf.load(lens_pdf)
    text = "\n".join(d.text for d in corpus.documents)
    assert HEADER not in text
    assert "........" not in text
    pour = corpus.best_practices()["GENREL08-BP02"]
    assert pour.risk == "Low"
    assert {s.heading for s in pour.sections} >= {"Overview", "Anti-patterns"}


def test_question_document(lens_pdf):
    question = next(d for d in pdf.load(lens_pdf).documents if d.doc_id == "GENREL08")
    assert question.bp_id is None
    assert question.title == "Pot readiness"
    assert question.sections[0].text == (
        "How do you make sure the pot is ready when guests arrive?"
    )


def test_sniff(tmp_path, lens_pdf):
    assert pdf.sniff(lens_pdf)
    assert pdf.sniff(tmp_path)
    fake = tmp_path / "fake.txt"
    fake.write_text("%PDF-1.4 but a text file")
    assert not pdf.sniff(fake)
    renamed = tmp_path / "notes.pdf"
    renamed.write_text("just words")
    assert not pdf.sniff(renamed)


def test_broken_and_empty_pdfs_are_input_errors(tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnothing else")
    with pytest.raises(InputError, match="not a readable PDF"):
        pdf.load(broken)
    blank = write_pdf(tmp_path / "blank.pdf", [[]])
    with pytest.raises(InputError, match="no extractable text"):
        pdf.load(blank)
