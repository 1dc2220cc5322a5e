"""What people write in a planned day, in Korean: citizens' reports of each disaster type, and the
words of operators and experts. Written for Jikimi; every report text classifies as its type
(``tests/unit/test_day_plan.py`` runs intake's classifier over whole plans).

A report template holds ``{place}`` (``마포구 합정동 빌라``, or ``여기 빌라`` when the report
carries a GPS point) and only particles that read after any noun (에서, 에, 쪽, 앞).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "CLOSE_SUMMARIES",
    "DECLINE_REASONS",
    "EXPERT_POSTS",
    "INSTRUCTIONS",
    "OPENINGS",
    "OPERATOR_POSTS",
    "REPORTS",
    "SITES",
    "UPDATES",
    "Reports",
]


class Reports(NamedTuple):
    """A type's reports: what most reporters write, and what they write of a large incident
    (its size, its spreading, people in danger: the words that raise intake's severity)."""

    usual: tuple[str, ...]
    large: tuple[str, ...]


# Where each type happens; types with their own places (stations, hills, streams, parks) name them
# in plan.py instead.
SITES: dict[str, tuple[str, ...]] = {
    "fire": ("아파트", "빌라", "상가 건물", "식당", "단독주택", "고시원", "오피스텔", "공장", "노래방"),
    "gas_leak": ("아파트", "빌라", "식당", "주택", "상가 건물"),
    "elevator_accident": ("아파트", "오피스텔", "상가 건물", "병원", "주상복합"),
    "first_aid": ("공원", "버스정류장", "헬스장", "시장", "아파트 단지", "교회", "지하상가"),
    "cpr": ("공원", "버스정류장", "헬스장", "시장", "아파트 단지", "사우나", "지하상가"),
    "traffic_accident": ("사거리", "교차로", "대로", "횡단보도", "이면도로"),
    "inundation": ("반지하 주택", "지하주차장", "지하차도", "상가 지하", "빌라 지하"),
    "heavy_rain": ("골목", "도로", "시장 골목", "주택가"),
    "strong_wind": ("상가 거리", "대로변", "아파트 단지", "공사장"),
    "power_outage": ("아파트", "주택가", "상가", "오피스텔"),
    "heat_wave": ("공원", "경로당", "공사장", "시장", "버스정류장"),
    "cold_wave": ("빌라", "주택", "아파트", "지하도"),
    "heavy_snow": ("언덕길", "이면도로", "버스정류장", "골목"),
    "building_collapse": ("공사장", "오래된 주택", "상가 건물", "빌라"),
    "explosion": ("식당", "공장", "상가 건물", "주택"),
    "chemical_accident": ("공장", "도금 공장", "물류창고", "세탁 공장"),
}

REPORTS: dict[str, Reports] = {
    "fire": Reports(
        (
            "{place}에서 불이 났어요 연기가 많이 나요",
            "{place}에 화재가 난 것 같아요 검은 연기가 올라와요",
            "{place} 쪽에서 타는 냄새가 심하고 연기가 나요",
            "119죠? {place}에서 불났어요 빨리 와주세요",
            "{place} 창문으로 불길이 보여요",
            "길 건너 {place}에서 연기가 계속 나요 불난 거 같아요",
            "{place} 주방에서 불이 붙었어요",
        ),
        (
            "{place}에서 큰 불이 났어요 불이 옆 건물로 번지고 있어요",
            "{place} 건물 전체에 연기가 가득해요 안에 사람이 있어요",
            "{place} 화재 사람들이 옥상으로 대피했어요 살려주세요",
            "{place}에서 불길이 점점 커지고 있어요 여러 층이 타고 있어요",
            "{place} 불이야! 계단에 연기가 차서 못 나가요 안에 아이가 있어요",
        ),
    ),
    "gas_leak": Reports(
        (
            "{place}에서 가스 냄새가 심하게 나요",
            "{place} 복도에 가스가 새는 것 같아요 냄새가 계속 나요",
            "{place} 가스 누출 같아요 머리가 아파요",
            "{place} 앞 도로에서 가스 새는 소리가 나요",
        ),
        ("{place} 가스 냄새가 온 동네에 퍼졌어요 주민들이 대피하고 있어요",),
    ),
    "traffic_accident": Reports(
        (
            "{place}에서 교통사고 났어요 차 두 대가 부딪쳤어요",
            "{place}에서 버스랑 택시가 추돌했어요",
            "{place} 앞에서 오토바이가 차에 치였어요 사람이 다쳤어요",
            "{place}에 차가 전복됐어요",
            "{place} 교통사고예요 한 분이 못 일어나세요",
        ),
        ("{place}에서 교통사고로 차 여러 대가 뒤엉켰어요 다친 사람이 많아요",),
    ),
    "subway_accident": Reports(
        (
            "{place}에서 지하철이 갑자기 멈췄어요 안내방송도 없어요",
            "{place} 승강장에 열차가 멈춰서 안 움직여요",
            "{place} 선로에 사람이 떨어졌어요 지하철 멈춰주세요",
            "{place}에서 전동차 고장으로 승객들이 내리고 있어요",
        ),
        ("{place}에서 열차가 탈선했어요 승객 수백 명이 갇혀 있어요",),
    ),
    "elevator_accident": Reports(
        (
            "{place} 엘리베이터에 사람이 갇혔어요",
            "{place} 엘리베이터가 갑자기 멈췄어요 안에 아이가 있어요",
            "{place} 승강기가 멈춰서 사람이 못 나와요",
            "{place} 엘리베이터 고장으로 할머니가 갇혀 계세요",
        ),
        (),
    ),
    "first_aid": Reports(
        (
            "{place}에서 사람이 쓰러졌어요 의식이 없어요",
            "{place} 앞에서 할아버지가 넘어지셔서 피가 많이 나요",
            "{place}에서 아이가 다쳤어요 구급차 불러주세요",
            "{place}에서 어떤 분이 경련을 해요",
            "{place}에서 넘어져서 다리 골절 같아요",
        ),
        (),
    ),
    "cpr": Reports(
        (
            "{place}에서 사람이 쓰러졌는데 숨을 안 쉬어요",
            "{place}에서 아버지가 심정지 같아요 심폐소생술 하고 있어요",
            "{place}에서 남자분이 갑자기 쓰러졌어요 맥박이 없어요",
        ),
        (),
    ),
    "inundation": Reports(
        (
            "{place}에 물이 차오르고 있어요",
            "{place} 침수됐어요 차를 빼야 해요",
            "{place}에 빗물이 들어와요 하수구가 역류해요",
            "{place} 물에 잠겼어요 차가 둥둥 떠 있어요",
        ),
        (
            "{place} 침수 물이 점점 차올라요 안에 사람이 갇혔어요",
            "{place} 여러 집이 침수됐어요 어르신들이 못 나오세요",
        ),
    ),
    "heavy_rain": Reports(
        (
            "{place}에 비가 너무 많이 와서 도로가 강처럼 됐어요",
            "{place} 폭우 때문에 배수가 안 돼요",
            "{place}에 장대비가 쏟아져서 앞이 안 보여요",
        ),
        (),
    ),
    "flood": Reports(
        (
            "{place} 물이 넘치고 있어요 산책로가 안 보여요",
            "{place} 범람 직전이에요 둔치 주차장 차들이 잠겼어요",
            "{place} 수위가 계속 올라가요 홍수 날 것 같아요",
        ),
        ("{place} 범람했어요 주변 주택가로 물이 들어가고 사람들이 고립됐어요",),
    ),
    "landslide": Reports(
        (
            "{place}에 산사태가 났어요 흙더미가 길을 덮었어요",
            "{place} 쪽 비탈에서 토사가 쏟아져 내려와요",
            "{place} 옹벽 위에서 흙이 무너져 내려요",
        ),
        ("{place} 산사태로 주택 여러 채가 매몰됐어요",),
    ),
    "forest_fire": Reports(
        (
            "{place} 쪽에서 산불이 났어요",
            "{place} 근처 산불 발생 연기가 많이 보여요",
            "{place}에서 산불이 나서 등산객들이 내려오고 있어요",
        ),
        ("{place} 산불이 빠르게 번지고 있어요 등산객들이 고립됐어요",),
    ),
    "water_accident": Reports(
        (
            "{place}에서 사람이 물에 빠졌어요",
            "{place} 앞 한강에 누가 뛰어들었어요",
            "{place}에서 아이가 물에 떠내려가요",
        ),
        (),
    ),
    "strong_wind": Reports(
        (
            "{place}에 간판이 떨어졌어요 지나가던 사람 다칠 뻔했어요",
            "{place} 가로수가 쓰러져서 도로를 막았어요",
            "{place}에 강풍 때문에 현수막이 날아다녀요",
        ),
        (),
    ),
    "power_outage": Reports(
        (
            "{place} 갑자기 정전됐어요",
            "{place} 전기가 다 나갔어요 냉장고도 꺼졌어요",
            "{place} 일대가 정전이에요 신호등도 꺼졌어요",
        ),
        (),
    ),
    "heat_wave": Reports(
        (
            "{place}에서 어르신이 쓰러지셨어요 열사병 같아요",
            "{place}에서 일하던 분이 폭염에 어지럽다고 해요",
            "{place}에서 할머니가 열탈진 증상을 보여요",
        ),
        (),
    ),
    "cold_wave": Reports(
        (
            "{place} 수도 계량기가 얼어서 물이 안 나와요",
            "{place}에 한파로 수도관이 동파됐어요",
            "{place}에 노숙인이 저체온증으로 떨고 있어요",
        ),
        (),
    ),
    "heavy_snow": Reports(
        (
            "{place}에 눈이 너무 많이 쌓여서 차가 못 올라가요",
            "{place} 폭설로 빙판길이 됐어요 사람들이 미끄러져요",
            "{place} 폭설 때문에 버스가 못 다녀요",
        ),
        (),
    ),
    "building_collapse": Reports(
        (
            "{place} 외벽이 무너졌어요",
            "{place} 천장이 내려앉았어요",
            "{place} 담장이 붕괴됐어요",
        ),
        ("{place} 건물이 무너졌어요 사람들이 깔렸어요",),
    ),
    "explosion": Reports(
        (
            "{place}에서 펑 하는 소리가 나고 폭발했어요",
            "{place}에서 폭발 사고가 났어요 유리창이 다 깨졌어요",
        ),
        ("{place}에서 폭발이 일어나서 사람들이 다쳤어요",),
    ),
    "chemical_accident": Reports(
        (
            "{place}에서 유독가스가 새어 나와요 눈이 따가워요",
            "{place}에서 화학약품 냄새가 심하게 나요",
            "{place}에서 염산이 누출됐어요",
        ),
        ("{place}에서 유독가스가 퍼지고 있어요 여러 명이 쓰러졌어요",),
    ),
}

OPENINGS = ("", "", "", "신고합니다 ", "저기요 ", "급해요 ")
"""How some reporters start (weighted towards none)."""

_FIRE_UPDATES = ("소방차 {n}대 현장 도착, 진압 중", "주불 진화, 잔불 정리 중", "인명 검색 중, {n}명 구조")
_WATER_UPDATES = ("배수 펌프 {n}대 가동 중", "주변 도로 통제, 주민 대피 안내 중", "수위 낮아지는 중, 계속 확인")
UPDATES: dict[str, tuple[str, ...]] = {
    "fire": _FIRE_UPDATES,
    "explosion": _FIRE_UPDATES,
    "forest_fire": ("산불 진화 헬기 {n}대 투입", "등산로 통제, 등산객 하산 안내 중"),
    "inundation": _WATER_UPDATES,
    "flood": _WATER_UPDATES,
    "heavy_rain": _WATER_UPDATES,
    "landslide": ("토사 제거 장비 {n}대 투입", "인근 주택 {n}가구 대피"),
    "": ("현장 도착, 상황 확인 중", "구급대 {n}개 팀 현장 활동 중", "관계 기관 통보 완료, 조치 중"),
}
"""Operators' situation updates by type ("" for any type); ``{n}`` is a small number."""

INSTRUCTIONS: dict[str, str] = {
    "fire": "인근 주민은 창문을 닫고 연기를 피해 주세요. 현장 주변 도로는 통제 중입니다.",
    "explosion": "현장 반경 200 m 접근을 삼가고 유리 파편에 주의하세요.",
    "gas_leak": "불꽃과 전기 스위치 사용을 삼가고 바람을 등지고 대피하세요.",
    "chemical_accident": "실내로 들어가 창문을 닫고 환기 장치를 끄세요.",
    "inundation": "지하 공간과 지하차도에 들어가지 마세요. 전기 차단기를 내려 주세요.",
    "flood": "하천 산책로와 둔치에 접근하지 마세요.",
    "landslide": "비탈 아래 주택 주민은 대피소로 이동하세요.",
    "subway_accident": "해당 구간 이용을 피하고 다른 교통수단을 이용하세요.",
    "building_collapse": "주변 건물 출입을 삼가고 통제선을 지켜 주세요.",
    "": "현장 접근을 삼가고 안내에 따라 주세요.",
}

CLOSE_SUMMARIES: dict[str, tuple[str, ...]] = {
    "resolved": ("현장 조치 완료, 추가 피해 없음", "상황 종료, 관할 기관 후속 조치 예정", "진압 및 정리 완료"),
    "false_alarm": ("현장 확인 결과 이상 없음", "오인 신고로 확인"),
    "handed_over": ("관할 구청으로 이관", "경찰로 이관"),
}

OPERATOR_POSTS = (
    "현장 지휘관 도착했습니다",
    "구급대 추가 출동 요청했습니다",
    "주민 대피 안내 중입니다",
    "관할 구청 담당자 연락 완료",
    "다음 상황 보고는 20분 후입니다",
)

EXPERT_POSTS: dict[str, tuple[str, ...]] = {
    "fire": ("계단실 연기 확인 후 진입 바랍니다", "옥상 대피자 우선 구조 권고합니다", "인접 건물 외벽 온도 확인 필요"),
    "gas_leak": ("메인 밸브 차단 확인해 주세요", "전기 스위치 조작 금지 안내 바랍니다"),
    "inundation": ("지하 공간 진입 전에 전기 차단 먼저", "배수 펌프 추가 배치 권고"),
    "": ("현장 사진 공유 부탁드립니다", "의료진 추가 배치 검토 바랍니다", "2차 사고 위험 구역 통제 권고합니다"),
}

DECLINE_REASONS = (
    "다른 현장에 출동 중입니다",
    "현재 위치가 너무 멉니다",
    "개인 사정으로 어렵습니다",
    "지금은 당직이 아닙니다",
)
