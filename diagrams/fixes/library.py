"""The remediation templates, kept as data: remedies.yaml (CloudFormation) and terraform.yaml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

_FILES = {"cloudformation": "remedies.yaml", "terraform": "terraform.yaml"}
FORMATS = tuple(_FILES)
"""The formats lenswise patches."""


@lru_cache(maxsize=2)
def remedies(fmt: str = "cloudformation") -> dict[str, Any]:
    """Return the remediation templates of a format by bp id (shared ones share the object).

    Keys that are not bp ids hold building blocks the patchers add when a wire needs them.
    """
    path = Path(__file__).with_name(_FILES[fmt])
    return YAML().load(path.read_text(encoding="utf-8"))
