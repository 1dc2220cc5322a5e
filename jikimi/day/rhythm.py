"""The shape of a day in Seoul: how many incidents each hour brings, which types at which hour
and season, and where each type can happen. Weights, not rates: the plan draws from them."""

from __future__ import annotations

from jikimi.day.places import HAN_RIVER_PARKS, HILLS, STREAMS
from shared import geo

__all__ = ["HOURLY", "SNOW_TYPES", "STORM_TYPES", "district_weights", "season_of", "type_weights"]

HOURLY = (
    0.60, 0.45, 0.35, 0.28, 0.26, 0.32, 0.50, 0.78, 0.98, 0.96, 0.95, 1.00,
    1.05, 1.00, 1.00, 1.05, 1.15, 1.30, 1.48, 1.55, 1.45, 1.25, 1.00, 0.80,
)  # fmt: skip
"""Relative number of incidents in each hour (Korea time): fewest before dawn, most in the evening."""

# Incidents of a usual day, relative to each other.
_BASE = {
    "fire": 22.0,
    "traffic_accident": 18.0,
    "first_aid": 14.0,
    "elevator_accident": 7.0,
    "gas_leak": 6.0,
    "cpr": 4.0,
    "subway_accident": 3.0,
    "power_outage": 3.0,
    "water_accident": 1.0,
    "strong_wind": 1.0,
    "building_collapse": 0.6,
    "explosion": 0.5,
    "chemical_accident": 0.5,
    "forest_fire": 0.3,
}

# By season: what the weather adds (winter: December to February).
_SEASONAL = {
    "winter": {"fire": 1.5, "gas_leak": 1.5, "cold_wave": 5.0, "heavy_snow": 0.5, "traffic_accident": 1.2},
    "spring": {"forest_fire": 8.0, "strong_wind": 3.0},
    "summer": {"heat_wave": 5.0, "water_accident": 2.5, "power_outage": 2.0, "inundation": 1.0},
    "autumn": {"forest_fire": 3.0, "strong_wind": 1.5},
}

# Hours some types keep: the subway does not run from 1 to 5, heat strikes in the afternoon…
_HOURS = {
    "subway_accident": dict.fromkeys(range(1, 5), 0.0) | {7: 2.5, 8: 3.0, 9: 2.0, 18: 2.5, 19: 2.0},
    "traffic_accident": {7: 1.8, 8: 2.2, 9: 1.5, 17: 1.6, 18: 2.0, 19: 1.6} | dict.fromkeys(range(2, 6), 0.5),
    "elevator_accident": dict.fromkeys(range(0, 6), 0.2),
    "fire": dict.fromkeys(range(17, 23), 1.4),
    "gas_leak": dict.fromkeys(range(17, 21), 1.6),
    "heat_wave": {h: (1.0 if 11 <= h <= 18 else 0.0) for h in range(24)},
    "cold_wave": {h: (1.0 if h <= 9 or h >= 19 else 0.3) for h in range(24)},
    "heavy_snow": {h: (1.5 if 5 <= h <= 10 else 0.7) for h in range(24)},
    "water_accident": {h: (2.0 if h >= 20 or h <= 2 else 0.5) for h in range(24)},
    "forest_fire": {h: (1.0 if 9 <= h <= 17 else 0.2) for h in range(24)},
    "chemical_accident": {h: (1.0 if 8 <= h <= 19 else 0.2) for h in range(24)},
    "first_aid": dict.fromkeys(range(0, 6), 0.5),
}

STORM_TYPES = {"inundation": 5.0, "heavy_rain": 2.5, "flood": 1.0, "landslide": 1.0, "power_outage": 0.5}
"""A downpour's incidents: flooded basements and underpasses first."""

SNOW_TYPES = {"heavy_snow": 3.0, "traffic_accident": 3.0, "first_aid": 1.0}
"""A snowfall's incidents: cars stuck on hills, crashes, people who slipped."""

# Where a type can happen when it needs a feature of the land.
_PLACES = {
    "landslide": HILLS,
    "forest_fire": HILLS,
    "flood": STREAMS,
    "water_accident": HAN_RIVER_PARKS,
}
# Districts with more people and more workers see more incidents (rough, relative).
_BUSY = {"11680": 1.6, "11710": 1.5, "11500": 1.4, "11620": 1.3, "11650": 1.3, "11560": 1.3, "11350": 1.2}
_INDUSTRIAL = ("11545", "11530", "11560", "11200")


def season_of(month: int) -> str:
    """winter (Dec to Feb), spring (Mar to May), summer (Jun to Aug) or autumn (Sep to Nov)."""
    return ("winter", "spring", "summer", "autumn")[(month % 12) // 3]


def type_weights(season: str, hour: int) -> dict[str, float]:
    """Relative weights of each type at ``hour`` in ``season`` (types of weight 0 left out)."""
    weights = dict(_BASE)
    for slug, factor in _SEASONAL[season].items():
        weights[slug] = weights.get(slug, 1.0) * factor
    for slug, hours in _HOURS.items():
        if slug in weights:
            weights[slug] *= hours.get(hour, 1.0)
    return {slug: w for slug, w in weights.items() if w > 0}


def district_weights(disaster_type: str) -> dict[str, float]:
    """Relative weights of the districts where ``disaster_type`` can happen."""
    allowed = _PLACES.get(disaster_type)
    weights = {d.code: _BUSY.get(d.code, 1.0) for d in geo.DISTRICTS if allowed is None or d.code in allowed}
    if disaster_type == "chemical_accident":
        weights = {code: w * (4.0 if code in _INDUSTRIAL else 0.3) for code, w in weights.items()}
    return weights
