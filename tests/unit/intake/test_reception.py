"""Citizens' messages become reports, and reports become incidents."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec

from services.intake.application import IncidentFilter, IntakeService
from services.intake.channels import kakao, telegram
from services.intake.channels.web import SmsRequest, sms_to_inbound
from services.intake.reception import InboundMessage, ReceptionPolicy, receive
from services.intake.replies import reply_for
from services.intake.view import IntakeView
from shared.events import CODEC
from shared.events.common import GeoPoint
from shared.events.intake import ReportReceived
from shared.privacy import Privacy
from tests.unit.intake.conftest import SECRET, fixture, stored

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def kakao_message(name: str, at: datetime = NOW) -> InboundMessage:
    return kakao.to_inbound(msgspec.convert(fixture(f"kakao/{name}"), kakao.KakaoSkillRequest), at)


def web(text: str, sender: str, key: str, *, point: GeoPoint | None = None, at: datetime = NOW) -> InboundMessage:
    return InboundMessage(channel="web", sender_id=sender, message_key=key, received_at=at, text=text, point=point)


async def test_a_kakao_fire_report_opens_a_fire_incident_in_mapo(intake: IntakeService) -> None:
    reception = await intake.receive_message(kakao_message("fire-report.json"))
    report, incident = reception.report, reception.incident
    assert report is not None and incident is not None
    assert report.classification.disaster_type == "fire"
    assert {"연기"} <= set(report.classification.matched_terms) or report.classification.matched_terms
    assert report.location is not None and report.location.district_code == "11440"
    assert incident.disaster_type == "fire"
    assert incident.title == "화재 · 마포구"
    assert incident.reports == {report.id}
    reply = reply_for(reception, "ko")
    assert report.receipt in reply.texts[0]
    assert any("화재" in text or "불" in text for text in reply.texts[1:])


async def test_the_same_kakao_message_twice_is_stored_once(intake: IntakeService) -> None:
    first = await intake.receive_message(kakao_message("fire-report.json"))
    again = await intake.receive_message(kakao_message("fire-report.json"))
    assert again.duplicate
    assert again.report is not None and first.report is not None
    assert again.report.receipt == first.report.receipt
    reports = [e for e in map(CODEC.decode, stored(intake)) if isinstance(e, ReportReceived)]
    assert len(reports) == 1


async def test_twenty_reports_of_one_apartment_fire_make_one_incident(intake: IntakeService) -> None:
    receptions = await asyncio.gather(
        *[
            intake.receive_message(
                web(
                    f"아파트에서 불이 났어요 연기가 많아요 #{n}",
                    f"neighbour-{n}",
                    f"k{n}",
                    point=GeoPoint(37.5665 + n * 0.0001, 126.9780),
                )
            )
            for n in range(20)
        ]
    )
    incidents = {r.incident.id for r in receptions if r.incident}
    assert len(incidents) == 1
    [incident_id] = incidents
    _, reports = intake.get_incident(incident_id)
    assert len(reports) == 20
    assert intake.writer.commits < 20  # concurrent reports shared commits


async def test_a_fire_far_away_is_another_incident(intake: IntakeService) -> None:
    near = await intake.receive_message(web("불이야 연기", "a", "k1", point=GeoPoint(37.5665, 126.9780)))
    far = await intake.receive_message(web("불이야 연기", "b", "k2", point=GeoPoint(37.6500, 127.0700)))
    assert near.incident and far.incident
    assert near.incident.id != far.incident.id


async def test_a_gas_leak_next_to_a_fire_is_its_own_incident(intake: IntakeService) -> None:
    fire = await intake.receive_message(web("불이 났어요", "a", "k1", point=GeoPoint(37.5665, 126.9780)))
    gas = await intake.receive_message(web("가스 냄새가 심하게 나요", "b", "k2", point=GeoPoint(37.5666, 126.9780)))
    assert fire.incident and gas.incident
    assert gas.incident.disaster_type == "gas_leak"
    assert fire.incident.id != gas.incident.id


def test_a_report_after_the_time_window_opens_a_new_incident() -> None:
    from services.intake.application import IntakeApplication

    app = IntakeApplication()
    view = IntakeView(app.recorder)
    policy = ReceptionPolicy()
    privacy = Privacy(SECRET)

    def take(msg: InboundMessage, now: datetime):  # type: ignore[no-untyped-def]
        reception = receive(
            msg, sender=privacy.pseudonym("web", msg.sender_id), reply_to_sealed="", state=view, now=now, policy=policy
        )
        for event in reception.events:
            view.apply(event)
        return reception

    point = GeoPoint(37.5665, 126.9780)
    first = take(web("불이 났어요", "a", "k1", point=point), NOW)
    soon = take(web("불이 났어요", "b", "k2", point=point, at=NOW + timedelta(minutes=30)), NOW + timedelta(minutes=30))
    late_at = NOW + timedelta(minutes=policy.linking.window_minutes + 1)
    late = take(web("불이 났어요", "c", "k3", point=point, at=late_at), late_at)
    assert first.incident and soon.incident and late.incident
    assert soon.incident.id == first.incident.id
    assert late.incident.id != first.incident.id


async def test_telegram_text_then_location_is_one_report_placed_by_gps(intake: IntakeService) -> None:
    updates = [msgspec.convert(u, telegram.TelegramUpdate) for u in fixture("telegram/text-then-location.json")]
    first = await intake.receive_message(telegram.to_inbound(updates[0]))  # type: ignore[arg-type]
    assert first.report is not None
    assert first.report.classification.disaster_type == "inundation"
    assert first.needs_location and first.incident is None
    second = await intake.receive_message(telegram.to_inbound(updates[1]))  # type: ignore[arg-type]
    assert second.report is not None and second.report.id == first.report.id
    assert second.report.location is not None and second.report.location.source == "gps"
    assert second.incident is not None and second.incident.disaster_type == "inundation"


async def test_a_kakao_follow_up_with_an_address_joins_the_report(intake: IntakeService) -> None:
    first = await intake.receive_message(kakao_message("fire-report.json"))
    follow = await intake.receive_message(kakao_message("follow-up-with-params.json", NOW + timedelta(minutes=2)))
    assert first.report and follow.report
    assert follow.report.id == first.report.id
    assert follow.report.location is not None and follow.report.location.source == "address"
    assert "합정역" in follow.report.text


async def test_a_telegram_photo_with_caption_is_a_collapse_report_with_the_largest_photo(
    intake: IntakeService,
) -> None:
    update = msgspec.convert(fixture("telegram/photo-with-caption.json"), telegram.TelegramUpdate)
    reception = await intake.receive_message(telegram.to_inbound(update))  # type: ignore[arg-type]
    assert reception.report is not None
    assert reception.report.classification.disaster_type == "building_collapse"
    assert [a.ref for a in reception.report.attachments] == ["AgACAgUAAxkBAAIBY2Zlarge"]
    assert reception.report.location is not None and reception.report.location.district_code == "11710"


async def test_cancelling_takes_the_report_out_of_its_incident(intake: IntakeService) -> None:
    first = await intake.receive_message(web("불이 났어요", "a", "k1", point=GeoPoint(37.5665, 126.9780)))
    cancel = await intake.receive_message(
        InboundMessage(channel="web", sender_id="a", message_key="k2", received_at=NOW, cancel=True)
    )
    assert cancel.cancelled and cancel.report and cancel.report.cancelled
    assert first.incident is not None
    _, reports = intake.get_incident(first.incident.id)
    assert reports == []


async def test_no_phone_number_or_channel_id_is_stored_in_the_clear(intake: IntakeService) -> None:
    sms = SmsRequest(message_id="sms-1", sender="010-1234-5678", text="가스 냄새가 나요 강남구 대치동")
    await intake.receive_message(sms_to_inbound(sms, NOW))
    updates = fixture("telegram/text-then-location.json")
    await intake.receive_message(telegram.to_inbound(msgspec.convert(updates[0], telegram.TelegramUpdate)))  # type: ignore[arg-type]
    everything = b"".join(stored(intake))
    for secret in (b"010-1234-5678", b"01012345678", b"1234-5678", b"551234001"):
        assert secret not in everything
    sealed = [e.reply_to_sealed for e in map(CODEC.decode, stored(intake)) if isinstance(e, ReportReceived)]
    assert sorted(Privacy(SECRET).unseal(s) for s in sealed) == ["sms:010-1234-5678", "telegram:551234001"]


async def test_the_board_filters_by_district_type_and_severity(intake: IntakeService) -> None:
    await intake.receive_message(web("불이 났어요", "a", "k1", point=GeoPoint(37.5665, 126.9780)))
    await intake.receive_message(web("가스 냄새가 나요", "b", "k2", point=GeoPoint(37.4967, 127.0630)))
    fires = intake.list_incidents(IncidentFilter(disaster_type="fire"))
    gangnam = intake.list_incidents(IncidentFilter(district="11680"))
    assert [i.disaster_type for i in fires] == ["fire"]
    assert [i.disaster_type for i in gangnam] == ["gas_leak"]
    assert intake.list_incidents(IncidentFilter(severity="extreme")) == []


async def test_a_report_just_across_a_grid_line_from_a_fire_still_joins_it(intake: IntakeService) -> None:
    boundary = 4163 / 111  # a line of the view's 1 km grid, inside Seoul
    south = await intake.receive_message(web("불이 났어요", "a", "k1", point=GeoPoint(boundary - 0.0002, 127.0)))
    north = await intake.receive_message(web("불이 났어요", "b", "k2", point=GeoPoint(boundary + 0.0002, 127.0)))
    assert south.incident is not None
    assert north.incident is not None
    assert north.incident.id == south.incident.id
