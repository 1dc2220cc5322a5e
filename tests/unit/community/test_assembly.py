"""Who is invited for a seat, and why: the ranking is explained and repeatable."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.community.assembly import WEIGHTS, rank_for_seat
from services.community.policy import PolicyError, load_policy
from services.community.registry import FIELDS, ContactChannel, Expert, OnCallWindow

KINDS = frozenset({"fire_station", "district_office", "gas_company", "power_utility", "metro", "police", "hospital"})
CITY_HALL = (37.5665, 126.9780)
# Wednesday 2026-11-25 14:00 in Seoul.
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
DAYTIME = [OnCallWindow(weekdays=[0, 1, 2, 3, 4], start="09:00", end="18:00")]
NIGHTS = [OnCallWindow(weekdays=[0, 1, 2, 3, 4, 5, 6], start="18:00", end="08:00")]


def expert(
    eid: str,
    fields: list[str],
    lat: float,
    lon: float,
    *,
    on_call: list[OnCallWindow] = DAYTIME,
    languages: list[str] | None = None,
    max_concurrent: int = 2,
    active: bool = True,
) -> Expert:
    return Expert(
        id=eid,
        name=f"(가상) {eid}",
        fields=fields,  # type: ignore[arg-type]
        district_code="11140",
        lat=lat,
        lon=lon,
        languages=languages or ["ko"],
        channels=[ContactChannel("sms", "010-0000-0000")],
        on_call=on_call,
        max_concurrent=max_concurrent,
        active=active,
    )


def test_the_nearest_on_call_fire_expert_comes_first_and_says_why() -> None:
    near = expert("EXP-A", ["fire"], 37.5670, 126.9790)
    far = expert("EXP-B", ["fire"], 37.6500, 127.0700)
    off_call = expert("EXP-C", ["fire"], 37.5666, 126.9781, on_call=NIGHTS)
    ranked, skipped = rank_for_seat("fire", at=CITY_HALL, experts=[far, off_call, near], load={}, now=NOW)
    assert [r.expert_id for r in ranked] == ["EXP-A", "EXP-B", "EXP-C"]
    assert skipped == []
    best = ranked[0]
    assert best.scores.on_call == 1.0
    assert best.scores.distance_km < 0.2
    assert "fire expert (main field)" in best.reason
    assert "on call" in best.reason
    assert best.scores.total == pytest.approx(sum(WEIGHTS[k] * getattr(best.scores, k) for k in WEIGHTS), abs=1e-3)


def test_a_second_field_counts_but_less_than_a_main_one() -> None:
    main = expert("EXP-A", ["hazmat"], 37.60, 127.00)
    second = expert("EXP-B", ["fire", "hazmat"], 37.60, 127.00)
    ranked, _ = rank_for_seat("hazmat", at=CITY_HALL, experts=[second, main], load={}, now=NOW)
    assert [r.expert_id for r in ranked] == ["EXP-A", "EXP-B"]
    assert ranked[1].scores.field == 0.7


def test_an_expert_at_their_maximum_is_skipped_with_the_reason_recorded() -> None:
    busy = expert("EXP-A", ["ems"], 37.5666, 126.9781, max_concurrent=1)
    free = expert("EXP-B", ["ems"], 37.60, 127.00)
    ranked, skipped = rank_for_seat("ems", at=CITY_HALL, experts=[busy, free], load={"EXP-A": 1}, now=NOW)
    assert [r.expert_id for r in ranked] == ["EXP-B"]
    assert [(s.expert_id, s.reason) for s in skipped] == [("EXP-A", "at the maximum of 1 concurrent incidents")]


def test_retired_and_already_asked_experts_are_skipped() -> None:
    retired = expert("EXP-A", ["ems"], 37.57, 126.98, active=False)
    asked = expert("EXP-B", ["ems"], 37.57, 126.98)
    ranked, skipped = rank_for_seat("ems", at=CITY_HALL, experts=[retired, asked], load={}, excluded={"EXP-B"}, now=NOW)
    assert ranked == []
    assert [s.reason for s in skipped] == ["retired", "already asked for this incident"]


def test_a_field_nobody_covers_gives_no_candidate_rather_than_someone_else() -> None:
    ranked, skipped = rank_for_seat(
        "subway_rail", at=CITY_HALL, experts=[expert("EXP-A", ["fire"], 37.57, 126.98)], load={}, now=NOW
    )
    assert (ranked, skipped) == ([], [])


def test_speaking_the_reporters_language_breaks_a_tie() -> None:
    korean = expert("EXP-A", ["ems"], 37.57, 126.98)
    bilingual = expert("EXP-B", ["ems"], 37.57, 126.98, languages=["ko", "en"])
    ranked, _ = rank_for_seat("ems", at=CITY_HALL, experts=[korean, bilingual], load={}, languages=["en"], now=NOW)
    assert [r.expert_id for r in ranked] == ["EXP-B", "EXP-A"]


def test_the_same_facts_give_the_same_ranking() -> None:
    pool = [expert(f"EXP-{n:03d}", ["fire"], 37.50 + n * 0.001, 127.0) for n in range(30)]
    first = rank_for_seat("fire", at=CITY_HALL, experts=pool, load={"EXP-003": 1}, now=NOW)
    again = rank_for_seat("fire", at=CITY_HALL, experts=list(reversed(pool)), load={"EXP-003": 1}, now=NOW)
    assert first == again


def test_the_bundled_policy_gives_a_severe_fire_more_seats_than_a_small_one() -> None:
    policy = load_policy(frozenset(FIELDS), KINDS)
    small = policy.plan_for("fire", "moderate")
    severe = policy.plan_for("fire", "extreme")
    assert [(s.field, s.count) for s in small.seats] == [("fire", 1)]
    assert [(s.field, s.count) for s in severe.seats] == [("fire", 2), ("ems", 1), ("structural", 1)]
    assert policy.plan_for("drought", "minor") == policy.default
    assert policy.version


def test_a_policy_naming_an_unknown_field_is_refused_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text('version = "x"\n[default]\nseats = [{ field = "dragons", count = 1 }]\ndepartments = []\n')
    with pytest.raises(PolicyError, match="dragons"):
        load_policy(frozenset(FIELDS), KINDS, bad)


def test_a_severe_fire_in_mapo_gets_its_seats_filled_from_the_city_pool_and_its_departments() -> None:
    from services.community.assembly import assemble
    from services.community.registry import load_departments, load_experts

    policy = load_policy(frozenset(FIELDS), KINDS)
    experts, departments = load_experts(), load_departments()
    mapo = (37.5594, 126.9081)
    result = assemble(
        plan=policy.plan_for("fire", "severe"),
        policy_version=policy.version,
        disaster_type="fire",
        at=mapo,
        district_code="11440",
        experts=experts,
        departments=departments,
        load={},
        now=NOW,
    )
    assert result.policy_version == policy.version
    assert [(s.field, len(s.invite)) for s in result.seats] == [("fire", 2), ("ems", 1), ("structural", 1)]
    invited = [r.expert_id for s in result.seats for r in s.invite]
    assert len(invited) == len(set(invited))  # nobody is invited for two seats
    assert "FS-11440" in result.departments
    assert "DO-11440" in result.departments
    assert not any(d.startswith("FS-") and d != "FS-11440" for d in result.departments)
    assert all(not s.unfillable for s in result.seats)


def test_a_seat_nobody_can_take_is_reported_unfillable() -> None:
    from services.community.assembly import assemble
    from services.community.policy import Seat, SeatPlan

    plan = SeatPlan(seats=[Seat("subway_rail", 1, 10), Seat("fire", 1, 10)], departments=[])
    busy = expert("EXP-A", ["subway_rail"], 37.57, 126.98, max_concurrent=1)
    result = assemble(
        plan=plan,
        policy_version="t",
        disaster_type="subway_accident",
        at=CITY_HALL,
        district_code="11140",
        experts=[busy, expert("EXP-B", ["fire"], 37.57, 126.98)],
        departments=[],
        load={"EXP-A": 1},
        now=NOW,
    )
    subway, fire = result.seats
    assert subway.unfillable
    assert [s.reason for s in subway.skipped] == ["at the maximum of 1 concurrent incidents"]
    assert [r.expert_id for r in fire.invite] == ["EXP-B"]
