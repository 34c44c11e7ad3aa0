"""Review every design in a folder: one review per design plus a combined view of the system."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from corpus.errors import InputError
from corpus.models import Document
from diagrams.contracts import DesignReviewJSON, RepoReviewJSON, ReviewErrorJSON, ReviewJSON
from diagrams.discover import Design, Tree, discover
from diagrams.locate import locate
from diagrams.model import Annotation, Architecture, Component, Edge, Group
from diagrams.parse import parse_bytes
from diagrams.review import Review, review_architecture


@dataclass
class RepoReview:
    """The reviews of every design found in a folder, the combined view and the failures."""

    designs: list[tuple[Design, Review]]
    combined: Review
    errors: list[ReviewErrorJSON] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=dict)
    """Combined component id -> the files that show it."""

    def to_dict(self) -> RepoReviewJSON:
        """Return the ``review DIR --json`` document."""
        combined = review_dict(self.combined)
        for comp in combined["components"]:
            comp["files"] = self.files.get(comp["id"], [])
        designs: list[DesignReviewJSON] = [
            {**review_dict(r), "path": d.path} for d, r in self.designs
        ]
        return {
            "designs": designs,
            "combined": combined,
            "errors": list(self.errors),
        }


def review_dict(review: Review) -> ReviewJSON:
    """Return ``review.to_dict()`` with each finding's evidence located (``locations``)."""
    doc = review.to_dict()
    where = {c.id: c.location for c in review.architecture.components if c.location}
    for finding in doc["findings"]:
        finding["locations"] = [
            {"id": cid, **where[cid]} for cid in finding["evidence"] if cid in where
        ]
    return doc


@lru_cache(maxsize=1)
def _parser_digest() -> str:
    """Return a digest of the parser code, so a cache never outlives the code that filled it."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")) + sorted(
        Path(__file__).parent.glob("*.yaml")
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _to_json(arch: Architecture) -> str:
    return json.dumps(dataclasses.asdict(arch), default=list)


def _from_json(text: str) -> Architecture:
    doc = json.loads(text)
    comps = [Component(**{**c, "names": tuple(c["names"])}) for c in doc.pop("components")]
    return Architecture(
        **{
            **doc,
            "components": comps,
            "edges": [Edge(**e) for e in doc["edges"]],
            "groups": [Group(**g) for g in doc["groups"]],
            "annotations": [Annotation(**a) for a in doc["annotations"]],
        }
    )


class Parser:
    """Parse designs from a tree, reusing parsed graphs from a cache folder when given."""

    def __init__(self, tree: Tree, cache: Path | None = None, max_bytes: int = 10 << 20):
        self.tree, self.cache, self.max_bytes = tree, cache, max_bytes
        self.parsed = 0
        """How many designs were parsed (not taken from the cache)."""

    def parse(self, design: Design) -> Architecture:
        """Return the graph of ``design``, its components located in its files."""
        texts = [(path, self.tree.read(path)) for path in design.files]
        data = b"\n".join(body for _, body in texts)
        key = hashlib.sha256(
            "\0".join([_parser_digest(), design.path, design.parse_name]).encode() + b"\0" + data
        ).hexdigest()
        cached = self.cache / f"{key}.json" if self.cache else None
        if cached and cached.is_file():
            try:
                return _from_json(cached.read_text(encoding="utf-8"))
            except (OSError, ValueError, TypeError, KeyError):
                pass  # a damaged entry is parsed again and rewritten
        arch = parse_bytes(data, design.parse_name, max_bytes=self.max_bytes)
        self.parsed += 1
        arch.file = design.path
        locate(arch, [(p, body.decode("utf-8", errors="replace")) for p, body in texts])
        if cached:
            _write_atomic(cached, _to_json(arch))
        return arch


def _write_atomic(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write the cache {path.parent}: {exc.strerror or exc}") from None


def combine(designs: Sequence[tuple[Design, Architecture]]) -> tuple[Architecture, dict]:
    """Merge designs into one graph, listing the files that show each component.

    Components with the same resource type (or service) and the same name are one.

    Returns:
        The combined architecture and a map from combined component id to its files.
    """
    formats = {arch.format for _, arch in designs}
    iac = all(arch.is_iac for _, arch in designs) and designs
    fmt = formats.pop() if len(formats) == 1 else "terraform" if iac else "drawio"
    merged = Architecture(file="(combined)", format=fmt)
    by_key: dict[tuple, Component] = {}
    files: dict[str, list[str]] = {}
    for design, arch in designs:
        alias: dict[str, str] = {}
        for comp in arch.components:
            key = (comp.resource_type or comp.service or comp.kind, comp.name.strip().lower())
            where = (comp.location or {}).get("file") or design.files[0]
            if key in by_key:
                alias[comp.id] = by_key[key].id
                by_key[key].facts = {**comp.facts, **by_key[key].facts}
            else:
                new = dataclasses.replace(comp, id=f"{design.path}#{comp.id}")
                new.group = f"{design.path}#{comp.group}" if comp.group else None
                by_key[key] = new
                alias[comp.id] = new.id
                merged.components.append(new)
            if where not in files.setdefault(alias[comp.id], []):
                files[alias[comp.id]].append(where)
        merged.edges += [
            dataclasses.replace(e, source=alias[e.source], target=alias[e.target])
            for e in arch.edges
            if e.source in alias and e.target in alias
        ]
        merged.groups += [
            dataclasses.replace(
                g, id=f"{design.path}#{g.id}", parent=g.parent and f"{design.path}#{g.parent}"
            )
            for g in arch.groups
        ]
    return merged, files


def review_tree(
    tree: Tree, practices: Mapping[str, Document], parser: Parser | None = None
) -> RepoReview:
    """Discover, parse and review every design in ``tree``; failures are listed, not raised."""
    parser = parser or Parser(tree)
    found, errors = discover(tree)
    parsed: list[tuple[Design, Architecture]] = []
    for design in found:
        try:
            parsed.append((design, parser.parse(design)))
        except InputError as exc:
            errors.append({"path": design.path, "error": str(exc).splitlines()[0]})
    merged, files = combine(parsed)
    return RepoReview(
        designs=[(d, review_architecture(a, practices)) for d, a in parsed],
        combined=review_architecture(merged, practices),
        errors=sorted(errors, key=lambda e: e["path"]),
        files=files,
    )
