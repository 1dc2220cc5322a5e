"""Seoul's districts: by code and name, by coordinate, and in free text."""

from __future__ import annotations

import json
import re
import time
from importlib.resources import files
from pathlib import Path

import pytest

from shared.geo import DISTRICTS, District, distance_km, district_at, district_by_code, district_by_name, find_district

SHARED = Path(__file__).resolve().parents[3] / "shared"
FIXTURES = SHARED / "fixtures"


def _domain_table() -> list[tuple[str, str, str, float, float]]:
    """The district table as DOMAIN.md states it."""
    text = (SHARED / "DOMAIN.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (11\d{3}) \| (\S+) \| (\S+) \| ([\d.]+) \| ([\d.]+) \|$", text, re.MULTILINE)
    return [(code, ko, en, float(lat), float(lon)) for code, ko, en, lat, lon in rows]


def test_the_25_districts_match_the_domain_table() -> None:
    table = _domain_table()
    assert len(table) == 25
    assert [(d.code, d.ko, d.en, d.lat, d.lon) for d in DISTRICTS] == table


def test_the_package_bundles_the_shared_boundaries_and_their_notice_unchanged() -> None:
    bundled = files("shared") / "data"
    for name in ("seoul-districts.geojson", "NOTICE"):
        assert (bundled / name).read_bytes() == (SHARED / "data" / name).read_bytes()


@pytest.mark.parametrize("district", DISTRICTS, ids=lambda d: d.en)
def test_each_centroid_lies_inside_its_own_district(district: District) -> None:
    assert district_at(district.lat, district.lon) == district


def test_the_telegram_fixture_location_at_gangnam_station_lies_in_seocho_gu() -> None:
    updates = json.loads((FIXTURES / "telegram" / "text-then-location.json").read_text(encoding="utf-8"))
    location = updates[1]["message"]["location"]
    # The fix sits just west of 강남대로, the Seocho side of the border the polygons draw.
    assert district_at(location["latitude"], location["longitude"]) == district_by_name("서초구")


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(37.4563, 126.7052), (35.1796, 129.0756), (37.2636, 127.0286), (37.7, 126.6), (0.0, 0.0)],
    ids=["incheon", "busan", "suwon", "gimpo", "null-island"],
)
def test_a_point_outside_seoul_is_in_no_district(lat: float, lon: float) -> None:
    assert district_at(lat, lon) is None
    assert district_at(lat, lon, tolerance_m=100) is None


def test_a_point_in_a_sliver_between_simplified_borders_gets_the_nearest_district_within_tolerance() -> None:
    # Where 구로구, 관악구, 동작구 and 영등포구 meet, the simplified borders leave a gap of ~100 m.
    assert district_at(37.485, 126.9025) is None
    nearby = district_at(37.485, 126.9025, tolerance_m=100)
    assert nearby is not None
    assert nearby.ko in {"구로구", "관악구", "동작구", "영등포구"}


def test_point_lookup_is_fast_enough_for_thousands_of_reports_a_second() -> None:
    points = [(37.42 + i * 0.0003, 126.76 + i * 0.0004) for i in range(1000)]
    start = time.perf_counter()
    for lat, lon in points:
        district_at(lat, lon)
    assert time.perf_counter() - start < 0.5


def test_a_district_is_found_by_its_code() -> None:
    mapo = district_by_code("11440")
    assert mapo is not None
    assert mapo.ko == "마포구"
    assert district_by_code("11111") is None


@pytest.mark.parametrize(
    "name", ["마포구", "마포", "Mapo-gu", "Mapo", "mapo gu", "MAPO-GU", "서울 마포구", "Mapo-gu, Seoul"]
)
def test_a_district_is_found_by_any_common_spelling_of_its_name(name: str) -> None:
    assert district_by_name(name) == district_by_code("11440")


def test_jung_gu_is_found_by_name_but_not_by_the_bare_syllable() -> None:
    assert district_by_name("중구") == district_by_name("Jung-gu") == district_by_code("11140")
    assert district_by_name("중") is None
    assert district_by_name("성산") is None


def test_each_district_knows_its_fire_station() -> None:
    stations = {d.ko: d.fire_station for d in DISTRICTS}
    assert stations["중구"] == "중부소방서"
    assert stations["종로구"] == "종로소방서"
    assert stations["영등포구"] == "영등포소방서"


def test_distance_between_city_hall_and_gangnam_station_is_about_eight_km() -> None:
    assert distance_km(37.5663, 126.9779, 37.4979, 127.0276) == pytest.approx(8.8, abs=0.3)
    assert distance_km(37.5, 127.0, 37.5, 127.0) == 0.0


def _fixture_texts() -> list[str]:
    texts = [
        json.loads(path.read_text(encoding="utf-8"))["userRequest"]["utterance"]
        for path in sorted((FIXTURES / "kakao").glob("*.json"))
    ]
    for path in sorted((FIXTURES / "telegram").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for update in data if isinstance(data, list) else [data]:
            message = update["message"]
            texts.extend(message[key] for key in ("text", "caption") if key in message)
    return texts


def test_the_district_of_each_fixture_report_is_found() -> None:
    found = {text: (d.ko if (d := find_district(text)) else None) for text in _fixture_texts()}
    assert found == {
        "가스 냄새가 심하게 나요": None,
        "마포구 합정동 빌라 3층에서 검은 연기가 나요 불난 것 같아요": "마포구",
        "합정역 7번 출구 앞 건물입니다": "마포구",
        "Water is coming into the basement parking lot very fast, cars are floating": None,
        "송파구 가락시장 근처 건물 외벽이 무너졌어요": "송파구",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("서울 마포구 양화로 45", "마포구"),
        ("in Gangnam-gu near the station", "강남구"),
        ("서울특별시 중구 세종대로 110", "중구"),
        ("서울시중구 세종대로", "중구"),
        ("중구청 앞 사거리", "중구"),
        ("강서구에서 화재", "강서구"),
        ("마포에서 연기가 나요", "마포구"),
        ("송파 쪽 아파트", "송파구"),
        ("Near Hongdae, smoke everywhere", "마포구"),
        ("여의도 한강공원 근처", "영등포구"),
        ("강남역 11번 출구", "강남구"),
        ("명동 골목", "중구"),
        ("광화문 광장에서", "종로구"),
        ("대치동 학원가", "강남구"),
        ("잠실 롯데월드 앞", "송파구"),
        ("용산구 이태원인데 마포구 사는 사람이 신고해요", "용산구"),
        ("홍대 근처지만 주소는 서대문구 연희동입니다", "서대문구"),
    ],
)
def test_the_district_mentioned_in_a_report_is_found(text: str, expected: str) -> None:
    district = find_district(text)
    assert district is not None
    assert district.ko == expected


@pytest.mark.parametrize(
    "text",
    [
        "회의가 중구난방이에요",  # "chaos", not 중구
        "중 학교 앞",  # 중 alone is not 중구
        "강서 쪽으로 가는 길",  # 강서 is a side of the river, not necessarily 강서구
        "강남 사는 친구",
        "동작 그만!",  # "movement"
        "동대문에서 옷을 샀어요",  # the market lies in 중구 and 종로구
        "부산 중구 남포동",  # another city's 중구
        "인천광역시 중구 공항로 272",
        "양천향교역 근처",  # a station in 강서구 named after old 양천
        "숟가락이 떨어졌어요",  # 가락 inside a word
        "홍길동 씨 댁",
        "the Jung family next door",
        "",
    ],
)
def test_words_that_only_look_like_districts_are_not_taken_for_them(text: str) -> None:
    assert find_district(text) is None
