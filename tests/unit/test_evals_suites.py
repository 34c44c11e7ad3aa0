"""Suite files: the development suites are complete, and malformed suites fail clearly."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

from corpus.errors import InputError
from corpus.vocabulary import pillar_of
from evals.cases import AnswerCase
from evals.suites import load_suite, resolve_suite_path
from tests.evals_fakes import write_suite
from tests.helpers import LENS, REPO, SHARED

DIAGRAMS = SHARED / "diagrams"
DIGEST_FRONT = REPO / "corpus" / "data" / "generative-ai" / "lens.yaml"


def _lens_ids() -> set[str]:
    index = LENS / "genai_lens_index.json"
    if not index.is_file():
        pytest.skip("../shared/lens is not present")
    data = json.loads(index.read_text())
    return {bp["id"] for q in data["questions"] for bp in q["best_practices"]}


def test_retrieval_suite_covers_every_practice_and_pillar():
    suite = load_suite("retrieval")
    assert suite.kind == "retrieval" and len(suite.cases) >= 60
    ids = _lens_ids()
    expected = {bp for c in suite.cases for bp in c.expected}
    assert expected <= ids, expected - ids
    assert {c.expected[0] for c in suite.cases} == ids  # every practice is a primary answer
    assert {c.pillar for c in suite.cases} == {pillar_of(bp) for bp in ids}
    assert all(1 <= len(c.expected) <= 3 for c in suite.cases)
    assert (
        sum(bool(re.search(r"(?i)gen[a-z]+\d\d", c.question)) for c in suite.cases) >= 3
    )  # a few questions name an id
    assert {t.metric for t in suite.thresholds} >= {"hybrid.recall@5", "hybrid.mrr"}


def test_answer_suite_has_lens_questions_and_declines():
    suite = load_suite("answers")
    cases: list[AnswerCase] = suite.cases
    assert len([c for c in cases if not c.should_decline]) >= 25
    declines = [c for c in cases if c.should_decline]
    assert len(declines) >= 3 and all(not c.expected_citations for c in declines)
    cited = {bp for c in cases for bp in c.expected_citations}
    pages = {p["id"] for p in yaml.safe_load(DIGEST_FRONT.read_text())["pages"]}
    assert cited <= _lens_ids() | {q[:-5] for q in _lens_ids()} | pages
    tags = {t for c in cases for t in c.tags}
    assert tags >= {"plain", "multi", "scenario", "lookup", "followup", "near-miss", "design"}
    assert len([c for c in cases if "near-miss" in c.tags]) >= 15
    assert all(c.diagram is None or c.diagram.is_file() for c in cases)
    assert all(set(c.leads) <= set(c.expected_citations) for c in cases)


def test_diagram_suite_has_one_case_per_shared_file_and_per_fixture():
    if not DIAGRAMS.is_dir():
        pytest.skip("../shared/diagrams is not present")
    suite = load_suite("diagrams")
    files = {p.name for p in DIAGRAMS.iterdir() if p.name != "SOURCES.txt"}
    fixtures = {p.name for p in suite.fixtures_dir.iterdir()}
    shared = {c.file for c in suite.cases if c.path.parent == DIAGRAMS.resolve()}
    own = {c.file for c in suite.cases if c.path.parent == suite.fixtures_dir}
    assert shared == files and own == fixtures and len(suite.cases) == len(files | fixtures)
    assert all(c.path.is_file() for c in suite.cases)
    assert not suite.skipped


def test_diagram_case_takes_file_or_fixture_and_annotation_texts(tmp_path):
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / "a.mmd").write_text("flowchart LR\n  a --> b\n")
    suite_file = tmp_path / "s.yaml"
    suite_file.write_text(
        "kind: diagrams\nbase_dir: .\nfixtures_dir: own\ncases:\n"
        "  - {fixture: a.mmd, annotations: [Legend, 1]}\n"
    )
    case = load_suite(suite_file).cases[0]
    assert case.path == tmp_path / "own" / "a.mmd" and case.annotations == ("Legend", "1")
    suite_file.write_text(
        "kind: diagrams\ncases:\n  - {file: a.mmd, fixture: a.mmd, services: [s3]}\n"
    )
    with pytest.raises(InputError, match="either 'file'"):
        load_suite(suite_file)


def test_suites_are_in_our_own_words():
    tool = SHARED / "tools" / "copycheck.py"
    if not tool.is_file():
        pytest.skip("../shared/tools/copycheck.py is not present")
    suites = sorted(str(p) for p in (REPO / "evals" / "suites").glob("*.yaml"))
    out = subprocess.run(
        [sys.executable, str(tool), "--words", "9", *suites],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip().splitlines()[-1] == "total 0", out


def test_diagram_base_dir_override_and_missing_files(tmp_path):
    (tmp_path / "a.drawio").write_text("<mxfile/>")
    path = write_suite(
        tmp_path,
        {
            "kind": "diagrams",
            "base_dir": "/nowhere",
            "cases": [
                {"id": "a", "file": "a.drawio", "services": ["s3"]},
                {"id": "b", "file": "b.drawio", "services": ["s3"]},
            ],
        },
    )
    suite = load_suite(path, diagrams_dir=tmp_path)
    assert [c.id for c in suite.cases] == ["a"]
    assert suite.skipped and "b: file not found" in suite.skipped[0]
    with pytest.raises(InputError, match="no runnable cases"):
        load_suite(path)  # /nowhere holds neither file


def test_builtin_names_resolve_and_unknown_names_list_them():
    assert resolve_suite_path("retrieval").name == "retrieval.yaml"
    names = "answers, diagrams, everyday, faithfulness, heldout, retrieval"
    with pytest.raises(InputError, match=f"built-in suites: {names}"):
        resolve_suite_path("nope")


def test_thresholds_accept_minimums_and_ranges(tmp_path):
    path = write_suite(
        tmp_path,
        {
            "kind": "retrieval",
            "thresholds": {"mrr": 0.5, "hybrid.latency_p95_ms": {"max": 50}},
            "cases": [{"question": "q", "expected": ["GENSEC01-BP01"]}],
        },
    )
    mrr, latency = load_suite(path).thresholds
    assert (mrr.minimum, mrr.maximum) == (0.5, None)
    assert mrr.passes(0.5) and not mrr.passes(0.49)
    assert latency.passes(49) and not latency.passes(51) and latency.describe() == "<= 50"


BAD = [
    ("[1, 2]", "expected a mapping"),
    ("kind: retrieval\ncases: [", "not valid YAML"),
    ("kind: chat\ncases: [{question: q}]", "'kind' must be one of"),
    ("kind: retrieval\ncases: []", "'cases' must be a non-empty list"),
    ("kind: retrieval\ncases: [{question: q}]", "'expected' must be a non-empty list"),
    ("kind: retrieval\ncases: [{question: q, expected: [sec01]}]", "not a best-practice id"),
    ("kind: retrieval\ncases: [{question: '', expected: [GENSEC01-BP01]}]", "'question'"),
    (
        "kind: retrieval\ncases: [{id: a, question: q, expected: [GENSEC01-BP01]},"
        " {id: a, question: r, expected: [GENSEC01-BP01]}]",
        "duplicate id",
    ),
    (
        "kind: retrieval\nmodes: [fuzzy]\ncases: [{question: q, expected: [GENSEC01-BP01]}]",
        "'modes'",
    ),
    ("kind: retrieval\nk: 0\ncases: [{question: q, expected: [GENSEC01-BP01]}]", "'k'"),
    (
        "kind: retrieval\nthresholds: {mrr: high}\n"
        "cases: [{question: q, expected: [GENSEC01-BP01]}]",
        "threshold 'mrr'",
    ),
    ("kind: answers\ncases: [{question: q, must_state: [{regex: '(('}]}]", "bad regex"),
    ("kind: answers\ncases: [{question: q, must_state: [{pattern: x}]}]", "{regex: PATTERN}"),
    ("kind: answers\ncases: [{question: q}]", "give 'expected_citations', 'must_state' or 'facts'"),
    ("kind: answers\ncases: [{question: q, should_decline: yes please}]", "'should_decline'"),
    (
        "kind: answers\ncases: [{question: q, should_decline: true,"
        " expected_citations: [GENSEC01-BP01]}]",
        "cannot expect citations",
    ),
    ("kind: diagrams\ncases: [{id: d, services: [s3]}]", "give either 'file'"),
    (
        "kind: diagrams\ncases: [{file: x.tf, addressed: [GENSEC01-BP01], gaps: [GENSEC01-BP01]}]",
        "two statuses",
    ),
    ("kind: diagrams\ncases: [{file: x.tf, services: bedrock}]", "'services' must be a list"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_suites_raise_input_error_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=re.escape(message)) as info:
        load_suite(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_unreadable_suite_is_input_error(tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="cannot read suite"):
        load_suite(path)


def test_everyday_suite_has_every_kind_of_case_and_real_ids():
    suite = load_suite("everyday")
    cases: list[AnswerCase] = suite.cases
    assert len(cases) >= 60 and not suite.skipped
    kinds = {"multi", "compare", "list", "followup", "unknown-id", "false-premise", "scenario"}
    counts = {kind: sum(c.tags[0] == kind for c in cases) for kind in kinds | {"design"}}
    assert all(n >= 5 for n in counts.values()), counts
    pages = {p["id"] for p in yaml.safe_load(DIGEST_FRONT.read_text())["pages"]}
    cited = {bp for c in cases for bp in c.expected_citations}
    assert cited <= _lens_ids() | pages, cited - _lens_ids() - pages
    answered = [c for c in cases if not c.should_decline]
    assert all(c.facts for c in answered)  # every lens question says what a good answer states
    assert all(c.previous for c in cases if c.tags[0] == "followup")
    assert all(c.diagram is not None and c.diagram.is_file() for c in cases if "design" in c.tags)
    multi = [c for c in cases if c.tags[0] == "multi"]
    assert all(len(c.expected_citations) >= 2 for c in multi)
    assert all(set(c.leads) <= set(c.expected_citations) for c in cases)
    for case in cases:  # an unknown id named in a question is really not in the lens
        if case.tags[0] == "unknown-id":
            named = {
                f"{q}-BP{bp}"
                for q, bp in re.findall(r"(GEN[A-Z]+\d\d)[- ]*BP(\d\d)", case.question.upper())
            }
            assert named and not named & _lens_ids(), case.id
