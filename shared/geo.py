"""Seoul's 25 districts (자치구): lookup by code or name, by coordinate, and in free text.

The boundaries are the bundled ``shared/data/seoul-districts.geojson`` (Apache-2.0, see
``shared/data/NOTICE``), read once on first use. Centroids are approximate and meant for distance
ranking; ``district_at`` uses the polygons.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from functools import cache
from importlib.resources import files
from itertools import pairwise

import msgspec

__all__ = [
    "DISTRICTS",
    "District",
    "Point",
    "distance_km",
    "district_at",
    "district_by_code",
    "district_by_name",
    "find_district",
    "ray_cast",
]


class Point(msgspec.Struct, frozen=True):
    """A WGS 84 coordinate in decimal degrees."""

    lat: float
    lon: float


class District(msgspec.Struct, frozen=True):
    """One of Seoul's 25 districts: administrative code, names, and approximate centroid."""

    code: str
    ko: str
    en: str
    lat: float
    lon: float

    @property
    def stem(self) -> str:
        """The Korean name without its 구 suffix (마포구 → 마포)."""
        return self.ko.removesuffix("구")

    @property
    def fire_station(self) -> str:
        """The district's fire station: 중부소방서 for 중구, otherwise named after the district."""
        return "중부소방서" if self.code == "11140" else f"{self.stem}소방서"


DISTRICTS: tuple[District, ...] = tuple(
    District(code, ko, en, lat, lon)
    for code, ko, en, lat, lon in (
        ("11110", "종로구", "Jongno-gu", 37.5949, 126.9773),
        ("11140", "중구", "Jung-gu", 37.5601, 126.9959),
        ("11170", "용산구", "Yongsan-gu", 37.5314, 126.9799),
        ("11200", "성동구", "Seongdong-gu", 37.5510, 127.0411),
        ("11215", "광진구", "Gwangjin-gu", 37.5467, 127.0858),
        ("11230", "동대문구", "Dongdaemun-gu", 37.5820, 127.0549),
        ("11260", "중랑구", "Jungnang-gu", 37.5978, 127.0929),
        ("11290", "성북구", "Seongbuk-gu", 37.6057, 127.0176),
        ("11305", "강북구", "Gangbuk-gu", 37.6435, 127.0112),
        ("11320", "도봉구", "Dobong-gu", 37.6691, 127.0324),
        ("11350", "노원구", "Nowon-gu", 37.6526, 127.0750),
        ("11380", "은평구", "Eunpyeong-gu", 37.6192, 126.9271),
        ("11410", "서대문구", "Seodaemun-gu", 37.5777, 126.9391),
        ("11440", "마포구", "Mapo-gu", 37.5594, 126.9081),
        ("11470", "양천구", "Yangcheon-gu", 37.5248, 126.8555),
        ("11500", "강서구", "Gangseo-gu", 37.5612, 126.8228),
        ("11530", "구로구", "Guro-gu", 37.4944, 126.8563),
        ("11545", "금천구", "Geumcheon-gu", 37.4606, 126.9008),
        ("11560", "영등포구", "Yeongdeungpo-gu", 37.5224, 126.9103),
        ("11590", "동작구", "Dongjak-gu", 37.4989, 126.9516),
        ("11620", "관악구", "Gwanak-gu", 37.4674, 126.9454),
        ("11650", "서초구", "Seocho-gu", 37.4733, 127.0312),
        ("11680", "강남구", "Gangnam-gu", 37.4967, 127.0630),
        ("11710", "송파구", "Songpa-gu", 37.5056, 127.1154),
        ("11740", "강동구", "Gangdong-gu", 37.5504, 127.1470),
    )
)
"""The 25 districts in code order."""

_BY_CODE = {d.code: d for d in DISTRICTS}
_BY_KO = {d.ko: d for d in DISTRICTS}


def _romanized_stem(district: District) -> str:
    return district.en.removesuffix("-gu").lower()


def district_by_code(code: str) -> District | None:
    """The district with this five-digit administrative code (e.g. ``"11440"``), or None."""
    return _BY_CODE.get(code.strip())


def _squash(name: str) -> str:
    return re.sub(r"[\s\-_.,·]+", "", name).casefold()


class _Places(msgspec.Struct, frozen=True):
    """The contents of ``data/seoul-places.toml`` (see the comments there)."""

    ambiguous_stems: list[str]
    en_aliases: dict[str, str]
    landmarks: dict[str, dict[str, list[str]]]


@cache
def _places() -> _Places:
    raw = (files("shared") / "data" / "seoul-places.toml").read_bytes()
    return msgspec.toml.decode(raw, type=_Places)


@cache
def _name_index() -> dict[str, District]:
    index: dict[str, District] = {}
    for d in DISTRICTS:
        index[_squash(d.ko)] = index[_squash(d.en)] = d
        # A one-syllable stem (중 for 중구) is an everyday word, never a name on its own.
        if len(d.stem) > 1:
            index[d.stem] = d
        index[_romanized_stem(d)] = d
    for alias, ko in _places().en_aliases.items():
        index[alias] = index[f"{alias}gu"] = _BY_KO[ko]
    return index


_CITY_PREFIX = re.compile(r"^(?:서울특별시|서울시|서울|seoul)|seoul$")


def district_by_name(name: str) -> District | None:
    """The district a name denotes, or None: 마포구, 마포, Mapo-gu, Mapo, "mapo gu", "서울 마포구".

    Case, spaces, hyphens and a leading "서울"/"Seoul" are ignored; 중 alone is not 중구.
    """
    key = _CITY_PREFIX.sub("", _squash(name))
    return _name_index().get(key)


# --- point in polygon -------------------------------------------------------------------------


class _Polygon(msgspec.Struct, tag_field="type", tag="Polygon"):
    coordinates: list[list[list[float]]]


class _MultiPolygon(msgspec.Struct, tag_field="type", tag="MultiPolygon"):
    coordinates: list[list[list[list[float]]]]


class _Properties(msgspec.Struct, rename="upper"):
    sig_cd: str


class _Feature(msgspec.Struct):
    geometry: _Polygon | _MultiPolygon
    properties: _Properties


class _FeatureCollection(msgspec.Struct):
    features: list[_Feature]


_Ring = tuple[tuple[float, float], ...]


class _Shape(msgspec.Struct, frozen=True):
    """One polygon (outer ring and holes) of a district, with its bounding box."""

    district: District
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float
    rings: tuple[_Ring, ...]

    def contains(self, lon: float, lat: float) -> bool:
        if not (self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat):
            return False
        return ray_cast(lon, lat, self.rings)

    def distance_m(self, lon: float, lat: float) -> float:
        """Metres from the point to the nearest edge, on a local flat projection (fine below a km)."""
        kx, ky = 111_320.0 * math.cos(math.radians(lat)), 110_574.0
        nearest = math.inf
        for ring in self.rings:
            for (x1, y1), (x2, y2) in pairwise(ring):
                ax, ay, dx, dy = (x1 - lon) * kx, (y1 - lat) * ky, (x2 - x1) * kx, (y2 - y1) * ky
                length2 = dx * dx + dy * dy
                t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
                nearest = min(nearest, math.hypot(ax + t * dx, ay + t * dy))
        return nearest


def ray_cast(x: float, y: float, rings: Iterable[Sequence[tuple[float, float]]]) -> bool:
    """Whether (x, y) is inside the polygon of closed ``rings`` (outer and holes), its points in
    the same (x, y) order: even-odd ray casting over every ring at once, so crossing a hole's
    edge leaves the polygon."""
    inside = False
    for ring in rings:
        for (x1, y1), (x2, y2) in pairwise(ring):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def _closed(ring: list[list[float]]) -> _Ring:
    points = tuple((p[0], p[1]) for p in ring)
    return points if points[0] == points[-1] else (*points, points[0])


@cache
def _shapes() -> tuple[_Shape, ...]:
    raw = (files("shared") / "data" / "seoul-districts.geojson").read_bytes()
    shapes: list[_Shape] = []
    for feature in msgspec.json.decode(raw, type=_FeatureCollection).features:
        district = _BY_CODE[feature.properties.sig_cd]
        geometry = feature.geometry
        polygons = [geometry.coordinates] if isinstance(geometry, _Polygon) else geometry.coordinates
        for polygon in polygons:
            rings = tuple(_closed(ring) for ring in polygon)
            lons = [x for x, _ in rings[0]]
            lats = [y for _, y in rings[0]]
            shapes.append(_Shape(district, min(lons), min(lats), max(lons), max(lats), rings))
    return tuple(shapes)


def district_at(lat: float, lon: float, *, tolerance_m: float = 0.0) -> District | None:
    """The district whose boundary contains the point, or None outside Seoul.

    A point outside every boundary but within ``tolerance_m`` of one gets the nearest district: pass a
    fix's accuracy, or ~100 m to bridge the slivers the simplified borders leave between neighbours
    (one lies where 구로구, 관악구, 동작구 and 영등포구 meet). Near a border either side may be returned.
    """
    shapes = _shapes()
    for shape in shapes:
        if shape.contains(lon, lat):
            return shape.district
    # A degree of latitude is ~111 km; the bounding-box margin only needs to be generous.
    margin = tolerance_m / 80_000.0
    near = [
        (distance, shape.district)
        for shape in shapes
        if shape.min_lon - margin <= lon <= shape.max_lon + margin
        and shape.min_lat - margin <= lat <= shape.max_lat + margin
        and (distance := shape.distance_m(lon, lat)) <= tolerance_m
    ]
    return min(near, key=lambda pair: pair[0])[1] if near else None


_EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle (haversine) distance between two points, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(a))


# --- districts in free text -------------------------------------------------------------------

# A Korean name starts a word: it follows a non-Hangul character, or 서울/서울시/특별시 written solid.
_KO_START = r"(?:(?<![가-힣])|(?<=서울)|(?<=서울시)|(?<=특별시))"
# … and ends one: what follows is not Hangul, or is a particle or a suffix that keeps the place
# (마포구에서, 중구청, 송파 쪽). So 중구난방 ("chaos") is not 중구, nor 양천향교 양천구.
_PARTICLES = "에서|에|의|은|는|이|가|도|와|과|랑|로|으로|까지|부터|쪽|근처|부근|일대|지역|동네|전체|전역"
_KO_END_EXPLICIT = rf"(?=[^가-힣]|$|{_PARTICLES}|청|내|민|보건소|소방서)"
_KO_END_STEM = rf"(?=[^가-힣]|$|{_PARTICLES})"
# 중구 and 강서구 are also districts of other metropolitan cities (부산 중구, 부산 강서구, 인천 중구…).
_OTHER_CITY = re.compile(r"(?:부산|대구|인천|대전|울산|광주|busan|daegu|incheon|daejeon|ulsan|gwangju)\S*\s*$", re.I)


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _tier(ko: dict[str, District], ko_end: str, en: dict[str, District], en_end: str) -> re.Pattern[str]:
    ko_part = rf"{_KO_START}(?P<ko>{_alternation(list(ko))}){ko_end}"
    en_part = rf"\b(?P<en>{_alternation(list(en))}){en_end}"
    return re.compile(f"{ko_part}|{en_part}", re.IGNORECASE)


_Names = dict[str, District]
_Tier = tuple[re.Pattern[str], _Names, _Names]


@cache
def _tiers() -> tuple[_Tier, ...]:
    places = _places()
    ambiguous = set(places.ambiguous_stems)
    aliases = {alias: _BY_KO[ko] for alias, ko in places.en_aliases.items()}
    explicit_ko = {d.ko: d for d in DISTRICTS}
    explicit_en = {_romanized_stem(d): d for d in DISTRICTS} | aliases
    stem_ko = {d.stem: d for d in DISTRICTS if d.ko not in ambiguous}
    stem_en = {en: d for en, d in explicit_en.items() if d.ko not in ambiguous}
    landmark_ko = {place: _BY_KO[ko] for ko, names in places.landmarks["ko"].items() for place in names}
    landmark_en = {place.lower(): _BY_KO[ko] for ko, names in places.landmarks["en"].items() for place in names}
    return (
        (_tier(explicit_ko, _KO_END_EXPLICIT, explicit_en, r"[\s-]*gu\b"), explicit_ko, explicit_en),
        (_tier(stem_ko, _KO_END_STEM, stem_en, r"\b"), stem_ko, stem_en),
        (_tier(landmark_ko, "", landmark_en, r"\b"), landmark_ko, landmark_en),
    )


def find_district(text: str) -> District | None:
    """The Seoul district a free-text report or address mentions, or None.

    In order of trust: an explicit district name (마포구, Mapo-gu), then a bare name that is not
    also an everyday word or a wider area (마포, but not 중, 강남 or 동대문), then a well-known
    neighbourhood or landmark (합정, 가락시장, 강남역). Within a tier the first mention wins.
    """
    for pattern, ko_names, en_names in _tiers():
        for match in pattern.finditer(text):
            if not _OTHER_CITY.search(text, 0, match.start()):
                return ko_names[match["ko"]] if match["ko"] is not None else en_names[match["en"].lower()]
    return None
