"""Review an architecture graph against the lens: one finding per best practice, by rule table."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from corpus.models import Document
from corpus.vocabulary import PILLARS, risk_rank
from diagrams import derived, iac_path
from diagrams.contracts import (
    CountsJSON,
    CoverageJSON,
    DiagramJSON,
    FindingJSON,
    ReviewJSON,
    Status,
)
from diagrams.matchers import Edges, Facts, Formats, Groups, Labels, Matcher, Services
from diagrams.model import Architecture, Component
from diagrams.rules import Rule, RuleBook, load_rules

_MAX_EVIDENCE = 20


@dataclass
class Finding:
    """The review's verdict on one best practice."""

    bp_id: str
    title: str
    pillar: str
    risk: str
    status: Status
    """``addressed``, ``gap`` or ``unknown``."""
    evidence: list[str] = field(default_factory=list)
    """Ids of the components that support the status."""
    explanation: str = ""
    """Why this status, in one or two plain sentences (unknown ones end with the question)."""
    url: str = ""
    question: str = ""
    """What to ask the team (kept apart for the report; already part of unknown explanations)."""
    resource: list[str] = field(default_factory=list)
    """Ids of the declared resources to change for a gap (callers of an implicit service)."""
    fix: Any = None
    """The :class:`diagrams.fixes.Fix` for a gap, when fixes were planned."""

    def to_dict(self) -> FindingJSON:
        """Return the ``review --json`` shape of this finding."""
        shape: FindingJSON = {
            "bp_id": self.bp_id,
            "title": self.title,
            "pillar": self.pillar,
            "risk": self.risk,
            "status": self.status,
            "evidence": self.evidence,
            "explanation": self.explanation,
            "url": self.url,
            "resource": self.resource,
        }
        if self.fix is not None:
            shape["fix"] = self.fix.to_dict()
        return shape


def counts(findings: list[Finding]) -> CountsJSON:
    """Return how many of ``findings`` have each status, and their total."""
    return {
        "addressed": sum(f.status == "addressed" for f in findings),
        "gap": sum(f.status == "gap" for f in findings),
        "unknown": sum(f.status == "unknown" for f in findings),
        "total": len(findings),
    }


@dataclass
class DiagramReview:
    """The review of one diagram (page) of a file that holds several."""

    name: str
    components: list[str]
    """Ids of the components drawn in this diagram."""
    services: list[str]
    statuses: dict[str, Status]
    """bp id -> status, for this diagram alone."""
    coverage: CountsJSON
    """Counts per status and the total (no per-pillar breakdown)."""

    def to_dict(self) -> DiagramJSON:
        """Return the ``diagrams`` entry of ``review --json``."""
        return {
            "name": self.name,
            "components": list(self.components),
            "services": list(self.services),
            "coverage": self.coverage,
            "findings": [{"bp_id": bp, "status": st} for bp, st in self.statuses.items()],
        }


@dataclass
class Review:
    """Findings for every best practice plus coverage counts, for one architecture.

    For a file with several diagrams, :attr:`findings` judge the combined view (every
    diagram together, repeated components merged) and :attr:`diagrams` each diagram alone.
    """

    architecture: Architecture
    findings: list[Finding]
    warnings: list[str] = field(default_factory=list)
    diagrams: list[DiagramReview] = field(default_factory=list)

    def by_status(self, status: str) -> list[Finding]:
        """Return the findings with ``status``, in lens order."""
        return [f for f in self.findings if f.status == status]

    def by_risk(self, status: str) -> list[Finding]:
        """Return the findings with ``status``, highest risk first, ties in lens order.

        This is the one order of "top gaps": the CLI, the UI, the report and the gap
        explanations list findings this way (the design summary adds reach within a risk).
        """
        return sorted(self.by_status(status), key=lambda f: risk_rank(f.risk))

    @property
    def coverage(self) -> CoverageJSON:
        """Return counts per status, overall and ``by_pillar``."""
        pillars = [p for p in PILLARS if any(f.pillar == p for f in self.findings)]
        pillars += sorted({f.pillar for f in self.findings} - set(pillars))
        by_pillar = {p: counts([f for f in self.findings if f.pillar == p]) for p in pillars}
        return {**counts(self.findings), "by_pillar": by_pillar}

    def to_dict(self) -> ReviewJSON:
        """Return the ``review --json`` document (DESIGN.md contract)."""
        graph = self.architecture.to_dict()
        return {
            "file": graph["file"],
            "format": graph["format"],
            "components": graph["components"],
            "edges": graph["edges"],
            "services": graph["services"],
            "findings": [f.to_dict() for f in self.findings],
            "coverage": self.coverage,
            "annotations": graph["annotations"],
            "diagrams": [d.to_dict() for d in self.diagrams],
            "warnings": list(self.warnings),
        }


@lru_cache(maxsize=1024)
def label_pattern(phrase: str) -> re.Pattern[str]:
    """Return the pattern of a rule label: whole words, or any ending after a trailing ``*``."""
    if phrase.endswith("*"):
        return re.compile(r"(?<![a-z0-9])" + re.escape(phrase[:-1]))
    return re.compile(r"(?<![a-z0-9])" + re.escape(phrase) + r"(?![a-z0-9])")


class _Index:
    """Lookups over one architecture that the matchers share."""

    def __init__(self, arch: Architecture) -> None:
        self.arch = arch
        self.comps = arch.components
        self.texts: list[tuple[list[str], str]] = [
            ([c.id], " ".join([c.label, *map(str, c.facts.get("hints", []))]).lower())
            for c in arch.components
        ]
        self.texts += [([e.source, e.target], e.label.lower()) for e in arch.edges if e.label]
        self.service = {c.id: c.service for c in arch.components}
        self.derived = derived.component_facts(arch)
        self._paths: dict[tuple[frozenset[str], frozenset[str]], derived.ModelPath | None] = {}

    def facts(self, comp: Component) -> dict[str, Any]:
        """Return the component's own facts plus those read from the graph around it."""
        return {**comp.facts, **self.derived.get(comp.id, {})}

    def path(self, targets: frozenset[str], doors: frozenset[str]) -> derived.ModelPath | None:
        """Return the path into ``targets`` through ``doors`` (None: cannot tell).

        A drawing shows it by arrows, a template by references between its resources.
        """
        if (targets, doors) not in self._paths:
            find = iac_path.model_path if self.arch.is_iac else derived.model_path
            self._paths[targets, doors] = find(self.arch, targets, doors)
        return self._paths[targets, doors]

    def match(self, matcher: Matcher) -> list[str] | None:
        """Return evidence ids when ``matcher`` hits (possibly empty), None when it misses."""
        hits: list[str] = []
        match matcher:
            case Services(services=slugs):
                hits = [c.id for c in self.comps if c.service in slugs]
            case Facts(facts=wanted):
                hits = [c.id for c in self.comps if _facts_match(self.facts(c), wanted)]
            case Labels(labels=phrases):
                hits = [
                    i
                    for ids, text in self.texts
                    if any(label_pattern(s).search(text) for s in phrases)
                    for i in ids
                ]
            case Edges(edges=pairs):
                for edge in self.arch.edges:
                    ends = (self.service.get(edge.source), self.service.get(edge.target))
                    if any(
                        ends[0] in a and ends[1] in b or ends[1] in a and ends[0] in b
                        for a, b in pairs
                    ):
                        hits += [edge.source, edge.target]
            case Groups(groups=minimums):
                return self._groups(minimums)
            case Formats(formats=formats):
                return [c.id for c in self.comps[:5]] if self.arch.format in formats else None
        return list(dict.fromkeys(hits)) or None

    def _groups(self, minimums: dict[str, int]) -> list[str] | None:
        chosen: set[str] = set()
        for kind, minimum in minimums.items():
            ids = {g.id for g in self.arch.groups if g.kind == kind}
            if len(ids) < minimum:
                return None
            chosen |= ids
        return [c.id for c in self.comps if c.group in chosen][:_MAX_EVIDENCE]


def _facts_match(facts: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(
        key in facts if value == "*" else facts.get(key, None) == value
        for key, value in wanted.items()
    )


def _names(ids: list[str], arch: Architecture, why: dict[str, str] | None = None) -> str:
    names = []
    for comp_id in ids:
        comp = arch.component(comp_id)
        name = (comp.name if comp else comp_id).strip()
        name = name if len(name) <= 48 else name[:45] + "..."
        names.append(f"{name} ({why[comp_id]})" if why and comp_id in why else name)
    unique = list(dict.fromkeys(names))
    shown = ", ".join(unique[:4])
    return shown + (f" and {len(unique) - 4} more" if len(unique) > 4 else "")


def _hits(matchers: tuple[Matcher, ...], index: _Index) -> tuple[bool, list[str]]:
    hit, evidence = False, []
    for matcher in matchers:
        found = index.match(matcher)
        if found is not None:
            hit, evidence = True, evidence + found
    return hit, list(dict.fromkeys(evidence))[:_MAX_EVIDENCE]


def _reasons(rule: Rule, ids: list[str], index: _Index, words: dict) -> dict[str, str]:
    reasons: dict[str, str] = {}
    for comp_id in ids:
        comp = index.arch.component(comp_id)
        facts = index.facts(comp) if comp else {}
        said = [
            words[key][value]
            for matcher in rule.gap
            if isinstance(matcher, Facts)
            for key, value in matcher.facts.items()
            if facts.get(key) == value and value in words.get(key, {})
        ]
        if said:
            reasons[comp_id] = "; ".join(dict.fromkeys(said))
    return reasons


def evaluate(rule: Rule, index: _Index, words: dict | None = None) -> tuple[Status, list[str], str]:
    """Apply one rule: return (status, evidence ids, explanation)."""
    arch = index.arch
    ask = f" {rule.question}" if rule.question else ""
    concerned = [
        c.id
        for c in arch.components
        if c.service in rule.concerns or any(index.facts(c).get(f) for f in rule.concern_facts)
    ]
    if (rule.concerns or rule.concern_facts) and not concerned:
        return (
            "unknown",
            [],
            (
                "No component that this practice is about appears in the design, "
                f"so it cannot be judged from it.{ask}"
            ),
        )
    gap_hit, gap_ev = _hits(rule.gap, index)
    ok_hit, ok_ev = _hits(rule.addressed, index)
    path = index.path(rule.concerns, rule.on_path) if rule.on_path else None
    if path is not None:
        gap_ev, ok_ev = [i for i in gap_ev if path.holds(i)], [i for i in ok_ev if path.holds(i)]
        gap_hit, ok_hit = bool(gap_ev), bool(ok_ev)
    if gap_hit:
        why = _reasons(rule, gap_ev, index, words or {})
        text = rule.gap_text.format(names=_names(gap_ev, arch, why))
        covered = [i for i in ok_ev if i not in gap_ev]
        if ok_hit and covered:
            text += f" Partly covered by {_names(covered, arch)}."
        return "gap", gap_ev, text
    if ok_hit:
        return (
            "addressed",
            ok_ev,
            rule.addressed_text.format(names=_names(ok_ev, arch) or arch.format),
        )
    weak_hit, weak_ev = _hits(rule.weak, index)
    if weak_hit and not arch.is_iac:  # in a template, a missing control is missing
        return "unknown", [], f"{rule.weak_text.format(names=_names(weak_ev, arch))}{ask}"
    required = [c.id for c in arch.components if c.service in rule.absent_requires]
    if path is not None:  # only an entry on the drawn path lets user input reach the model
        required = path.entries
        if rule.absent_requires and not required and path.off:
            doors = _names(path.off, arch)
            return (
                "unknown",
                [],
                f"The front doors drawn ({doors}) do not lead to the model in this design, so "
                f"they say nothing about this control on the way to it.{ask}",
            )
    drawn = {c.service for c in arch.components} | {g.kind for g in arch.groups}
    settable = _settable(rule, concerned, index) if rule.on_resource and arch.is_iac else []
    detailed = arch.is_whole_iac or bool(settable) or bool(rule.absent_when_drawn & drawn)
    if rule.absent == "gap-in-iac" and arch.part_of and not detailed:
        return (
            "unknown",
            [],
            (
                f"This file is {arch.part_of}, so a control that is missing here may be set up "
                f"elsewhere.{ask}"
            ),
        )
    counts = rule.absent == "gap" or rule.absent == "gap-in-iac" and detailed
    if counts and (not rule.absent_requires or required):
        evidence = (required or settable or concerned)[:_MAX_EVIDENCE]
        text = rule.absent_text or rule.gap_text
        return "gap", evidence, text.format(names=_names(evidence, arch))
    return "unknown", [], (rule.unknown_text + ask).strip()


def _settable(rule: Rule, concerned: list[str], index: _Index) -> list[str]:
    """Return the concerned resources that declare the setting the rule reads (even as off).

    A state machine reads ``tracing`` whether it is on or not; a knowledge base has no such
    setting, so a part of a deployment that declares only that cannot show tracing missing.
    """
    keys = {k for m in rule.addressed if isinstance(m, Facts) for k in m.facts}
    found = []
    for comp_id in concerned:
        comp = index.arch.component(comp_id)
        if comp and keys & set(index.facts(comp)):
            found.append(comp_id)
    return found


def _order(doc: Document) -> tuple[int, str]:
    pillar = doc.pillar or ""
    return (PILLARS.index(pillar) if pillar in PILLARS else len(PILLARS), doc.bp_id or "")


def review_architecture(
    arch: Architecture, practices: Mapping[str, Document], rules: RuleBook | None = None
) -> Review:
    """Review ``arch`` against every best practice in ``practices``.

    Args:
        arch: the parsed diagram or template.
        practices: best-practice documents keyed by bp id (title, pillar, risk, url).
        rules: the rule table; defaults to the shipped ``rules.yaml``.

    Returns:
        A :class:`Review` with one :class:`Finding` per practice, in lens order.
    """
    rules = rules or load_rules()
    review = _review(arch, practices, rules)
    names = arch.diagrams
    if len(names) > 1:
        for name in names:
            view = arch.view(name)
            alone = _review(view, practices, rules)
            review.diagrams.append(
                DiagramReview(
                    name,
                    [c.id for c in view.components],
                    view.services,
                    {f.bp_id: f.status for f in alone.findings},
                    counts(alone.findings),
                )
            )
    return review


def _review(arch: Architecture, practices: Mapping[str, Document], rules: RuleBook) -> Review:
    index = _Index(arch)
    findings: list[Finding] = []
    warnings = list(arch.warnings)
    for doc in sorted(practices.values(), key=_order):
        bp_id = doc.bp_id or doc.doc_id
        rule = rules.get(bp_id)
        if rule is None:
            warnings.append(f"no review rule for {bp_id}: reported as unknown")
            status: Status = "unknown"
            evidence: list[str] = []
            question = f"How does the design address '{doc.title}'?"
            explanation = f"lenswise has no rule for this practice yet. {question}"
        else:
            status, evidence, explanation = evaluate(rule, index, rules.fact_words)
            question = rule.question
        resource = _resources(evidence, arch) if status == "gap" else []
        findings.append(
            Finding(
                bp_id,
                doc.title,
                doc.pillar or "",
                doc.risk or "",
                status,
                evidence,
                explanation,
                doc.url,
                question,
                resource,
            )
        )
    return Review(arch, findings, warnings)


def _resources(evidence: list[str], arch: Architecture) -> list[str]:
    """Return the declared resources behind ``evidence``: implicit services name their callers."""
    declared = {c.id for c in arch.components if c.resource_type or not arch.is_iac and c.service}
    found = [i for i in evidence if i in declared]
    implicit = set(evidence) - declared
    callers = [e.source for e in arch.edges if e.target in implicit and e.source in declared]
    found += callers
    # a role or policy calls nothing itself: the resources that use it are the ones to change
    roles = {c.id for c in arch.components if c.id in callers and c.service == "iam"}
    found += [e.source for e in arch.edges if e.target in roles and e.source in declared]
    return list(dict.fromkeys(found))[:_MAX_EVIDENCE]
