"""Read IaC JSON (CloudFormation, ``.tf.json``) so that every valid JSON document loads cleanly."""

from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE = re.compile("[\ud800-\udfff]")


def _int_or_text(text: str) -> int | str:
    """Return ``text`` as an int, or as the text itself past Python's digit limit (4,300)."""
    try:
        return int(text)
    except ValueError:
        return text


def load_json(text: str) -> Any:
    r"""Parse JSON ``text``; huge integers stay text and lone surrogates become U+FFFD.

    JSON allows both, but a 5,000-digit int cannot be made (Python caps int parsing) and a lone
    ``\ud800`` escape cannot be written out as UTF-8 by any later report.

    Raises:
        json.JSONDecodeError: the text is not JSON.
    """
    doc = json.loads(text, parse_int=_int_or_text)
    if _SURROGATE.search(text):
        # json.loads joins valid pairs, so every surrogate left in the text stands alone.
        text = _LONE.sub("\ufffd", json.dumps(doc, ensure_ascii=False))
        doc = json.loads(text, parse_int=_int_or_text)
    return doc
