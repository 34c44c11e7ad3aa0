r"""Benchmark the parsers on hostile inputs: small files built to take minutes or gigabytes.

Each case is a generator of one worst-case file (all under the upload and cell caps) that an
earlier parser choked on: regex backtracking, ``&`` products, all-pairs containment, sniffing
with ``^\\s*`` under MULTILINE, decompression that materialises too much, or too many
resources. Every file is parsed in a child process with a wall-clock timeout and its own peak
memory (``os.wait4`` rusage), so a hang or a blow-up is reported as a row, not suffered.

``python -m evals.bench_hostile`` prints the table; ``lenswise bench --hostile`` prints the same
rows, and ``lenswise bench`` includes them.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evals import hostile_files as more
from evals.peak import own_peak_mb, rusage_mb
from evals.suites import REPO_ROOT

PARSE_TARGET_S = 2.0
REFUSE_TARGET_S = 1.0
PEAK_TARGET_MB = 300.0
DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Case:
    """One hostile input: a name for the row, the upload's file name and its generator."""

    name: str
    filename: str
    make: Callable[[], bytes]


def mermaid_spaced_link(spaces: int) -> bytes:
    """Return ``A-- `` then ``spaces`` spaces then ``x``: a label link that never closes."""
    return b"graph LR\nA-- " + b" " * spaces + b"x\n"


def mermaid_ampersands(count: int) -> bytes:
    """Return one statement linking ``count`` nodes to ``count`` nodes with ``&`` lists."""
    left = "&".join(f"A{i}" for i in range(count))
    right = "&".join(f"B{i}" for i in range(count))
    return f"graph LR\n{left} --> {right}\n".encode()


def mermaid_chain(nodes: int) -> bytes:
    """Return a flowchart of ``nodes`` labelled nodes in a chain (a large but honest diagram)."""
    lines = ["flowchart LR"]
    lines += [f"  N{i}[Lambda {i}] --> N{i + 1}[Lambda {i + 1}]" for i in range(nodes - 1)]
    return ("\n".join(lines) + "\n").encode()


def mermaid_nested_subgraphs(depth: int) -> bytes:
    """Return ``depth`` subgraphs nested in each other, one node in each."""
    lines = ["flowchart TB"]
    lines += [f"subgraph S{i} [Zone {i}]\n  N{i}[Lambda {i}]" for i in range(depth)]
    lines += ["end"] * depth
    return ("\n".join(lines) + "\n").encode()


def _cell(cell_id: str, label: str, style: str, x: int, y: int, w: int, h: int, parent="1"):
    return (
        f'<mxCell id="{cell_id}" value="{label}" style="{style}" vertex="1" parent="{parent}">'
        f'<mxGeometry x="{x}" y="{y}" width="{w}" height="{h}" as="geometry"/></mxCell>'
    )


def _model(cells: list[str]) -> str:
    return (
        '<mxGraphModel><root><mxCell id="0"/><mxCell id="1" parent="0"/>'
        + "".join(cells)
        + "</root></mxGraphModel>"
    )


def _mxfile(body: str) -> bytes:
    return f'<mxfile host="bench"><diagram id="d" name="Page-1">{body}</diagram></mxfile>'.encode()


_GROUP = "shape=mxgraph.aws4.group;grIcon=mxgraph.aws4.group_security_group;html=1;"
_LAMBDA = "shape=mxgraph.aws4.resourceIcon;resIcon=mxgraph.aws4.lambda;html=1;"


def drawio_nested_groups(count: int) -> bytes:
    """Return ``count`` concentric group boxes, each with one icon in its own ring."""
    cells = []
    for i in range(count):
        size = 20 * (count - i) + 100
        cells.append(_cell(f"g{i}", f"Subnet {i}", _GROUP, 10 * i, 10 * i, size, size))
        cells.append(_cell(f"f{i}", f"fn {i}", _LAMBDA, 10 * i + 1, 10 * i + 1, 8, 8))
    return _mxfile(_model(cells))


def drawio_parent_chain(depth: int) -> bytes:
    """Return ``depth`` group boxes each the child of the one before, an icon inside each."""
    cells = []
    for i in range(depth):
        parent = f"g{i - 1}" if i else "1"
        cells.append(_cell(f"g{i}", f"Zone {i}", _GROUP, 10, 10, 200, 200, parent))
        cells.append(_cell(f"f{i}", f"fn {i}", _LAMBDA, 20, 150, 30, 30, f"g{i}"))
    return _mxfile(_model(cells))


def drawio_many_cells(icons: int) -> bytes:
    """Return ``icons`` icons on a grid and an arrow from each to its right neighbour."""
    cells = []
    side = int(icons**0.5) + 1
    for i in range(icons):
        x, y = 100 * (i % side), 100 * (i // side)
        cells.append(_cell(f"v{i}", f"fn {i}", _LAMBDA, x, y, 40, 40))
    for i in range(icons - 1):
        cells.append(
            f'<mxCell id="e{i}" edge="1" parent="1" source="v{i}" target="v{i + 1}">'
            '<mxGeometry relative="1" as="geometry"/></mxCell>'
        )
    return _mxfile(_model(cells))


def drawio_percent_bomb(elements: int) -> bytes:
    """Return a compressed page whose percent-encoded body inflates ~800-fold (``<a/>``s)."""
    page = _model(["<a/>"] * elements)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflater.compress(urllib.parse.quote(page).encode()) + deflater.flush()
    return _mxfile(base64.b64encode(raw).decode())


_TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
"""


def cloudformation_blank_prefix(lines: int) -> bytes:
    """Return a small CloudFormation template preceded by ``lines`` blank lines."""
    return ("\n" * lines + _TEMPLATE).encode()


def cloudformation_resources(count: int) -> bytes:
    """Return a YAML template with ``count`` functions, each referencing one role."""
    parts = ["Resources:", "  Role:", "    Type: AWS::IAM::Role"]
    for i in range(count):
        parts += [
            f"  Fn{i}:",
            "    Type: AWS::Lambda::Function",
            "    Properties:",
            "      Role: !GetAtt Role.Arn",
        ]
    return ("\n".join(parts) + "\n").encode()


def terraform_policy_run(size: int) -> bytes:
    """Return an IAM policy whose text is one ``a-a-a-...`` run of ``size`` characters."""
    run = ("a-" * (size // 2))[:size]
    return (
        'resource "aws_iam_role" "r" {\n  name = "r"\n}\n'
        'resource "aws_iam_role_policy" "p" {\n  role = aws_iam_role.r.id\n'
        f'  policy = "{run}"\n}}\n'
    ).encode()


def terraform_resources(count: int) -> bytes:
    """Return ``count`` Lambda functions sharing one role (``count`` + 1 resources)."""
    parts = ['resource "aws_iam_role" "r" {\n  name = "r"\n}\n']
    parts += [
        f'resource "aws_lambda_function" "f{i}" {{\n  role = aws_iam_role.r.arn\n}}\n'
        for i in range(count)
    ]
    return "".join(parts).encode()


def terraform_deep_nesting(depth: int) -> bytes:
    """Return one resource whose argument nests ``depth`` lists deep."""
    return (f'resource "aws_s3_bucket" "b" {{\n  tags = {"[" * depth}1{"]" * depth}\n}}\n').encode()


CASES: tuple[Case, ...] = (
    Case("mermaid 'A-- ' + 2,000 spaces + 'x'", "spaces.mmd", lambda: mermaid_spaced_link(2_000)),
    Case(
        "mermaid 'A-- ' + 100 KB of spaces", "spaces100k.mmd", lambda: mermaid_spaced_link(100_000)
    ),
    Case("mermaid A0&..&A2999 --> B0&..&B2999", "amp.mmd", lambda: mermaid_ampersands(3_000)),
    Case("mermaid 10,000-node chain", "chain.mmd", lambda: mermaid_chain(10_000)),
    Case("mermaid 5,000 nested subgraphs", "nested.mmd", lambda: mermaid_nested_subgraphs(5_000)),
    Case(
        "draw.io 16,000 nested groups + icons",
        "nested.drawio",
        lambda: drawio_nested_groups(16_000),
    ),
    Case("draw.io 10,000-deep parent chain", "chain.drawio", lambda: drawio_parent_chain(10_000)),
    Case(
        "draw.io 24,000 icons + 23,999 arrows", "honest.drawio", lambda: drawio_many_cells(24_000)
    ),
    Case("draw.io 25,000 icons + 25,000 arrows", "cells.drawio", lambda: drawio_many_cells(25_000)),
    Case(
        "draw.io percent-encoded page, 39 MB inflated",
        "bomb.drawio",
        lambda: drawio_percent_bomb(3_900_000),
    ),
    Case(
        "CloudFormation after 100,000 blank lines",
        "blank.yaml",
        lambda: cloudformation_blank_prefix(100_000),
    ),
    Case("CloudFormation 1,999 resources", "cap.yaml", lambda: cloudformation_resources(1_998)),
    Case("CloudFormation 20,000 resources", "many.yaml", lambda: cloudformation_resources(20_000)),
    Case("Terraform 100 KB 'a-a-a-' policy", "policy.tf", lambda: terraform_policy_run(100_000)),
    Case("Terraform 2,000 resources", "cap.tf", lambda: terraform_resources(1_999)),
    Case("Terraform 20,000 resources", "many.tf", lambda: terraform_resources(20_000)),
    Case("Terraform lists nested 5,000 deep", "deep.tf", lambda: terraform_deep_nesting(5_000)),
    Case(
        "draw.io HTML label '< ' x 10,000",
        "lt.drawio",
        lambda: more.drawio_html_label("< " * 10_000),
    ),
    Case(
        "draw.io HTML label '<' + 100 KB spaces",
        "ltsp.drawio",
        lambda: more.drawio_html_label("<" + " " * 100_000),
    ),
    Case(
        "draw.io HTML label '</' x 50,000",
        "close.drawio",
        lambda: more.drawio_html_label("</" * 50_000),
    ),
    Case(
        "draw.io 50 compressed pages x 8,000 icons",
        "pages.drawio",
        lambda: more.drawio_compressed_pages(50, 8_000),
    ),
    Case(
        "draw.io compressed page, one 8 MB token",
        "token.drawio",
        lambda: more.drawio_huge_token(8_000_000),
    ),
    Case(
        "draw.io compressed page, 16 M escapes",
        "escapes.drawio",
        lambda: more.drawio_percent_page(16_000_000),
    ),
    Case(
        "mermaid '<br' + 200 KB spaces in a label",
        "br.mmd",
        lambda: more.mermaid_unclosed_break(200_000),
    ),
    Case(
        "mermaid 'note over' + 100 KB spaces", "note.mmd", lambda: more.mermaid_note_spaces(100_000)
    ),
    Case(
        "mermaid 50,000-node chain on one line",
        "line.mmd",
        lambda: more.mermaid_one_line_chain(50_000),
    ),
    Case("mermaid one 10 MB node label", "label.mmd", lambda: more.mermaid_huge_label(10_000_000)),
    Case(
        "Terraform 'Action:' + 100 KB spaces",
        "action.tf",
        lambda: more.terraform_action_spaces(100_000),
    ),
    Case(
        "Terraform 10 MB of blank lines", "blank.tf", lambda: more.terraform_blank_lines(10_000_000)
    ),
    Case(
        "Terraform at the line cap (50,000)", "lines.tf", lambda: more.terraform_blank_lines(49_995)
    ),
    Case(
        "Terraform at the value cap (6,000)",
        "values.tf",
        lambda: more.terraform_functions(1_999, 2),
    ),
    Case("Terraform 200,000 attributes", "attrs.tf", lambda: more.terraform_attributes(200_000)),
    Case("Terraform 200,000-item list", "list.tf", lambda: more.terraform_list_items(200_000)),
    Case(
        "Terraform 30,000 resources on one line",
        "oneline.tf",
        lambda: more.terraform_one_line_resources(30_000),
    ),
    Case(
        "CloudFormation YAML 5,000-digit integer",
        "int.yaml",
        lambda: more.cloudformation_scalar("1" * 5_000),
    ),
    Case(
        "CloudFormation JSON 5,000-digit integer",
        "int.json",
        lambda: more.cloudformation_scalar("1" * 5_000, json_syntax=True),
    ),
    Case(
        "CloudFormation JSON lone surrogate",
        "surrogate.json",
        lambda: more.cloudformation_scalar('"\\ud800"', json_syntax=True),
    ),
    Case(
        "CloudFormation invalid timestamp value",
        "date.yaml",
        lambda: more.cloudformation_scalar("2024-13-45"),
    ),
    Case(
        "CloudFormation invalid timestamp key",
        "datekey.yaml",
        lambda: more.cloudformation_scalar("2024-02-31", as_key=True),
    ),
)


def measure(case: Case, folder: Path, timeout: float = DEFAULT_TIMEOUT_S) -> dict:
    """Write ``case``'s file into ``folder`` and parse it in a child; return its figures.

    The row holds the input size, wall-clock seconds of the parse (as the child measured it,
    or the timeout when it was killed), the child's peak memory and the outcome: ``parsed``,
    ``refused`` (an InputError, exit 2 in the CLI), ``killed`` or ``crashed``.
    """
    data = case.make()
    path = folder / case.filename
    path.write_bytes(data)
    row: dict = {"case": case.name, "file": case.filename, "bytes": len(data)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "evals.bench_hostile", "--child", str(path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    timer.cancel()
    wall = time.perf_counter() - start
    row["peak_mb"] = rusage_mb(usage)  # replaced by the child's own figure when it reports one
    if killed.is_set():
        return {
            **row,
            "seconds": round(wall, 2),
            "outcome": "killed",
            "detail": f"at {timeout:g} s",
        }
    try:
        result = json.loads(out.decode().strip().splitlines()[-1])
    except (IndexError, ValueError):
        last = (err.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        return {**row, "seconds": round(wall, 2), "outcome": "crashed", "detail": last[:200]}
    return {**row, **result}


def verdict(row: dict) -> str:
    """Return '' when a row meets its target (parse < 2 s or refuse < 1 s, < 300 MB), else why."""
    if row["outcome"] not in ("parsed", "refused"):
        return row["outcome"].upper()
    limit = PARSE_TARGET_S if row["outcome"] == "parsed" else REFUSE_TARGET_S
    over = []
    if row["seconds"] >= limit:
        over.append(f">= {limit:g} s")
    if row["peak_mb"] >= PEAK_TARGET_MB:
        over.append(f">= {PEAK_TARGET_MB:g} MB")
    return "OVER " + ", ".join(over) if over else ""


def run_hostile(
    timeout: float = DEFAULT_TIMEOUT_S,
    cases: tuple[Case, ...] = CASES,
    log: Callable[[str], None] = lambda _: None,
) -> list[dict]:
    """Measure every case (each in its own child process) and return the rows."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="lenswise-hostile-") as folder:
        for case in cases:
            log(f"hostile input: {case.name}")
            rows.append(measure(case, Path(folder), timeout))
    return rows


def render_rows(rows: list[dict]) -> list[str]:
    """Return the rows as fixed-width text lines (a header first)."""
    lines = [
        f"  {'hostile input':46} {'size':>8} {'parse s':>8} {'peak MB':>8}  outcome",
    ]
    for r in rows:
        size = (
            f"{r['bytes'] / 1024:.0f} KB" if r["bytes"] < 2**20 else f"{r['bytes'] / 2**20:.1f} MB"
        )
        detail = r.get("detail", "")
        if r["outcome"] == "parsed":
            detail = (
                f"{r['components']} components, {r['edges']} edges; "
                f"reviewed in {r.get('review_s', 0):.2f} s"
            )
        mark = verdict(r)
        lines.append(
            f"  {r['case']:46} {size:>8} {r['seconds']:8.2f} {r['peak_mb']:8.1f}  "
            f"{r['outcome']}: {detail[:90]}" + (f"  {mark}" if mark else "")
        )
    return lines


def _child(path: str) -> int:
    """Parse and review one file; print its figures as one JSON line (the measured side of a row).

    ``seconds`` is the parse (the target's subject). A parsed file is then reviewed and both
    renderings made (markdown, JSON as UTF-8), timed as ``review_s``: a value the parser let
    through but the report cannot hold shows as a crash, not as a parsed row.
    """
    from corpus.errors import InputError
    from corpus.loaders.builtin import digest_practices
    from diagrams import parse_file, render_markdown, review_architecture

    practices = digest_practices()
    start = time.perf_counter()
    refused = ""
    try:
        arch = parse_file(path)
    except InputError as exc:
        arch, refused = None, str(exc)
    seconds = round(time.perf_counter() - start, 3)
    if arch is None:
        figures: dict[str, str | int | float] = {"outcome": "refused", "detail": refused}
    else:
        parsed = time.perf_counter()
        review = review_architecture(arch, practices)
        render_markdown(review).encode()
        json.dumps(review.to_dict(), ensure_ascii=False).encode()
        figures = {
            "outcome": "parsed",
            "components": len(arch.components),
            "edges": len(arch.edges),
            "review_s": round(time.perf_counter() - parsed, 3),
        }
    peak = own_peak_mb()
    print(json.dumps({"seconds": seconds, **figures, **({"peak_mb": peak} if peak else {})}))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Print the hostile-input table (``--timeout S`` per case), or act as a measured child."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child"] and len(args) == 2:
        return _child(args[1])
    timeout = float(args[1]) if args[:1] == ["--timeout"] and len(args) == 2 else DEFAULT_TIMEOUT_S
    rows = run_hostile(timeout, log=lambda step: print(step, file=sys.stderr, flush=True))
    print("\n".join(render_rows(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
