"""Bad sources on the command line: one clear error line and exit code 2, never a traceback."""

from __future__ import annotations

import re

import pytest

from lenswise.cli import main


def _write(path, text):
    path.write_text(text)
    return path


CASES = {
    "missing folder": (lambda d: d / "nope", "source not found"),
    "empty folder": (lambda d: (d / "empty").mkdir() or d / "empty", "source folder is empty"),
    "text file": (lambda d: _write(d / "notes.txt", "hello"), "is not a lens source"),
    "markdown that is no lens": (
        lambda d: _write(d / "list.md", "# Shopping\n\n- eggs\n"),
        "is not a lens source",
    ),
    "JSON that is no lens": (lambda d: _write(d / "other.json", '{"a": 1}'), "is not a lens"),
    "malformed lens JSON": (
        lambda d: _write(d / "lens.json", '[{"id": "GENSEC01-BP01",\n "pillar": "SECURITY",, }]'),
        r"lens\.json:2:\d+: malformed JSON",
    ),
    "malformed custom lens": (
        lambda d: _write(d / "custom.json", '{"schemaVersion": "2021-11-01",\n\n "pillars": [ }'),
        r"custom\.json:3:\d+: malformed JSON",
    ),
    "malformed JSON of no format": (
        lambda d: _write(d / "junk.json", "{oops"),
        r"junk\.json:1:\d+: malformed JSON",
    ),
    "broken PDF": (
        lambda d: _write(d / "lens.pdf", "%PDF-1.4 and nothing else"),
        "not a readable PDF",
    ),
    "docs folder without pages": (
        lambda d: (d / "toc").mkdir() or _write(d / "toc" / "toc-contents.json", "{}").parent,
        "no .md or .html docs pages",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_source_is_one_line_and_exit_2(case, tmp_path, capsys):
    make, message = CASES[case]
    source = make(tmp_path)
    for argv in (
        ["corpus", "info", "--source", str(source)],
        ["corpus", "diff", str(source), "builtin"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert err[0].startswith("lenswise: error: ")
        assert re.search(message, err[0]), err[0]
