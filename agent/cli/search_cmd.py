"""``lenswise search``: retrieval only, one query or a batch file of queries."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent.cli import add_common, whole_number
from agent.config import Settings
from corpus.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``search`` command."""
    parser = sub.add_parser("search", help="search the lens (no answer composed)")
    add_common(parser)
    parser.add_argument("query", nargs="?", help="question, keywords or a best-practice id")
    parser.add_argument("--queries", type=Path, help="file with one query per line (batch mode)")
    parser.add_argument(
        "--k", type=whole_number(1), default=10, help="number of results (default 10)"
    )
    parser.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
    parser.add_argument("--pillar", help="only this pillar (e.g. security, cost)")
    parser.add_argument("--risk", choices=("high", "medium", "low"), help="only this risk level")
    parser.add_argument("--lens", help="only this lens (for sources holding several)")
    parser.add_argument(
        "--per-doc",
        type=whole_number(0),
        default=1,
        help="at most this many passages of one best practice (0 = no limit)",
    )
    parser.add_argument("--index", type=Path, help="search this index directory instead")
    parser.add_argument("--json", action="store_true", help="print JSON (one line per query)")
    parser.set_defaults(handler=run)


def _queries(args: argparse.Namespace) -> list[str]:
    if args.queries and args.query:
        raise InputError("give either a QUERY or --queries FILE, not both")
    if args.queries:
        try:
            lines = args.queries.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read queries file {args.queries}: {exc}") from exc
        queries = [line.strip() for line in lines if line.strip()]
        if not queries:
            raise InputError(f"queries file {args.queries} holds no query")
        return queries
    if not args.query or not args.query.strip():
        raise InputError("empty query: give a question, keywords or a best-practice id")
    return [args.query]


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the search(es) and print hits."""
    queries = _queries(args)
    from index.build import open_index, open_index_dir
    from index.search import normalise_pillar

    normalise_pillar(args.pillar)  # a bad filter fails before any index work

    if args.index:
        index = open_index_dir(settings, args.index)
    else:
        index, _ = open_index(settings, notify=lambda line: print(line, file=sys.stderr))
    for query in queries:
        hits = index.search(
            query,
            k=args.k,
            mode=args.mode,
            pillar=args.pillar,
            lens=args.lens,
            risk=args.risk,
            per_doc=args.per_doc,
        )
        if args.json:
            print(
                json.dumps(
                    {"query": query, "hits": [h.to_dict() for h in hits]}, ensure_ascii=False
                )
            )
            continue
        print(f"# {query}")
        if not hits:
            print("  (no results)")
        for hit in hits:
            c = hit.chunk
            label = c.bp_id or c.question_id or c.title
            risk = f", {c.risk} risk" if c.risk else ""
            print(
                f"{hit.rank:>3}. {label} {c.title if c.bp_id else ''} [{c.pillar or 'General'}"
                f"{risk}] ({c.section})"
            )
            snippet = " ".join(c.text.split())[:160]
            print(f"     {snippet}{'...' if len(c.text) > 160 else ''}")
            if c.url:
                print(f"     {c.url}")
        sys.stdout.flush()
    return 0
