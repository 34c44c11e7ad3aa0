"""Resolve a ``--source`` value (builtin, fetched, or a path) to a loaded :class:`Corpus`."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from corpus.errors import InputError
from corpus.models import Corpus

# Tried in order for a local path; the first whose ``sniff`` accepts the path loads it.
PATH_LOADERS = (
    "corpus.loaders.builtin",
    "corpus.loaders.lens_markdown",
    "corpus.loaders.wa_json",
    "corpus.loaders.custom_lens",
    "corpus.loaders.docs_pages",
    "corpus.loaders.pdf",
)


def fetched_dir(home: Path, lens: str = "generative-ai") -> Path:
    """Return the cache folder that ``lenswise corpus fetch`` fills for ``lens``."""
    return home / "fetched" / lens


def load_source(source: str, *, home: Path, lens: str = "generative-ai") -> Corpus:
    """Load the corpus named by ``source``.

    Args:
        source: ``builtin``, ``fetched`` or a path to a file or folder of lens material.
        home: the lenswise home folder (holds the fetched-page cache).
        lens: lens slug for ``fetched`` and for folders that hold several lenses.

    Raises:
        InputError: the source is missing, empty, or in no format lenswise reads.
    """
    if source == "builtin":
        builtin = import_module("corpus.loaders.builtin")
        corpus = builtin.load(builtin.BUILTIN_DIR)
        corpus.source = "builtin"
        return corpus
    if source == "fetched":
        folder = fetched_dir(home, lens)
        if not folder.is_dir() or not any(folder.iterdir()):
            raise InputError(
                f"no fetched pages for lens '{lens}' in {folder}: run 'lenswise corpus fetch' first"
            )
        corpus = import_module("corpus.loaders.docs_pages").load(folder)
        corpus.source = "fetched"
        return corpus
    path = Path(source).expanduser()
    if not path.exists():
        raise InputError(f"source not found: {source} (use builtin, fetched, or a path)")
    if path.is_dir() and not any(path.iterdir()):
        raise InputError(f"source folder is empty: {source}")
    for name in PATH_LOADERS:
        module = import_module(name)
        if module.sniff(path):
            corpus = module.load(path)
            if not corpus.documents:
                raise InputError(f"no lens pages found in {source}")
            return corpus
    raise InputError(
        f"{source} is not a lens source lenswise can read (expected lens markdown, "
        "lens JSON, Well-Architected custom-lens JSON, docs pages .md/.html, or a PDF)"
    )
