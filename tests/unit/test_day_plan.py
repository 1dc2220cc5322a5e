"""A day's plan (jikimi day): the same seed plays the same day; it has Seoul's rhythm, reaches every
district, has bursts, and every action is one the services take, in their channels' real formats."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from functools import cache

import msgspec
import pytest

from jikimi.day import Close, Incident, Message, Plan, plan_day
from jikimi.day.wire import Wire
from services.intake.channels import kakao, telegram
from services.intake.channels.web import ReportRequest, SmsRequest
from services.intake.classifier import classify
from services.intake.reception import InboundMessage, locate
from shared import geo
from shared.events.common import GeoPoint
from shared.geo import distance_km
from shared.taxonomy import SEOUL_INCIDENT_TYPES

SEEDS = (1, 2, 3, 4, 5)


@cache
def day(seed: int, incidents: int = 300, month: int | None = None) -> Plan:
    return plan_day(seed, incidents, month=month)


def start_hour(incident: Incident) -> int:
    return int(incident.actions[0].at_s // 3600) % 24


def test_the_same_seed_gives_the_same_day_and_another_seed_another() -> None:
    again = msgspec.json.encode(plan_day(7, 300))
    assert msgspec.json.encode(plan_day(7, 300)) == again
    assert msgspec.json.encode(plan_day(8, 300)) != again
    first, other = plan_day(7, 300), plan_day(8, 300)
    assert [i.place for i in first.incidents] != [i.place for i in other.incidents]


def test_a_plan_reads_back_from_json_as_the_same_plan() -> None:
    plan = day(1, 40)
    assert msgspec.json.decode(msgspec.json.encode(plan), type=Plan) == plan


def test_nights_are_quieter_than_evenings() -> None:
    hours = Counter(start_hour(i) for seed in SEEDS for i in day(seed).incidents)
    night = sum(hours[h] for h in range(1, 6))  # 01:00 to 05:59
    evening = sum(hours[h] for h in range(17, 22))  # 17:00 to 21:59, as many hours
    assert night * 2 < evening
    assert max(hours, key=lambda h: hours[h]) in range(17, 23)


def test_every_district_has_incidents_in_a_day_of_a_few_hundred() -> None:
    for seed in SEEDS:
        assert {i.district_code for i in day(seed).incidents} == {d.code for d in geo.DISTRICTS}


def test_the_season_and_the_hour_choose_the_types() -> None:
    summer = [i for seed in SEEDS for i in day(seed, month=8).incidents]
    winter = [i for seed in SEEDS for i in day(seed, month=1).incidents]
    assert any(i.disaster_type == "heat_wave" for i in summer)
    assert not any(i.disaster_type == "heat_wave" for i in winter)
    assert any(i.disaster_type == "cold_wave" for i in winter)
    assert any(i.disaster_type == "inundation" for i in summer)
    # The subway does not run from 1 to 5; heat strikes in the afternoon.
    assert not [i for i in summer + winter if i.disaster_type == "subway_accident" and start_hour(i) in range(1, 5)]
    assert all(11 <= start_hour(i) <= 18 for i in summer if i.disaster_type == "heat_wave")
    types = {i.disaster_type for i in summer + winter}
    assert types <= SEOUL_INCIDENT_TYPES
    assert {"fire", "gas_leak", "traffic_accident", "subway_accident", "elevator_accident"} <= types


def test_a_summer_downpour_brings_flooding_incidents_in_its_hours() -> None:
    plan = next(p for seed in SEEDS if (p := day(seed, month=7)).weather is not None)
    assert plan.weather is not None
    assert plan.weather.kind == "storm"
    during = [i for i in plan.incidents if plan.weather.start_s <= i.actions[0].at_s <= plan.weather.end_s]
    flooding = [i for i in during if i.disaster_type in {"inundation", "heavy_rain", "flood", "landslide"}]
    assert len(flooding) >= 10


def test_large_incidents_are_bursts_of_reporters_nearby_on_every_channel_within_minutes() -> None:
    large = [i for seed in SEEDS for i in day(seed).incidents if i.size == "large"]
    assert len(large) >= 10
    for incident in large:
        assert incident.reporters >= 8
        first = incident.actions[0].at_s
        soon = {m.citizen for m in incident.messages if m.at_s - first <= 600}
        assert len(soon) >= incident.reporters // 2  # most of them within ten minutes
        for message in incident.messages:
            if message.point is not None:
                assert distance_km(*incident.point, *message.point) < 0.51  # half a km, to the 5th decimal
    assert {m.channel for i in large for m in i.messages} == {"kakao", "telegram", "sms", "web"}
    assert max(i.reporters for i in large) >= 30


def inbound(message: Message, wire: Wire, index: int) -> InboundMessage:
    """The message as intake's channel code reads it off the wire."""
    request = wire.request(message, index)
    now = datetime.now(UTC)
    if request.channel == "kakao":
        return kakao.to_inbound(msgspec.convert(request.body, kakao.KakaoSkillRequest), now)
    if request.channel == "telegram":
        found = telegram.to_inbound(msgspec.convert(request.body, telegram.TelegramUpdate))
        assert found is not None
        return found
    if request.channel == "sms":
        sms = msgspec.convert(request.body, SmsRequest)
        return InboundMessage(
            channel="sms", sender_id=sms.sender, message_key=sms.message_id, received_at=now, text=sms.text
        )
    web = msgspec.convert(request.body, ReportRequest)
    return InboundMessage(
        channel="web",
        sender_id=web.reporter,
        message_key=request.headers["Idempotency-Key"],
        received_at=now,
        text=web.text,
        address=web.address,
        point=GeoPoint(web.location.lat, web.location.lon) if web.location else None,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_every_report_reads_as_its_incidents_type_and_places_it_in_its_district(seed: int) -> None:
    """Intake's own channel parsing, classifier and locator agree with the plan, on every channel."""
    wire = Wire("unit", {"kakao": "k", "telegram": "t", "sms": "s"})
    for index, (incident, message) in enumerate((i, m) for i in day(seed).incidents for m in i.messages):
        read = inbound(message, wire, index)
        assert read.channel == message.channel
        if message.text:
            assert classify(read.text).disaster_type == incident.disaster_type, read.text
        where = locate(read)
        if message.placed:
            assert where is not None, read.text
            assert where.district_code == incident.district_code, (read.text, read.point, read.address)
        else:
            assert where is None, read.text


def test_every_action_is_well_formed() -> None:
    for seed in SEEDS:
        plan = day(seed)
        citizens: dict[int, int] = {}
        for incident in plan.incidents:
            times = [a.at_s for a in incident.actions]
            assert times == sorted(times)
            assert 0 <= times[0] < 86_400 + 4 * 3600  # a late one may wait past midnight for another
            assert times[-1] < 2 * 86_400
            assert isinstance(incident.actions[0], Message)
            assert isinstance(incident.actions[-1], Close)
            assert sum(isinstance(a, Close) for a in incident.actions) == 1
            assert any(m.placed for m in incident.messages)
            assert geo.district_at(*incident.point) == geo.district_by_code(incident.district_code)
            for action in incident.actions:
                if isinstance(action, Message):
                    assert action.text or action.point, action
                    assert len(action.text) <= 1000
                    if action.channel in {"sms", "kakao"}:
                        assert action.point is None
                    if action.channel != "kakao":
                        assert not action.address
                    assert citizens.setdefault(action.citizen, incident.number) == incident.number
                else:
                    assert getattr(action, "operator", "op").startswith("op-")
            for answer in incident.answers:
                assert answer.decision in {"accept", "decline", "ignore"}
                assert answer.after_s >= 0
                assert bool(answer.reason) == (answer.decision == "decline")
            # One citizen's messages are one conversation: minutes apart at most.
            for citizen in {m.citizen for m in incident.messages}:
                theirs = [m.at_s for m in incident.messages if m.citizen == citizen]
                assert max(theirs) - min(theirs) < 30 * 60


def test_incidents_intake_would_confuse_are_never_open_together_and_the_later_waits_for_the_earlier() -> None:
    """Of one type, in one district or within 2 km: intake would join their reports into one."""
    for seed in SEEDS:
        incidents = day(seed).incidents
        by_number = {i.number: i for i in incidents}
        for a in incidents:
            for b in incidents:
                if a.number == b.number or a.disaster_type != b.disaster_type:
                    continue
                near = a.district_code == b.district_code or distance_km(*a.point, *b.point) < 2.0
                first, then = sorted((a, b), key=lambda i: (i.actions[0].at_s, i.number))
                if near:
                    assert first.actions[-1].at_s < then.actions[0].at_s
            for number in a.after:
                earlier = by_number[number]
                assert earlier.disaster_type == a.disaster_type
                assert earlier.actions[-1].at_s < a.actions[0].at_s


def test_a_run_salts_the_citizens_wire_identities_so_a_second_run_is_new_reports() -> None:
    message = Message(at_s=0, channel="sms", citizen=7, text="마포구 합정동 빌라에서 불이 났어요")
    one, two = Wire("a", {"sms": "s"}), Wire("b", {"sms": "s"})
    assert one.request(message, 0) == Wire("a", {"sms": "s"}).request(message, 0)
    assert one.request(message, 0).body["from"] != two.request(message, 0).body["from"]
    assert one.request(message, 0).body["message_id"] != two.request(message, 0).body["message_id"]


def test_a_channel_without_its_secret_is_played_through_the_web_api() -> None:
    message = Message(at_s=0, channel="telegram", citizen=1, text="", point=(37.5495, 126.9139))
    request = Wire("a", {"sms": "s"}).request(message, 3)
    assert (request.channel, request.path) == ("web", "/reports")
    assert request.body["location"]["lat"] == 37.5495
    assert "Idempotency-Key" in request.headers
    with pytest.raises(ValueError, match="incidents"):
        plan_day(1, 0)
