"""Find the reviewable designs in a folder or repository, on disk or at a git ref."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

import pathspec

from corpus.errors import InputError
from diagrams.contracts import ReviewErrorJSON

SKIP_DIRS = frozenset(
    {".git", ".terraform", "node_modules", "vendor", "vendored", "third_party", ".venv", "venv"}
)
"""Folders never searched: tool state, installed packages and vendored code."""
IGNORE_FILES = (".gitignore", ".lenswiseignore")
_DRAWIO_SUFFIXES = (".drawio", ".drawio.png", ".drawio.svg", ".dio")
_MERMAID_FENCE = re.compile(rb"^[ \t]*(```|~~~)[ \t]*mermaid\b", re.IGNORECASE | re.MULTILINE)
_DRAWIO_XML = re.compile(rb"<(mxfile|mxGraphModel)\b")
_CFN_TYPE = re.compile(rb"""["']?Type["']?\s*:\s*["']?(AWS|Alexa)::\w+::""")
_CFN_TOP = re.compile(rb"""AWSTemplateFormatVersion|^[ \t]*["']?Resources["']?\s*:""", re.M)
_SNIFF = 256 * 1024
MAX_READ = 64 << 20
"""Largest file read from a folder (the parsers refuse far smaller ones)."""


class Tree(Protocol):
    """Files of a folder, from the working tree or from a git commit."""

    def files(self) -> list[str]:
        """Return every file's path relative to the folder, POSIX style."""
        ...

    def read(self, path: str) -> bytes:
        """Return one file's bytes; raise InputError when it cannot be read."""
        ...


@dataclass(frozen=True)
class Design:
    """One reviewable design: a diagram, a template, a Terraform folder or a CDK stack."""

    path: str
    """Name shown for the design: the file, the Terraform folder, or ``cdk.out/<stack>``."""
    files: tuple[str, ...]
    """Files it is read from, relative to the reviewed folder."""
    parse_name: str
    """File name handed to the parser (its suffix picks the format)."""


class WorkTree:
    """The files of a folder on disk, minus ignored and skipped ones."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def files(self) -> list[str]:
        """Walk the folder, honouring every ``.gitignore`` and ``.lenswiseignore`` on the way."""
        found: list[str] = []
        specs: list[tuple[str, pathspec.PathSpec]] = []
        for top, dirs, names in os.walk(self.root):
            rel = Path(top).relative_to(self.root).as_posix()
            rel = "" if rel == "." else rel + "/"
            specs += _specs(self._text, rel, names)
            dirs[:] = sorted(
                d for d in dirs if d not in SKIP_DIRS and not _ignored(specs, rel + d + "/")
            )
            found += [
                rel + n
                for n in sorted(names)
                if not _ignored(specs, rel + n) and not os.path.islink(os.path.join(top, n))
            ]
        return found

    def _text(self, path: str) -> str:
        return (self.root / path).read_text(encoding="utf-8", errors="replace")

    def read(self, path: str) -> bytes:
        """Return the bytes of ``path`` under the folder (symbolic links are never listed)."""
        try:
            if (self.root / path).stat().st_size > MAX_READ:
                raise InputError(f"{path} is larger than {MAX_READ >> 20} MiB")
            return (self.root / path).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


class GitTree:
    """The files of a folder as they were at a git ref, read without touching the work tree."""

    def __init__(self, root: Path, ref: str) -> None:
        if ref.startswith("-"):
            raise InputError(f"not a git ref: {ref!r}")
        self.root, self.ref = root, ref
        self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")

    def _git(self, *args: str) -> bytes:
        try:
            proc = subprocess.run(
                ["git", "-C", str(self.root), *args], capture_output=True, check=False, timeout=120
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InputError(f"cannot run git in {self.root}: {exc}") from None
        if proc.returncode != 0:
            reason = proc.stderr.decode(errors="replace").strip().splitlines()
            raise InputError(
                f"git cannot read {self.ref!r} in {self.root}: "
                + (reason[-1] if reason else "unknown ref")
            )
        return proc.stdout

    def files(self) -> list[str]:
        """List the files at the ref below the folder, minus ignored and skipped ones."""
        listed = self._git("ls-tree", "-r", "-z", "--name-only", self.ref, "--", ".")
        paths = sorted(p for p in listed.decode("utf-8", errors="replace").split("\0") if p)
        specs: list[tuple[str, pathspec.PathSpec]] = []
        for path in paths:
            folder, name = path.rpartition("/")[0], path.rpartition("/")[2]
            if name in IGNORE_FILES:
                rel = folder + "/" if folder else ""
                specs += _specs(lambda p: self.read(p).decode(errors="replace"), rel, [name])
        return [
            p
            for p in paths
            if not SKIP_DIRS & set(PurePosixPath(p).parts[:-1]) and not _ignored(specs, p, True)
        ]

    def read(self, path: str) -> bytes:
        """Return the bytes of ``path`` at the ref."""
        return self._git("cat-file", "blob", f"{self.ref}:./{path}")


def _specs(read, rel: str, names) -> list[tuple[str, pathspec.PathSpec]]:
    specs = []
    for name in IGNORE_FILES:
        if name in names:
            lines = read(rel + name).splitlines()
            specs.append((rel, pathspec.GitIgnoreSpec.from_lines(lines)))
    return specs


def _ignored(specs, path: str, parents: bool = False) -> bool:
    """Return True when an ignore file covers ``path`` (or, with ``parents``, a folder above it)."""
    candidates = [path]
    if parents:
        parts = path.split("/")
        candidates += ["/".join(parts[:i]) + "/" for i in range(1, len(parts))]
    for rel, spec in specs:
        for cand in candidates:
            if cand.startswith(rel) and spec.match_file(cand[len(rel) :]):
                return True
    return False


def _cdk_stacks(tree: Tree, manifest: str) -> list[Design]:
    folder = manifest.rpartition("/")[0]
    try:
        doc = json.loads(tree.read(manifest))
        artifacts = doc["artifacts"]
        assert isinstance(artifacts, dict)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise InputError(f"{manifest} is not a CDK cloud assembly manifest") from None
    designs = []
    for name, artifact in sorted(artifacts.items()):
        if not isinstance(artifact, dict) or artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = (artifact.get("properties") or {}).get("templateFile")
        if not isinstance(template, str) or ".." in PurePosixPath(template).parts:
            continue
        stack = artifact.get("displayName") or name
        designs.append(Design(f"{folder}/{stack}", (f"{folder}/{template}",), template))
    return designs


def _kind(tree: Tree, path: str) -> str | None:
    lower = path.lower()
    if lower.endswith(_DRAWIO_SUFFIXES):
        return "drawio"
    suffix = PurePosixPath(lower).suffix
    if suffix in (".mmd", ".mermaid"):
        return "mermaid"
    if suffix not in (".md", ".markdown", ".xml", ".yaml", ".yml", ".json", ".template"):
        return None
    head = tree.read(path)[:_SNIFF]
    if suffix in (".md", ".markdown"):
        return "mermaid" if _MERMAID_FENCE.search(head) else None
    if suffix == ".xml":
        return "drawio" if _DRAWIO_XML.search(head) else None
    return "cloudformation" if _CFN_TOP.search(head) and _CFN_TYPE.search(head) else None


def discover(tree: Tree) -> tuple[list[Design], list[ReviewErrorJSON]]:
    """Return the designs in ``tree`` and the files that could not be read, by path.

    Terraform files are grouped by folder (one module, one design); a CDK cloud assembly
    (``cdk.out/manifest.json``) gives one design per stack, and its other files are skipped.
    """
    designs: list[Design] = []
    errors: list[ReviewErrorJSON] = []
    files = tree.files()
    assemblies = [p for p in files if PurePosixPath(p).parts[-2:] == ("cdk.out", "manifest.json")]
    for manifest in assemblies:
        try:
            designs += _cdk_stacks(tree, manifest)
        except InputError as exc:
            errors.append({"path": manifest, "error": str(exc)})
    modules: dict[str, list[str]] = {}
    for path in files:
        if "cdk.out" in PurePosixPath(path).parts[:-1]:
            continue
        if path.endswith(".tf"):
            modules.setdefault(path.rpartition("/")[0], []).append(path)
            continue
        try:
            kind = _kind(tree, path)
        except InputError as exc:
            errors.append({"path": path, "error": str(exc)})
            continue
        if kind:
            designs.append(Design(path, (path,), PurePosixPath(path).name))
    for folder, tf_files in modules.items():
        designs.append(Design(folder or ".", tuple(tf_files), "main.tf"))
    return sorted(designs, key=lambda d: d.path), errors
