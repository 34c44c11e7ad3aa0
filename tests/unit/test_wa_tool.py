"""Export of a review to the Well-Architected Tool: the real boto3 client against a local server.

The test lens (``tests.fake_wellarchitected.build_genai_lens``) has the quirks of a real
lens version: ids of its own, choices in another order than the practices, a URL spelled
differently, a choice known only by its title, a missing practice, an extra choice and
"None of these" on every question.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import Settings
from corpus.errors import InputError
from tests.fake_wellarchitected import (
    BY_TITLE,
    DROPPED,
    FRAMEWORK,
    RESPELLED,
    build_genai_lens,
    serve,
)
from tests.helpers import LENS_DOCS, SHARED
from watool import GENAI_LENS, WaExportError, WaTool, export_review, plan_export
from watool.match import Choice, match_practice, normalise_url
from watool.notes import BEGIN, END, MARKER, NOTES_MAX, merge, question_notes

SAM = SHARED / "diagrams" / "aws-samples_serverless-pdf-chat__backend_template.yaml"


@pytest.fixture(scope="module")
def lens(tmp_path_factory):
    from agent import LensAssistant

    if not SAM.is_file():
        pytest.skip("../shared/diagrams is not present")
    return LensAssistant(Settings(home=tmp_path_factory.mktemp("wa-home")))


@pytest.fixture(scope="module")
def review(lens):
    return lens.review(SAM)


@pytest.fixture(scope="module")
def genai(lens):
    return build_genai_lens(lens.catalog())


@pytest.fixture
def wa(genai, monkeypatch):
    yield from serve([genai[0], FRAMEWORK], monkeypatch, page_size=7)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    from lenswise.cli import main

    code = main(["review", str(SAM), "--wa-tool", *args])
    out, err = capsys.readouterr()
    return code, out, err


def plan_for(lens, review, **kwargs):
    return plan_export(review, lens.catalog().best_practices(), **kwargs)


def question_of(genai, bp_id: str) -> str:
    return genai[1][bp_id][0]


# --- dry run -------------------------------------------------------------------------------------


def test_dry_run_prints_the_plan_and_calls_no_aws(wa, capsys, monkeypatch, review):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    code, out, err = run_cli(capsys, "--dry-run", "--workload", "pdf chat")
    assert code == 0, err
    assert wa.requests == []
    assert out.startswith("Dry run: nothing is sent to AWS.")
    assert 'workload "pdf chat"' in out and GENAI_LENS in out
    addressed = [f.bp_id for f in review.by_status("addressed")]
    assert addressed and all(bp in out for bp in addressed)
    assert f"| {MARKER}{SAM.name}" in out
    code, out, _ = run_cli(capsys, "--dry-run", "--json")
    plan = json.loads(out)
    assert plan["dry_run"] is True and plan["lenses"] == ["wellarchitected", GENAI_LENS]
    selected = {bp for q in plan["questions"] for bp in q["select"]}
    assert selected == set(addressed)
    for q in plan["questions"]:
        assert q["answered"] == any(s in ("addressed", "gap") for s in q["findings"].values())
        assert (q["notes"] != "") == q["answered"] and len(q["notes"]) <= NOTES_MAX


# --- a full export -------------------------------------------------------------------------------


def test_export_creates_the_workload_and_answers_what_the_design_shows(wa, genai, review, capsys):
    code, out, err = run_cli(capsys, "--workload", "pdf chat", "--review-owner", "arch-team")
    assert code == 0, err
    (created,) = wa.calls("CreateWorkload")
    assert created.params["Lenses"] == ["wellarchitected", GENAI_LENS]
    assert created.params["AwsRegions"] == ["us-east-1"]
    assert created.params["ReviewOwner"] == "arch-team"
    assert created.params["Environment"] == "PREPRODUCTION"
    (workload,) = wa.workloads.values()
    where = genai[1]
    statuses = {f.bp_id: f.status for f in review.findings}
    selected = {
        (qid, c) for qid, a in workload.answers[GENAI_LENS].items() for c in a["SelectedChoices"]
    }
    expected = {where[bp] for bp, status in statuses.items() if status == "addressed"}
    assert selected == expected - {where.get(DROPPED)}
    assert where[BY_TITLE] in selected  # matched by its title alone
    assert not any(c.endswith(("_no", "_new")) for _, c in selected)
    # Questions the design informs carry notes; the others were never written.
    informed = {where[bp][0] for bp, s in statuses.items() if s != "unknown" and bp in where}
    assert set(workload.answers[GENAI_LENS]) == informed
    for qid, answer in workload.answers[GENAI_LENS].items():
        assert answer["Notes"].startswith(f"{BEGIN}\n{MARKER}{SAM.name}")
        assert answer["Notes"].endswith(END) and len(answer["Notes"]) <= 2084
        for bp, status in statuses.items():
            if bp in where and where[bp][0] == qid and status != "unknown":
                assert bp in answer["Notes"]
    assert RESPELLED in workload.answers[GENAI_LENS][question_of(genai, RESPELLED)]["Notes"]
    assert len(wa.calls("UpdateAnswer")) == len(informed)
    assert [m["MilestoneName"] for m in workload.milestones] == [
        f"lenswise {_date(out)} {SAM.name}"
    ]
    assert f"answered {len(informed)} questions" in out
    assert f"not exported {DROPPED}: no choice in this lens version" in out
    assert "milestone 1:" in out and err == ""


def _date(out: str) -> str:
    return re.search(r"lenswise (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", out).group(1)


def test_paginated_reads_follow_next_token(wa, capsys):
    for number in range(9):
        wa.add_workload(f"pdf chat {number}", ["wellarchitected"])
    code, _, err = run_cli(capsys, "--workload", "pdf chat")
    assert code == 0, err
    assert len(wa.calls("ListWorkloads")) == 2  # 9 similar names, pages of 7
    assert len(wa.calls("ListAnswers")) == 5  # 29 questions, pages of 7
    assert len(wa.calls("CreateWorkload")) == 1  # no name matched exactly


def test_a_persons_answers_are_kept_unless_overwrite(wa, genai, review, capsys):
    qid, first_choice = genai[1]["GENSEC01-BP03"]
    person = {"SelectedChoices": [f"{qid}_no"], "Notes": "Checked with security."}
    wid = wa.add_workload(
        "Pdf Chat", ["wellarchitected", "genai"], {GENAI_LENS: {qid: dict(person)}}
    )
    code, out, err = run_cli(capsys, "--workload", "pdf chat")
    assert code == 0, err
    assert not wa.calls("CreateWorkload") and not wa.calls("AssociateLenses")
    assert wa.answer(wid, GENAI_LENS, qid) == person
    assert f"kept {qid} " in out and "answered; --overwrite adds lenswise's" in out
    assert qid not in {r.params["QuestionId"] for r in wa.calls("UpdateAnswer")}

    # A second export finds its own earlier answers and keeps them too: nothing is written.
    code, out, _ = run_cli(capsys, "--workload", wid)
    assert "answered 0 questions" in out and "earlier lenswise export" in out
    assert len(wa.workloads[wid].milestones) == 1

    code, out, err = run_cli(capsys, "--workload", wid, "--overwrite")
    assert code == 0, err
    merged = wa.answer(wid, GENAI_LENS, qid)
    # The person's "None of these" stays: nothing of theirs is unselected, lenswise adds no choice.
    assert merged["SelectedChoices"] == [f"{qid}_no"]
    assert merged["Notes"].startswith("Checked with security.\n\n" + BEGIN)
    assert merged["Notes"].count(MARKER) == 1
    assert "(added to a person's answer)" in out
    assert f'{qid}: a person chose "None of these", which stays; lenswise did not select' in out

    # A person edits around lenswise's block; the next export replaces only the block.
    tail = "\nAfter: owner is Ana, see the lenswise review of May."
    edited = "Before.\n" + merged["Notes"] + tail
    wa.workloads[wid].answers[GENAI_LENS][qid]["Notes"] = edited
    wa.workloads[wid].answers[GENAI_LENS][qid]["SelectedChoices"] = [first_choice]
    code, out, err = run_cli(capsys, "--workload", wid, "--overwrite", "--json")
    assert code == 0, err
    again = wa.answer(wid, GENAI_LENS, qid)
    assert again["Notes"].startswith("Before.\nChecked with security.\n\n" + BEGIN)
    assert again["Notes"].endswith(END + tail)
    assert again["Notes"].count(BEGIN) == 1
    addressed = genai[1]["GENSEC01-BP01"][1]
    assert again["SelectedChoices"] == [first_choice, addressed]
    assert json.loads(out)["held"] == []


def test_an_existing_workload_by_id_gets_the_lens_associated(wa, capsys):
    wid = wa.add_workload("checkout", ["wellarchitected"])
    code, out, err = run_cli(capsys, "--workload", wid)
    assert code == 0, err
    (associate,) = wa.calls("AssociateLenses")
    assert associate.params == {"WorkloadId": wid, "LensAliases": [GENAI_LENS]}
    assert f"associated lenses: {GENAI_LENS}" in out
    assert wa.workloads[wid].answers[GENAI_LENS]


def test_an_unknown_workload_id_is_bad_input(wa, capsys):
    code, _, err = run_cli(capsys, "--workload", "0" * 32)
    assert code == 2
    assert err.strip() == f"lenswise: error: no workload with id {'0' * 32} in us-east-1"


# --- failures ------------------------------------------------------------------------------------


def test_throttling_is_retried_with_backoff(wa, lens, review):
    wa.fail("ListAnswers", "ThrottlingException", times=2)
    settings = Settings.from_env()
    result = export_review(plan_for(lens, review), settings, tool=WaTool(settings, max_attempts=3))
    assert result.error is None and result.written
    assert [r.params.get("NextToken") for r in wa.calls("ListAnswers")][:3] == [None] * 3


def test_throttling_that_persists_stops_with_a_partial_report(wa, lens, review):
    wa.fail("UpdateAnswer", "ThrottlingException", times=10, after=2)
    settings = Settings.from_env()
    with pytest.raises(WaExportError) as caught:
        export_review(plan_for(lens, review), settings, tool=WaTool(settings, max_attempts=2))
    result = caught.value.result
    assert str(caught.value) == (
        "the Well-Architected Tool kept throttling UpdateAnswer (ThrottlingException) after 1 "
        "retry; try again in a minute"
    )
    (workload,) = wa.workloads.values()
    assert [w.question_id for w in result.written] == list(workload.answers[GENAI_LENS])
    assert len(result.written) == 2 and not workload.milestones
    assert "partial export: stopped by an error after writing 2 questions" in result.render()


def test_access_denied_is_one_line_and_reports_what_was_written(wa, capsys):
    wa.fail("UpdateAnswer", "AccessDeniedException", after=3)
    code, out, err = run_cli(capsys, "--workload", "pdf chat")
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith("lenswise: error: access denied to UpdateAnswer (AccessDeniedException")
    assert err.rstrip().endswith("the IAM identity needs wellarchitected:UpdateAnswer")
    assert "answered 3 questions" in out and "partial export" in out
    (workload,) = wa.workloads.values()
    assert len(workload.answers[GENAI_LENS]) == 3 and not workload.milestones


def test_access_denied_before_anything_is_written(wa, capsys):
    wa.fail("ListWorkloads", "AccessDeniedException")
    code, out, err = run_cli(capsys, "--workload", "pdf chat", "--json")
    assert code == 1 and "wellarchitected:ListWorkloads" in err
    result = json.loads(out)
    assert result["written"] == [] and result["error"].startswith("access denied")
    assert not wa.workloads


def test_missing_credentials_are_one_clear_line(wa, capsys, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, _, err = run_cli(capsys)
    assert code == 1 and wa.requests == []
    assert err == (
        "lenswise: error: no AWS credentials found for the Well-Architected Tool: configure the "
        "standard AWS chain (AWS_PROFILE, aws sso login, or AWS_ACCESS_KEY_ID/"
        "AWS_SECRET_ACCESS_KEY)\n"
    )


def test_notes_stay_within_the_api_limit_for_long_findings(wa, lens, review):
    long_review = copy.deepcopy(review)
    for finding in long_review.findings:
        finding.explanation = "The design shows a long story about this practice. " * 30
    result = export_review(plan_for(lens, long_review), Settings.from_env())
    (workload,) = wa.workloads.values()
    notes = [a["Notes"] for a in workload.answers[GENAI_LENS].values()]
    assert result.written and all(len(n) <= NOTES_MAX for n in notes)
    assert max(map(len, notes)) > 1500  # close to the limit, and the service accepted them
    everything = question_notes(long_review.findings, long_review, "2026-01-01 10:00 UTC")
    kept = everything.splitlines()[1:-1]  # inside the begin and end lines
    assert len(everything) <= NOTES_MAX
    assert kept[-1] == f"(+{len(long_review.findings) + 2 - len(kept)} more in the lenswise report)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dry-run"], "--dry-run only applies with --wa-tool"),
        (
            ["--workload", "checkout", "--overwrite"],
            "--workload, --overwrite only applies with --wa-tool",
        ),
    ],
)
def test_export_flags_need_wa_tool(capsys, args, message):
    from lenswise.cli import main

    assert main(["review", str(SAM), *args]) == 2
    assert message in capsys.readouterr().err


def test_a_too_short_workload_name_is_bad_input(wa, capsys):
    code, _, err = run_cli(capsys, "--workload", "ab", "--dry-run")
    assert code == 2 and "the workload must be a workload id" in err


def test_a_review_owner_the_api_would_refuse_is_bad_input_before_any_call(wa, lens, review, capsys):
    code, _, err = run_cli(capsys, "--review-owner", "ab")
    assert code == 2 and "the review owner must be 3-255 characters" in err
    with pytest.raises(InputError, match="the review owner must be 3-255 characters"):
        export_review(plan_for(lens, review), Settings.from_env(), review_owner="x" * 256)
    assert wa.requests == []


# --- matching and notes ------------------------------------------------------------------------


def _choice(choice_id: str, title: str, *urls: str, question: str = "q1") -> Choice:
    return Choice(question, "Q", "security", choice_id, title, frozenset(map(normalise_url, urls)))


def test_urls_are_compared_without_scheme_case_www_fragment_or_suffix():
    page = LENS_DOCS + "gensec01-bp01.html"
    for variant in (
        "HTTP://www." + page.removeprefix("https://").removesuffix(".html"),
        page + "#steps",
        page.replace(".html", "/") + "?x=1",
        page.replace(".html", ".md"),
    ):
        assert normalise_url(variant) == normalise_url(page), variant
    assert normalise_url(page) != normalise_url(page.replace("bp01", "bp02"))


def test_matching_uses_url_then_title_and_never_guesses():
    url = "https://docs.aws.amazon.com/x/gensec01-bp01.html"
    choices = [
        _choice("GENSEC01-BP01", "Something else entirely"),  # an id that looks right is ignored
        _choice("c2", "Grant least privilege", url),
        _choice("c3", "Grant least-privilege access!"),
        _choice("c4", "None of these", url),
    ]
    by_url = match_practice("GENSEC01-BP01", "Grant least-privilege access", url, choices)
    assert (by_url.choice.choice_id, by_url.how) == ("c2", "url")
    by_title = match_practice("GENSEC01-BP01", "Grant least-privilege access", "", choices)
    assert (by_title.choice.choice_id, by_title.how) == ("c3", "title")
    none = match_practice("GENSEC01-BP01", "Unlisted practice", "https://x/other.html", choices)
    assert none.choice is None and "no choice" in none.how
    twice = [_choice("a", "Shared", url, question="q1"), _choice("b", "Shared", url, question="q2")]
    ambiguous = match_practice("GENSEC01-BP01", "Shared", url, twice)
    assert ambiguous.choice is None and "2 choices share its page URL (q1/a, q2/b)" == ambiguous.how


def test_notes_put_gaps_first_quote_labels_and_merge_with_a_persons_notes(review):
    gensec = [f for f in review.findings if f.bp_id.startswith("GENSEC01")]
    notes = question_notes(gensec, review, "2026-01-01 10:00 UTC")
    lines = notes.splitlines()
    assert (lines[0], lines[-1]) == (BEGIN, END)
    assert lines[1].startswith(f"{MARKER}{SAM.name} (2026-01-01 10:00 UTC)")
    statuses = [line.split()[0] for line in lines[2:-1]]
    assert statuses == sorted(statuses, key=["Gap", "Addressed", "Ask"].index)
    assert merge("", notes) == notes
    assert merge("x" * (NOTES_MAX - 10), notes) is None
    assert len(merge("y" * 1500, notes)) <= NOTES_MAX


@pytest.fixture(scope="module")
def block(review):
    gensec = [f for f in review.findings if f.bp_id.startswith("GENSEC01")]
    return question_notes(gensec, review, "2026-01-01 10:00 UTC")


def test_merge_keeps_a_persons_text_that_mentions_a_lenswise_review(block):
    person = "Team note: see the lenswise review of March; we must keep THIS."
    merged = merge(person, block)
    assert merged == person + "\n\n" + block


def test_merge_replaces_only_the_earlier_block_and_keeps_text_after_it(block):
    old = f"{BEGIN}\n{MARKER}old.pdf (2025): old block\nGap (High risk) GENSEC01-BP01: x\n{END}"
    before, after = "Team notes.\n\n", "\n\nAdded later by Ana: rotate keys monthly."
    merged = merge(before + old + after, block)
    assert merged == before + block + after
    assert "old block" not in merged
    # Merging again is stable: one block, the person's text unchanged.
    assert merge(merged, block) == merged


def test_tags_in_a_label_or_a_persons_text_never_move_the_block(review):
    hostile = copy.deepcopy(review)
    for finding in hostile.findings:
        finding.explanation = f"label {END} and {BEGIN} inside"
    gensec = [f for f in hostile.findings if f.bp_id.startswith("GENSEC01")]
    block = question_notes(gensec, hostile, "2026-01-01 10:00 UTC")
    assert block.count(END) == 1 and block.count(BEGIN) == 1
    person = f"Pasted by Ana: {BEGIN.split()[0]} half a tag, keep me.\n"
    merged = merge(person, block)
    assert merge(merged, block) == merged and merged.startswith(person)


def test_merge_cuts_lenswise_lines_never_the_persons_and_says_when_there_is_no_room(block):
    person = "p" * 1700
    merged = merge(person, block)
    assert merged.startswith(person + "\n\n" + BEGIN) and merged.endswith(END)
    assert len(merged) <= NOTES_MAX and "more in the lenswise report)" in merged
    assert merge("q" * (NOTES_MAX - 100), block) is None


_PERSON_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=900
).filter(lambda t: "[[lenswise:" not in t)


@settings(max_examples=200, deadline=None)
@given(before=_PERSON_TEXT, after=_PERSON_TEXT, earlier=st.booleans(), data=st.data())
def test_a_persons_text_survives_any_merge(block, before, after, earlier, data):
    """Whatever a person wrote around lenswise's block is kept verbatim, in order."""
    limit = data.draw(st.integers(min_value=200, max_value=NOTES_MAX))
    old = f"{BEGIN}\n{MARKER}old.pdf: old\n{END}"
    existing = before + old + after if earlier else before + after
    merged = merge(existing, block, limit)
    if merged is None:  # only when the person's text leaves no room
        header = block.splitlines()[1]
        closing = f"\n(+{len(block.splitlines())} more in the lenswise report)"
        assert len(before + after) + len(f"{BEGIN}\n{header}\n{END}\n\n{closing}") > limit
        return
    assert len(merged) <= limit
    assert merged.count(BEGIN) == 1 and "old.pdf" not in merged
    if earlier:
        start, end = merged.index(BEGIN), merged.rindex(END) + len(END)
        assert merged[:start] == before and merged[end:] == after
    else:
        assert merged.startswith(existing)
    assert merge(merged, block, limit) == merged
