"""The seat policy: which experts and departments an incident's community needs (a data file).

``services/community/data/seat-policy.toml`` holds the rules and their version; this module
reads them, checks them against the taxonomy and the registry's fields, and answers one
question: for this disaster type at this severity, which seats?
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

import msgspec

from shared.taxonomy import DISASTER_TYPES, Severity

__all__ = ["PolicyError", "Seat", "SeatPlan", "SeatPolicy", "load_policy", "parse_policy"]


class PolicyError(ValueError):
    """Raised when the policy file is malformed or names an unknown type, field or department kind."""


class Seat(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``count`` confirmed experts of ``field``, within ``confirm_within_min`` of the opening."""

    field: str
    count: int = 1
    confirm_within_min: int = 15


class SeatPlan(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    seats: list[Seat]
    departments: list[str]
    reporters_join: bool = True


class _Rule(SeatPlan, frozen=True, forbid_unknown_fields=True):
    types: list[str] = msgspec.field(default_factory=list)
    min_severity: Severity = Severity.MINOR


class SeatPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    default: SeatPlan
    rule: list[_Rule] = msgspec.field(default_factory=list)

    def plan_for(self, disaster_type: str, severity: str) -> SeatPlan:
        """The plan of the most severe rule that applies; the default if none does."""
        level = Severity(severity)
        applying = [r for r in self.rule if disaster_type in r.types and r.min_severity.rank <= level.rank]
        if not applying:
            return self.default
        best = max(applying, key=lambda r: r.min_severity.rank)
        return SeatPlan(seats=best.seats, departments=best.departments, reporters_join=best.reporters_join)


def _check(policy: SeatPolicy, fields: frozenset[str], kinds: frozenset[str]) -> None:
    plans: list[tuple[str, SeatPlan]] = [("default", policy.default)]
    plans += [(f"rule {i} ({', '.join(r.types)})", r) for i, r in enumerate(policy.rule)]
    for where, plan in plans:
        for seat in plan.seats:
            if seat.field not in fields:
                raise PolicyError(f"{where}: seats.field {seat.field!r} is not a field of expertise")
            if seat.count < 1 or seat.confirm_within_min < 1:
                raise PolicyError(f"{where}: seats need count and confirm_within_min of at least 1")
        for kind in plan.departments:
            if kind not in kinds:
                raise PolicyError(f"{where}: departments {kind!r} is not a kind of department")
    for i, rule in enumerate(policy.rule):
        for slug in rule.types:
            if slug not in DISASTER_TYPES:
                raise PolicyError(f"rule {i}: types {slug!r} is not in the taxonomy")


@cache
def _bundled() -> bytes:
    return (files("services.community") / "data" / "seat-policy.toml").read_bytes()


def load_policy(fields: frozenset[str], kinds: frozenset[str], path: Path | None = None) -> SeatPolicy:
    """The policy in ``path`` (default: the bundled file), checked against ``fields`` and ``kinds``."""
    return parse_policy(path.read_bytes() if path is not None else _bundled(), fields, kinds)


def parse_policy(raw: bytes | str, fields: frozenset[str], kinds: frozenset[str]) -> SeatPolicy:
    """The policy in ``raw`` (the file's TOML text), checked against ``fields`` and ``kinds``."""
    try:
        policy = msgspec.toml.decode(raw, type=SeatPolicy)
    except msgspec.DecodeError as e:
        raise PolicyError(f"seat policy: {e}") from e
    _check(policy, fields, kinds)
    return policy
