"""Reading Terraform text without a full HCL parser: block spans and declared names.

The patchers edit the file as text so that everything they do not touch stays byte for byte;
these helpers find where a block starts and ends, skipping strings and comments.
"""

from __future__ import annotations

import re

from diagrams.fixes.cfn_patch import Unpatchable

DECLARED = re.compile(r'^\s*(resource|data)\s+"([\w-]+)"\s+"([\w-]+)"', re.MULTILINE)
"""``resource|data "type" "name"`` headers."""


def block_span(text: str, rtype: str, name: str, kind: str = "resource") -> tuple[int, int]:
    """Return (start, index of the closing brace) of ``kind "rtype" "name" { ... }``.

    Raises:
        Unpatchable: the block is missing or its braces cannot be matched safely.
    """
    header = re.search(rf'^[ \t]*{kind}\s+"{rtype}"\s+"{name}"\s*\{{', text, re.MULTILINE)
    if header is None:
        raise Unpatchable(f"cannot find {kind} {rtype}.{name} in the file")
    depth, i = 1, header.end()
    while i < len(text):
        char = text[i]
        if char == '"':
            i = string_end(text, i)
        elif char == "#" or text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif text.startswith("<<", i):
            raise Unpatchable(f"{rtype}.{name} holds a heredoc, which lenswise does not edit")
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return header.start(), i
        i += 1
    raise Unpatchable(f"the braces of {rtype}.{name} do not balance")


def string_end(text: str, start: int) -> int:
    """Return the index of the quote that closes the string opening at ``start``."""
    i, depth = start + 1, 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}" and depth:
            depth -= 1
        elif text[i] == '"' and not depth:
            return i
        elif text[i] == "\n" and not depth:
            break
        i += 1
    raise Unpatchable("a string in the file does not close on its line")


def declared_blocks(text: str) -> set[tuple[str, str, str]]:
    """Return (kind, type, name) of every resource and data block of ``text``."""
    return {(m.group(1), m.group(2), m.group(3)) for m in DECLARED.finditer(text)}
