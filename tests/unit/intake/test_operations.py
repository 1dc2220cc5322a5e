"""Operators' actions on incidents: each an event naming who did it; nonsense refused."""

from __future__ import annotations

import pytest

from services.intake.application import IntakeService
from services.intake.domain import Incident, IncidentClosedError, InvalidChangeError, NotFoundError
from services.intake.operations import Operations
from services.intake.reception import InboundMessage
from shared.events import CODEC
from shared.events.common import Actor, GeoPoint, Location
from shared.events.intake import IncidentReclassified, ReportLinked, ReportUnlinked
from tests.unit.intake.conftest import stored
from tests.unit.intake.test_reception import NOW

ALICE = Actor("operator", "alice")


async def opened(intake: IntakeService) -> Incident:
    return await intake.open_incident(
        disaster_type="fire",
        severity="moderate",
        title="화재 · 중구",
        location=Location(district_code="11140", source="operator"),
        by=ALICE,
    )


async def test_an_operator_opens_an_incident_and_is_recorded_as_its_opener(intake: IntakeService) -> None:
    incident = await opened(intake)
    assert incident.opened_by == ALICE
    assert incident.status == "open"
    assert intake.get_incident(incident.id)[0] == incident


async def test_reclassifying_records_what_it_was_and_who_changed_it(intake: IntakeService) -> None:
    incident = await opened(intake)
    after = await intake.change(
        Operations.reclassify(
            incident.id, disaster_type="explosion", severity="severe", by=ALICE, reason="caller heard a blast"
        )
    )
    assert (after.disaster_type, after.severity) == ("explosion", "severe")
    [event] = [e for e in map(CODEC.decode, stored(intake)) if isinstance(e, IncidentReclassified)]
    assert (event.previous_type, event.previous_severity, event.by, event.reason) == (
        "fire",
        "moderate",
        ALICE,
        "caller heard a blast",
    )


async def test_an_escalation_must_raise_the_severity(intake: IntakeService) -> None:
    incident = await opened(intake)
    with pytest.raises(InvalidChangeError, match="severity"):
        await intake.change(Operations.escalate(incident.id, severity="minor", by=ALICE, reason=""))
    after = await intake.change(Operations.escalate(incident.id, severity="extreme", by=ALICE, reason="spreading"))
    assert after.severity == "extreme"


async def test_an_unknown_disaster_type_is_refused_naming_the_field(intake: IntakeService) -> None:
    incident = await opened(intake)
    with pytest.raises(InvalidChangeError, match="disaster_type"):
        Operations.reclassify(incident.id, disaster_type="dragon_attack", severity="severe", by=ALICE, reason="")


async def test_a_closed_incident_refuses_further_changes(intake: IntakeService) -> None:
    incident = await opened(intake)
    closed = await intake.change(Operations.close(incident.id, outcome="resolved", by=ALICE, summary="put out"))
    assert closed.status == "closed"
    with pytest.raises(IncidentClosedError):
        await intake.change(Operations.update_situation(incident.id, text="still smoking", by=ALICE))


async def test_an_unknown_incident_is_not_found(intake: IntakeService) -> None:
    from uuid import uuid4

    with pytest.raises(NotFoundError):
        await intake.change(Operations.make_public(uuid4(), by=ALICE, headline="", instruction=""))


async def test_a_wrong_merge_is_undone_by_moving_the_report(intake: IntakeService) -> None:
    msg = InboundMessage(
        channel="web",
        sender_id="a",
        message_key="k1",
        received_at=NOW,
        text="불이 났어요",
        point=GeoPoint(37.5665, 126.9780),
    )
    reception = await intake.receive_message(msg)
    assert reception.report and reception.incident
    other = await opened(intake)
    moved = await intake.change(
        Operations.link_report(other.id, reception.report.id, by=ALICE, reason="the caller is at the other building")
    )
    assert reception.report.id in moved.reports
    assert intake.get_incident(reception.incident.id)[1] == []
    events = [e for e in map(CODEC.decode, stored(intake)) if isinstance(e, ReportLinked | ReportUnlinked)]
    assert [(type(e).__name__, e.by.kind) for e in events] == [
        ("ReportLinked", "system"),
        ("ReportUnlinked", "operator"),
        ("ReportLinked", "operator"),
    ]
    with pytest.raises(InvalidChangeError, match="already linked"):
        await intake.change(Operations.link_report(other.id, reception.report.id, by=ALICE, reason=""))


async def test_an_incident_is_made_public_once(intake: IntakeService) -> None:
    incident = await opened(intake)
    public = await intake.change(
        Operations.make_public(incident.id, by=ALICE, headline="중구 화재", instruction="연기가 나는 쪽을 피하세요")
    )
    assert public.public
    with pytest.raises(InvalidChangeError):
        await intake.change(Operations.make_public(incident.id, by=ALICE, headline="", instruction=""))


async def test_closing_an_incident_queues_a_notice_for_each_reporter_who_can_be_written_to(
    intake: IntakeService,
) -> None:
    from services.intake.channels.web import SmsRequest, sms_to_inbound
    from shared.events.intake import ReporterNoticeQueued
    from shared.privacy import Privacy
    from tests.unit.intake.conftest import SECRET

    point = GeoPoint(37.5665, 126.9780)
    by_web = await intake.receive_message(
        InboundMessage(channel="web", sender_id="w", message_key="w1", received_at=NOW, text="불이야", point=point)
    )
    by_sms = await intake.receive_message(
        sms_to_inbound(SmsRequest("m1", "010-2222-3333", "불이 났어요 중구 명동"), NOW)
    )
    assert by_web.incident is not None
    assert by_sms.report is not None
    if by_sms.report.incident_id != by_web.incident.id:
        await intake.change(Operations.link_report(by_web.incident.id, by_sms.report.id, by=ALICE, reason="same fire"))
    await intake.change(Operations.close(by_web.incident.id, outcome="resolved", by=ALICE, summary=""))
    notices = [e for e in map(CODEC.decode, stored(intake)) if isinstance(e, ReporterNoticeQueued)]
    closed = [n for n in notices if n.status == "closed"]
    assert [(n.channel, n.report_id) for n in closed] == [("sms", by_sms.report.id)]
    assert by_sms.report.receipt in closed[0].text
    assert Privacy(SECRET).unseal(closed[0].reply_to_sealed) == "sms:010-2222-3333"
    assert b"010-2222-3333" not in b"".join(stored(intake))


async def test_an_operator_linking_a_telegram_report_tells_its_reporter_help_is_coming(intake: IntakeService) -> None:
    from shared.events.intake import ReporterNoticeQueued

    report = await intake.receive_message(
        InboundMessage(
            channel="telegram",
            sender_id="42",
            message_key="u1",
            received_at=NOW,
            text="Smoke in the stairwell",
            reply_to="42",
        )
    )
    incident = await opened(intake)
    assert report.report is not None
    await intake.change(Operations.link_report(incident.id, report.report.id, by=ALICE, reason="caller on the phone"))
    [notice] = [e for e in map(CODEC.decode, stored(intake)) if isinstance(e, ReporterNoticeQueued)]
    assert (notice.status, notice.language, notice.channel) == ("in_incident", "en", "telegram")
    assert incident.title in notice.text
