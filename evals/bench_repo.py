"""Benchmark ``lenswise review DIR`` on a 200-file repository, cold and with the parse cache.

The repository is built in a temporary folder from the shared sample diagrams (copied into
several team folders) and generated Terraform modules of two files each.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from corpus.loaders.builtin import digest_practices
from diagrams.discover import WorkTree
from diagrams.repo import Parser, review_tree
from evals.bench_diagrams import DEFAULT_DIR

FILES = 200

_MODULE_MAIN = """\
resource "aws_lambda_function" "handler_{n}" {{
  function_name = "handler-{n}"
  role          = aws_iam_role.role_{n}.arn
}}

resource "aws_iam_role" "role_{n}" {{
  name = "role-{n}"
}}

resource "aws_s3_bucket" "docs_{n}" {{
  bucket = "docs-{n}"
}}
"""
_MODULE_NET = """\
resource "aws_vpc" "net_{n}" {{
  cidr_block = "10.{m}.0.0/16"
}}
"""
_ENDPOINT = """
resource "aws_vpc_endpoint" "bedrock_{n}" {{
  vpc_id       = aws_vpc.net_{n}.id
  service_name = "com.amazonaws.us-east-1.bedrock-runtime"
}}
"""


def build_repo(root: Path, samples: Path = DEFAULT_DIR, files: int = FILES) -> int:
    """Fill ``root`` with about ``files`` design files; return how many were written."""
    originals = sorted(p for p in samples.iterdir() if p.is_file() and p.name != "SOURCES.txt")
    written, team = 0, 0
    while written + len(originals) <= files // 2:
        folder = root / "docs" / f"team{team}"
        folder.mkdir(parents=True)
        for path in originals:
            shutil.copy(path, folder / path.name)
        written, team = written + len(originals), team + 1
    n = 0
    while written + 2 <= files:
        module = root / "modules" / f"service{n}"
        module.mkdir(parents=True)
        (module / "main.tf").write_text(_MODULE_MAIN.format(n=n))
        net = _MODULE_NET.format(n=n, m=n % 250) + (_ENDPOINT.format(n=n) if n % 2 else "")
        (module / "network.tf").write_text(net)
        written, n = written + 2, n + 1
    if written < files:  # an odd count: one last single-file module
        (root / "modules" / f"service{n}").mkdir(parents=True)
        (root / "modules" / f"service{n}" / "main.tf").write_text(_MODULE_MAIN.format(n=n))
        written += 1
    return written


def run_repo_bench(log=None) -> dict:
    """Time a cold review and a cached review of the generated repository."""
    practices = digest_practices()
    with tempfile.TemporaryDirectory(prefix="lenswise-bench-repo-") as tmp:
        root, cache = Path(tmp) / "repo", Path(tmp) / "cache"
        count = build_repo(root)
        figures: dict = {"files": count}
        for run in ("cold", "cached"):
            if log:
                log(f"repository review, {run}")
            parser = Parser(WorkTree(root), cache)
            start = time.perf_counter()
            result = review_tree(WorkTree(root), practices, parser)
            figures[f"{run}_s"] = round(time.perf_counter() - start, 2)
            figures[f"{run}_parsed"] = parser.parsed
        figures["designs"] = len(result.designs)
        figures["errors"] = len(result.errors)
    return figures


def render_repo(figures: dict) -> list[str]:
    """Return the figures as text lines."""
    return [
        f"  review DIR, {figures['files']} files ({figures['designs']} designs, "
        f"{figures['errors']} unreadable): cold {figures['cold_s']:.2f} s "
        f"({figures['cold_parsed']} parsed; target < 30 s), cached {figures['cached_s']:.2f} s "
        f"({figures['cached_parsed']} parsed; target < 5 s)"
    ]
