"""JSON Schemas of the ``--json`` outputs of ``lenswise search``, ``ask`` and ``review``.

The schemas are generated from the ``TypedDict`` types the code's ``to_dict`` methods return,
never written by hand, so the documented contract is the one a type checker holds the code to.
The generated files live in ``docs/schemas``; a test fails when they differ from a fresh run::

    python -m agent.contracts --write docs/schemas   # after changing a shape
    python -m agent.contracts --check docs/schemas   # exit 1 when a file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from agent.results import AnswerJSON
from diagrams.contracts import RepoReviewJSON, ReviewJSON
from index.search import SearchJSON

DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class Contract:
    """One command's ``--json`` output: its schema file name, title and type."""

    name: str
    title: str
    description: str
    shape: Any
    """The ``TypedDict`` (or union of them) the command prints."""


CONTRACTS = (
    Contract(
        "search",
        "lenswise search --json",
        "One JSON document per line, one line per query (a batch prints one per query).",
        SearchJSON,
    ),
    Contract(
        "ask",
        "lenswise ask --json",
        "The verified answer, its citations and the retrieved passages.",
        AnswerJSON,
    ),
    Contract(
        "review",
        "lenswise review --json",
        "One file's review, or a folder's (designs, combined view, errors).",
        ReviewJSON | RepoReviewJSON,
    ),
)


def schema(contract: Contract) -> dict[str, Any]:
    """Return the draft 2020-12 JSON Schema of one contract."""
    generated = TypeAdapter(contract.shape).json_schema()
    return {
        "$schema": DIALECT,
        "title": contract.title,
        "description": contract.description,
        **generated,
    }


def render(contract: Contract) -> str:
    """Return the schema file's text: stable key order, two-space indent, final newline."""
    return json.dumps(schema(contract), indent=2, ensure_ascii=False) + "\n"


def stale(folder: Path) -> list[Path]:
    """Return the schema files in ``folder`` that are missing or differ from a fresh render."""
    out = []
    for contract in CONTRACTS:
        path = folder / f"{contract.name}.json"
        if not path.is_file() or path.read_text(encoding="utf-8") != render(contract):
            out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the schema files, or check that they are current (exit 1 when not)."""
    parser = argparse.ArgumentParser(prog="python -m agent.contracts", description=__doc__)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--write", type=Path, metavar="DIR", help="write search/ask/review.json")
    what.add_argument("--check", type=Path, metavar="DIR", help="exit 1 if a file is stale")
    args = parser.parse_args(argv)
    if args.check:
        behind = stale(args.check)
        for path in behind:
            print(f"stale schema: {path} (run python -m agent.contracts --write)", file=sys.stderr)
        return 1 if behind else 0
    if not args.write.is_dir():
        parser.error(f"--write: {args.write} is not a folder")
    for contract in CONTRACTS:
        (args.write / f"{contract.name}.json").write_text(render(contract), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
