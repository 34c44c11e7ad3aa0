"""Compare two lens sources best practice by best practice (``lenswise corpus diff``).

Best practices are matched by id. Kinds of change:

- ``added`` / ``removed``: the id is only in NEW / only in OLD (``note`` names an id on the
  other side with the same title, which suggests a renumbering);
- ``retitled``: the titles differ beyond case, spacing and punctuation;
- ``rerisked``: both sides state a risk level and they differ;
- ``moved``: the question or the pillar differs;
- ``text_changed``: the two texts (all sections but Resources; lowercased, links and
  punctuation dropped) share too few five-word runs: their Dice similarity is below the
  threshold (``compared: "full"``) or, when one text is far shorter than the other (a
  summary or excerpt, as in the structured JSON edition), the share of the shorter text
  found in the longer one is (``compared: "excerpt"``). Rewording in a summary therefore
  reads as change: ``warnings`` says so when most practices were compared that way.

``--json`` prints :meth:`LensDiff.to_dict`, a stable shape::

    {"old": {"source", "name", "edition", "best_practices"}, "new": {...},
     "threshold": 0.8,
     "counts": {"added", "removed", "retitled", "rerisked", "moved", "text_changed",
                "unchanged"},
     "added":   [{"bp_id", "title", "pillar", "question_id", "risk", "url", "note"}],
     "removed": [{"bp_id", "title", "pillar", "question_id", "risk", "url", "note"}],
     "retitled": [{"bp_id", "old_title", "new_title", "note"}],
     "rerisked": [{"bp_id", "title", "old_risk", "new_risk"}],
     "moved": [{"bp_id", "title", "old_question_id", "new_question_id",
                "old_pillar", "new_pillar"}],
     "text_changed": [{"bp_id", "title", "similarity", "compared"}],
     "warnings": [str]}

Lists are sorted by bp id; ``note`` is null unless there is something to say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from corpus.models import Corpus, Document

TEXT_THRESHOLD = 0.8
EXCERPT_RATIO = 0.6
"""A text with fewer five-word runs than this share of the other's is compared as an excerpt."""
SHINGLE = 5
# Titles that differ between copies of the same edition of the official site.
KNOWN_TITLE_DRIFT: dict[str, frozenset[str]] = {
    "GENPERF04-BP01": frozenset(
        {
            "test vector embeddings for latency and relevant performance",
            "test vector store features for latency and relevant performance",
        }
    ),
}
KINDS = ("added", "removed", "retitled", "rerisked", "moved", "text_changed")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")


@dataclass
class LensDiff:
    """The differences between the best practices of two corpora."""

    old: dict
    new: dict
    threshold: float
    changes: dict[str, list[dict]] = field(default_factory=lambda: {k: [] for k in KINDS})
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Return the documented JSON shape."""
        counts = {kind: len(self.changes[kind]) for kind in KINDS}
        counts["unchanged"] = self.unchanged
        return {
            "old": self.old,
            "new": self.new,
            "threshold": self.threshold,
            "counts": counts,
            **{kind: self.changes[kind] for kind in KINDS},
            "warnings": self.warnings,
        }


def diff_corpora(old: Corpus, new: Corpus, threshold: float = TEXT_THRESHOLD) -> LensDiff:
    """Compare the best practices of ``old`` and ``new``.

    Args:
        old: the earlier source.
        new: the later source.
        threshold: text similarity (0..1) under which a practice counts as changed in text.
    """
    before, after = old.best_practices(), new.best_practices()
    result = LensDiff(_summary(old, before), _summary(new, after), threshold)
    titles_before = {_norm_title(d.title): i for i, d in before.items()}
    titles_after = {_norm_title(d.title): i for i, d in after.items()}
    for bp_id in sorted(after.keys() - before.keys()):
        other = titles_before.get(_norm_title(after[bp_id].title))
        result.changes["added"].append(_entry(after[bp_id], other, "OLD"))
    for bp_id in sorted(before.keys() - after.keys()):
        other = titles_after.get(_norm_title(before[bp_id].title))
        result.changes["removed"].append(_entry(before[bp_id], other, "NEW"))
    common = sorted(before.keys() & after.keys())
    excerpts = 0
    for bp_id in common:
        changed, compared = _compare(before[bp_id], after[bp_id], threshold, result.changes)
        result.unchanged += not changed
        excerpts += compared == "excerpt"
    if common and excerpts > len(common) / 2:
        result.warnings.append(
            f"{excerpts} of {len(common)} practices are far shorter on one side (a summary or "
            "excerpt): their similarity is the share of the shorter text found in the longer, "
            "so rewording by the summary's authors counts as change"
        )
    if not common:
        result.warnings.append("the two sources have no best-practice id in common")
    return result


def similarity(old: Document, new: Document) -> tuple[float, str]:
    """Return the text similarity (0..1) of two documents and how it was measured.

    Returns:
        ``(score, "full")``: Dice similarity of the five-word runs of both texts; or
        ``(score, "excerpt")`` when one text is far shorter: the share of its runs found
        in the other text.
    """
    a, b = _shingles(old), _shingles(new)
    if not a or not b:
        return (1.0 if a == b else 0.0), "full"
    small, large = sorted((a, b), key=len)
    if len(small) < EXCERPT_RATIO * len(large):
        return len(small & large) / len(small), "excerpt"
    return 2 * len(a & b) / (len(a) + len(b)), "full"


def render(diff: LensDiff) -> str:
    """Return a readable report grouped by kind of change."""
    counts = diff.to_dict()["counts"]
    lines = [
        f"OLD  {_describe(diff.old)}",
        f"NEW  {_describe(diff.new)}",
        "",
        ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items()),
    ]
    groups = diff.changes
    if groups["added"]:
        lines += ["", f"Added ({len(groups['added'])})"]
        lines += [f"  + {e['bp_id']}  {e['title']}{_facts(e)}" for e in groups["added"]]
    if groups["removed"]:
        lines += ["", f"Removed ({len(groups['removed'])})"]
        lines += [f"  - {e['bp_id']}  {e['title']}{_facts(e)}" for e in groups["removed"]]
    if groups["retitled"]:
        lines += ["", f"Retitled ({len(groups['retitled'])})"]
        for e in groups["retitled"]:
            lines += [f"  ~ {e['bp_id']}", f"      old: {e['old_title']}"]
            lines += [f"      new: {e['new_title']}"]
            lines += [f"      note: {e['note']}"] if e["note"] else []
    if groups["rerisked"]:
        lines += ["", f"Re-risked ({len(groups['rerisked'])})"]
        lines += [
            f"  ! {e['bp_id']}  {e['old_risk']} -> {e['new_risk']}  {e['title']}"
            for e in groups["rerisked"]
        ]
    if groups["moved"]:
        lines += ["", f"Moved ({len(groups['moved'])})"]
        lines += [
            f"  > {e['bp_id']}  {e['old_question_id']} ({e['old_pillar']}) -> "
            f"{e['new_question_id']} ({e['new_pillar']})"
            for e in groups["moved"]
        ]
    if groups["text_changed"]:
        lines += [
            "",
            f"Text changed ({len(groups['text_changed'])}, similarity < {diff.threshold})",
        ]
        lines += [
            f"  * {e['bp_id']}  {e['similarity']:.2f} {e['compared']:<7}  {e['title']}"
            for e in groups["text_changed"]
        ]
    lines += [f"\nwarning: {w}" for w in diff.warnings]
    return "\n".join(lines)


def _compare(old: Document, new: Document, threshold: float, changes: dict) -> tuple[bool, str]:
    """Record every kind of change between two versions of a practice.

    Returns:
        Whether anything changed, and how the texts were compared (``full`` / ``excerpt``).
    """
    bp_id, title = new.bp_id, new.title
    found = False
    if _norm_title(old.title) != _norm_title(new.title):
        drift = KNOWN_TITLE_DRIFT.get(bp_id or "", frozenset())
        known = {_norm_title(old.title), _norm_title(new.title)} <= drift
        note = "known drift: both titles are in circulation on the official site" if known else None
        changes["retitled"].append(
            {"bp_id": bp_id, "old_title": old.title, "new_title": new.title, "note": note}
        )
        found = True
    if old.risk and new.risk and old.risk != new.risk:
        changes["rerisked"].append(
            {"bp_id": bp_id, "title": title, "old_risk": old.risk, "new_risk": new.risk}
        )
        found = True
    moved_question = old.question_id and new.question_id and old.question_id != new.question_id
    if moved_question or old.pillar and new.pillar and old.pillar != new.pillar:
        changes["moved"].append(
            {
                "bp_id": bp_id,
                "title": title,
                "old_question_id": old.question_id,
                "new_question_id": new.question_id,
                "old_pillar": old.pillar,
                "new_pillar": new.pillar,
            }
        )
        found = True
    score, compared = similarity(old, new)
    if score < threshold:
        changes["text_changed"].append(
            {"bp_id": bp_id, "title": title, "similarity": round(score, 3), "compared": compared}
        )
        found = True
    return found, compared


def _entry(doc: Document, other: str | None, side: str) -> dict:
    """Describe an added or removed practice."""
    return {
        "bp_id": doc.bp_id,
        "title": doc.title,
        "pillar": doc.pillar,
        "question_id": doc.question_id,
        "risk": doc.risk,
        "url": doc.url,
        "note": f"same title as {other} in {side}" if other else None,
    }


def _summary(corpus: Corpus, practices: dict[str, Document]) -> dict:
    """Describe one side of the comparison."""
    return {
        "source": corpus.source,
        "name": corpus.name,
        "edition": corpus.edition,
        "best_practices": len(practices),
    }


def _describe(side: dict) -> str:
    """Return one line naming a side of the comparison."""
    name = side["name"] or side["source"]
    edition = f", edition {side['edition']}" if side["edition"] else ""
    where = f" [{side['source']}]" if side["name"] and side["source"] != side["name"] else ""
    return f"{name}{edition}{where}: {side['best_practices']} best practices"


def _facts(entry: dict) -> str:
    """Return the bracketed pillar / risk / note of an added or removed practice."""
    facts = [f for f in (entry["pillar"], entry["risk"] and f"risk {entry['risk']}") if f]
    text = f"  [{', '.join(facts)}]" if facts else ""
    return text + (f"  ({entry['note']})" if entry["note"] else "")


def _norm_title(title: str) -> str:
    """Normalise a title for comparison: case, spacing, quotes, dashes, end punctuation."""
    title = title.casefold().replace("’", "'").replace("–", "-").replace("—", "-")
    return " ".join(re.sub(r"[^\w' -]", " ", title).split())


def _shingles(doc: Document) -> set[tuple[str, ...]]:
    """Return the five-word runs of a document's normalised text, Resources excluded."""
    text = " ".join(s.text for s in doc.sections if s.heading not in ("Resources", "Question"))
    words = re.findall(r"[a-z0-9]+", _URL.sub(" ", _LINK.sub(r"\1", text)).casefold())
    if len(words) < SHINGLE:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}
