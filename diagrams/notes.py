"""Text that marks annotation in any diagram format: step numbers and legend titles."""

from __future__ import annotations

import re

_STEP = re.compile(r"\(?[0-9]{1,3}[a-zA-Z]?[.)]?")
_LEGEND_TITLE = re.compile(r"^\s*(legend|key)\b", re.IGNORECASE)


def step_of(label: str) -> str:
    """Return the step number a label that is only a number stands for (``(3)`` -> ``3``).

    Returns '' when the label is anything else.
    """
    text = label.strip()
    return text.strip("().") if _STEP.fullmatch(text) else ""


def is_legend_title(label: str) -> bool:
    """Return True when a box's or subgraph's title says it is a legend (``Legend``, ``Key``)."""
    return bool(_LEGEND_TITLE.match(label))
