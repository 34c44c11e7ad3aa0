"""Benchmark the diagram parsers and the lens review over a folder of real diagrams.

``python -m evals.bench_diagrams [DIR]`` prints one row per file: format, components, edges,
parse and review milliseconds and, when the folder has a ``SOURCES.txt`` listing the expected
services, service precision and recall.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import InputError
from corpus.loaders.builtin import digest_practices
from diagrams import parse_file, review_architecture
from diagrams.catalog import match_text

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "diagrams"


@dataclass
class FileBench:
    """Measurements for one file."""

    file: str
    format: str
    components: int
    edges: int
    parse_ms: float
    review_ms: float
    precision: float | None = None
    recall: float | None = None
    error: str = ""


def expected_services(folder: Path) -> dict[str, set[str]]:
    """Read ``SOURCES.txt`` (``file | ... | services``) into file name -> expected slugs."""
    listing = folder / "SOURCES.txt"
    if not listing.is_file():
        return {}
    expected: dict[str, set[str]] = {}
    for line in listing.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "|" not in line:
            continue
        columns = [c.strip() for c in line.split("|")]
        slugs = set()
        for name in columns[-1].split(";"):
            for part in name.split(" - ")[0].split("(")[0].split("/"):
                match = match_text(part.replace("bedrock:", "bedrock "))
                if match:
                    slugs.add(match.slug)
        expected[columns[0]] = slugs
    return expected


def score(found: set[str], expected: set[str]) -> tuple[float, float]:
    """Return (precision, recall) of ``found`` services against ``expected``."""
    hits = len(found & expected)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(expected) if expected else 1.0
    return precision, recall


def bench_folder(folder: Path = DEFAULT_DIR) -> list[FileBench]:
    """Parse and review every file of ``folder`` (except SOURCES.txt), timing both steps."""
    practices = digest_practices()
    expected = expected_services(folder)
    rows: list[FileBench] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name != "SOURCES.txt"):
        start = time.perf_counter()
        try:
            arch = parse_file(path)
        except InputError as exc:
            rows.append(FileBench(path.name, "-", 0, 0, 0.0, 0.0, error=str(exc)))
            continue
        parsed = time.perf_counter()
        review_architecture(arch, practices)
        reviewed = time.perf_counter()
        row = FileBench(
            path.name,
            arch.format,
            len(arch.components),
            len(arch.edges),
            (parsed - start) * 1000,
            (reviewed - parsed) * 1000,
        )
        if path.name in expected:
            row.precision, row.recall = score(set(arch.services), expected[path.name])
        rows.append(row)
    return rows


def format_table(rows: list[FileBench]) -> str:
    """Render benchmark rows as a fixed-width text table."""
    lines = [
        f"{'file':60} {'format':14} {'comp':>5} {'edges':>5} {'parse ms':>9} "
        f"{'review ms':>9} {'prec':>5} {'recall':>6}"
    ]
    for r in rows:
        prec = f"{r.precision:.2f}" if r.precision is not None else "-"
        rec = f"{r.recall:.2f}" if r.recall is not None else "-"
        name = r.file if len(r.file) <= 60 else "..." + r.file[-57:]
        lines.append(
            f"{name:60} {r.format:14} {r.components:5} {r.edges:5} {r.parse_ms:9.1f} "
            f"{r.review_ms:9.1f} {prec:>5} {rec:>6}" + (f"  ERROR {r.error}" if r.error else "")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the benchmark table for the folder given on the command line (or the shared one)."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else DEFAULT_DIR
    if not folder.is_dir():
        print(f"bench_diagrams: no such folder: {folder}", file=sys.stderr)
        return 2
    print(format_table(bench_folder(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
