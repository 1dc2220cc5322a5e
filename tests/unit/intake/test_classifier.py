"""Classifying a citizen's report: which disaster, how severe, and the words that decided it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.intake.classifier import classify, rules_version
from shared.taxonomy import DISASTER_TYPES, Severity

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures"


def _fixture_texts() -> dict[str, str]:
    """Every report text in the shared Kakao and Telegram fixtures, by file name."""
    texts = {
        path.name: json.loads(path.read_text(encoding="utf-8"))["userRequest"]["utterance"]
        for path in sorted((FIXTURES / "kakao").glob("*.json"))
    }
    for path in sorted((FIXTURES / "telegram").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for i, update in enumerate(data if isinstance(data, list) else [data]):
            for key in ("text", "caption"):
                if key in update["message"]:
                    texts[f"{path.name}#{i}"] = update["message"][key]
    return texts


def test_the_fixture_reports_are_classified_as_a_dispatcher_would() -> None:
    types = {text: classify(text).disaster_type for text in _fixture_texts().values()}
    assert types == {
        "가스 냄새가 심하게 나요": "gas_leak",
        "마포구 합정동 빌라 3층에서 검은 연기가 나요 불난 것 같아요": "fire",
        "합정역 7번 출구 앞 건물입니다": None,  # a location follow-up, not a disaster
        "Water is coming into the basement parking lot very fast, cars are floating": "inundation",
        "송파구 가락시장 근처 건물 외벽이 무너졌어요": "building_collapse",
    }


def test_a_classification_shows_the_words_that_decided_it() -> None:
    result = classify("마포구 합정동 빌라 3층에서 검은 연기가 나요 불난 것 같아요")
    assert result.matched_terms == ["검은 연기", "불난"]
    assert result.severity is Severity.MODERATE
    assert result.rules_version == rules_version()
    assert 0.5 < result.confidence <= 1.0


def test_a_location_follow_up_names_no_type_and_has_no_confidence() -> None:
    result = classify("합정역 7번 출구 앞 건물입니다")
    assert result.disaster_type is None
    assert result.matched_terms == []
    assert result.confidence == 0.0
    assert result.severity is Severity.MINOR


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # fire, through its stems and conjugations
        ("불이야!", "fire"),
        ("불났어요", "fire"),
        ("불난 것 같아요", "fire"),
        ("불이 났어요", "fire"),
        ("불이 나서 대피했어요", "fire"),
        ("커튼에 불이 붙었어요", "fire"),
        ("창고가 불타고 있어요", "fire"),
        ("불이 번지고 있어요", "fire"),
        ("화재 신고합니다", "fire"),
        ("타는 냄새가 나요", "fire"),
        ("There is smoke and flames in the hallway", "fire"),
        ("the kitchen is on fire", "fire"),
        ("산불이 났어요", "forest_fire"),  # beats the 불 inside it
        ("뒷산에서 불이 났어요", "forest_fire"),
        # the others the brief names
        ("가스가 새는 것 같아요", "gas_leak"),
        ("I can smell gas in the stairwell", "gas_leak"),
        ("지하실에 물이 차요", "inundation"),
        ("1층이 침수됐어요", "inundation"),
        ("차가 물에 잠겼어요", "inundation"),
        ("천장이 내려앉았어요", "building_collapse"),
        ("건물이 붕괴됐어요", "building_collapse"),
        ("the roof has collapsed", "building_collapse"),
        ("공장에서 폭발이 있었어요", "explosion"),
        ("뭔가 펑 하고 터졌어요", "explosion"),
        ("there was an explosion next door", "explosion"),
        ("정전됐어요", "power_outage"),
        ("전기가 나갔어요", "power_outage"),
        ("불이 다 나갔어요", "power_outage"),  # the lights went out
        ("blackout on our street", "power_outage"),
        ("엘리베이터에 갇혔어요", "elevator_accident"),
        ("엘리베이터 갇힘", "elevator_accident"),
        ("we are stuck in the lift", "elevator_accident"),
        ("지하철이 갑자기 멈췄어요", "subway_accident"),
        ("열차가 탈선했어요", "subway_accident"),
        ("지진 같아요", "earthquake"),
        ("건물이 흔들려요", "earthquake"),
        ("공장에서 유독가스가 나와요", "chemical_accident"),
        ("화학물질이 누출됐어요", "chemical_accident"),
        ("폭우가 쏟아져요", "heavy_rain"),
        ("산사태가 났어요", "landslide"),
        ("할머니가 열사병 같아요", "heat_wave"),
        ("한파에 수도가 얼었어요", "cold_wave"),
        ("폭설 때문에 못 움직여요", "heavy_snow"),
        ("할아버지가 쓰러졌어요", "first_aid"),
        ("사람이 의식이 없어요", "first_aid"),
        ("A man collapsed on the platform", "first_aid"),  # a person, not a building
        ("심정지 환자가 있어요", "cpr"),
        ("he is not breathing", "cpr"),
        ("쓰러졌는데 숨을 안 쉬어요", "cpr"),
        ("한강에 사람이 빠졌어요", "water_accident"),
        ("교통사고가 났어요", "traffic_accident"),
        ("미세먼지가 너무 심해요", "fine_dust"),
        ("태풍 때문에 창문이 흔들려요", "typhoon"),
    ],
)
def test_a_report_is_classified_by_what_it_describes(text: str, expected: str) -> None:
    assert classify(text).disaster_type == expected


@pytest.mark.parametrize(
    ("text", "not_expected"),
    [
        ("엘리베이터가 느려서 불편해요", "fire"),  # 불편: inconvenient
        ("불고기 먹으러 가요", "fire"),
        ("친구를 불러 주세요", "fire"),  # 부르다: to call
        ("불 좀 꺼 주세요", "fire"),  # turn off the light
        ("불이 나갔어요", "fire"),  # the lights went out
        ("불꽃놀이 보러 왔어요", "fire"),
        ("불길한 예감이 들어요", "fire"),  # ominous
        ("회의가 연기됐어요", "fire"),  # postponed
        ("I got fired today", "fire"),
        ("정전기가 자꾸 나요", "power_outage"),  # static electricity
        ("문이 잠겼어요", "inundation"),  # locked, not submerged
        ("물이 차가워요", "inundation"),  # the water is cold
        ("수도관이 터졌어요", "explosion"),  # a burst pipe
        ("나무가 쓰러졌어요", "first_aid"),  # a tree, not a person
        ("가스비가 많이 나왔어요", "heavy_rain"),  # the gas bill (비 inside 가스비)
        ("화학 수업 숙제예요", "chemical_accident"),
        ("지하철역 화장실에서 불이 났어요", "subway_accident"),  # a fire in a station is a fire
    ],
)
def test_look_alike_words_do_not_trigger_the_wrong_type(text: str, not_expected: str) -> None:
    assert classify(text).disaster_type != not_expected


@pytest.mark.parametrize(
    "text",
    ["너무 불편해요", "불고기 먹으러 가요", "친구를 불러 주세요", "문이 잠겼어요", "I got fired today", "도와주세요"],
)
def test_everyday_messages_name_no_disaster(text: str) -> None:
    assert classify(text).disaster_type is None


def test_a_tie_goes_to_the_documented_priority_explosion_before_collapse() -> None:
    result = classify("가스 폭발로 건물이 무너졌어요")
    assert result.scores["explosion"] == result.scores["building_collapse"]
    assert result.disaster_type == "explosion"


def test_a_repeated_word_counts_once() -> None:
    assert classify("불이야 불이야 불이야").scores == classify("불이야").scores


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("가스 냄새가 나요", Severity.MODERATE),
        ("정전됐어요", Severity.MINOR),  # a nuisance
        ("미세먼지가 심해요", Severity.MINOR),
        ("아파트 전체가 정전이에요", Severity.MODERATE),  # a nuisance, at scale
        ("엘리베이터에 사람이 갇혔어요", Severity.SEVERE),  # people trapped
        ("교통사고가 났는데 사람이 다쳤어요", Severity.SEVERE),
        ("불이 번지고 있어요", Severity.SEVERE),  # spreading
        ("대형 화재예요", Severity.SEVERE),  # scale
        ("불이 번지고 있어요 안에 사람이 있어요", Severity.EXTREME),  # spreading, with people inside
        ("건물 전체에 연기가 가득 차요 여러 명이 갇혔어요", Severity.EXTREME),
        ("사람이 죽었어요 불이 났어요", Severity.EXTREME),
        ("Smoke everywhere, the fire is spreading and people are trapped", Severity.EXTREME),
        ("살려주세요 갇혔어요", Severity.SEVERE),  # no type, but people in danger
        ("합정역 7번 출구 앞 건물입니다", Severity.MINOR),
    ],
)
def test_severity_follows_people_scale_and_escalation_cues(text: str, expected: Severity) -> None:
    assert classify(text).severity is expected


def test_severity_cues_explain_the_severity() -> None:
    result = classify("불이 번지고 있어요 안에 사람이 있어요")
    assert result.severity_terms == ["번지고", "안에 사람"]


def test_a_denied_casualty_does_not_raise_the_severity() -> None:
    result = classify("다친 사람은 없어요 차 사고 났어요")
    assert result.disaster_type == "traffic_accident"
    assert result.severity is Severity.MODERATE
    assert "first_aid" not in result.scores
    assert classify("Nobody is hurt, the car crashed into a wall").severity is Severity.MODERATE


CORPUS = [
    *_fixture_texts().values(),
    "가스 폭발로 건물이 무너지고 사람들이 갇혔어요",
    "Smoke everywhere, the FIRE is spreading and people are TRAPPED",
    "엘리베이터에 사람이 갇혔어요 빨리 와 주세요",
    "교통사고가 났는데 피를 많이 흘려요",
    "산불이 번지고 있어요",
]


@pytest.mark.parametrize("text", CORPUS)
def test_every_matched_word_appears_in_the_report(text: str) -> None:
    result = classify(text)
    assert all(term and term in text for term in result.matched_terms)
    assert all(term and term in text for term in result.severity_terms)


@pytest.mark.parametrize("text", CORPUS)
def test_a_classification_is_a_valid_taxonomy_slug_with_bounded_confidence(text: str) -> None:
    result = classify(text)
    assert result.disaster_type is None or result.disaster_type in DISASTER_TYPES
    assert set(result.scores) <= DISASTER_TYPES.keys()
    assert 0.0 <= result.confidence <= 1.0
    assert classify(text) == result  # a pure function of the text and the rules
