"""Test doubles for the eval harness: a scripted stand-in for LensAssistant, suite writers."""

from __future__ import annotations

from pathlib import Path

import yaml

from agent.results import Answer, Citation
from corpus.models import Chunk
from index.search import Hit


def citation(bp_id: str, quote: str = "") -> Citation:
    """Return a real :class:`Citation` of ``bp_id``."""
    return Citation(bp_id, title="", url="", chunk_ids=(), quote=quote, page_id=bp_id)


def answer(
    text: str, citations: list[Citation] | None = None, hits: list[Hit] | None = None, **kwargs
) -> Answer:
    """Return a real :class:`Answer` (the question is filled in by whoever asked)."""
    return Answer(question="", text=text, citations=citations or [], hits=hits or [], **kwargs)


class FakeReview:
    def __init__(self, services: list[str], findings: dict[str, str]) -> None:
        self.services, self.findings = services, findings

    def to_dict(self) -> dict:
        return {
            "services": self.services,
            "findings": [{"bp_id": bp, "status": st} for bp, st in self.findings.items()],
        }


def hit(bp_id: str | None, rank: int, text: str = "", page: str = "page") -> Hit:
    """Return a real search :class:`Hit` on a one-chunk page ``bp_id`` (or ``page``)."""
    chunk = Chunk(
        chunk_id=f"generative-ai/{bp_id or page}#1",
        lens="generative-ai",
        pillar=None,
        question_id=None,
        question_title=None,
        bp_id=bp_id,
        title=bp_id or page,
        section="Overview",
        risk=None,
        url="",
        source="builtin",
        text=text,
    )
    return Hit(rank=rank, score=1.0 / rank, chunk=chunk)


class FakeAssistant:
    """Scripted answers per question; ``rankings[mode][question]`` lists retrieved ids."""

    def __init__(self, rankings=None, answers=None, reviews=None) -> None:
        self.rankings = rankings or {}
        self.answers = answers or {}
        self.reviews = reviews or {}
        self.searches: list[tuple[str, str, int]] = []

    def search(self, query: str, k: int = 10, mode: str = "hybrid", **_):
        self.searches.append((query, mode, k))
        ids = self.rankings.get(mode, {}).get(query, [])[:k]
        return [
            hit(bp if bp.startswith("GEN") else None, i + 1, page=bp) for i, bp in enumerate(ids)
        ]

    def ask(self, question: str, **_):
        return self.answers[question]

    def review(self, path):
        return self.reviews[Path(path).name]


def write_suite(folder: Path, data: dict, name: str = "suite.yaml") -> Path:
    """Write ``data`` as a YAML suite file and return its path."""
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
