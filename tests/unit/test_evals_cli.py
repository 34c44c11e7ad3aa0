"""``lenswise eval run|compare`` and ``lenswise bench``: exit codes, reports, deltas, output."""

from __future__ import annotations

import json
import os

import pytest

import evals.bench as bench
import evals.runner as runner
from agent.config import Settings
from evals.compare import compare, load_result, render_text
from lenswise.cli import main
from tests.evals_fakes import FakeAssistant, FakeReview, write_suite

SUITE = {
    "kind": "retrieval",
    "name": "cli",
    "thresholds": {"recall@5": 0.75},
    "cases": [
        {"id": "one", "question": "q1", "expected": ["GENSEC01-BP01"]},
        {"id": "two", "question": "q2", "expected": ["GENREL03-BP02"]},
    ],
}
GOOD = {m: {"q1": ["GENSEC01-BP01"], "q2": ["GENREL03-BP02"]} for m in ("bm25", "dense", "hybrid")}
WORSE = {**GOOD, "hybrid": {"q1": ["GENSEC01-BP01"], "q2": ["GENOPS01-BP01", "GENREL03-BP02"]}}
BAD = {**GOOD, "hybrid": {"q1": ["GENOPS01-BP01"], "q2": []}}


@pytest.fixture
def use(monkeypatch):
    def install(rankings=None, reviews=None):
        fake = FakeAssistant(rankings, reviews=reviews)
        monkeypatch.setattr(runner, "open_target", lambda settings: fake)
        return fake

    return install


def test_eval_run_passes_and_writes_report(tmp_path, use, capsys):
    use(GOOD)
    suite = write_suite(tmp_path, SUITE)
    assert main(["eval", "run", str(suite), "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "recall@5" in out and "threshold hybrid.recall@5 >= 0.75: 1.000 pass" in out
    assert {p.name for p in (tmp_path / "r").iterdir()} >= {
        "report.md",
        "results.json",
        "recall_at_k.png",
        "pillars.png",
    }


def test_eval_run_below_threshold_exits_1_naming_the_metric(tmp_path, use, capsys):
    use(BAD)
    suite = write_suite(tmp_path, SUITE)
    assert (
        main(
            ["eval", "run", str(suite), "--mode", "hybrid", "--out", str(tmp_path / "r"), "--json"]
        )
        == 1
    )
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["passed"] is False and data["run"]["modes"] == ["hybrid"]
    assert "threshold not met: hybrid.recall@5 = 0.000 (needs >= 0.75)" in captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "run", "no/such/suite.yaml"], "suite file not found"),
        (["eval", "run", "answers", "--mode", "bm25"], "--mode applies to retrieval suites only"),
        (["eval", "compare", "nowhere-a", "nowhere-b"], "no eval results at nowhere-a"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, capsys, use):
    use(GOOD)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_flag_exits_2(capsys):
    try:
        code = main(["eval", "run", "retrieval", "--mode", "fuzzy"])
    except SystemExit as exc:  # older parsers exit instead of returning the code
        code = exc.code
    assert code == 2 and "invalid choice" in capsys.readouterr().err


def test_bad_suite_file_exits_2(tmp_path, use, capsys):
    use(GOOD)
    path = tmp_path / "bad.yaml"
    path.write_text("kind: retrieval\ncases: [{question: q, expected: [nope]}]\n")
    assert main(["eval", "run", str(path)]) == 2
    assert "not a best-practice id" in capsys.readouterr().err


def test_diagram_suite_uses_env_folder(tmp_path, use, monkeypatch, capsys):
    folder = tmp_path / "diagrams"
    folder.mkdir()
    (folder / "t.yaml").write_text("x")
    use(reviews={"t.yaml": FakeReview(["lambda"], {})})
    monkeypatch.setenv("LENSWISE_DIAGRAMS_DIR", str(folder))
    suite = write_suite(
        tmp_path,
        {
            "kind": "diagrams",
            "cases": [
                {"file": "t.yaml", "services": ["lambda"]},
                {"file": "gone.tf", "services": ["s3"]},
            ],
        },
    )
    assert main(["eval", "run", str(suite), "--out", str(tmp_path / "r")]) == 0
    captured = capsys.readouterr()
    assert "service_recall" in captured.out and "gone.tf" in captured.err


def test_compare_shows_deltas_and_changed_cases(tmp_path, use, capsys):
    suite = str(write_suite(tmp_path, SUITE))
    use(GOOD)
    main(["eval", "run", suite, "--out", str(tmp_path / "a")])
    use(WORSE)
    main(["eval", "run", suite, "--out", str(tmp_path / "b")])
    capsys.readouterr()
    diff = compare(load_result(tmp_path / "a"), load_result(tmp_path / "b" / "results.json"))
    mrr = next(m for m in diff["metrics"] if m["metric"] == "hybrid.mrr")
    assert (mrr["a"], mrr["b"], mrr["delta"]) == (1.0, 0.75, -0.25)
    assert [(c["id"], c["mode"], c["verdict"]) for c in diff["changed_cases"]] == [
        ("two", "hybrid", "worse")
    ]
    changed = diff["changed_cases"][0]
    assert changed["changes"]["mrr"] == [1.0, 0.5]
    assert changed["a_top"] == ["GENREL03-BP02"]
    assert "hybrid.mrr" in render_text(diff) and "[hybrid] two (worse)" in render_text(diff)
    assert main(["eval", "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changed_cases"][0]["id"] == "two"


def test_compare_refuses_different_kinds(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"suite": {"kind": "answers"}}))
    (tmp_path / "b.json").write_text(json.dumps({"suite": {"kind": "diagrams"}}))
    with pytest.raises(Exception, match="cannot compare a answers run with a diagrams run"):
        compare(load_result(tmp_path / "a.json"), load_result(tmp_path / "b.json"))


REVIEW_FIX = {
    "files": [
        {"file": "t.yaml", "seconds": 4.2, "cpu_seconds": 3.1, "verified": 5},
        {"file": "m.tf", "seconds": 6.5, "cpu_seconds": 4.4, "verified": 2},
        {"file": "bad.yaml", "error": "template is not valid YAML"},
    ],
    "p50_s": 5.35,
    "max_s": 6.5,
    "cpu_p50_s": 3.75,
    "cpu_max_s": 4.4,
    "load_before": 1.5,
    "load_after": 2.0,
}


@pytest.fixture
def fake_bench(monkeypatch):
    """Run ``run_bench`` with every measurement faked: return (figures, child calls)."""
    calls = []

    def fake_cli(args, env, stdin=None):
        calls.append((args[:2], env.get("LENSWISE_QUERY_ENCODER")))
        reference = env.get("LENSWISE_QUERY_ENCODER") == "sentence-transformers"
        return {
            "seconds": 25.0 if args[:2] == ["index", "build"] and len(calls) == 1 else 0.5,
            "peak_mb": 700.0 if reference else 200.0,
            "exit_code": 0,
        }

    rankings = {m: {} for m in ("bm25", "dense", "hybrid")}
    monkeypatch.setattr(bench, "_cli", fake_cli)
    monkeypatch.setattr(bench, "_ask_figures", lambda *a: {"p50_ms": 12.0, "p95_ms": 30.0})
    monkeypatch.setattr(
        bench,
        "_diagram_figures",
        lambda *a: {"files": [{"file": "x.drawio", "parse_ms": 3.0, "review_ms": 4.0}]},
    )
    fixed = REVIEW_FIX
    monkeypatch.setattr(bench, "review_fix_figures", lambda log: fixed)
    hostile = {"case": "huge.mmd", "bytes": 10, "seconds": 3.5, "peak_mb": 20.0}
    monkeypatch.setattr(bench, "run_hostile", lambda log: [{**hostile, "outcome": "refused"}])
    figures = bench.run_bench(
        Settings(),
        progress=False,
        target_factory=lambda s: FakeAssistant(rankings),
    )
    return figures, calls


def test_bench_reports_every_figure_against_its_target(fake_bench):
    figures, calls = fake_bench
    per_encoder = bench.COLD_RUNS + 1  # one untimed warm-up run, then the timed ones
    assert [c[0][0] for c in calls[:3]] == ["index", "index", "search"]
    cold = calls[3:]
    assert len(cold) == 4 * per_encoder
    assert [c[1] for c in cold[: 2 * per_encoder]] == (
        ["sentence-transformers"] * per_encoder + ["onnx"] * per_encoder
    )
    assert {c[0][0] for c in cold[: 2 * per_encoder]} == {"ask"}
    assert {c[0][0] for c in cold[2 * per_encoder :]} == {"search"}
    assert figures["ask_cold"]["fast"] == {
        "encoder": "onnx",
        "runs": bench.COLD_RUNS,
        "seconds": 0.5,
        "peak_mb": 200.0,
    }
    assert set(figures["search"]) == {"bm25", "dense", "hybrid"}
    assert figures["quality"]["hybrid"]["recall@5"] == 0.0
    text = bench.render_text(figures)
    assert "index build, cold (new process)" in text and "OVER" in text  # 25 s > 20 s target
    assert "ask, cold, sentence-transformers (median of" in text
    assert "search, cold, onnx (median of" in text
    # Only the fast path is held to the targets: the reference's 700 MB is shown, not judged.
    assert text.split("review + verified fixes")[0].count("OVER") == 1
    assert "extractive ask p50 (warm)" in text and "x.drawio" in text
    assert "peak memory" in text
    shown = "review + verified fixes per template (3 files): p50 5.350 s, max 6.500 s"
    assert f"{shown} (target < 5 s, OVER); CPU with checkov p50 3.750 s, max 4.400 s" in text
    assert "load average 1.5 -> 2.0" in text
    assert "m.tf" in text and "6.50 s   4.40 s CPU  2 verified" in text
    assert "bad.yaml" in text and "ERROR template is not valid YAML" in text
    assert "huge.mmd" in text.split("hostile inputs")[1] and "OVER >= 1 s" in text


def test_bench_markdown_heads_the_tables_with_machine_date_and_command(fake_bench):
    import datetime as dt

    from evals.bench_markdown import render_markdown

    figures, _ = fake_bench
    when = dt.datetime(2026, 12, 7, 23, 30, tzinfo=dt.UTC)
    page = render_markdown(figures, ["lenswise", "bench", "--markdown"], now=when)
    head, tables = page.split("\n| measurement | value | target |\n")
    assert head.startswith("## Figures: source `builtin`")
    assert f"{figures['machine']['cpus']} CPUs" in head and "- date: 2026-12-07 23:30 UTC" in head
    assert "- command: `lenswise bench --markdown`" in head
    rows = {line.split(" | ")[0].lstrip("| "): line for line in tables.splitlines()}
    assert rows["`index build`, cold (new process)"].endswith("| 25.00 s | < 20 s (over) |")
    assert rows["cold `ask`, onnx (median of 5)"].endswith("| 0.50 s | < 3 s |")
    assert rows["cold `ask`, sentence-transformers (median of 5)"].endswith("| 0.50 s |  |")
    assert rows["warm extractive `ask` p50"].endswith("| 12.0 ms | < 150 ms |")
    assert rows["recall@5"] == "| recall@5 | 0.000 | 0.000 | 0.000 |"
    assert "| `x.drawio` | - | 3.0 | 4.0 |" in page
    assert "files): p50 5.35 s, max 6.50 s (< 5 s (over)); CPU with checkov p50 3.75 s" in page
    assert "| `t.yaml` | 4.20 s | 3.10 s | 5 |" in page
    assert rows["huge.mmd"].endswith("| refused:  | OVER >= 1 s |")


def test_bench_markdown_of_a_subset_from_the_command_line(monkeypatch, capsys):
    import evals.bench_repo as bench_repo

    figures = {"files": 200, "designs": 150, "errors": 0, "cold_s": 31.0, "cold_parsed": 200}
    figures |= {"cached_s": 2.5, "cached_parsed": 0}
    monkeypatch.setattr(bench_repo, "run_repo_bench", lambda log: figures)
    assert main(["bench", "--repo", "--markdown"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("## Repository review\n\n- machine: ")
    assert "| cold | 31.00 s | 200 | < 30 s |" in page and "| cached | 2.50 s | 0 | < 5 s |" in page
    assert main(["bench", "--markdown", "--json"]) == 2  # one output shape at a time
    assert main(["bench", "--repo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == figures
    assert main(["bench", "--repo"]) == 0
    text = capsys.readouterr().out
    assert "31.0" in text and not text.startswith(("#", "{"))
    monkeypatch.setattr(bench, "review_fix_figures", lambda log: REVIEW_FIX)
    assert main(["bench", "--fixes", "--markdown"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("## Review plus fixes\n\n- machine: ")
    assert "| `m.tf` | 6.50 s | 4.40 s | 2 |" in page


def test_a_hostile_case_is_measured_in_a_child_process_with_its_peak_memory():
    from evals.bench_hostile import Case, run_hostile, verdict

    slow = Case(
        "ampersands", "amp.mmd", lambda: b"graph LR\n" + b"&".join([b"A"] * 400) + b"-->B\n"
    )
    broken = Case("not a diagram", "x.txt", lambda: b"just notes")
    rows = run_hostile(timeout=60, cases=(slow, broken))
    assert [r["outcome"] for r in rows] == ["parsed", "refused"]
    assert rows[0]["components"] == 2 and rows[0]["peak_mb"] > 5
    assert "cannot tell" in rows[1]["detail"] and verdict(rows[1]) == ""


def test_bench_child_reports_its_own_peak_memory_and_error_line():
    ok = bench._cli(["--help"], dict(os.environ))
    assert ok["exit_code"] == 0 and 5 < ok["peak_mb"] < 400 and "error" not in ok
    bad = bench._cli(["search"], dict(os.environ), stdin="")
    assert bad["exit_code"] == 2 and bad["error"].startswith("lenswise: error:")


def test_compare_ranks_counts_lower_is_better_and_length_as_neither():
    from evals.compare import compare
    from evals.runner import SuiteResult

    def run(**scores):
        case = {"id": "c", "metrics": scores}
        return SuiteResult(suite={"kind": "answers"}, run={}, metrics={}, cases=[case])

    def verdict(a, b):
        return compare(run(**a), run(**b))["changed_cases"][0]["verdict"]

    assert verdict({"uncited_claims": 2.0}, {"uncited_claims": 0.0}) == "better"
    assert verdict({"repeated_sentences": 0.0}, {"repeated_sentences": 3.0}) == "worse"
    assert verdict({"answer_words": 90.0}, {"answer_words": 200.0}) == "changed"
    assert (
        verdict(
            {"facts_stated": 0.5, "false_declines": 0.0},
            {"facts_stated": 1.0, "false_declines": 1.0},
        )
        == "mixed"
    )
