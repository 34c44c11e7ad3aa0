"""``lenswise search``: retrieval only, one query or a batch file of queries."""

from __future__ import annotations

import argparse
import json
import stat
import sys
from pathlib import Path

from agent.config import Settings
from corpus.errors import InputError, check_text
from lenswise.cli import add_common, whole_number

MAX_QUERIES_BYTES = 1024 * 1024
"""Largest ``--queries`` file read (about ten thousand questions of typical length)."""
MAX_QUERIES = 5_000
"""Most queries in one batch; a search takes tens of milliseconds, so this is minutes already."""
PROGRESS_FROM = 20
"""Batches at least this long show a progress line on a terminal."""


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
        return read_queries(args.queries)
    if not args.query or not args.query.strip():
        raise InputError("empty query: give a question, keywords or a best-practice id")
    return [check_text(args.query, "query")]  # before any index work


def read_queries(path: Path) -> list[str]:
    """Return the non-blank lines of a queries file, within the size and count caps.

    The file must be a regular file: a FIFO would block, and ``/dev/zero`` or ``/dev/urandom``
    never end. Its size is checked before reading, and the read itself stops past the cap.

    Raises:
        InputError: not a regular file, unreadable, not UTF-8, too large, too many or no queries.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(
                f"queries file {path} is not a regular file (a pipe, device or folder): "
                "write the queries to a file, one per line"
            )
        if info.st_size > MAX_QUERIES_BYTES:
            raise InputError(_too_big(path))
        with path.open("rb") as handle:
            data = handle.read(MAX_QUERIES_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read queries file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_QUERIES_BYTES:
        raise InputError(_too_big(path))
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"queries file {path} is not UTF-8 text") from None
    queries = [line.strip() for line in lines if line.strip()]
    if not queries:
        raise InputError(f"queries file {path} holds no query")
    if len(queries) > MAX_QUERIES:
        raise InputError(
            f"queries file {path} holds {len(queries)} queries, more than the {MAX_QUERIES} "
            "one batch runs: split it"
        )
    return queries


def _too_big(path: Path) -> str:
    return f"queries file {path} is over the {MAX_QUERIES_BYTES // 1024} KiB limit: split it"


def _progress(done: int, total: int) -> None:
    """Show ``done``/``total`` on one rewritten stderr line for a long batch.

    Only when stderr is a terminal and the results go elsewhere: on the terminal itself the
    printed hits already show the progress.
    """
    if total >= PROGRESS_FROM and sys.stderr.isatty() and not sys.stdout.isatty():
        end = "\n" if done == total else ""
        print(f"\rsearched {done}/{total} queries", end=end, file=sys.stderr, flush=True)


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
    for number, query in enumerate(queries, start=1):
        if len(queries) > 1:
            _progress(number - 1, len(queries))
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
    if len(queries) > 1:
        _progress(len(queries), len(queries))
    return 0
