"""Best-practice facts (id, title, pillar, risk, url) read straight from the built-in lens digest.

The review needs only these facts. The CLI takes them from the configured corpus source; this
reader is the fallback when that source cannot be loaded, and what tests and benchmarks use.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from corpus.models import Document, Section

DIGEST_DIR = Path(__file__).resolve().parents[2] / "corpus" / "data" / "generative-ai"


@lru_cache(maxsize=4)
def _load(folder: Path) -> tuple[Document, ...]:
    docs: list[Document] = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for question in data.get("questions") or []:
            for bp in question.get("best_practices") or []:
                docs.append(
                    Document(
                        lens="generative-ai",
                        doc_id=bp["id"],
                        title=bp["title"],
                        url=bp.get("url", ""),
                        source="builtin",
                        sections=(Section("", bp.get("title", "")),),
                        pillar=data.get("pillar"),
                        question_id=question.get("id"),
                        question_title=question.get("title"),
                        bp_id=bp["id"],
                        risk=bp.get("risk"),
                    )
                )
    return tuple(docs)


def digest_practices(folder: Path = DIGEST_DIR) -> dict[str, Document]:
    """Return the digest's best practices keyed by bp id (51 for the current edition)."""
    return {doc.bp_id: doc for doc in _load(folder) if doc.bp_id}
