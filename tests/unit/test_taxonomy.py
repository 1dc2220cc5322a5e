"""The national action-guideline taxonomy and the severity scale."""

from __future__ import annotations

import re

import pytest

from shared import taxonomy
from shared.taxonomy import DISASTER_TYPES, SEOUL_INCIDENT_TYPES, Severity, UnknownDisasterTypeError

EXPECTED_CODES = {
    "natural": set(range(1001, 1018)),
    "social": set(range(2001, 2024)),
    "living": set(range(3002, 3018)),
    "civil": set(range(4001, 4005)),
}

# Slugs other code and stored events already rely on: renaming one breaks the wire.
PERMANENT_SLUGS = {
    "typhoon": 1001,
    "flood": 1002,
    "heavy_rain": 1003,
    "strong_wind": 1004,
    "heavy_snow": 1005,
    "cold_wave": 1006,
    "yellow_dust": 1008,
    "heat_wave": 1009,
    "drought": 1010,
    "earthquake": 1011,
    "tsunami": 1012,
    "landslide": 1014,
    "inundation": 1016,
    "lightning": 1017,
    "infectious_disease": 2006,
    "subway_accident": 2007,
    "chemical_accident": 2010,
    "fire": 2011,
    "forest_fire": 2012,
    "building_collapse": 2013,
    "explosion": 2015,
    "power_outage": 2018,
    "gas_leak": 2019,
    "first_aid": 3002,
    "cpr": 3003,
    "traffic_accident": 3013,
    "elevator_accident": 3014,
    "fine_dust": 3015,
}


def test_every_code_of_every_group_has_exactly_one_type() -> None:
    for group, codes in EXPECTED_CODES.items():
        assert {t.code for t in DISASTER_TYPES.values() if t.group == group} == codes
    assert len(DISASTER_TYPES) == sum(len(codes) for codes in EXPECTED_CODES.values())


def test_well_known_slugs_keep_their_codes() -> None:
    assert {slug: DISASTER_TYPES[slug].code for slug in PERMANENT_SLUGS} == PERMANENT_SLUGS


def test_slugs_are_snake_case_and_keyed_by_themselves() -> None:
    for slug, disaster_type in DISASTER_TYPES.items():
        assert re.fullmatch(r"[a-z]+(?:_[a-z]+)*", slug)
        assert disaster_type.slug == slug
        assert disaster_type.ko
        assert disaster_type.en


def test_a_type_is_found_by_slug_and_by_code() -> None:
    assert taxonomy.get("gas_leak").code == 2019
    assert taxonomy.by_code(2011).slug == "fire"
    assert taxonomy.by_code(3003).ko == "심폐소생술"


def test_an_unknown_slug_or_code_raises_a_lookup_error() -> None:
    with pytest.raises(UnknownDisasterTypeError):
        taxonomy.get("alien_invasion")
    with pytest.raises(UnknownDisasterTypeError):
        taxonomy.by_code(3001)
    assert issubclass(UnknownDisasterTypeError, LookupError)


def test_seoul_incidents_exclude_the_sea_and_how_to_guides_but_keep_city_hazards() -> None:
    assert SEOUL_INCIDENT_TYPES.issubset(DISASTER_TYPES)
    assert {"tsunami", "high_seas", "storm_surge", "volcanic_eruption", "fire_extinguisher"}.isdisjoint(
        SEOUL_INCIDENT_TYPES
    )
    assert {"fire", "gas_leak", "inundation", "subway_accident", "cpr", "water_accident"} <= SEOUL_INCIDENT_TYPES


def test_severities_order_by_gravity_not_alphabet() -> None:
    assert Severity.MINOR < Severity.MODERATE < Severity.SEVERE < Severity.EXTREME
    assert Severity.EXTREME > Severity.MINOR
    assert max(Severity.MODERATE, Severity.EXTREME, Severity.MINOR) is Severity.EXTREME
    assert sorted([Severity.EXTREME, Severity.MINOR, Severity.SEVERE]) == [
        Severity.MINOR,
        Severity.SEVERE,
        Severity.EXTREME,
    ]


def test_a_severity_compares_with_its_wire_string() -> None:
    assert Severity.SEVERE == "severe"
    assert Severity.MINOR < "extreme"
    assert Severity.SEVERE >= "moderate"
    with pytest.raises(ValueError, match="nasty"):
        _ = Severity.MINOR < "nasty"


def test_rank_and_escalation_stay_on_the_scale() -> None:
    assert [s.rank for s in Severity] == [0, 1, 2, 3]
    assert Severity.MODERATE.escalated() is Severity.SEVERE
    assert Severity.EXTREME.escalated(2) is Severity.EXTREME
    assert Severity.MINOR.escalated(-1) is Severity.MINOR
    assert Severity.from_rank(2) is Severity.SEVERE
