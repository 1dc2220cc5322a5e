"""The national action-guideline taxonomy (국민행동요령) and incident severity.

Every disaster type has a numeric code from the public guideline service and a slug. The slug is
what travels in events, so it is permanent: never rename one; add a new type instead.

Errors::

    LookupError
     └── UnknownDisasterTypeError   raised when a slug or code names no disaster type
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import msgspec

__all__ = [
    "DISASTER_TYPES",
    "SEOUL_INCIDENT_TYPES",
    "DisasterGroup",
    "DisasterType",
    "Severity",
    "UnknownDisasterTypeError",
    "by_code",
    "get",
]

DisasterGroup = Literal["natural", "social", "living", "civil"]


class UnknownDisasterTypeError(LookupError):
    """Raised when a slug or code names no disaster type in the taxonomy."""


class DisasterType(msgspec.Struct, frozen=True):
    """One entry of the taxonomy: its public code, permanent slug, names and group."""

    code: int
    slug: str
    ko: str
    en: str
    group: DisasterGroup


# (code, slug, Korean, English). Codes 3009-3011 are grouped as "violence prevention" in the source
# list without saying which is which; the order below follows the public guideline menu (sexual,
# school, domestic) and is unverified, which is harmless because events carry slugs, not codes.
_NATURAL = (
    (1001, "typhoon", "태풍", "Typhoon"),
    (1002, "flood", "홍수", "Flood"),
    (1003, "heavy_rain", "호우", "Heavy rain"),
    (1004, "strong_wind", "강풍", "Strong wind"),
    (1005, "heavy_snow", "대설", "Heavy snow"),
    (1006, "cold_wave", "한파", "Cold wave"),
    (1007, "high_seas", "풍랑", "High seas"),
    (1008, "yellow_dust", "황사", "Yellow dust"),
    (1009, "heat_wave", "폭염", "Heat wave"),
    (1010, "drought", "가뭄", "Drought"),
    (1011, "earthquake", "지진", "Earthquake"),
    (1012, "tsunami", "지진해일", "Tsunami"),
    (1013, "storm_surge", "해일", "Storm surge"),
    (1014, "landslide", "산사태", "Landslide"),
    (1015, "volcanic_eruption", "화산폭발", "Volcanic eruption"),
    (1016, "inundation", "침수", "Inundation"),
    (1017, "lightning", "낙뢰", "Lightning"),
)
_SOCIAL = (
    (2001, "marine_pollution", "해양오염사고", "Marine pollution"),
    (2002, "water_pollution", "대규모 수질오염", "Large-scale water pollution"),
    (2003, "drinking_water", "식용수 사고", "Drinking water accident"),
    (2004, "utility_tunnel", "공동구 재난", "Utility tunnel disaster"),
    (2005, "livestock_disease", "가축질병", "Livestock disease"),
    (2006, "infectious_disease", "감염병", "Infectious disease"),
    (2007, "subway_accident", "철도·지하철 사고", "Railway or subway accident"),
    (2008, "financial_it_outage", "금융전산 장애", "Financial IT outage"),
    (2009, "nuclear_accident", "원전사고", "Nuclear power plant accident"),
    (2010, "chemical_accident", "화학물질사고", "Chemical accident"),
    (2011, "fire", "화재", "Fire"),
    (2012, "forest_fire", "산불", "Forest fire"),
    (2013, "building_collapse", "건축물 붕괴", "Building collapse"),
    (2014, "dam_collapse", "댐 붕괴", "Dam collapse"),
    (2015, "explosion", "폭발", "Explosion"),
    (2016, "aircraft_accident", "항공기 사고", "Aircraft accident"),
    (2017, "cbr_accident", "화생방사고", "Chemical, biological or radiological accident"),
    (2018, "power_outage", "정전", "Power outage"),
    # One public code covers electric and gas accidents; citizens report the gas leak.
    (2019, "gas_leak", "전기·가스 사고", "Electric or gas accident"),
    (2020, "ferry_accident", "여객선 사고", "Ferry accident"),
    (2021, "water_accident", "수난사고", "Water accident"),
    (2022, "terrorism", "테러", "Terrorism"),
    (2023, "power_supply_alert", "전력수급 경보", "Power supply alert"),
)
_LIVING = (
    (3002, "first_aid", "응급처치", "First aid"),
    (3003, "cpr", "심폐소생술", "CPR"),
    (3004, "fire_extinguisher", "소화기 사용법", "Using a fire extinguisher"),
    (3005, "food_poisoning", "식중독", "Food poisoning"),
    (3006, "mountain_accident", "산행 안전사고", "Mountain accident"),
    (3007, "playground_accident", "놀이시설 사고", "Playground accident"),
    (3008, "missing_child", "미아·유괴", "Missing child or abduction"),
    (3009, "sexual_violence", "성폭력 예방", "Sexual violence prevention"),
    (3010, "school_violence", "학교폭력 예방", "School violence prevention"),
    (3011, "domestic_violence", "가정폭력 예방", "Domestic violence prevention"),
    (3012, "hostage_kidnapping", "인질·납치", "Hostage taking or kidnapping"),
    (3013, "traffic_accident", "교통사고", "Traffic accident"),
    (3014, "elevator_accident", "승강기 사고", "Elevator accident"),
    (3015, "fine_dust", "미세먼지", "Fine dust"),
    (3016, "fire_hydrant", "소화전 사용법", "Using a fire hydrant"),
    (3017, "home_safety_check", "가정 안전점검", "Home safety check"),
)
_CIVIL = (
    (4001, "state_of_emergency", "비상사태", "State of emergency"),
    (4002, "air_raid", "민방공 경보", "Air raid alert"),
    (4003, "cbr_weapons", "화생방 무기", "Chemical, biological or radiological weapons"),
    (4004, "emergency_supplies", "비상대비물자", "Emergency supplies"),
)

_GROUPS: tuple[tuple[DisasterGroup, tuple[tuple[int, str, str, str], ...]], ...] = (
    ("natural", _NATURAL),
    ("social", _SOCIAL),
    ("living", _LIVING),
    ("civil", _CIVIL),
)

DISASTER_TYPES: dict[str, DisasterType] = {
    slug: DisasterType(code=code, slug=slug, ko=ko, en=en, group=group)
    for group, rows in _GROUPS
    for code, slug, ko, en in rows
}
"""Every disaster type of the taxonomy, by slug, in code order."""

_BY_CODE: dict[int, DisasterType] = {t.code: t for t in DISASTER_TYPES.values()}

# Types a report from inside Seoul cannot carry, and why:
# - the sea: Seoul has no coast, so high seas, tsunami, storm surge and marine pollution never
#   happen in the city (boats on the Han River stay in: water accidents, and ferry accidents for
#   the river's passenger boats);
# - volcanic eruption: no volcano within reach; ash fall would arrive as a public alert, not a report;
# - nuclear power plant accident: no plant in or near the city; a radiological release inside Seoul
#   is a CBR accident;
# - how-to and prevention guides that name no event: using a fire extinguisher or hydrant, the home
#   safety check, emergency supplies, and the three violence-prevention guides.
_NOT_SEOUL_INCIDENTS = frozenset(
    {
        "high_seas",
        "tsunami",
        "storm_surge",
        "marine_pollution",
        "volcanic_eruption",
        "nuclear_accident",
        "fire_extinguisher",
        "fire_hydrant",
        "home_safety_check",
        "emergency_supplies",
        "sexual_violence",
        "school_violence",
        "domestic_violence",
    }
)

SEOUL_INCIDENT_TYPES: frozenset[str] = frozenset(DISASTER_TYPES) - _NOT_SEOUL_INCIDENTS
"""The slugs an incident in Seoul can have."""


def get(slug: str) -> DisasterType:
    """The disaster type with this slug; raises ``UnknownDisasterTypeError`` if there is none."""
    try:
        return DISASTER_TYPES[slug]
    except KeyError:
        msg = f"unknown disaster type slug {slug!r}"
        raise UnknownDisasterTypeError(msg) from None


def by_code(code: int) -> DisasterType:
    """The disaster type with this public code; raises ``UnknownDisasterTypeError`` if there is none."""
    try:
        return _BY_CODE[code]
    except KeyError:
        msg = f"unknown disaster type code {code!r}"
        raise UnknownDisasterTypeError(msg) from None


class Severity(StrEnum):
    """How bad an incident is, from ``minor`` to ``extreme`` (CAP's scale without ``Unknown``).

    Severities compare by rank, not alphabetically: ``Severity.MINOR < Severity.EXTREME``.
    Comparing with a plain string converts it first, so an unknown string raises ``ValueError``.
    """

    MINOR = "minor"
    MODERATE = "moderate"
    SEVERE = "severe"
    EXTREME = "extreme"

    @property
    def rank(self) -> int:
        """0 for ``minor`` up to 3 for ``extreme``."""
        return _RANK[self]

    @classmethod
    def from_rank(cls, rank: int) -> Severity:
        """The severity of this rank, clamped to the scale (below 0 is minor, above 3 extreme)."""
        return _ORDER[max(0, min(rank, len(_ORDER) - 1))]

    def escalated(self, steps: int = 1) -> Severity:
        """This severity moved ``steps`` ranks up (down if negative), staying on the scale."""
        return Severity.from_rank(self.rank + steps)

    # str's own comparisons would order the values alphabetically ("extreme" < "minor").
    def __lt__(self, other: object) -> bool:
        return self.rank < _coerce(other).rank

    def __le__(self, other: object) -> bool:
        return self.rank <= _coerce(other).rank

    def __gt__(self, other: object) -> bool:
        return self.rank > _coerce(other).rank

    def __ge__(self, other: object) -> bool:
        return self.rank >= _coerce(other).rank


_ORDER: tuple[Severity, ...] = tuple(Severity)
_RANK: dict[Severity, int] = {severity: rank for rank, severity in enumerate(_ORDER)}


def _coerce(other: object) -> Severity:
    if isinstance(other, Severity):
        return other
    if isinstance(other, str):
        return Severity(other)
    msg = f"cannot compare Severity with {type(other).__name__}"
    raise TypeError(msg)
