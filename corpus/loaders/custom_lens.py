"""Load Well-Architected Tool custom-lens JSON, the format AWS customers write their lenses in.

A custom lens has ``schemaVersion``, ``name``, ``description`` and ``pillars`` -> ``questions``
-> ``choices`` (each with ``helpfulResource`` and ``improvementPlan``), and per question
``riskRules`` whose conditions are boolean expressions over choice ids. Mapping:

- lens = slug of the lens name; pillar = the Framework pillar when the pillar's name or id
  names one (typos tolerated), else the lens's own pillar name;
- every question is a question document; every choice except "None of these" is a
  best-practice document with ``bp_id`` ``<questionId>-<choiceId>`` (just the choice id when
  it already starts with the question id);
- risk of a choice = the risk rule that fires when every other choice is selected and this
  one is not (rules tried in file order, ``default`` last); no risk -> None.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, TypedDict

from corpus.errors import InputError
from corpus.loaders.wa_json import read_json
from corpus.models import Corpus, Document, Section
from corpus.vocabulary import PILLAR_ABBREVIATIONS, PILLARS

_RISKS = {"HIGH_RISK": "High", "MEDIUM_RISK": "Medium", "LOW_RISK": "Low", "NO_RISK": None}
# Pillar ids seen in custom lenses: "SEC", "docdb_sec", "waf_ec_1_ops", "costOptimization".
_PILLAR_ID_WORDS = {
    "operationalexcellence": "Operational Excellence",
    "security": "Security",
    "reliability": "Reliability",
    "performance": "Performance Efficiency",
    "performanceefficiency": "Performance Efficiency",
    "costoptimization": "Cost Optimization",
    "sustainability": "Sustainability",
}
_NONE_CHOICE = re.compile(r"^none of (these|the above)\b", re.I)
_TOKEN = re.compile(r"\s*(&&|\|\||!|\(|\)|[^\s&|!()]+)")


def sniff(path: Path) -> bool:
    """Return True for a custom-lens JSON file, or a folder holding some (one level deep)."""
    try:
        if path.is_file():
            return _sniff_file(path)
        if path.is_dir():
            return any(_sniff_file(f) for f in _json_files(path)[:40])
    except OSError:
        return False
    return False


def load(path: Path) -> Corpus:
    """Load one custom lens, or every custom lens in a folder and its subfolders.

    Raises:
        InputError: malformed JSON, or JSON that is not a custom lens.
    """
    files = [path] if path.is_file() else [f for f in _json_files(path) if _sniff_file(f)]
    if not files:
        raise InputError(f"no Well-Architected custom-lens JSON files in {path}")
    documents: list[Document] = []
    names: list[str] = []
    for file in files:
        lens = _check(read_json(file), file)
        names.append(str(lens["name"]).strip())
        documents.extend(_lens_documents(lens, file))
    return Corpus(source=str(path), documents=documents, name="; ".join(names))


def choice_risk(rules: list[dict], selected: set[str]) -> str | None:
    """Return the risk the rules give for ``selected`` choice ids (High/Medium/Low or None).

    Raises:
        ValueError: a rule's condition is not a valid expression.
    """
    fallback = None
    for rule in rules:
        condition = str(rule.get("condition", "")).strip()
        risk = str(rule.get("risk", "")).upper()
        if condition == "default":
            fallback = _RISKS.get(risk)
        elif _evaluate(condition, selected):
            return _RISKS.get(risk)
    return fallback


# -- documents ------------------------------------------------------------------------------


def _lens_documents(lens: dict, file: Path) -> list[Document]:
    """Turn one custom lens into its overview, question and choice documents."""
    slug = _slug(str(lens["name"]))
    documents = [
        Document(
            lens=slug,
            source=str(file),
            doc_id=slug,
            title=str(lens["name"]).strip(),
            url="",
            sections=_sections(("Overview", lens.get("description"))),
        )
    ]
    for pillar in lens["pillars"]:
        pillar_name = _pillar(pillar)
        for question in pillar.get("questions") or []:
            qid = str(question.get("id", "")).strip()
            qtitle = str(question.get("title", "")).strip()
            if not qid or not qtitle:
                raise InputError(f"{file}: a question of pillar '{pillar_name}' has no id or title")
            common = _Question(
                lens=slug,
                source=str(file),
                pillar=pillar_name,
                question_id=qid,
                question_title=qtitle,
            )
            documents.append(
                Document(
                    **common,
                    doc_id=qid,
                    title=qtitle,
                    url=_url(question.get("helpfulResource")) or str(question.get("url") or ""),
                    sections=_sections(
                        ("Question", qtitle),
                        ("Overview", question.get("description")),
                        ("Resources", _resource_text(question.get("helpfulResource"))),
                    ),
                )
            )
            documents.extend(_choice_documents(question, common, file))
    return documents


class _Question(TypedDict):
    """The fields a question's document and its choices' documents share."""

    lens: str
    source: str
    pillar: str
    question_id: str
    question_title: str


def _choice_documents(question: dict, common: _Question, file: Path) -> list[Document]:
    """Return one best-practice-like document per real choice of a question."""
    qid = common["question_id"]
    choices = [c for c in question.get("choices") or [] if isinstance(c, dict) and c.get("id")]
    real = [c for c in choices if not _NONE_CHOICE.match(str(c.get("title", "")).strip())]
    all_ids = {str(c["id"]) for c in real}
    documents = []
    for choice in real:
        cid = str(choice["id"])
        try:
            risk = choice_risk(question.get("riskRules") or [], all_ids - {cid})
        except ValueError:
            risk = None  # an expression we cannot read: the risk is not derivable
        helpful, plan = choice.get("helpfulResource"), choice.get("improvementPlan")
        resources = [_resource_text(helpful), _resource_text(plan)]
        resources += [_resource_text(r) for r in _additional(choice)]
        bp_id = cid if cid.startswith(qid) else f"{qid}-{cid}"
        documents.append(
            Document(
                **common,
                doc_id=bp_id,
                bp_id=bp_id,
                title=str(choice.get("title") or cid).strip(),
                url=_url(helpful) or _url(plan),
                risk=risk,
                sections=_sections(
                    ("Overview", "\n\n".join(_texts(choice.get("description"), helpful))),
                    ("Implementation guidance", "\n\n".join(_texts(plan))),
                    ("Resources", "\n".join(r for r in resources if r)),
                ),
            )
        )
    return documents


def _sections(*parts: tuple[str, object]) -> tuple[Section, ...]:
    """Return the non-empty parts as sections."""
    return tuple(Section(h, str(t).strip()) for h, t in parts if t and str(t).strip())


def _texts(*values: object) -> list[str]:
    """Return the display texts of strings and ``{displayText}`` objects."""
    out = []
    for value in values:
        text = value.get("displayText") if isinstance(value, dict) else value
        if isinstance(text, str) and text.strip():
            out.append(text.strip())
    return out


def _url(resource: object) -> str:
    """Return the URL of a ``helpfulResource`` / ``improvementPlan`` object (``url`` or ``Url``)."""
    if not isinstance(resource, dict):
        return ""
    return str(resource.get("url") or resource.get("Url") or "").strip()


def _resource_text(resource: object) -> str:
    """Return ``- title: url`` for a resource that has a URL, else ''."""
    url = _url(resource)
    if not url:
        return ""
    label = resource.get("displayText", "") if isinstance(resource, dict) else ""
    label = str(label).strip()
    return f"- {label}: {url}" if label and len(label) < 160 else f"- {url}"


def _additional(choice: dict) -> list[dict]:
    """Return the link objects of a choice's ``additionalResources`` blocks."""
    blocks = choice.get("additionalResources") or []
    return [
        item
        for block in blocks
        if isinstance(block, dict)
        for item in block.get("content") or []
        if isinstance(item, dict)
    ]


def _pillar(pillar: dict) -> str:
    """Return the Framework pillar a custom pillar stands for, else its own name."""
    name = str(pillar.get("name") or pillar.get("id") or "").strip()
    exact = {p.lower(): p for p in PILLARS}
    if name.lower() in exact:
        return exact[name.lower()]
    close = difflib.get_close_matches(name.title(), PILLARS, n=1, cutoff=0.85)
    if close:
        return close[0]
    key = re.sub(r"[^a-z]", "", str(pillar.get("id") or "").lower())
    if key in _PILLAR_ID_WORDS:
        return _PILLAR_ID_WORDS[key]
    ending = next((e for e in PILLAR_ABBREVIATIONS if key.endswith(e)), None)
    return PILLAR_ABBREVIATIONS[ending] if ending else name


# -- risk rules -----------------------------------------------------------------------------


def _evaluate(condition: str, selected: set[str]) -> bool:
    """Evaluate ``a && (!b || c)`` over the selected choice ids.

    Raises:
        ValueError: the expression is malformed.
    """
    tokens = _TOKEN.findall(condition)
    if "".join(tokens) != re.sub(r"\s+", "", condition):
        raise ValueError(f"unreadable condition: {condition}")
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise ValueError(f"incomplete condition: {condition}")
        position += 1
        return tokens[position - 1]

    def either() -> bool:
        value = both()
        while peek() == "||":
            take()
            value = both() or value
        return value

    def both() -> bool:
        value = unary()
        while peek() == "&&":
            take()
            value = unary() and value
        return value

    def unary() -> bool:
        token = take()
        if token == "!":
            return not unary()
        if token == "(":
            value = either()
            if take() != ")":
                raise ValueError(f"unbalanced parentheses: {condition}")
            return value
        if token in ("&&", "||", ")"):
            raise ValueError(f"unexpected '{token}' in: {condition}")
        return token in selected

    result = either()
    if position != len(tokens):
        raise ValueError(f"trailing tokens in: {condition}")
    return result


# -- files ----------------------------------------------------------------------------------


def _json_files(folder: Path) -> list[Path]:
    """Return the ``*.json`` files of a folder and of its immediate subfolders."""
    return sorted([*folder.glob("*.json"), *folder.glob("*/*.json")])


def _sniff_file(path: Path) -> bool:
    """Tell a custom lens (or a malformed JSON file, so its error can be shown) cheaply."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    with path.open(encoding="utf-8", errors="replace") as handle:
        head = handle.read(8192)
    if re.match(r"^\ufeff?\s*\{", head) and '"schemaVersion"' in head:
        return True
    if re.match(r"^\ufeff?\s*\{", head) and '"pillars"' in head and '"name"' in head:
        return True
    # No loader reads a broken .json file: claim it so load() names the file and line.
    if path.stat().st_size > 20_000_000:
        return False
    try:
        read_json(path)
    except InputError:
        return True
    return False


def _check(lens: object, file: Path) -> dict[str, Any]:
    """Return ``lens`` if it has the custom-lens top-level shape, else raise :class:`InputError`.

    The pillars, questions and risk rules are checked too; other fields are read defensively.
    """
    if not isinstance(lens, dict) or not isinstance(lens.get("pillars"), list):
        raise InputError(f"{file}: not a Well-Architected custom lens (no 'pillars' list)")
    if not str(lens.get("name") or "").strip():
        raise InputError(f"{file}: custom lens has no 'name'")
    for pillar in lens["pillars"]:
        if not isinstance(pillar, dict) or not isinstance(pillar.get("questions", []), list):
            raise InputError(f"{file}: a pillar is not an object with a 'questions' list")
        for number, question in enumerate(pillar.get("questions") or [], 1):
            where = f"{file}: question {number} of pillar '{pillar.get('name', '?')}'"
            if not isinstance(question, dict):
                raise InputError(f"{where} is not an object")
            rules = question.get("riskRules") or []
            if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
                raise InputError(f"{where}: 'riskRules' is not a list of objects")
    return lens


def _slug(name: str) -> str:
    """Return the lens slug of a lens name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "custom-lens"
