"""The day's skeleton: when each incident starts, of which type, where, how large, for how long.

Intake joins a report to an open incident of its type in the same district (or within 1 km of a
GPS point), so two incidents of one type that are open at the same time lie in different
districts and more than 2 km apart; when no such place is free the incident starts later. Each
incident also names the earlier ones it would be confused with (``after``), so a player that runs
faster than the plan still closes those first.
"""

from __future__ import annotations

import random
from typing import Literal, NamedTuple

from jikimi.day.model import Size
from jikimi.day.places import point_in
from jikimi.day.rhythm import HOURLY, SNOW_TYPES, STORM_TYPES, district_weights, season_of, type_weights
from shared.geo import distance_km

__all__ = ["Layout", "Slot", "lay_out"]

SEPARATION_KM = 2.0
"""Reports lie within 0.5 km of their incident and intake joins within 1 km: 2 km keeps two apart."""
_MARGIN_S = 120.0
_PLACE_ATTEMPTS = 30

_LARGE_SHARE = {
    "fire": 0.10,
    "explosion": 0.5,
    "chemical_accident": 0.5,
    "building_collapse": 0.4,
    "subway_accident": 0.2,
    "flood": 0.3,
    "landslide": 0.3,
    "forest_fire": 0.3,
    "inundation": 0.1,
    "gas_leak": 0.05,
    "traffic_accident": 0.04,
}
_DURATION_MIN: dict[Size, tuple[float, float]] = {"small": (20, 60), "medium": (45, 150), "large": (120, 300)}


class Slot(NamedTuple):
    number: int
    at_s: float
    duration_s: float
    disaster_type: str
    district_code: str
    point: tuple[float, float]
    size: Size
    after: tuple[int, ...]
    in_weather: bool

    @property
    def end_s(self) -> float:
        return self.at_s + self.duration_s


class Layout(NamedTuple):
    slots: list[Slot]
    weather: tuple[Literal["storm", "snow"], float, float] | None


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _weather(rng: random.Random, season: str) -> tuple[Literal["storm", "snow"], float, float] | None:
    """A summer downpour most days, sometimes one in spring or autumn; snow on half of winter days."""
    chance = {"summer": 0.85, "spring": 0.25, "autumn": 0.25, "winter": 0.5}[season]
    if rng.random() >= chance:
        return None
    if season == "winter":
        start = round(rng.uniform(4, 8) * 3600)
        return "snow", start, start + round(rng.uniform(3, 5) * 3600)
    start = round(rng.uniform(14, 20) * 3600)
    return "storm", start, start + round(rng.uniform(2, 4) * 3600)


def _drafts(
    rng: random.Random, count: int, season: str, weather: tuple[str, float, float] | None
) -> list[tuple[float, str, bool]]:
    drafts: list[tuple[float, str, bool]] = []
    hours = list(range(24))
    for _ in range(count):
        if weather is not None and rng.random() < 0.12:
            kind, start, end = weather
            drafts.append((rng.uniform(start, end), _pick(rng, STORM_TYPES if kind == "storm" else SNOW_TYPES), True))
            continue
        hour = rng.choices(hours, weights=HOURLY)[0]
        drafts.append((hour * 3600 + rng.uniform(0, 3600), _pick(rng, type_weights(season, hour)), False))
    return sorted(drafts, key=lambda d: d[0])


def _size(rng: random.Random, disaster_type: str, in_weather: bool) -> Size:
    large = 0.3 if in_weather and disaster_type in {"inundation", "heavy_rain", "heavy_snow"} else 0.0
    if rng.random() < max(large, _LARGE_SHARE.get(disaster_type, 0.0)):
        return "large"
    return "medium" if rng.random() < 0.3 else "small"


def _confused(slot: Slot, disaster_type: str, district_code: str, point: tuple[float, float]) -> bool:
    """Whether intake could join a report of one to the other, were both open."""
    if slot.disaster_type != disaster_type:
        return False
    return slot.district_code == district_code or distance_km(*slot.point, *point) < SEPARATION_KM


def _overlapping(
    placed: list[Slot], kind: str, district: str, point: tuple[float, float], *, start: float, end: float
) -> list[Slot]:
    return [
        s
        for s in placed
        if _confused(s, kind, district, point) and s.at_s < end + _MARGIN_S and start < s.end_s + _MARGIN_S
    ]


def _place(rng: random.Random, placed: list[Slot], draft: tuple[float, str, bool], number: int) -> Slot:
    at_s, kind, in_weather = draft
    size = _size(rng, kind, in_weather)
    low, high = _DURATION_MIN[size]
    duration = rng.uniform(low, high) * 60
    weights = district_weights(kind)
    for _ in range(_PLACE_ATTEMPTS):
        district = _pick(rng, weights)
        point = point_in(district, rng)
        if not _overlapping(placed, kind, district, point, start=at_s, end=at_s + duration):
            break
    else:
        # Nowhere free: the last place drawn, once what it would be confused with has closed.
        while clash := _overlapping(placed, kind, district, point, start=at_s, end=at_s + duration):
            at_s = max(s.end_s for s in clash) + _MARGIN_S
    return Slot(number, at_s, duration, kind, district, point, size, (), in_weather)


def _with_after(slots: list[Slot]) -> list[Slot]:
    """Each slot with the latest earlier slot, per district, it would be confused with."""
    done: list[Slot] = []
    for slot in slots:
        latest: dict[str, Slot] = {}
        for s in slots:
            earlier = (s.at_s, s.number) < (slot.at_s, slot.number)
            confused = earlier and _confused(s, slot.disaster_type, slot.district_code, slot.point)
            if confused and (s.district_code not in latest or latest[s.district_code].at_s < s.at_s):
                latest[s.district_code] = s
        done.append(slot._replace(after=tuple(sorted(s.number for s in latest.values()))))
    return done


def lay_out(rng: random.Random, count: int, month: int) -> Layout:
    """``count`` incidents of a day in ``month``, numbered from 1 in the order of their drafts."""
    season = season_of(month)
    weather = _weather(rng, season)
    placed: list[Slot] = []
    for number, draft in enumerate(_drafts(rng, count, season, weather), start=1):
        placed.append(_place(rng, placed, draft, number))
    return Layout(_with_after(placed), weather)
