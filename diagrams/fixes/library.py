"""The remediation templates, kept as data: remedies.yaml (CloudFormation) and terraform.yaml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

_FILES = {"cloudformation": "remedies.yaml", "terraform": "terraform.yaml"}
FORMATS = tuple(_FILES)
"""The formats lenswise patches."""


def remedies(fmt: str = "cloudformation") -> dict[str, Any]:
    """Return the remediation templates of a format by bp id (shared ones share the object).

    Keys that are not bp ids hold building blocks the patchers add when a wire needs them.
    """
    return _loaded(fmt)


@lru_cache(maxsize=len(_FILES))
def _loaded(fmt: str) -> dict[str, Any]:
    """Read a format's file once.

    The engine tells remedies apart by identity, so every call must return the same object:
    ``remedies()`` and ``remedies("cloudformation")``, as cache keys of one function, differ,
    and with Terraform they evicted each other and the file was read again mid-run.
    """
    path = Path(__file__).with_name(_FILES[fmt])
    return YAML().load(path.read_text(encoding="utf-8"))
