"""Service recognition: shape names, icon titles, labels and IaC resource types to service slugs.

The vocabulary lives in ``catalog.yaml`` (data); this module only normalises text and looks it up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from corpus.services import SERVICES

CATALOG_FILE = Path(__file__).with_name("catalog.yaml")
_ID_WORDS = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
"""Word breaks inside an identifier, after a digit too (``BedrockS3Policy``)."""
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_SHAPE_PREFIX = re.compile(r"^(?:mxgraph\.)?(?:aws\d*|aws4|aws3d?)\.", re.IGNORECASE)
_GROUP_WORDS = (  # (words in a group icon name or label, group kind, service slug)
    ("security group", "security-group", None),
    ("subnet", "subnet", None),
    ("vpc", "vpc", "vpc"),
    ("virtual private cloud", "vpc", "vpc"),
    ("availability zone", "availability-zone", None),
    ("region", "region", None),
    ("account", "account", None),
    ("aws cloud", "cloud", None),
    ("auto scaling", "cluster", "auto-scaling"),
    ("step functions", "cluster", "step-functions"),
    ("ec2 instance contents", "cluster", "ec2"),
    ("spot fleet", "cluster", "ec2"),
)
_REGION_CODE = re.compile(r"\b(?:us|eu|ap|ca|sa|me|af|il|mx)(?:-gov)?-[a-z]+-\d\b")
_VENDOR_WORDS = {"amazon", "aws", "arch", "res", "icon", "architecture", "light", "dark"}


@dataclass(frozen=True)
class Match:
    """A service phrase found in some text."""

    slug: str
    phrase: str
    start: int
    """Word offset of the phrase in the normalised text."""
    words: int
    """Number of words in the normalised text (for judging how much of it the phrase covers)."""
    variant: str = ""
    """The normalised text the phrase was found in."""

    @property
    def size(self) -> int:
        """Return the phrase length in words."""
        return len(self.phrase.split())


@lru_cache(maxsize=1)
def _data() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
    data = yaml.load(CATALOG_FILE.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    for table in ("aliases", "shape_aliases", "refine", "refine_phrases"):
        unknown = set(data[table]) - set(SERVICES)
        if unknown:
            raise ValueError(f"catalog.yaml {table} names unknown slugs: {sorted(unknown)}")
    return data


def _pattern(phrases: dict[str, str]) -> re.Pattern[str]:
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(p) for p in ordered) + r")\b")


@lru_cache(maxsize=2)
def _phrase_table(shape: bool) -> tuple[dict[str, str], re.Pattern[str]]:
    data = _data()
    table: dict[str, str] = {}
    sources = [data["aliases"]] + ([data["shape_aliases"]] if shape else [])
    for source in sources:
        for slug, phrases in source.items():
            for phrase in phrases:
                table.setdefault(normalize(phrase), slug)
    return table, _pattern(table)


@lru_cache(maxsize=1)
def _actor_pattern() -> re.Pattern[str]:
    return _pattern({normalize(p): "actor" for p in _data()["actors"]})


def normalize(text: str) -> str:
    """Return ``text`` lowercased with every run of non-alphanumerics turned into one space."""
    return _NON_WORD.sub(" ", text.lower()).strip()


def _variants(text: str) -> list[str]:
    plain = normalize(text)
    split = normalize(_CAMEL.sub(" ", text))
    return [plain] if split == plain else [plain, split]


def _matches(text: str, shape: bool):
    table, pattern = _phrase_table(shape)
    for variant in _variants(text):
        words = variant.split()
        offsets = [m.start() for m in re.finditer(r"\S+", variant)]
        for start, offset in enumerate(offsets):
            found = pattern.match(variant, offset)
            if found is not None:
                phrase = found.group(1)
                yield Match(table[phrase], phrase, start, len(words), variant)


def match_text(text: str, *, shape: bool = False) -> Match | None:
    """Find the most specific service phrase in ``text``.

    Args:
        text: a label, icon title, image name or shape name.
        shape: also trust generic icon words such as ``bucket`` or ``queue``.

    Returns:
        The longest phrase match (earliest on ties), or None.
    """
    best: Match | None = None
    for candidate in _matches(text, shape):
        if best is None or (candidate.size, -candidate.start) > (best.size, -best.start):
            best = candidate
    return best


def mentioned(text: str) -> set[str]:
    """Return every slug whose phrase appears anywhere in ``text``."""
    return {m.slug for m in _matches(text, False)}


def suffix_match(name: str) -> Match | None:
    """Return the match of an identifier ending in a kind noun (``EC2Role``, ``KbPolicy``)."""
    words = normalize(_ID_WORDS.sub(" ", name)).split()
    suffix = _data()["suffix_nouns"].get(words[-1]) if len(words) > 1 else None
    return Match(suffix, words[-1], len(words) - 1, len(words)) if suffix else None


def names_service(text: str, *, strict: bool = False) -> Match | None:
    """Return the match when ``text`` is essentially a service name, not prose that mentions one.

    ``Amazon Bedrock``, ``Bedrock (Claude 3)`` and ``S3 bucket: documents`` name a service;
    ``Lambda that calls Bedrock`` does not name Bedrock. With ``strict``, a short label that
    merely starts with a service word (``BDA results``) does not count either.
    """
    words = normalize(text).split()
    suffix = _data()["suffix_nouns"].get(words[-1]) if words else None
    if suffix and len(words) > 1:
        return Match(suffix, words[-1], len(words) - 1, len(words))
    match = match_text(text)
    if match is None:
        return None
    words = match.variant.split()
    core = [w for w in words if w not in _VENDOR_WORDS]
    leading = words[: match.start]
    if not all(w in _VENDOR_WORDS for w in leading):
        return None
    if leading or match.size * 2 > len(core):
        return match
    return match if len(core) <= 3 and not strict else None


def group_kind(text: str) -> tuple[str, str | None] | None:
    """Return (group kind, service slug or None) for a boundary's icon name or label, or None."""
    words = f" {normalize(text)} "
    for phrase, kind, slug in _GROUP_WORDS:
        if f" {phrase} " in words:
            return kind, slug
    if _REGION_CODE.search(text.lower()):
        return "region", None
    return None


def is_actor(text: str) -> bool:
    """Return True when ``text`` names a person, a client or the internet rather than a service."""
    norm = normalize(text)
    return bool(norm) and len(norm.split()) <= 4 and _actor_pattern().search(norm) is not None


def shape_words(name: str) -> str:
    """Turn ``mxgraph.aws4.api_gateway`` (or an icon file name) into plain words."""
    name = _SHAPE_PREFIX.sub("", name.strip())
    return re.sub(r"\b\d+\b", " ", normalize(name)).strip()


@lru_cache(maxsize=4096)
def from_shape(name: str) -> str | None:
    """Return the slug named by a draw.io shape or icon name, or None."""
    match = match_text(shape_words(name), shape=True)
    return match.slug if match else None


def refines(icon_slug: str | None, label_slug: str) -> bool:
    """Return True when ``label_slug`` is a more specific member of ``icon_slug``'s family."""
    return bool(icon_slug) and label_slug in (_data()["refine"].get(icon_slug) or [])


def refine_by_phrase(icon_slug: str | None, text: str) -> str | None:
    """Return the specific family member that ``text`` names on an icon of ``icon_slug``."""
    family = _data()["refine"].get(icon_slug or "") or []
    if not family or not text:
        return None
    words = f" {normalize(text)} "
    best: tuple[int, str] | None = None
    for slug in family:
        for phrase in _data()["refine_phrases"].get(slug, []):
            if f" {phrase} " in words and (best is None or len(phrase) > best[0]):
                best = (len(phrase), slug)
    return best[1] if best else None


def _by_prefix(table: dict[str, str], key: str) -> str | None:
    hits = [prefix for prefix in table if key.startswith(prefix)]
    return table[max(hits, key=len)] if hits else None


def from_cloudformation_type(resource_type: str) -> str | None:
    """Return the slug for a CloudFormation/SAM type such as ``AWS::Lambda::Function``."""
    table = _data()["cloudformation"]
    return table.get(resource_type) or _by_prefix(table, resource_type)


def from_terraform_type(resource_type: str) -> str | None:
    """Return the slug for a Terraform resource type such as ``aws_lambda_function``."""
    return _by_prefix(_data()["terraform"], resource_type)


def from_terraform_module(source: str, name: str = "") -> str | None:
    """Return the slug a Terraform module stands for, from its source (or its name)."""
    table = _data()["terraform_modules"]
    for text in (source.lower(), name.lower().replace("_", "-")):
        hits = [key for key in table if key in text]
        if hits:
            return table[max(hits, key=len)]
    return None
