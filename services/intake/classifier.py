"""Rules-based, explainable classification of a citizen's report: which disaster, how bad.

The rules are data, in ``classifier_rules.toml`` beside this module (its header explains them);
this module only applies them. A classification is a pure function of the text and the rules'
version, and carries the words that decided it, so an operator or analyst can see why.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from typing import Literal

import msgspec

from shared.taxonomy import DISASTER_TYPES, Severity

__all__ = ["Classification", "RulesError", "classify", "rules_version"]


class RulesError(ValueError):
    """Raised when the bundled rules are malformed or name a type the taxonomy does not know."""


class Classification(msgspec.Struct, frozen=True, kw_only=True):
    """What a report is about and how severe it sounds, with the evidence for both.

    - ``disaster_type``: a taxonomy slug, or None when no rule named a type with enough weight.
    - ``matched_terms``: the words of the report that scored for that type, in reading order.
    - ``severity_terms``: the words that raised the severity above the type's usual level.
    - ``confidence``: 0 to 1; higher when the evidence is strong and one-sided, 0 without a type.
    - ``scores``: every type that scored, with its total weight (the runners-up, for review).
    """

    disaster_type: str | None
    severity: Severity
    matched_terms: list[str]
    severity_terms: list[str]
    confidence: float
    rules_version: str
    scores: dict[str, int] = msgspec.field(default_factory=dict)


# --- the rules file ---------------------------------------------------------------------------


class _TermRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    re: str
    w: int


class _TypeRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slug: str
    terms: list[_TermRule]
    base: Severity = Severity.MODERATE


class _CueRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    kind: str
    terms: list[str]
    level: Literal["minor", "moderate", "severe", "extreme"] | None = None
    steps: int = 0
    negates: bool = False


class _RulesFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    min_score: int
    types: list[_TypeRule]
    cues: list[_CueRule]


class _Term(msgspec.Struct, frozen=True):
    """A compiled rule: a type term (label = slug, weight) or a severity cue (label = kind)."""

    label: str
    pattern: re.Pattern[str]
    weight: int = 0
    level: Severity | None = None
    steps: int = 0
    negates: bool = False


class _Rules(msgspec.Struct, frozen=True):
    version: str
    min_score: int
    terms: tuple[_Term, ...]
    cues: tuple[_Term, ...]
    priority: dict[str, int]  # slug -> position in the file; lower wins a tie
    base: dict[str, Severity]
    screens: dict[str, re.Pattern[str]]  # label -> one pattern matching wherever any of its terms does


@cache
def _rules() -> _Rules:
    raw = (files("services.intake") / "classifier_rules.toml").read_bytes()
    try:
        data = msgspec.toml.decode(raw, type=_RulesFile)
        terms = tuple(_Term(t.slug, re.compile(term.re, re.IGNORECASE), term.w) for t in data.types for term in t.terms)
        cues = tuple(
            _Term(
                c.kind,
                re.compile(term, re.IGNORECASE),
                level=Severity(c.level) if c.level else None,
                steps=c.steps,
                negates=c.negates,
            )
            for c in data.cues
            for term in c.terms
        )
    except (msgspec.DecodeError, re.error) as error:
        msg = f"classifier rules: {error}"
        raise RulesError(msg) from error
    unknown = sorted({t.slug for t in data.types} - DISASTER_TYPES.keys())
    if unknown:
        msg = f"classifier rules name types the taxonomy does not know: {unknown}"
        raise RulesError(msg)
    return _Rules(
        version=data.version,
        min_score=data.min_score,
        terms=terms,
        cues=cues,
        screens=_screens((*terms, *cues)),
        priority={t.slug: i for i, t in enumerate(data.types)},
        base={t.slug: t.base for t in data.types},
    )


def _screens(terms: tuple[_Term, ...]) -> dict[str, re.Pattern[str]]:
    """Per label, the alternation of its terms: it matches a text exactly when one of them does,
    so one search rules a whole label out (most reports name one or two types of 27)."""
    patterns: dict[str, list[str]] = {}
    for term in terms:
        patterns.setdefault(term.label, []).append(term.pattern.pattern)
    return {
        label: re.compile("|".join(f"(?:{p})" for p in alternatives), re.IGNORECASE)
        for label, alternatives in patterns.items()
    }


def rules_version() -> str:
    """The version of the rules ``classify`` applies (recorded in every classification)."""
    return _rules().version


# --- applying them ----------------------------------------------------------------------------


class _Hit(msgspec.Struct, frozen=True):
    term: _Term
    start: int
    end: int
    text: str


def _hits(text: str, terms: tuple[_Term, ...], screens: dict[str, re.Pattern[str]]) -> list[_Hit]:
    present = {label for label, screen in screens.items() if screen.search(text)}
    return [
        _Hit(term, m.start(), m.end(), m.group())
        for term in terms
        if term.label in present
        for m in term.pattern.finditer(text)
        if m.end() > m.start()
    ]


def _without_overlaps(hits: list[_Hit]) -> list[_Hit]:
    """Keep the heavier (then longer, then earlier) of any overlapping hits, in reading order."""
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (-h.term.weight, h.start - h.end, h.start)):
        if all(hit.end <= k.start or k.end <= hit.start for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.start)


def _unique(words: list[str]) -> list[str]:
    return list(dict.fromkeys(w.strip() for w in words))


def _confidence(ranked: list[tuple[str, int]]) -> float:
    # Share of the evidence (how one-sided) times saturation (how much): a single strong term alone
    # gives ~0.67, two terms ~0.8, a close contest much less.
    top = ranked[0][1]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    return round(top / (top + runner_up) * top / (top + 2), 2)


def _overlaps_any(hit: _Hit, others: list[_Hit]) -> bool:
    return any(hit.start < other.end and other.start < hit.end for other in others)


def _severity(cues: list[_Hit], base: Severity) -> tuple[Severity, list[str]]:
    """Apply the cues to the base severity as the rules file's header describes."""
    steps = sum({hit.term.label: hit.term.steps for hit in cues}.values())
    floors = [hit.term.level for hit in cues if hit.term.level is not None]
    severity = max([base.escalated(steps), *floors])
    if steps and any(floor >= Severity.SEVERE for floor in floors):
        severity = Severity.EXTREME
    return severity, _unique([hit.text for hit in cues])


def classify(text: str) -> Classification:
    """Classify a report by the bundled rules: the best-scoring disaster type and a severity.

    Without a type the severity is ``minor`` unless the report itself signals people in danger.
    Every matched and severity term is a substring of ``text``.
    """
    rules = _rules()
    all_cues = _without_overlaps(_hits(text, rules.cues, rules.screens))
    negations = [cue for cue in all_cues if cue.term.negates]
    cues = [cue for cue in all_cues if not cue.term.negates]
    hits = [
        hit for hit in _without_overlaps(_hits(text, rules.terms, rules.screens)) if not _overlaps_any(hit, negations)
    ]
    scores: dict[str, int] = {}
    counted: set[tuple[str, str]] = set()
    for hit in hits:
        # A term counts once however often it repeats: "불이야 불이야" is one cry, not two fires.
        key = (hit.term.label, hit.term.pattern.pattern)
        if key not in counted:
            counted.add(key)
            scores[hit.term.label] = scores.get(hit.term.label, 0) + hit.term.weight
    ranked = sorted(scores.items(), key=lambda item: (-item[1], rules.priority[item[0]]))
    winner = ranked[0][0] if ranked and ranked[0][1] >= rules.min_score else None
    severity, severity_terms = _severity(cues, rules.base[winner] if winner else Severity.MINOR)
    return Classification(
        disaster_type=winner,
        severity=severity,
        matched_terms=_unique([h.text for h in hits if h.term.label == winner]),
        severity_terms=severity_terms,
        confidence=_confidence(ranked) if winner else 0.0,
        rules_version=rules.version,
        scores=dict(ranked),
    )
