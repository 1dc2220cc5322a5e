"""Who can be called: the city's disaster experts and the response departments, read from data files.

The bundled seed data (``data/experts.json``, ``data/departments.json``) is fictitious: made-up
people, example.org addresses and phone numbers of the form 010-0000-0NNN. Pure data and loader:
no I/O beyond reading the file.

Errors::

    ValueError
     └── RegistryError   raised when a data file fails validation; the message names the entry and field
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args
from zoneinfo import ZoneInfo

import msgspec

from shared.events.common import ContactRef
from shared.events.community import ExpertProfile, OnCallHours
from shared.geo import district_by_code
from shared.taxonomy import DISASTER_TYPES

__all__ = [
    "FIELDS",
    "Availability",
    "ContactChannel",
    "Department",
    "DepartmentKind",
    "Expert",
    "Field",
    "OnCallWindow",
    "RegistryError",
    "check_expert",
    "expert_from_profile",
    "load_departments",
    "load_experts",
    "profile_of",
    "sealed_departments",
]

Field = Literal[
    "fire",
    "hazmat",
    "structural",
    "flood",
    "earthquake",
    "gas_electric",
    "ems",
    "high_rise",
    "subway_rail",
    "forest_fire",
    "psych_support",
    "heat_cold",
    "infectious_disease",
]
FIELDS: tuple[str, ...] = get_args(Field)
"""The expert fields, in a fixed order."""

DepartmentKind = Literal[
    "fire_station", "district_office", "gas_company", "power_utility", "metro", "police", "hospital"
]

SEOUL_TZ = ZoneInfo("Asia/Seoul")
# A box around Seoul's boundary; a coordinate outside it is a typo, not a far-away expert.
_LAT_RANGE = (37.41, 37.72)
_LON_RANGE = (126.76, 127.19)
_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_MINUTES_PER_DAY = 24 * 60


class RegistryError(ValueError):
    """Raised when a data file fails validation; the message names the entry and the field."""


class ContactChannel(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One way to reach someone: a channel and the address on it (chat id, phone number, e-mail, URL)."""

    channel: Literal["telegram", "sms", "kakao", "email", "webhook"]
    address: str


def _minutes(hh_mm: str) -> int:
    hours, minutes = hh_mm.split(":")
    return int(hours) * 60 + int(minutes)


class OnCallWindow(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A weekly on-call window, in Korea time.

    It opens at ``start`` on each of ``weekdays`` (0 = Monday … 6 = Sunday) and closes at ``end``;
    ``end`` before ``start`` runs past midnight into the next day, and ``end == start`` means 24 hours.
    """

    weekdays: list[int]
    start: str
    end: str

    def covers(self, local: datetime) -> bool:
        """Whether this window is open at ``local``, a time already in Korea time."""
        start = _minutes(self.start)
        length = (_minutes(self.end) - start) % _MINUTES_PER_DAY or _MINUTES_PER_DAY
        now = local.hour * 60 + local.minute
        # The window that covers `now` opened today or, if it runs past midnight, yesterday.
        for days_back in (0, 1):
            opened_on = (local.weekday() - days_back) % 7
            if opened_on in self.weekdays and 0 <= now + days_back * _MINUTES_PER_DAY - start < length:
                return True
        return False


class Availability(msgspec.Struct, frozen=True):
    """Availability set by hand, over the on-call schedule, until ``until`` (None: until changed)."""

    available: bool
    until: datetime | None = None
    reason: str = ""

    def holds_at(self, when: datetime) -> bool:
        return self.until is None or when < self.until


class Expert(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A disaster expert who can be invited to an incident's community."""

    id: str
    name: str
    fields: list[Field]
    district_code: str
    lat: float
    lon: float
    languages: list[str]
    channels: list[ContactChannel]
    """In order of preference."""
    on_call: list[OnCallWindow]
    max_concurrent: int = 2
    """How many incidents the expert will advise on at once."""
    active: bool = True
    """False for a retired expert, kept so past incidents still resolve the id."""
    availability: Availability | None = None

    def on_call_at(self, when: datetime) -> bool:
        """Whether the expert is on call at ``when`` (timezone-aware; read in Korea time): as set by
        hand while that holds, else when one of their windows is open."""
        if when.tzinfo is None or when.utcoffset() is None:
            msg = "on_call_at needs a timezone-aware datetime"
            raise ValueError(msg)
        if self.availability is not None and self.availability.holds_at(when):
            return self.availability.available
        local = when.astimezone(SEOUL_TZ)
        return any(window.covers(local) for window in self.on_call)

    def unavailable_at(self, when: datetime) -> str:
        """Why the expert cannot be asked at ``when`` (set unavailable by hand), or ``""``."""
        a = self.availability
        if a is None or a.available or not a.holds_at(when):
            return ""
        until = f" until {a.until.astimezone(SEOUL_TZ):%Y-%m-%d %H:%M} KST" if a.until else ""
        return f"unavailable{until}" + (f": {a.reason}" if a.reason else "")


class Department(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A response department that receives briefings for the disaster types and districts it covers."""

    id: str
    name_ko: str
    name_en: str
    kind: DepartmentKind
    districts: list[str]
    """District codes covered."""
    disaster_types: list[str]
    """Taxonomy slugs the department is engaged for."""
    briefing_channel: ContactChannel


_T = TypeVar("_T", Expert, Department)


def _read(path: Path | None, name: str) -> bytes:
    if path is not None:
        return path.read_bytes()
    return (files("services.community") / "data" / name).read_bytes()


def _decode(raw: bytes, source: str, kind: str, type_: type[_T]) -> list[_T]:
    """Each entry of a JSON list as ``type_``, with unique ids; errors name the entry."""
    try:
        rows = msgspec.json.decode(raw, type=list[dict[str, Any]])
    except msgspec.DecodeError as error:
        msg = f"{source}: not a JSON list of objects: {error}"
        raise RegistryError(msg) from None
    entries: list[_T] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        label = f"{source}: {kind} {row.get('id', f'#{index}')!r}"
        try:
            entry = msgspec.convert(row, type_)
        except msgspec.ValidationError as error:
            msg = f"{label}: {error}"
            raise RegistryError(msg) from None
        if entry.id in seen:
            msg = f"{label}: duplicate id"
            raise RegistryError(msg)
        seen.add(entry.id)
        entries.append(entry)
    return entries


def _fail(label: str, field: str, problem: str) -> RegistryError:
    return RegistryError(f"{label}: field {field!r}: {problem}")


def _check_districts(label: str, field: str, codes: list[str]) -> None:
    for code in codes:
        if district_by_code(code) is None:
            raise _fail(label, field, f"unknown district code {code!r}")


def _check_window(label: str, index: int, window: OnCallWindow) -> None:
    field = f"on_call[{index}]"
    if not window.weekdays:
        raise _fail(label, field, "no weekdays")
    for day in window.weekdays:
        if not 0 <= day <= 6:
            raise _fail(label, field, f"weekday {day} is not 0 (Monday) to 6 (Sunday)")
    for name, value in (("start", window.start), ("end", window.end)):
        if _HH_MM.fullmatch(value) is None:
            raise _fail(label, f"{field}.{name}", f"{value!r} is not HH:MM")


def check_expert(label: str, expert: Expert) -> None:
    """Raise ``RegistryError`` naming ``label`` and the field if ``expert`` is not valid."""
    # The Literal type already refuses an unknown field; this catches a value added to one but not the other.
    for field in expert.fields:
        if field not in FIELDS:
            raise _fail(label, "fields", f"unknown field {field!r}")
    if not expert.fields:
        raise _fail(label, "fields", "no field of expertise")
    _check_districts(label, "district_code", [expert.district_code])
    if not _LAT_RANGE[0] <= expert.lat <= _LAT_RANGE[1]:
        raise _fail(label, "lat", f"{expert.lat} is outside Seoul")
    if not _LON_RANGE[0] <= expert.lon <= _LON_RANGE[1]:
        raise _fail(label, "lon", f"{expert.lon} is outside Seoul")
    if not expert.languages:
        raise _fail(label, "languages", "no language")
    if not expert.channels:
        raise _fail(label, "channels", "no contact channel")
    if not expert.on_call:
        raise _fail(label, "on_call", "no on-call window")
    for index, window in enumerate(expert.on_call):
        _check_window(label, index, window)
    if expert.max_concurrent < 1:
        raise _fail(label, "max_concurrent", "must be at least 1")


def _check_department(label: str, department: Department) -> None:
    if not department.districts:
        raise _fail(label, "districts", "covers no district")
    _check_districts(label, "districts", department.districts)
    if not department.disaster_types:
        raise _fail(label, "disaster_types", "engaged for no disaster type")
    for slug in department.disaster_types:
        if slug not in DISASTER_TYPES:
            raise _fail(label, "disaster_types", f"unknown disaster type {slug!r}")


def load_experts(path: Path | None = None) -> list[Expert]:
    """The experts in ``path`` (default: the bundled seed data), validated; raises ``RegistryError``."""
    source = str(path) if path is not None else "experts.json"
    experts = _decode(_read(path, "experts.json"), source, "expert", Expert)
    for expert in experts:
        check_expert(f"{source}: expert {expert.id!r}", expert)
    return experts


def load_departments(path: Path | None = None) -> list[Department]:
    """The departments in ``path`` (default: the bundled seed data), validated; raises ``RegistryError``."""
    source = str(path) if path is not None else "departments.json"
    departments = _decode(_read(path, "departments.json"), source, "department", Department)
    for department in departments:
        _check_department(f"{source}: department {department.id!r}", department)
    return departments


def profile_of(expert: Expert, seal: Callable[[str, str], str]) -> ExpertProfile:
    """``expert`` as the registry's events record it, each contact sealed with ``seal``
    (``Privacy.seal_address``)."""
    return ExpertProfile(
        name=expert.name,
        fields=list(expert.fields),
        district_code=expert.district_code,
        lat=expert.lat,
        lon=expert.lon,
        languages=list(expert.languages),
        channels=[ContactRef(c.channel, seal(c.channel, c.address)) for c in expert.channels],
        on_call=[OnCallHours(list(w.weekdays), w.start, w.end) for w in expert.on_call],
        max_concurrent=expert.max_concurrent,
    )


def expert_from_profile(expert_id: str, profile: ExpertProfile) -> Expert:
    """The expert a recorded profile describes; contact addresses stay sealed."""
    return Expert(
        id=expert_id,
        name=profile.name,
        fields=profile.fields,  # type: ignore[arg-type]  # checked when it was recorded
        district_code=profile.district_code,
        lat=profile.lat,
        lon=profile.lon,
        languages=profile.languages,
        channels=[ContactChannel(c.channel, c.address_sealed) for c in profile.channels],  # type: ignore[arg-type]  # checked when recorded
        on_call=[OnCallWindow(w.weekdays, w.start, w.end) for w in profile.on_call],
        max_concurrent=profile.max_concurrent,
    )


def sealed_departments(departments: Sequence[Department], seal: Callable[[str, str], str]) -> list[Department]:
    """``departments`` with each briefing address sealed (``channel:address``), as events carry them."""
    return [
        msgspec.structs.replace(
            d,
            briefing_channel=ContactChannel(
                d.briefing_channel.channel, seal(d.briefing_channel.channel, d.briefing_channel.address)
            ),
        )
        for d in departments
    ]
