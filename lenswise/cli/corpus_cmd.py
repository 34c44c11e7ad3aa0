"""``lenswise corpus``: fetch the official lens pages, describe a source, diff two sources."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from agent.config import Settings
from lenswise.cli import add_common

if TYPE_CHECKING:
    from corpus.models import Corpus


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``corpus`` command group and its sub-commands."""
    corpus = subparsers.add_parser("corpus", help="fetch, describe and compare lens sources")
    commands = corpus.add_subparsers(dest="corpus_command", required=True)

    fetch = commands.add_parser(
        "fetch", help="download the official lens pages into the cache (resumable)"
    )
    fetch.add_argument("--lens", help="lens slug (default: generative-ai)")
    fetch.add_argument(
        "--base-url", help="docs site root (default: env LENSWISE_DOCS_BASE_URL or the AWS site)"
    )
    fetch.add_argument(
        "--concurrency", type=_positive, default=4, help="requests in flight (default 4)"
    )
    add_common(fetch)
    fetch.set_defaults(handler=fetch_handler)

    info = commands.add_parser("info", help="name, edition and counts of a source")
    info.add_argument("--lens", help="lens of the 'fetched' source (default: generative-ai)")
    info.add_argument("--json", action="store_true", help="print JSON")
    add_common(info)
    info.set_defaults(handler=info_handler)

    diff = commands.add_parser(
        "diff", help="best practices added, removed, retitled, re-risked or changed in text"
    )
    diff.add_argument("old", metavar="OLD", help="builtin, fetched, or a path")
    diff.add_argument("new", metavar="NEW", help="builtin, fetched, or a path")
    diff.add_argument("--lens", help="lens of a 'fetched' side (default: generative-ai)")
    diff.add_argument(
        "--threshold",
        type=_fraction,
        default=None,
        help="text similarity under which a practice counts as changed (default 0.8)",
    )
    diff.add_argument("--json", action="store_true", help="print the stable JSON shape")
    add_common(diff)
    diff.set_defaults(handler=diff_handler)


def fetch_handler(args: argparse.Namespace, settings: Settings) -> int:
    """Download toc and pages of a lens into the cache and say what was done."""
    from corpus.fetch import fetch_lens
    from corpus.sources import fetched_dir

    lens = args.lens or settings.lens
    base_url = args.base_url or settings.docs_base_url
    result = fetch_lens(
        base_url, lens, fetched_dir(settings.home, lens), concurrency=args.concurrency
    )
    html = f" ({result.from_html} converted from HTML)" if result.from_html else ""
    print(
        f"fetched {result.fetched} pages{html}, {result.skipped} already cached, "
        f"{result.total} in the lens -> {result.folder}"
    )
    return 0


def info_handler(args: argparse.Namespace, settings: Settings) -> int:
    """Print a source's name, edition and document counts by pillar."""
    from corpus.sources import load_source

    corpus = load_source(settings.source, home=settings.home, lens=args.lens or settings.lens)
    facts = describe(corpus)
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    print(f"source     {facts['source']}")
    print(f"name       {facts['name'] or '-'}")
    print(f"edition    {facts['edition'] or '-'}")
    print(f"lenses     {', '.join(facts['lenses'])}")
    print(
        f"documents  {facts['documents']} ({facts['best_practices']} best practices, "
        f"{facts['questions']} questions, {facts['other']} other pages)"
    )
    print(f"\n{'pillar':<28}{'questions':>10}{'best practices':>16}")
    for pillar, counts in facts["pillars"].items():
        print(f"{pillar:<28}{counts['questions']:>10}{counts['best_practices']:>16}")
    return 0


def diff_handler(args: argparse.Namespace, settings: Settings) -> int:
    """Compare the best practices of two sources."""
    from corpus.diff import TEXT_THRESHOLD, diff_corpora, render
    from corpus.sources import load_source

    lens = args.lens or settings.lens
    old = load_source(args.old, home=settings.home, lens=lens)
    new = load_source(args.new, home=settings.home, lens=lens)
    threshold = TEXT_THRESHOLD if args.threshold is None else args.threshold
    result = diff_corpora(old, new, threshold=threshold)
    print(json.dumps(result.to_dict(), indent=2) if args.json else render(result))
    return 0


def describe(corpus: Corpus) -> dict:
    """Return the counts ``corpus info`` shows: documents, questions, best practices by pillar."""
    from corpus.vocabulary import PILLARS

    docs = corpus.documents
    pillars: dict[str, dict[str, set]] = {}
    for doc in docs:
        if not doc.question_id:
            continue
        counts = pillars.setdefault(doc.pillar or "(no pillar)", {"q": set(), "bp": set()})
        counts["q"].add(doc.question_id)
        if doc.bp_id:
            counts["bp"].add(doc.bp_id)
    order = [p for p in PILLARS if p in pillars] + sorted(p for p in pillars if p not in PILLARS)
    practices = {d.bp_id for d in docs if d.bp_id}
    questions = {d.question_id for d in docs if d.question_id}
    return {
        "source": corpus.source,
        "name": corpus.name,
        "edition": corpus.edition,
        "lenses": sorted({d.lens for d in docs}),
        "documents": len(docs),
        "best_practices": len(practices),
        "questions": len(questions),
        "other": sum(1 for d in docs if not d.bp_id and not d.question_id),
        "pillars": {
            p: {"questions": len(pillars[p]["q"]), "best_practices": len(pillars[p]["bp"])}
            for p in order
        },
    }


def _positive(text: str) -> int:
    """Parse a whole number of at least 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got '{text}'")
    return value


def _fraction(text: str) -> float:
    """Parse a number between 0 and 1 (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got '{text}'")
    return value
