"""Parse the body of one lens page written in markdown into sections and facts.

Shared by every loader that reads lens markdown (the crawl layout and the docs site's
``.md`` twins): headings (``##``/``###``) and bold lead-ins (``**Desired outcome:**``)
start sections; links are reduced to their text; the risk line and source URL are facts.
"""

from __future__ import annotations

import re

from corpus.models import Section

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_BOLD_LEAD = re.compile(r"^\*\*([^*]{3,90}?):?\*\*:?\s*(.*)$")
_HEADING = re.compile(r"^(#{2,4})\s+(.*?)\s*#*\s*$")
_SOURCE = re.compile(r"^\*Source:\s*(\S+?)\*\s*$")
_RISK = re.compile(r"\b(High|Medium|Low)\b")

SECTION_PREFIXES: tuple[tuple[str, str], ...] = (
    ("desired outcome", "Desired outcome"),
    ("benefits of", "Benefits"),
    ("common anti-patterns", "Anti-patterns"),
    ("level of risk", "Level of risk"),
    ("implementation guidance", "Implementation guidance"),
    ("implementation steps", "Implementation steps"),
    ("resources", "Resources"),
    ("related ", "Resources"),
)


def clean_inline(text: str) -> str:
    """Drop markdown link targets, emphasis markers and HTML-ish noise from one line."""
    text = _LINK.sub(r"\1", text)
    text = text.replace("**", "").replace("`", "")
    return re.sub(r"\s+", " ", text).strip()


def section_name(heading: str) -> str | None:
    """Return the canonical section name for a known heading or bold lead-in, else None."""
    key = re.sub(r"[^a-z -]", "", heading.lower()).strip()
    return next((name for prefix, name in SECTION_PREFIXES if key.startswith(prefix)), None)


def _join(lines: list[str]) -> str:
    """Join wrapped markdown lines into paragraphs, keeping list items on their own lines."""
    out: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line or line == "---":
            out.append("")
            continue
        item = re.match(r"^([-*+]|\d+\.)\s+(.*)$", line)
        if item:
            out.append("- " + item.group(2))
        elif out and out[-1]:
            out[-1] += " " + line
        else:
            out.append(line)
    text = "\n".join(clean_inline(para) if para else "" for para in out)
    return re.sub(r"\n{2,}", "\n\n", text).strip()


def parse_page_body(lines: list[str]) -> tuple[list[Section], str | None, str | None]:
    """Split a page body into sections; return ``(sections, risk, source_url)``.

    Text before the first heading is the ``Overview``. Bold lead-ins spanning several wrapped
    lines (a heading wrapped after "best" and continued on the next line) are recognised.
    """
    sections: list[Section] = []
    heading, buf = "Overview", []
    risk: str | None = None
    url: str | None = None
    joined = _merge_bold_leads(lines)
    for line in joined:
        stripped = line.strip()
        src = _SOURCE.match(stripped)
        if src:
            url = src.group(1)
            continue
        head = _HEADING.match(stripped)
        bold = _BOLD_LEAD.match(stripped) if not head else None
        new_heading = None
        rest = ""
        if head:
            heading_text = clean_inline(head.group(2))
            new_heading = section_name(heading_text) or heading_text.rstrip(":")
        elif bold and section_name(bold.group(1)):
            new_heading, rest = section_name(bold.group(1)), bold.group(2)
        if new_heading is None:
            buf.append(line)
            continue
        _flush(sections, heading, buf)
        heading, buf = new_heading, [rest] if rest else []
    _flush(sections, heading, buf)
    for section in sections:
        if section.heading == "Level of risk":
            found = _RISK.search(section.text)
            risk = found.group(1) if found else None
    merged = _merge_same_headings(sections)
    return [s for s in merged if s.heading != "Level of risk"], risk, url


def _merge_bold_leads(lines: list[str]) -> list[str]:
    """Re-join ``**...**`` lead-ins that the crawl wrapped over several lines."""
    out: list[str] = []
    pending: str | None = None
    for line in lines:
        if pending is not None:
            pending += " " + line.strip()
            if pending.count("**") >= 2:
                out.append(pending)
                pending = None
            continue
        if line.strip().startswith("**") and line.count("**") == 1:
            pending = line.strip()
        else:
            out.append(line)
    if pending is not None:
        out.append(pending)
    return out


def _flush(sections: list[Section], heading: str, buf: list[str]) -> None:
    text = _join(buf)
    if text:
        sections.append(Section(heading, text))


def _merge_same_headings(sections: list[Section]) -> list[Section]:
    merged: list[Section] = []
    for section in sections:
        if merged and merged[-1].heading == section.heading:
            merged[-1] = Section(section.heading, merged[-1].text + "\n" + section.text)
        else:
            merged.append(section)
    return merged
