"""Where things happen in a planned day: neighbourhoods, stations, hills, streams and Han River
parks of each district, and points inside its boundary (``shared/geo.py``'s polygons)."""

from __future__ import annotations

import math
import random

from shared import geo

__all__ = [
    "HAN_RIVER_PARKS",
    "HILLS",
    "NEIGHBOURHOODS",
    "STATIONS",
    "STREAMS",
    "address_in",
    "point_in",
    "point_near",
]

# A few 동 of each district, named as residents say them (every one lies in its district).
NEIGHBOURHOODS: dict[str, tuple[str, ...]] = {
    "11110": ("혜화동", "평창동", "창신동", "사직동"),
    "11140": ("신당동", "회현동", "황학동", "필동"),
    "11170": ("한남동", "이촌동", "후암동", "효창동"),
    "11200": ("금호동", "행당동", "옥수동", "성수동"),
    "11215": ("자양동", "구의동", "화양동", "중곡동"),
    "11230": ("전농동", "휘경동", "장안동", "회기동"),
    "11260": ("면목동", "상봉동", "묵동", "신내동"),
    "11290": ("정릉동", "길음동", "돈암동", "장위동"),
    "11305": ("미아동", "번동", "수유동", "우이동"),
    "11320": ("쌍문동", "방학동", "창동", "도봉동"),
    "11350": ("상계동", "중계동", "하계동", "공릉동"),
    "11380": ("응암동", "갈현동", "진관동", "역촌동"),
    "11410": ("홍제동", "연희동", "북가좌동", "남가좌동"),
    "11440": ("합정동", "망원동", "성산동", "아현동"),
    "11470": ("목동", "신정동", "신월동"),
    "11500": ("화곡동", "등촌동", "발산동", "가양동"),
    "11530": ("개봉동", "고척동", "오류동", "구로동"),
    "11545": ("독산동", "시흥동", "가산동"),
    "11560": ("여의도동", "신길동", "대림동", "문래동", "당산동"),
    "11590": ("노량진동", "상도동", "사당동", "흑석동"),
    "11620": ("봉천동", "신림동", "남현동"),
    "11650": ("방배동", "잠원동", "양재동", "반포동"),
    "11680": ("역삼동", "논현동", "대치동", "개포동", "삼성동"),
    "11710": ("잠실동", "가락동", "문정동", "방이동", "석촌동"),
    "11740": ("천호동", "길동", "명일동", "둔촌동", "암사동"),
}

# Subway stations inside each district (none of those split between two).
STATIONS: dict[str, tuple[str, ...]] = {
    "11110": ("종각역", "혜화역"),
    "11140": ("을지로입구역", "충무로역"),
    "11170": ("삼각지역", "이촌역"),
    "11200": ("왕십리역", "옥수역"),
    "11215": ("건대입구역", "구의역"),
    "11230": ("청량리역", "회기역"),
    "11260": ("상봉역", "면목역"),
    "11290": ("길음역", "성신여대입구역"),
    "11305": ("미아역", "수유역"),
    "11320": ("쌍문역", "방학역"),
    "11350": ("노원역", "상계역"),
    "11380": ("연신내역", "구파발역"),
    "11410": ("홍제역", "독립문역"),
    "11440": ("합정역", "망원역"),
    "11470": ("오목교역", "목동역"),
    "11500": ("발산역", "화곡역"),
    "11530": ("개봉역", "오류동역"),
    "11545": ("가산디지털단지역", "독산역"),
    "11560": ("영등포구청역", "여의도역"),
    "11590": ("노량진역", "이수역"),
    "11620": ("서울대입구역", "봉천역"),
    "11650": ("양재역", "교대역"),
    "11680": ("선릉역", "역삼역"),
    "11710": ("잠실역", "가락시장역"),
    "11740": ("천호역", "길동역"),
}

# Hills and mountains with trails, where landslides and forest fires happen.
HILLS: dict[str, str] = {
    "11110": "인왕산",
    "11200": "응봉산",
    "11215": "아차산",
    "11260": "용마산",
    "11290": "북악산",
    "11305": "북한산",
    "11320": "도봉산",
    "11350": "수락산",
    "11380": "북한산",
    "11410": "안산",
    "11530": "개웅산",
    "11545": "호암산",
    "11620": "관악산",
    "11650": "우면산",
    "11680": "대모산",
    "11740": "일자산",
}

# Streams that overflow in a downpour (names the classifier knows as rivers).
STREAMS: dict[str, str] = {
    "11110": "청계천",
    "11140": "청계천",
    "11200": "중랑천",
    "11215": "중랑천",
    "11230": "중랑천",
    "11260": "중랑천",
    "11320": "중랑천",
    "11350": "중랑천",
    "11380": "불광천",
    "11410": "홍제천",
    "11440": "홍제천",
    "11470": "안양천",
    "11500": "안양천",
    "11530": "안양천",
    "11545": "안양천",
    "11560": "도림천",
    "11590": "도림천",
    "11620": "도림천",
    "11680": "탄천",
    "11710": "탄천",
}

# Han River parks, by the district they lie in.
HAN_RIVER_PARKS: dict[str, str] = {
    "11170": "이촌 한강공원",
    "11200": "응봉 한강공원",
    "11215": "뚝섬 한강공원",
    "11440": "망원 한강공원",
    "11500": "강서 한강공원",
    "11560": "여의도 한강공원",
    "11590": "흑석 한강공원",
    "11650": "반포 한강공원",
    "11710": "잠실 한강공원",
    "11740": "광나루 한강공원",
}

_KM_PER_DEGREE_LAT = 111.0


def _offset(lat: float, lon: float, rng: random.Random, radius_km: float) -> tuple[float, float]:
    distance, bearing = radius_km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / _KM_PER_DEGREE_LAT
    dlon = distance * math.sin(bearing) / (_KM_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def point_in(district_code: str, rng: random.Random) -> tuple[float, float]:
    """A point inside the district's boundary, within a couple of km of its centroid."""
    district = geo.district_by_code(district_code)
    assert district is not None, district_code
    for _ in range(200):
        lat, lon = _offset(district.lat, district.lon, rng, 2.0)
        if (found := geo.district_at(lat, lon)) is not None and found.code == district_code:
            return lat, lon
    return district.lat, district.lon  # every centroid of the table lies inside its district


def point_near(
    at: tuple[float, float], district_code: str, rng: random.Random, *, within_km: float
) -> tuple[float, float]:
    """A point within ``within_km`` of ``at`` and still inside the district (``at`` itself if none is found)."""
    for _ in range(50):
        lat, lon = _offset(*at, rng, within_km)
        if (found := geo.district_at(lat, lon)) is not None and found.code == district_code:
            return lat, lon
    return at


def address_in(district_code: str, neighbourhood: str, rng: random.Random) -> str:
    """A lot-number address as KakaoTalk's location picker sends it: ``서울 마포구 합정동 412-3``."""
    district = geo.district_by_code(district_code)
    assert district is not None, district_code
    return f"서울 {district.ko} {neighbourhood} {rng.randint(1, 980)}-{rng.randint(1, 40)}"
