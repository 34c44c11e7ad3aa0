"""Test doubles for the eval harness: a scripted stand-in for LensAssistant, suite writers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass
class FakeCitation:
    bp_id: str
    title: str = ""
    url: str = ""
    chunk_ids: list[str] = field(default_factory=list)
    quote: str = ""


@dataclass
class FakeAnswer:
    text: str
    citations: list[FakeCitation] = field(default_factory=list)
    hits: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    model: str = "extractive"
    timings_ms: dict = field(default_factory=dict)
    usage: dict = field(default_factory=dict)
    declined: bool = False


class FakeReview:
    def __init__(self, services: list[str], findings: dict[str, str]) -> None:
        self.services, self.findings = services, findings

    def to_dict(self) -> dict:
        return {
            "services": self.services,
            "findings": [{"bp_id": bp, "status": st} for bp, st in self.findings.items()],
        }


def hit(bp_id: str | None, rank: int, text: str = "", page: str = "page") -> dict:
    """Return a search-hit dict as ``Hit.to_dict()`` would."""
    chunk = f"generative-ai/{bp_id or page}#1"
    return {
        "rank": rank,
        "chunk_id": chunk,
        "bp_id": bp_id,
        "title": bp_id or page,
        "pillar": None,
        "section": "Overview",
        "score": 1.0 / rank,
        "url": "",
        "text": text,
    }


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
