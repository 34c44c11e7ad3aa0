"""``lenswise index build|info``: build (or reuse) the index of a source and show its manifest."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent.config import Settings
from lenswise.cli import add_common


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``index`` command group."""
    parser = sub.add_parser("index", help="build or inspect the search index")
    group = parser.add_subparsers(dest="index_command", required=True)
    build = group.add_parser("build", help="build (or reuse) the index for a source")
    add_common(build)
    build.add_argument("--force", action="store_true", help="rebuild even if an index exists")
    build.add_argument("--json", action="store_true", help="print the build report as JSON")
    build.set_defaults(handler=run_build)
    info = group.add_parser("info", help="show the manifest of the index for a source")
    add_common(info)
    info.add_argument("--index", type=Path, help="show this index directory instead")
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")
    info.set_defaults(handler=run_info)


def run_build(args: argparse.Namespace, settings: Settings) -> int:
    """Build or reuse the index and say which happened."""
    from agent.build_progress import TerminalProgress
    from index.build import open_index

    index, report = open_index(
        settings,
        force=args.force,
        notify=lambda line: print(line, file=sys.stderr),
        progress=TerminalProgress(sys.stderr),
    )
    if args.json:
        print(
            json.dumps(
                {
                    "path": str(report.path),
                    "reused": report.reused,
                    "embedded": report.embedded,
                    "chunks": report.chunks,
                    "seconds": round(report.seconds, 3),
                }
            )
        )
        return 0
    verb = "reused" if report.reused else "built"
    print(
        f"{verb} index for source '{settings.source}': {report.chunks} chunks "
        f"({report.embedded} embedded) in {report.seconds:.2f}s"
    )
    print(f"  {report.path}")
    return 0


def run_info(args: argparse.Namespace, settings: Settings) -> int:
    """Print the manifest of the index for the source (building it first if needed)."""
    from index.build import open_index, open_index_dir

    if args.index:
        index = open_index_dir(settings, args.index)
    else:
        index, _ = open_index(settings)
    manifest = {**index.manifest, "path": str(index.path)}
    if args.json:
        print(json.dumps(manifest, indent=2))
        return 0
    width = max(len(k) for k in manifest)
    for key, value in manifest.items():
        shown = (
            ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else value
        )
        print(f"{key:<{width}}  {shown}", file=sys.stdout)
    return 0
