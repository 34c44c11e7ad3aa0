"""Hand labels behind the status-accuracy figures (issue 24) load as ``label_figures`` reads them.

``label_figures`` treats any practice it cannot find in a file's labels as ``unknown``, so a
mistyped id or status would silently lower the figures instead of failing. These checks catch that.
"""

from __future__ import annotations

import pytest
import yaml

from corpus.loaders.builtin import digest_practices
from evals.bench_fixes import LABELS, SHARED

STATUSES = {"addressed", "gap", "unknown"}


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    return yaml.safe_load(LABELS.read_text(encoding="utf-8"))["files"]


def test_each_file_is_labelled_once(entries):
    names = [entry["file"] for entry in entries]
    assert len(names) == len(set(names))


def test_labels_use_lens_ids_and_known_statuses(entries):
    ids = set(digest_practices())
    for entry in entries:
        labels = entry.get("labels") or {}
        assert set(labels) <= ids, entry["file"]
        assert set(labels.values()) <= STATUSES, entry["file"]
        assert isinstance(entry.get("whole"), bool), entry["file"]


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/diagrams absent")
def test_labelled_files_are_in_the_shared_folder(entries):
    assert [e["file"] for e in entries if not (SHARED / e["file"]).is_file()] == []
