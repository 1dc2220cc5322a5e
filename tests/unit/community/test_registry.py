"""The expert and department registry: the seed data is complete, and bad data files are refused."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.community.registry import (
    FIELDS,
    Expert,
    OnCallWindow,
    RegistryError,
    load_departments,
    load_experts,
)
from shared.geo import DISTRICTS
from shared.taxonomy import SEOUL_INCIDENT_TYPES

SEOUL = ZoneInfo("Asia/Seoul")
MONDAY = datetime(2025, 6, 2, tzinfo=SEOUL)  # a Monday, 00:00 Korea time


def active_experts() -> list[Expert]:
    return [expert for expert in load_experts() if expert.active]


def expert_with(*windows: OnCallWindow) -> Expert:
    return Expert(
        id="EXP-900",
        name="(가상) 테스트",
        fields=["fire"],
        district_code="11440",
        lat=37.5594,
        lon=126.9081,
        languages=["ko"],
        channels=[],
        on_call=list(windows),
    )


def test_the_city_has_73_active_experts_and_two_retired_ones() -> None:
    experts = load_experts()
    assert len([e for e in experts if e.active]) == 73
    assert len([e for e in experts if not e.active]) == 2


def test_expert_ids_are_unique() -> None:
    ids = [expert.id for expert in load_experts()]
    assert len(ids) == len(set(ids))


def test_every_district_has_at_least_two_active_experts() -> None:
    per_district = Counter(expert.district_code for expert in active_experts())
    assert {d.code: per_district[d.code] for d in DISTRICTS if per_district[d.code] < 2} == {}


def test_experts_live_near_their_districts_centroid() -> None:
    centroids = {d.code: d for d in DISTRICTS}
    for expert in load_experts():
        district = centroids[expert.district_code]
        assert abs(expert.lat - district.lat) <= 0.01 and abs(expert.lon - district.lon) <= 0.01, expert.id


def test_every_field_has_someone_on_call_at_every_hour_of_the_week() -> None:
    experts = active_experts()
    uncovered = {
        (field, f"{hour // 24}:{hour % 24:02d}h")
        for field in FIELDS
        for hour in range(7 * 24)
        if not any(field in e.fields and e.on_call_at(MONDAY + timedelta(hours=hour)) for e in experts)
    }
    assert uncovered == set()


def test_seed_data_is_fictitious() -> None:
    for expert in load_experts():
        assert expert.name.startswith("(가상) ")
        for channel in expert.channels:
            if channel.channel == "email":
                assert channel.address.endswith("@example.org")
            elif channel.channel in {"sms", "kakao"}:
                assert channel.address.startswith("010-0000-0")
            elif channel.channel == "telegram":
                assert channel.address.startswith("9000000")


def test_a_night_window_covers_both_sides_of_midnight_and_closes_in_the_morning() -> None:
    friday_night = expert_with(OnCallWindow(weekdays=[4], start="18:00", end="08:00"))
    friday = MONDAY + timedelta(days=4)
    assert friday_night.on_call_at(friday.replace(hour=23, minute=59))
    assert friday_night.on_call_at(friday + timedelta(days=1, hours=7, minutes=59))
    assert not friday_night.on_call_at(friday + timedelta(days=1, hours=8))
    assert not friday_night.on_call_at(friday.replace(hour=17, minute=59))
    # Thursday is not in the window, so Friday's early hours are not covered.
    assert not friday_night.on_call_at(friday.replace(hour=3))


def test_a_sunday_night_window_runs_into_monday_morning() -> None:
    sunday_night = expert_with(OnCallWindow(weekdays=[6], start="22:00", end="06:00"))
    assert sunday_night.on_call_at(MONDAY.replace(hour=5))
    assert not sunday_night.on_call_at(MONDAY.replace(hour=22))


def test_a_window_whose_end_equals_its_start_lasts_all_day() -> None:
    always = expert_with(OnCallWindow(weekdays=list(range(7)), start="00:00", end="00:00"))
    assert all(always.on_call_at(MONDAY + timedelta(minutes=37 * k)) for k in range(300))


def test_on_call_is_read_in_korea_time_whatever_the_zone_of_the_question() -> None:
    office_hours = expert_with(OnCallWindow(weekdays=[0], start="09:00", end="18:00"))
    assert office_hours.on_call_at(datetime(2025, 6, 2, 0, 30, tzinfo=UTC))  # 09:30 in Seoul
    assert not office_hours.on_call_at(datetime(2025, 6, 2, 9, 30, tzinfo=UTC))  # 18:30 in Seoul


def test_on_call_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        expert_with(OnCallWindow(weekdays=[0], start="09:00", end="18:00")).on_call_at(datetime(2025, 6, 2, 10))


def test_department_ids_are_unique() -> None:
    ids = [department.id for department in load_departments()]
    assert len(ids) == len(set(ids))


def test_every_district_has_one_fire_station_and_one_district_office() -> None:
    departments = load_departments()
    for kind in ("fire_station", "district_office"):
        covered = Counter(code for d in departments if d.kind == kind for code in d.districts)
        assert covered == Counter(d.code for d in DISTRICTS), kind
    stations = {d.districts[0]: d.name_ko for d in departments if d.kind == "fire_station"}
    assert stations == {d.code: d.fire_station for d in DISTRICTS}


def test_every_district_is_covered_by_a_regional_hospital() -> None:
    covered = {code for d in load_departments() if d.kind == "hospital" for code in d.districts}
    assert covered == {d.code for d in DISTRICTS}


def test_every_seoul_incident_type_any_department_handles_is_covered_in_every_district() -> None:
    departments = load_departments()
    handled = {slug for d in departments for slug in d.disaster_types} & SEOUL_INCIDENT_TYPES
    uncovered = {
        (slug, district.code)
        for slug in handled
        for district in DISTRICTS
        if not any(slug in d.disaster_types and district.code in d.districts for d in departments)
    }
    assert uncovered == set()
    # District offices and the police are engaged for everything, so no Seoul type is left out.
    assert handled == SEOUL_INCIDENT_TYPES


# --- bad data files -------------------------------------------------------------------------------


def good_expert(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": "EXP-001",
        "name": "(가상) 김민준",
        "fields": ["fire"],
        "district_code": "11440",
        "lat": 37.56,
        "lon": 126.91,
        "languages": ["ko"],
        "channels": [{"channel": "email", "address": "expert001@example.org"}],
        "on_call": [{"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00"}],
    }
    return row | changes


def write(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_valid_small_file_loads(tmp_path: Path) -> None:
    [expert] = load_experts(write(tmp_path, [good_expert()]))
    assert expert.max_concurrent == 2 and expert.active


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"fields": ["fire", "firefighting"]}, "firefighting"),
        ({"district_code": "26110"}, "26110"),
        ({"lat": 35.1}, "lat"),
        ({"channels": []}, "channels"),
        ({"on_call": [{"weekdays": [7], "start": "09:00", "end": "18:00"}]}, "weekday 7"),
        ({"on_call": [{"weekdays": [0], "start": "9:00", "end": "18:00"}]}, "start"),
        ({"on_call": [{"weekdays": [0], "start": "09:00", "end": "24:30"}]}, "end"),
    ],
)
def test_an_expert_file_with_a_bad_entry_is_refused_naming_the_entry_and_field(
    tmp_path: Path, changes: dict[str, Any], named: str
) -> None:
    path = write(tmp_path, [good_expert(id="EXP-002"), good_expert(id="EXP-007", **changes)])
    with pytest.raises(RegistryError, match="EXP-007") as raised:
        load_experts(path)
    assert named in str(raised.value)


def test_an_expert_file_with_a_duplicate_id_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"'EXP-001'.*duplicate id"):
        load_experts(write(tmp_path, [good_expert(), good_expert(name="(가상) 이서연")]))


def test_a_department_file_with_an_unknown_district_or_disaster_type_is_refused(tmp_path: Path) -> None:
    row = {
        "id": "FS-11440",
        "name_ko": "마포소방서",
        "name_en": "Mapo Fire Station",
        "kind": "fire_station",
        "districts": ["11440"],
        "disaster_types": ["fire"],
        "briefing_channel": {"channel": "webhook", "address": "https://briefing.example.org/FS-11440"},
    }
    with pytest.raises(RegistryError, match=r"'FS-11440'.*districts.*99999"):
        load_departments(write(tmp_path, [row | {"districts": ["11440", "99999"]}]))
    with pytest.raises(RegistryError, match=r"'FS-11440'.*disaster_types.*alien_invasion"):
        load_departments(write(tmp_path, [row | {"disaster_types": ["alien_invasion"]}]))
    with pytest.raises(RegistryError, match=r"'FS-11440'.*duplicate id"):
        load_departments(write(tmp_path, [row, row]))
