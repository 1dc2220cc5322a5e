"""From the taxonomy and Jikimi's severities to CAP 1.2's words, and Korea time for CAP's clocks.

Pure tables; every disaster type of ``shared.taxonomy`` maps to one CAP category (``Other`` when
none fits), so a new type never makes an invalid alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared import taxonomy

__all__ = ["KST", "cap_category", "cap_category_ko", "cap_severity", "cap_time"]

KST = timezone(timedelta(hours=9), "KST")

# CAP categories: Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, CBRNE, Other.
_CATEGORY: dict[str, str] = {
    # natural: weather is Met, the ground and the sea's reaction to it Geo
    "typhoon": "Met",
    "flood": "Met",
    "heavy_rain": "Met",
    "strong_wind": "Met",
    "heavy_snow": "Met",
    "cold_wave": "Met",
    "high_seas": "Met",
    "yellow_dust": "Env",
    "heat_wave": "Met",
    "drought": "Met",
    "earthquake": "Geo",
    "tsunami": "Geo",
    "storm_surge": "Met",
    "landslide": "Geo",
    "volcanic_eruption": "Geo",
    "inundation": "Met",
    "lightning": "Met",
    # social
    "marine_pollution": "Env",
    "water_pollution": "Env",
    "drinking_water": "Health",
    "utility_tunnel": "Infra",
    "livestock_disease": "Health",
    "infectious_disease": "Health",
    "subway_accident": "Transport",
    "financial_it_outage": "Infra",
    "nuclear_accident": "CBRNE",
    "chemical_accident": "CBRNE",
    "fire": "Fire",
    "forest_fire": "Fire",
    "building_collapse": "Rescue",
    "dam_collapse": "Infra",
    "explosion": "Fire",
    "aircraft_accident": "Transport",
    "cbr_accident": "CBRNE",
    "power_outage": "Infra",
    "gas_leak": "Safety",
    "ferry_accident": "Transport",
    "water_accident": "Rescue",
    "terrorism": "Security",
    "power_supply_alert": "Infra",
    # living safety
    "first_aid": "Health",
    "cpr": "Health",
    "fire_extinguisher": "Fire",
    "food_poisoning": "Health",
    "mountain_accident": "Rescue",
    "playground_accident": "Safety",
    "missing_child": "Security",
    "sexual_violence": "Security",
    "school_violence": "Security",
    "domestic_violence": "Security",
    "hostage_kidnapping": "Security",
    "traffic_accident": "Transport",
    "elevator_accident": "Rescue",
    "fine_dust": "Env",
    "fire_hydrant": "Fire",
    "home_safety_check": "Safety",
    # civil defence
    "state_of_emergency": "Security",
    "air_raid": "Security",
    "cbr_weapons": "CBRNE",
    "emergency_supplies": "Other",
}

# Disaster types of Korean disaster text messages (their DST_SE_NM) that the taxonomy does not name.
_CATEGORY_KO_ONLY: dict[str, str] = {"교통통제": "Transport"}
_SLUG_BY_KO: dict[str, str] = {kind.ko: kind.slug for kind in taxonomy.DISASTER_TYPES.values()}

_SEVERITY = {
    taxonomy.Severity.MINOR: "Minor",
    taxonomy.Severity.MODERATE: "Moderate",
    taxonomy.Severity.SEVERE: "Severe",
    taxonomy.Severity.EXTREME: "Extreme",
}


def cap_category(disaster_type: str) -> str:
    """The CAP category of a disaster type slug (``Other`` for one the table does not know)."""
    return _CATEGORY.get(disaster_type, "Other")


def cap_category_ko(disaster_type_ko: str) -> str:
    """The CAP category of a disaster type named in Korean, as a disaster text message names it
    (``호우``, ``교통통제``); ``Other`` for a name neither the taxonomy nor the table knows (``기타``)."""
    name = disaster_type_ko.strip()
    if name in _CATEGORY_KO_ONLY:
        return _CATEGORY_KO_ONLY[name]
    return cap_category(_SLUG_BY_KO.get(name, ""))


def cap_severity(severity: str) -> str:
    """CAP's severity for Jikimi's (``Unknown`` for a value off the scale)."""
    try:
        return _SEVERITY[taxonomy.Severity(severity)]
    except ValueError:
        return "Unknown"


def cap_time(moment: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss+09:00``: CAP's form (no fractions, no ``Z``), in Korea time."""
    return moment.astimezone(KST).replace(microsecond=0).isoformat()
