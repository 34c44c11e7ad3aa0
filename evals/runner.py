"""Run a suite through the public Python API and collect every case's output and metrics.

Evals measure what users get, so cases go through ``LensAssistant`` (``search``, ``ask``,
``review``), with a tqdm progress bar on stderr. The result is a plain JSON-ready dict
(see :class:`SuiteResult`), which ``evals.report`` renders and ``evals.compare`` diffs.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tqdm import tqdm

if TYPE_CHECKING:
    from agent.results import Answer
    from diagrams import Review
    from index.search import Hit, HitJSON

from agent.config import Settings
from corpus.errors import InputError, LenswiseError
from evals.cases import MODES, AnswerCase, DiagramCase, RetrievalCase, Suite, Threshold
from evals.content import Encode, content_evaluators
from evals.metrics import (
    CURVE_KS,
    RETRIEVAL_METRICS,
    AnswerEvaluator,
    AnswerSample,
    ReviewSample,
    answer_evaluators,
    answer_totals,
    expected_statuses,
    means,
    means_by,
    normalize_text,
    percentile,
    retrieval_scores,
    review_evaluators,
)
from evals.scripted_bedrock import ScriptedBedrock, pointed_at


class Target(Protocol):
    """What the runner drives: ``agent.LensAssistant`` or a test double.

    pyright checks that ``LensAssistant`` is one where :func:`open_target` returns it.
    """

    def search(  # noqa: D102
        self,
        query: str,
        k: int = 10,
        mode: str = "hybrid",
        pillar: str | None = None,
        per_doc: int = 1,
    ) -> list[Hit]: ...

    def ask(  # noqa: D102
        self,
        question: str,
        thread_id: str | None = None,
        diagram: str | Path | None = None,
        pillar: str | None = None,
    ) -> Answer: ...

    def review(self, diagram: str | Path | bytes, filename: str | None = None) -> Review: ...  # noqa: D102


@dataclass
class SuiteResult:
    """Everything one run produced; :meth:`to_dict` is the ``results.json`` document."""

    suite: dict
    """Name, kind, path, description, case count and skipped-case notes."""
    run: dict
    """Source, model, embedding model, modes, start time, duration."""
    metrics: dict[str, float | None]
    """Flat metric name -> value; retrieval metrics are ``<mode>.<metric>``."""
    cases: list[dict]
    by_pillar: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    """Retrieval: mode -> pillar -> metric -> mean."""
    by_tag: dict[str, dict[str, float]] = field(default_factory=dict)
    """Answers: case tag (its first) -> metric -> mean."""
    curves: dict[str, dict[str, float]] = field(default_factory=dict)
    """Retrieval: mode -> k -> recall@k."""
    thresholds: list[dict] = field(default_factory=list)
    """One entry per suite threshold: metric, rule, value, passed (None = not measured)."""

    @property
    def kind(self) -> str:
        """The suite kind (``retrieval``, ``answers`` or ``diagrams``)."""
        return self.suite["kind"]

    @property
    def passed(self) -> bool:
        """True when no measured threshold failed."""
        return all(t["passed"] is not False for t in self.thresholds)

    def failures(self) -> list[dict]:
        """Return the thresholds that were measured and not met."""
        return [t for t in self.thresholds if t["passed"] is False]

    def to_dict(self) -> dict:
        """Return the JSON-ready document written to ``results.json``."""
        return {
            "suite": self.suite,
            "run": self.run,
            "metrics": self.metrics,
            "by_pillar": self.by_pillar,
            "by_tag": self.by_tag,
            "curves": self.curves,
            "thresholds": self.thresholds,
            "passed": self.passed,
            "cases": self.cases,
        }

    @classmethod
    def from_dict(cls, data: dict) -> SuiteResult:
        """Rebuild a result from :meth:`to_dict` output."""
        return cls(
            suite=data["suite"],
            run=data.get("run", {}),
            metrics=data.get("metrics", {}),
            cases=data.get("cases", []),
            by_pillar=data.get("by_pillar", {}),
            by_tag=data.get("by_tag", {}),
            curves=data.get("curves", {}),
            thresholds=data.get("thresholds", []),
        )


def open_target(settings: Settings) -> Target:
    """Return the public API object for ``settings`` (``LensAssistant``) with a throw-away store.

    Eval threads live in a temporary SQLite file removed with the target: a run never adds
    threads to the user's history, and every run starts from empty threads.
    """
    from agent import LensAssistant
    from agent.threads import ThreadStore

    scratch = tempfile.TemporaryDirectory(prefix="lenswise-eval-")
    store = ThreadStore(Path(scratch.name) / "state.sqlite")
    target = LensAssistant(settings=settings, store=store)
    weakref.finalize(target, _discard, store, scratch)
    return target


def _discard(store: Any, scratch: tempfile.TemporaryDirectory) -> None:
    store.close()
    scratch.cleanup()


def run_suite(
    suite: Suite,
    settings: Settings,
    *,
    modes: Sequence[str] | None = None,
    target: Target | None = None,
    progress: bool = True,
    judge: Any = None,
    opener: Callable[[Settings], Target] | None = None,
) -> SuiteResult:
    """Run every case of ``suite`` and return the result with metrics and threshold checks.

    Args:
        suite: a loaded suite.
        settings: source, model and home to run with.
        modes: retrieval modes to run (default: the suite's ``modes``).
        target: object to drive; default ``opener(settings)``.
        progress: show a progress bar on stderr.
        judge: an ``evals.judge.LLMJudge`` adding faithfulness and relevance (answer suites).
        opener: makes the target from settings (default :func:`open_target`). A suite with
            ``scripted_model`` and no ``target`` is run against a local scripted endpoint
            (:mod:`evals.scripted_bedrock`), with the model set to that id.
    """
    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    opener = opener or open_target
    bar = dict(disable=not progress, file=sys.stderr, unit="case", dynamic_ncols=True)
    scripted = suite.kind == "answers" and suite.scripted_model and target is None
    with ExitStack() as stack:
        if scripted:
            settings = settings.with_(model=f"bedrock_converse:{suite.scripted_model}")
            turns = {c.question: c.model_turns for c in suite.cases}
            endpoint = stack.enter_context(ScriptedBedrock(turns))
            stack.enter_context(pointed_at(endpoint.url))
        target = target if target is not None else opener(settings)
        result = _run_kind(suite, settings, target, modes, bar, judge)
    result.suite = {
        "name": suite.name,
        "kind": suite.kind,
        "path": str(suite.path),
        "description": suite.description,
        "cases": len(suite.cases),
        "skipped": suite.skipped,
    }
    result.run = {
        "source": settings.source,
        "model": settings.model,
        "embedding_model": settings.embedding_model,
        "started": started_at,
        "seconds": round(time.perf_counter() - started, 3),
        **result.run,
    }
    primary = "hybrid" if "hybrid" in result.run.get("modes", ()) else None
    primary = primary or next(iter(result.run.get("modes", ())), None)
    result.thresholds = check_thresholds(suite.thresholds, result.metrics, primary)
    return result


def _run_kind(
    suite: Suite,
    settings: Settings,
    target: Target,
    modes: Sequence[str] | None,
    bar: dict,
    judge: Any,
) -> SuiteResult:
    """Run the cases of ``suite`` by its kind."""
    if suite.kind == "retrieval":
        modes = tuple(modes or suite.modes)
        for mode in modes:
            if mode not in MODES:
                raise InputError(f"unknown mode '{mode}' (one of: {', '.join(MODES)}, all)")
        return _run_retrieval(suite, target, modes, bar)
    if suite.kind == "answers":
        return _run_answers(suite, target, settings, bar, judge)
    return _run_diagrams(suite, target, bar)


def check_thresholds(
    thresholds: Sequence[Threshold], metrics: dict[str, float | None], primary_mode: str | None
) -> list[dict]:
    """Check each threshold against ``metrics``.

    A retrieval metric without a mode prefix (``recall@5``) refers to the primary mode
    (hybrid when run). A metric that was not measured in this run (for example
    ``dense.mrr`` under ``--mode bm25``) is reported with ``passed: None``.
    """
    out = []
    for t in thresholds:
        key = t.metric
        if key not in metrics and primary_mode and f"{primary_mode}.{key}" in metrics:
            key = f"{primary_mode}.{key}"
        value = metrics.get(key)
        out.append(
            {
                "metric": key,
                "rule": t.describe(),
                "value": value,
                "passed": None if value is None else t.passes(value),
            }
        )
    return out


# --- retrieval ---------------------------------------------------------------------------


def doc_id(hit: HitJSON) -> str:
    """Return the document a hit belongs to: its best-practice id, else its page id."""
    return hit.get("bp_id") or str(hit.get("chunk_id", "")).split("#")[0] or "?"


def _run_retrieval(suite: Suite, target: Target, modes: Sequence[str], bar: dict) -> SuiteResult:
    cases: list[RetrievalCase] = suite.cases
    records = {
        c.id: {
            "id": c.id,
            "question": c.question,
            "expected": list(c.expected),
            "pillar": c.pillar,
            "modes": {},
        }
        for c in cases
    }
    metrics: dict[str, float | None] = {}
    by_pillar: dict[str, dict[str, dict[str, float]]] = {}
    curves: dict[str, dict[str, float]] = {}
    curve_metrics = [f"recall@{k}" for k in CURVE_KS]
    names = list(dict.fromkeys([*RETRIEVAL_METRICS, *curve_metrics]))
    pillar_of = {c.id: c.pillar for c in cases}
    with tqdm(total=len(cases) * len(modes), desc=f"{suite.name}", **bar) as progress:
        for mode in modes:
            target.search(cases[0].question, k=1, mode=mode)  # warm-up: load the encoder
            rankings: dict[str, list[str]] = {}
            for case in cases:
                t0 = time.perf_counter()
                hits = [h.to_dict() for h in target.search(case.question, k=suite.k, mode=mode)]
                latency = (time.perf_counter() - t0) * 1000
                rankings[case.id] = [doc_id(h) for h in hits]
                records[case.id]["modes"][mode] = {
                    "retrieved": rankings[case.id],
                    "hits": [
                        {
                            key: h.get(key)
                            for key in ("rank", "bp_id", "chunk_id", "title", "section", "score")
                        }
                        for h in hits
                    ],
                    "latency_ms": round(latency, 2),
                }
                progress.update()
            scores = retrieval_scores(cases, rankings, names)
            for case in cases:
                record = records[case.id]["modes"][mode]
                record["metrics"] = {m: scores[case.id][m] for m in RETRIEVAL_METRICS}
                ranks = [i + 1 for i, d in enumerate(rankings[case.id]) if d in case.expected]
                record["first_relevant_rank"] = ranks[0] if ranks else None
            mean = means(scores)
            metrics.update({f"{mode}.{m}": mean[m] for m in RETRIEVAL_METRICS})
            curves[mode] = {str(k): mean[f"recall@{k}"] for k in CURVE_KS}
            by_pillar[mode] = means_by(
                {cid: {m: s[m] for m in RETRIEVAL_METRICS} for cid, s in scores.items()},
                pillar_of.get,
            )
            latencies = [records[c.id]["modes"][mode]["latency_ms"] for c in cases]
            metrics[f"{mode}.latency_p50_ms"] = percentile(latencies, 50)
            metrics[f"{mode}.latency_p95_ms"] = percentile(latencies, 95)
    return SuiteResult(
        suite={},
        run={"modes": list(modes), "k": suite.k},
        metrics=metrics,
        cases=list(records.values()),
        by_pillar=by_pillar,
        curves=curves,
    )


# --- answers -----------------------------------------------------------------------------


def answer_sample(
    question: str, answer: Answer, latency_ms: float, model: str, previous: str = ""
) -> AnswerSample:
    """Turn an :class:`Answer` into the :class:`AnswerSample` the evaluators score.

    ``previous`` is the text of the thread's previous answer (for follow-ups).
    """
    citations = [{**c.to_dict(), "page_id": c.page_id} for c in answer.citations]
    hits = [h.to_dict() for h in answer.hits]
    contexts: dict[str, str] = {}
    for hit in hits:
        if bp_id := hit.get("bp_id"):
            contexts[bp_id] = f"{contexts.get(bp_id, '')} {hit.get('text') or ''}"
    for cite in citations:
        if cite.get("bp_id") and cite.get("quote"):
            contexts[cite["bp_id"]] = f"{contexts.get(cite['bp_id'], '')} {cite['quote']}"
    return AnswerSample(
        user_input=question,
        response=answer.text,
        cited_ids=[
            c.get("page_id") or c["bp_id"] for c in citations if c.get("page_id") or c.get("bp_id")
        ],
        retrieved_ids=[h.get("bp_id") or _page_of(h["chunk_id"]) for h in hits],
        retrieved_contexts=contexts,
        declined=answer.declined,
        latency_ms=latency_ms,
        usage=dict(answer.usage),
        model=answer.model or model,
        previous_response=previous,
    )


def _page_of(chunk_id: str) -> str:
    """Return the page id of a chunk id (``generative-ai/agentic-ai#2`` -> ``agentic-ai``)."""
    return chunk_id.split("#", 1)[0].split("/", 1)[-1]


def _encoder(target: Target, suite: Suite) -> Encode | None:
    """Return the embedder's ``encode`` for fact scoring, when the suite has facts to score.

    The target's own index embedder is used (no second model load); a target without one
    (a test double) leaves facts unscored.
    """
    if not any(case.facts for case in suite.cases):
        return None
    embedder = getattr(getattr(target, "index", None), "embedder", None)
    return embedder.encode if embedder is not None else None


def _known_ids(settings: Settings) -> set[str] | None:
    try:
        from corpus.sources import load_source

        corpus = load_source(settings.source, home=settings.home, lens=settings.lens)
    except LenswiseError:
        return None
    return {d.doc_id for d in corpus.documents}


def _cost(model: str, usage: dict) -> float | None:
    try:
        from agent.models import estimate_cost
    except ImportError:
        return None
    return estimate_cost(model, usage) if model and model != "extractive" else None


def _run_answers(
    suite: Suite, target: Target, settings: Settings, bar: dict, judge: Any = None
) -> SuiteResult:
    known = _known_ids(settings)
    cases: list[AnswerCase] = [
        c for c in suite.cases if known is None or set(c.expected_citations) <= known
    ]
    skipped = len(suite.cases) - len(cases)
    if skipped:
        suite.skipped.append(f"{skipped} cases expect pages this source does not have: skipped")
    evaluators = answer_evaluators(known) + content_evaluators(_encoder(target, suite))
    if judge is not None:
        from evals.judge import judge_evaluators

        evaluators += judge_evaluators(judge)
    per_case: dict[str, dict[str, float | None]] = {}
    samples: list[AnswerSample] = []
    records = []
    run_id = uuid.uuid4().hex[:12]  # one fresh thread per case and run, even on a shared target
    for number, case in enumerate(tqdm(cases, desc=suite.name, **bar)):
        thread = f"eval-{run_id}-{number}"
        previous = ""
        for earlier in case.previous:
            previous = target.ask(earlier, thread_id=thread).text
        t0 = time.perf_counter()
        answer = target.ask(case.question, thread_id=thread, diagram=case.diagram or None)
        sample = answer_sample(
            case.question, answer, (time.perf_counter() - t0) * 1000, settings.model, previous
        )
        samples.append(sample)
        scores = {e.name: e(case, sample) for e in evaluators}
        per_case[case.id] = scores
        records.append(
            {
                "id": case.id,
                "question": case.question,
                "should_decline": case.should_decline,
                "expected_citations": list(case.expected_citations),
                "tags": list(case.tags),
                "response": sample.response,
                "declined": sample.declined,
                "citations": sample.cited_ids,
                "retrieved": sample.retrieved_ids,
                "missing_facts": [
                    str(f) for f in case.must_state if not f.found_in(sample.response)
                ],
                "forbidden_facts": [
                    str(f) for f in case.must_not_state if f.found_in(sample.response)
                ],
                "details": _noted(evaluators, "found", case.id),
                "latency_ms": round(sample.latency_ms, 2),
                "usage": sample.usage,
                "warnings": list(answer.warnings),
                "metrics": scores,
            }
        )
    metrics: dict[str, float | None] = {e.name: None for e in evaluators}
    metrics.update(means(per_case))
    metrics.update(answer_totals(samples, _cost))
    tags = {case.id: case.tags[0] if case.tags else None for case in cases}
    if judge is not None:
        for record in records:
            record["judge"] = _noted(evaluators, "reasons", record["id"])
        metrics["judge_input_tokens"] = float(judge.usage["input_tokens"])
        metrics["judge_output_tokens"] = float(judge.usage["output_tokens"])
        metrics["judge_estimated_cost_usd"] = _cost(judge.model_name, judge.usage)
    return SuiteResult(
        suite={},
        run={"model_used": samples[0].model if samples else None},
        metrics=metrics,
        cases=records,
        by_tag=means_by(per_case, tags.get),
    )


# --- diagrams ----------------------------------------------------------------------------


def review_sample(review: Review, latency_ms: float) -> ReviewSample:
    """Turn a ``Review`` (anything with the review's ``to_dict()``) into a :class:`ReviewSample`."""
    data = review.to_dict()
    services = {str(s).lower() for s in data.get("services", [])}
    statuses = {
        f["bp_id"]: f.get("status", "unknown") for f in data.get("findings", []) if f.get("bp_id")
    }
    labels = {normalize_text(c.get("label") or "") for c in data.get("components", [])}
    notes = {normalize_text(a.get("text") or "") for a in data.get("annotations", [])}
    return ReviewSample(services, statuses, latency_ms, labels - {""}, notes - {""})


def _noted(evaluators: Sequence[AnswerEvaluator], notes: str, case_id: str) -> dict[str, Any]:
    """Return what each evaluator noted about one case in its ``notes`` dict, by evaluator.

    Only some evaluators keep notes (content ones the facts they missed, judges their reasons).
    """
    return {e.name: kept[case_id] for e in evaluators if case_id in (kept := getattr(e, notes, {}))}


def _run_diagrams(suite: Suite, target: Target, bar: dict) -> SuiteResult:
    cases: list[DiagramCase] = suite.cases
    evaluators = review_evaluators()
    per_case: dict[str, dict[str, float | None]] = {}
    records = []
    for case in tqdm(cases, desc=suite.name, **bar):
        t0 = time.perf_counter()
        try:
            sample = review_sample(target.review(case.path), (time.perf_counter() - t0) * 1000)
            error = None
        except InputError as exc:  # an unreadable diagram scores zero but does not stop the run
            sample, error = ReviewSample(set(), {}, (time.perf_counter() - t0) * 1000), str(exc)
        scores = {e.name: e(case, sample) for e in evaluators}
        per_case[case.id] = scores
        expected = expected_statuses(case)
        judged = sorted(set(expected) | set(case.not_addressed))
        records.append(
            {
                "id": case.id,
                "file": case.file,
                "services_found": sorted(sample.services),
                "services_expected": list(case.services),
                "missing_services": sorted(set(case.services) - sample.services),
                "unexpected_services": sorted(
                    sample.services - set(case.services) - set(case.optional_services)
                ),
                "findings": {
                    bp: {
                        "expected": expected.get(bp, "not addressed"),
                        "reported": sample.statuses.get(bp, "none"),
                    }
                    for bp in judged
                },
                "annotations_drawn_as_components": sorted(
                    text
                    for text in case.annotations
                    if any(c.startswith(normalize_text(text)) for c in sample.component_labels)
                ),
                "latency_ms": round(sample.latency_ms, 2),
                "error": error,
                "metrics": scores,
            }
        )
    metrics: dict[str, float | None] = {e.name: None for e in evaluators}
    metrics.update(means(per_case))
    latencies = [r["latency_ms"] for r in records]
    metrics["latency_p50_ms"] = percentile(latencies, 50)
    metrics["latency_p95_ms"] = percentile(latencies, 95)
    return SuiteResult(suite={}, run={}, metrics=metrics, cases=records)
