"""Action guides: one for every disaster a citizen may report, in Korean and English."""

from __future__ import annotations

import re

import pytest

from shared import taxonomy
from shared.guides import SHORT_MAX_CHARS, GuideText, UnknownGuideError, all_guides, get_guide

REQUIRED = [
    "fire",
    "gas_leak",
    "explosion",
    "building_collapse",
    "chemical_accident",
    "power_outage",
    "elevator_accident",
    "subway_accident",
    "heavy_rain",
    "flood",
    "inundation",
    "typhoon",
    "earthquake",
    "heat_wave",
    "cold_wave",
    "heavy_snow",
    "landslide",
    "fine_dust",
    "infectious_disease",
    "first_aid",
    "cpr",
]


def _texts(slug: str) -> list[GuideText]:
    guide = get_guide(slug)
    return [guide.ko, guide.en]


def _all_words(text: GuideText) -> str:
    return " ".join([text.title, text.short, *text.before, *text.during, *text.after])


@pytest.mark.parametrize("slug", REQUIRED)
def test_every_required_disaster_has_a_complete_guide_in_both_languages(slug: str) -> None:
    for text in _texts(slug):
        assert text.title.strip()
        assert 0 < len(text.short) <= SHORT_MAX_CHARS
        for phase in (text.before, text.during, text.after):
            assert 3 <= len(phase) <= 6
            assert all(step.strip() for step in phase)


@pytest.mark.parametrize("slug", REQUIRED)
def test_each_guide_carries_its_taxonomy_slug_code_and_a_version(slug: str) -> None:
    guide = get_guide(slug)
    assert guide.slug == slug
    assert guide.code == taxonomy.get(slug).code
    assert guide.version


def test_every_bundled_guide_is_for_a_type_in_the_taxonomy() -> None:
    slugs = [guide.slug for guide in all_guides()]
    assert set(REQUIRED) <= set(slugs)
    assert slugs == sorted(slugs)
    assert all(slug in taxonomy.DISASTER_TYPES for slug in slugs)


def test_korean_texts_keep_one_polite_register() -> None:
    # 해요체 throughout: no 하십시오체 endings such as 하십시오 / 합니다 / 마십시오.
    for guide in all_guides():
        assert not re.search(r"십시오|습니다|합니다", _all_words(guide.ko)), guide.slug


def test_an_unknown_slug_has_no_guide() -> None:
    with pytest.raises(UnknownGuideError):
        get_guide("alien_invasion")


def test_a_guide_answers_in_the_reader_s_language_and_falls_back_to_korean() -> None:
    guide = get_guide("fire")
    assert guide.text("en-US") is guide.en
    assert guide.text("ko") is guide.ko
    assert guide.text("ja") is guide.ko


# The lines below pin the advice that saves lives; if one fails, a rewrite dropped it.


def test_the_gas_leak_guide_forbids_switches_and_flames_and_says_to_call_from_outside() -> None:
    ko, en = _texts("gas_leak")
    assert "스위치" in ko.short
    assert "불꽃" in ko.short
    assert "밖에서" in ko.short
    assert "switch" in en.short
    assert "flame" in en.short
    assert "from outside" in en.short
    assert "창문" in _all_words(ko)
    assert "windows" in _all_words(en)


def test_the_fire_guide_says_stay_low_close_doors_and_never_take_the_elevator() -> None:
    ko, en = _texts("fire")
    assert "몸을 낮춰" in ko.short
    assert "엘리베이터는 타지 마세요" in ko.short
    assert "문은 닫" in ko.short
    assert "119" in ko.short
    assert "stay low" in en.short
    assert "Never use the elevator" in en.short
    assert "Close doors behind you" in en.short


def test_the_earthquake_guide_says_take_cover_then_stairs_to_open_space() -> None:
    ko, en = _texts("earthquake")
    assert "탁자 아래" in ko.short
    assert "계단" in ko.short
    assert "넓은 곳" in ko.short
    assert "under a sturdy table" in en.short
    assert "stairs" in en.short
    assert "open space away from buildings" in en.short


def test_the_inundation_guide_keeps_people_out_of_underground_spaces_and_sends_them_up() -> None:
    ko, en = _texts("inundation")
    assert "지하 주차장" in ko.short
    assert "높은 층" in ko.short
    assert "underground parking" in en.short
    assert "higher floor" in en.short


def test_the_cpr_guide_gives_rate_depth_ratio_and_the_aed() -> None:
    ko, en = _texts("cpr")
    for text in (ko, en):
        words = _all_words(text)
        assert "119" in text.short
        assert "100" in text.short
        assert "120" in text.short
        assert "5" in text.short
        assert "AED" in text.short
        assert "30" in words
    assert "5cm" in ko.short
    assert "5 cm" in en.short


def test_the_first_aid_guide_starts_with_scene_safety_and_pressure_on_bleeding() -> None:
    ko, en = _texts("first_aid")
    assert ko.short.startswith("먼저 주변이 안전한지")
    assert "119" in ko.short
    assert "세게 눌러" in ko.short
    assert en.short.startswith("First make sure the scene is safe")
    assert "press hard on the wound" in en.short
