"""Who to invite for a seat: a pure, explained ranking of the expert pool.

Every candidate gets scores for field match, distance, being on call now, current load and
language, and a weighted total; the ranking is by total, then id (so equal inputs give equal
order). Experts who cannot be asked are listed with the reason (retired, at their maximum of
concurrent incidents, already asked). The ranking, the inputs and the policy version go into
the events that record the decision, so an analyst can ask the log "why this expert, not that
one?". Time is passed in; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

import msgspec

from services.community.policy import SeatPlan
from services.community.registry import Department, Expert
from shared.geo import distance_km

__all__ = [
    "WEIGHTS",
    "Assembly",
    "Ranked",
    "Scores",
    "SeatDecision",
    "Skipped",
    "assemble",
    "engaged_departments",
    "rank_for_seat",
]

WEIGHTS: Mapping[str, float] = {"field": 0.35, "distance": 0.25, "on_call": 0.25, "load": 0.10, "language": 0.05}
_HALF_SCORE_KM = 5.0  # at this distance the distance score is one half


class Scores(msgspec.Struct, frozen=True):
    """Each component in 0..1, and the weighted total."""

    field: float
    distance: float
    on_call: float
    load: float
    language: float
    total: float
    distance_km: float


class Ranked(msgspec.Struct, frozen=True):
    expert_id: str
    scores: Scores
    reason: str


class Skipped(msgspec.Struct, frozen=True):
    expert_id: str
    reason: str


def _scores(
    expert: Expert, field: str, *, lat: float, lon: float, load: int, languages: Collection[str], now: datetime
) -> Scores:
    primary = bool(expert.fields) and expert.fields[0] == field
    km = distance_km(lat, lon, expert.lat, expert.lon)
    parts = {
        "field": 1.0 if primary else 0.7,
        "distance": 1.0 / (1.0 + km / _HALF_SCORE_KM),
        "on_call": 1.0 if expert.on_call_at(now) else 0.2,
        "load": 1.0 - load / max(expert.max_concurrent, 1),
        "language": 1.0 if not languages or set(languages) & set(expert.languages) else 0.0,
    }
    total = round(sum(WEIGHTS[name] * value for name, value in parts.items()), 4)
    rounded = {name: round(value, 4) for name, value in parts.items()}
    return Scores(**rounded, total=total, distance_km=round(km, 3))


def _reason(expert: Expert, field: str, scores: Scores) -> str:
    return (
        f"{field} expert ({'main' if scores.field == 1.0 else 'second'} field), {scores.distance_km:.1f} km away, "
        f"{'on call' if scores.on_call == 1.0 else 'off call'}, load {1 - scores.load:.0%} of "
        f"{expert.max_concurrent}, score {scores.total:.3f}"
    )


def rank_for_seat(
    field: str,
    *,
    at: tuple[float, float],
    experts: Iterable[Expert],
    load: Mapping[str, int],
    excluded: Collection[str] = (),
    languages: Collection[str] = (),
    now: datetime,
) -> tuple[list[Ranked], list[Skipped]]:
    """The experts of ``field`` who can be asked, best first, and those who cannot, with why.

    ``at`` is the incident's place, ``load`` each expert's number of open incidents, ``excluded``
    the experts already asked for this incident (invited, declined, timed out or members)."""
    lat, lon = at
    ranked: list[Ranked] = []
    skipped: list[Skipped] = []
    for expert in experts:
        if field not in expert.fields:
            continue
        if not expert.active:
            skipped.append(Skipped(expert.id, "retired"))
        elif unavailable := expert.unavailable_at(now):
            skipped.append(Skipped(expert.id, unavailable))
        elif expert.id in excluded:
            skipped.append(Skipped(expert.id, "already asked for this incident"))
        elif load.get(expert.id, 0) >= expert.max_concurrent:
            skipped.append(Skipped(expert.id, f"at the maximum of {expert.max_concurrent} concurrent incidents"))
        else:
            scores = _scores(expert, field, lat=lat, lon=lon, load=load.get(expert.id, 0), languages=languages, now=now)
            ranked.append(Ranked(expert.id, scores, _reason(expert, field, scores)))
    ranked.sort(key=lambda r: (-r.scores.total, r.expert_id))
    skipped.sort(key=lambda s: s.expert_id)
    return ranked, skipped


class SeatDecision(msgspec.Struct, frozen=True):
    """One seat of the plan: who to invite now (the best ``count``), who is next in line, who
    could not be asked and why; ``unfillable`` when nobody can be invited at all."""

    field: str
    count: int
    confirm_within_min: int
    invite: list[Ranked]
    waiting: list[Ranked]
    skipped: list[Skipped]

    @property
    def unfillable(self) -> bool:
        return not self.invite


class Assembly(msgspec.Struct, frozen=True):
    """The whole decision for one incident, as it will be recorded."""

    policy_version: str
    seats: list[SeatDecision]
    departments: list[str]
    reporters_join: bool


def engaged_departments(
    departments: Iterable[Department], kinds: Collection[str], district_code: str | None, disaster_type: str
) -> list[str]:
    """Ids of the departments of the plan's kinds that cover the district and handle the type."""
    return sorted(
        d.id
        for d in departments
        if d.kind in kinds
        and disaster_type in d.disaster_types
        and (district_code is None or district_code in d.districts)
    )


def assemble(
    *,
    plan: SeatPlan,
    policy_version: str,
    disaster_type: str,
    at: tuple[float, float],
    district_code: str | None,
    experts: Sequence[Expert],
    departments: Iterable[Department],
    load: Mapping[str, int],
    languages: Collection[str] = (),
    now: datetime,
) -> Assembly:
    """Seats filled in plan order: an expert invited for one seat is not also invited for the next."""
    taken: set[str] = set()
    seats: list[SeatDecision] = []
    for seat in plan.seats:
        ranked, skipped = rank_for_seat(
            seat.field, at=at, experts=experts, load=load, excluded=taken, languages=languages, now=now
        )
        invite = ranked[: seat.count]
        taken.update(r.expert_id for r in invite)
        seats.append(
            SeatDecision(
                seat.field,
                seat.count,
                seat.confirm_within_min,
                invite,
                ranked[seat.count :],
                [s for s in skipped if s.reason != "already asked for this incident"],
            )
        )
    return Assembly(
        policy_version,
        seats,
        engaged_departments(departments, plan.departments, district_code, disaster_type),
        plan.reporters_join,
    )
