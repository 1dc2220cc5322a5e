"""Department briefings on the in-memory event store: when a report is issued, what it says,
and to whom it is sent. The clock is driven with the time passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from uuid import UUID, uuid4

import msgspec
from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import TestClient

from services.broadcast.application import BroadcastApplication
from services.broadcast.briefings import BriefingClock, BriefingView, briefing_html, note_fact
from services.broadcast.briefings_api import BriefingController
from shared.auth import Role, issue_token
from shared.events import CODEC, Event
from shared.events.broadcast import BriefingIssued, DeliveryRequested
from shared.events.common import Actor, ContactRef, GeoPoint, Location
from shared.events.community import (
    CandidateScore,
    CommunityAssembled,
    EngagedDepartment,
    InvitationAccepted,
    MemberInvited,
    SeatPlanned,
    SeatsChanged,
    SeatUnfillable,
)
from shared.events.intake import (
    IncidentClosed,
    IncidentEscalated,
    IncidentOpened,
    ReportLinked,
    SituationUpdated,
)
from shared.privacy import Privacy
from shared.problems import problem_handlers
from shared.webauth import claims_dependency

SECRET = b"briefings-unit-test-secret-0123456789"
PRIVACY = Privacy(SECRET)
T0 = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # 14:00 in Seoul
OPERATOR = Actor("operator", "alice")
_positions = count(1)


def department(dept_id: str, name: str, kind: str, channel: str = "webhook") -> EngagedDepartment:
    address = f"https://briefing.example.org/{dept_id}" if channel == "webhook" else f"{dept_id}@example.org"
    return EngagedDepartment(dept_id, name, kind, ContactRef(channel, PRIVACY.seal(f"{channel}:{address}")))


FIRE_STATION = department("FS-11110", "종로소방서", "fire_station")
DISTRICT_OFFICE = department("DO-11110", "종로구청", "district_office", "email")
POLICE = department("POLICE-SEOUL", "서울경찰청", "police", "email")


class Incident:
    """One incident's upstream events, each stamped as its producer would."""

    def __init__(self) -> None:
        self.id = uuid4()

    def event(self, cls: type[Event], at: datetime, service: str, **fields: Any) -> Event:
        return cls(
            originator_id=self.id,
            originator_version=next(_positions),
            incident_id=self.id,
            correlation_id=self.id,
            recorded_at=at,
            occurred_at=at,
            service=service,
            position=next(_positions),
            **fields,
        )

    def opened(self, at: datetime = T0, severity: str = "moderate") -> Event:
        where = Location(GeoPoint(37.5740, 126.9850), "11110", "인사동길 12", "gps")
        return self.event(
            IncidentOpened,
            at,
            "intake",
            disaster_type="fire",
            severity=severity,
            title="인사동 식당 주방 화재",
            location=where,
            first_report_id=uuid4(),
        )

    def linked(self, at: datetime = T0) -> Event:
        return self.event(
            ReportLinked,
            at,
            "intake",
            report_id=uuid4(),
            reporter="p_secret_pseudonym",
            by=Actor("system", "intake"),
            reply_to=ContactRef("sms", PRIVACY.seal("sms:010-1234-5678")),
        )

    def assembled(self, at: datetime, severity: str = "moderate", *engaged: EngagedDepartment) -> Event:
        engaged = engaged or (FIRE_STATION, DISTRICT_OFFICE)
        return self.event(
            CommunityAssembled,
            at,
            "community",
            disaster_type="fire",
            severity=severity,
            policy_version="test",
            seats=[SeatPlanned("fire", 1, 15)],
            departments=[d.id for d in engaged],
            engaged=list(engaged),
            district_code="11110",
        )

    def escalated(self, at: datetime, severity: str, previous: str = "moderate") -> Event:
        return self.event(IncidentEscalated, at, "intake", severity=severity, previous_severity=previous, by=OPERATOR)

    def seats_changed(self, at: datetime, severity: str, *engaged: EngagedDepartment) -> Event:
        return self.event(
            SeatsChanged,
            at,
            "community",
            disaster_type="fire",
            severity=severity,
            policy_version="test",
            seats=[SeatPlanned("fire", 2, 10), SeatPlanned("ems", 1, 10)],
            departments=[d.id for d in engaged],
            engaged=list(engaged),
        )

    def updated(self, at: datetime, text: str, injured: int | None = None, dead: int | None = None) -> Event:
        return self.event(
            SituationUpdated, at, "intake", text=text, by=OPERATOR, casualties_injured=injured, casualties_dead=dead
        )

    def invited(self, at: datetime, expert: str = "EXP-001") -> Event:
        return self.event(
            MemberInvited,
            at,
            "community",
            expert_id=expert,
            seat_field="fire",
            rank=1,
            score=CandidateScore(expert, 0.9),
            expires_at=at + timedelta(minutes=15),
            contacts=[ContactRef("sms", PRIVACY.seal("sms:010-9999-0000"))],
        )

    def accepted(self, at: datetime, expert: str = "EXP-001") -> Event:
        return self.event(InvitationAccepted, at, "community", expert_id=expert, seat_field="fire")

    def unfillable(self, at: datetime) -> Event:
        return self.event(SeatUnfillable, at, "community", seat_field="ems", reason="nobody in the pool has it")

    def closed(self, at: datetime) -> Event:
        return self.event(IncidentClosed, at, "intake", outcome="resolved", by=OPERATOR, summary="완전 진화")


class Broadcast:
    """Broadcast's briefing side: facts recorded through the handler, the clock driven by hand."""

    def __init__(self, app: BroadcastApplication | None = None) -> None:
        self.app = app or BroadcastApplication()
        self.view = BriefingView(self.app.recorder)
        self.clock = BriefingClock(self.app, self.view)

    def hear(self, *events: Event) -> None:
        for event in events:
            self.app.record(*note_fact(event))

    async def tick(self, now: datetime) -> list[BriefingIssued]:
        before = len(self.reports())
        await self.clock.issue_due(now)
        return self.reports()[before:]

    def logged(self) -> list[Event]:
        return [CODEC.decode(n.state) for n in self.app.recorder.select_notifications(0, 10_000)]

    def reports(self, incident: UUID | None = None) -> list[BriefingIssued]:
        return [e for e in self.logged() if isinstance(e, BriefingIssued) and incident in {None, e.incident_id}]

    def sent(self, report: BriefingIssued) -> list[DeliveryRequested]:
        return [e for e in self.logged() if isinstance(e, DeliveryRequested) and e.causation_id == report.id]


async def assembled_with_initial(severity: str = "moderate") -> tuple[Broadcast, Incident, BriefingIssued]:
    broadcast, fire = Broadcast(), Incident()
    broadcast.hear(fire.opened(severity=severity), fire.linked(), fire.assembled(T0, severity), fire.invited(T0))
    [initial] = await broadcast.tick(T0 + timedelta(seconds=1))
    return broadcast, fire, initial


async def test_the_assembled_community_gets_an_initial_report_sent_to_each_engaged_department() -> None:
    broadcast, _, initial = await assembled_with_initial()
    assert (initial.number, initial.version, initial.sitrep.report_version) == (1, "Initial", "Initial")
    situation = initial.sitrep.body.situation
    assert (situation.disaster_type, situation.severity, situation.district, situation.place) == (
        "fire",
        "moderate",
        "종로구",
        "인사동길 12",
    )
    assert situation.reports == 1
    [seat] = initial.sitrep.body.resources.seats
    assert (seat.field, seat.needed, seat.filled, seat.invited) == ("fire", 1, 0, 1)
    assert initial.sitrep.next_report_at == T0 + timedelta(seconds=1, minutes=60)
    sent = broadcast.sent(initial)
    assert {(d.recipient, d.channel, d.kind) for d in sent} == {
        ("FS-11110", "webhook", "briefing"),
        ("DO-11110", "email", "briefing"),
    }
    assert "종로구" in sent[0].text and "화재" in sent[0].text and "보통(moderate)" in sent[0].text
    assert await broadcast.tick(T0 + timedelta(seconds=2)) == []  # issued once


async def test_a_report_carries_no_reporter_pseudonym_and_no_phone_number() -> None:
    broadcast, _, initial = await assembled_with_initial()
    encoded = msgspec.json.encode(initial).decode() + "".join(d.text for d in broadcast.sent(initial))
    assert "p_secret_pseudonym" not in encoded
    assert "010-" not in encoded
    assert [m.expert_id for m in initial.sitrep.body.resources.members] == ["EXP-001"]


async def test_no_report_is_issued_before_the_community_is_assembled() -> None:
    broadcast, fire = Broadcast(), Incident()
    broadcast.hear(fire.opened(), fire.linked(), fire.updated(T0, "연기가 많이 납니다", injured=1))
    assert await broadcast.tick(T0 + timedelta(hours=2)) == []


async def test_a_burst_of_changes_within_the_debounce_makes_one_update() -> None:
    broadcast, fire, _ = await assembled_with_initial()
    first = T0 + timedelta(minutes=5)
    broadcast.hear(
        fire.escalated(first, "severe"),
        fire.seats_changed(first + timedelta(seconds=1), "severe", FIRE_STATION, DISTRICT_OFFICE, POLICE),
        fire.updated(first + timedelta(seconds=10), "2층으로 번지는 중", injured=2),
    )
    assert await broadcast.tick(first + timedelta(seconds=29)) == []  # still within the debounce
    [update] = await broadcast.tick(first + timedelta(seconds=30))
    assert (update.number, update.version) == (2, "Update")
    assert update.sitrep.severity == "severe"
    assert any("심각(severe)" in change for change in update.sitrep.body.situation.changes)
    assert update.sitrep.body.casualties.injured == 2
    assert await broadcast.tick(first + timedelta(seconds=45)) == []  # the burst made one report


async def test_a_department_engaged_by_escalation_gets_the_next_report() -> None:
    broadcast, fire, initial = await assembled_with_initial()
    assert "POLICE-SEOUL" not in {d.recipient for d in broadcast.sent(initial)}
    at = T0 + timedelta(minutes=5)
    broadcast.hear(
        fire.escalated(at, "severe"),
        fire.seats_changed(at, "severe", FIRE_STATION, DISTRICT_OFFICE, POLICE),
    )
    [update] = await broadcast.tick(at + timedelta(minutes=1))
    sent = broadcast.sent(update)
    assert {d.recipient for d in sent} == {"FS-11110", "DO-11110", "POLICE-SEOUL"}
    police = next(d for d in sent if d.recipient == "POLICE-SEOUL")
    assert police.channel == "email" and "심각(severe)" in police.text
    assert "서울경찰청" in [d.name for d in update.sitrep.body.resources.departments]


async def test_reports_follow_the_schedule_of_the_incidents_severity() -> None:
    for severity, minutes in (("extreme", 15), ("severe", 30), ("moderate", 60)):
        broadcast, _, initial = await assembled_with_initial(severity)
        issued_at = T0 + timedelta(seconds=1)
        assert initial.next_report_at == issued_at + timedelta(minutes=minutes)
        assert await broadcast.tick(issued_at + timedelta(minutes=minutes) - timedelta(seconds=1)) == []
        [scheduled] = await broadcast.tick(issued_at + timedelta(minutes=minutes))
        assert (scheduled.version, scheduled.reason) == ("Update", "정기 보고")


async def test_a_minor_incident_gets_no_scheduled_report_but_changes_still_get_one() -> None:
    broadcast, fire, initial = await assembled_with_initial("minor")
    assert initial.next_report_at is None
    assert await broadcast.tick(T0 + timedelta(days=1)) == []
    broadcast.hear(fire.unfillable(T0 + timedelta(days=1)))
    [update] = await broadcast.tick(T0 + timedelta(days=1, seconds=30))
    [ems] = [s for s in update.sitrep.body.resources.seats if s.field == "ems"]
    assert ems.unfillable and "nobody" in ems.reason


async def test_a_restarted_service_issues_what_fell_due_while_it_was_down_once() -> None:
    broadcast, _, initial = await assembled_with_initial("extreme")
    assert initial.next_report_at is not None
    back = initial.next_report_at + timedelta(hours=1)  # four scheduled reports were missed
    restarted = Broadcast(broadcast.app)  # a new process: the view is read from the log
    [caught_up] = await restarted.tick(back)
    assert (caught_up.number, caught_up.version) == (2, "Update")
    assert caught_up.next_report_at == back + timedelta(minutes=15)
    assert await restarted.tick(back + timedelta(seconds=1)) == []
    again = Broadcast(broadcast.app)
    assert await again.tick(back + timedelta(seconds=2)) == []


async def test_changes_a_report_already_covered_are_not_reported_again_after_a_restart() -> None:
    broadcast, fire, _ = await assembled_with_initial()
    at = T0 + timedelta(minutes=2)
    broadcast.hear(fire.escalated(at, "severe"))
    [update] = await broadcast.tick(at + timedelta(seconds=30))
    assert update.covers
    restarted = Broadcast(broadcast.app)
    assert await restarted.tick(at + timedelta(minutes=1)) == []


async def test_closing_the_incident_issues_a_final_report_and_nothing_after_it() -> None:
    broadcast, fire, _ = await assembled_with_initial("extreme")
    at = T0 + timedelta(minutes=3)
    broadcast.hear(fire.accepted(at), fire.closed(at))
    [final] = await broadcast.tick(at)
    assert (final.number, final.version, final.next_report_at) == (2, "Final", None)
    assert final.sitrep.body.situation.status == "closed"
    assert final.sitrep.body.resources.seats[0].filled == 1
    assert {d.recipient for d in broadcast.sent(final)} == {"FS-11110", "DO-11110"}
    assert "종결" in broadcast.sent(final)[0].text
    broadcast.hear(fire.updated(at + timedelta(minutes=1), "잔불 정리"))
    assert await broadcast.tick(at + timedelta(hours=3)) == []


async def test_a_redelivered_upstream_event_notes_one_fact() -> None:
    fire = Incident()
    event = fire.escalated(T0, "severe")
    [first], [again] = note_fact(event), note_fact(event)
    assert first.originator_id == again.originator_id


async def test_the_html_page_escapes_a_hostile_update_text() -> None:
    broadcast, fire, _ = await assembled_with_initial()
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    at = T0 + timedelta(minutes=1)
    broadcast.hear(fire.updated(at, hostile, injured=1))
    [update] = await broadcast.tick(at + timedelta(seconds=30))
    page = briefing_html(update.sitrep)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def served(broadcast: Broadcast) -> TestClient[Litestar]:
    app = Litestar(
        [BriefingController],
        state=State({"secret_key": SECRET, "briefings": broadcast.view}),
        dependencies={"claims": claims_dependency},
        exception_handlers=problem_handlers(),
    )
    return TestClient(app)


def bearer(role: Role, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject, role, ttl_s=600)}"}


async def test_operators_and_engaged_departments_read_the_reports_and_others_are_refused() -> None:
    broadcast, fire, _ = await assembled_with_initial()
    path = f"/incidents/{fire.id}/briefings"
    with served(broadcast) as client:
        assert client.get(path).status_code == 401
        assert client.get(path, headers=bearer(Role.EXPERT, "EXP-001")).status_code == 403
        assert client.get(path, headers=bearer(Role.DEPARTMENT, "POLICE-SEOUL")).status_code == 403
        listed = client.get(path, headers=bearer(Role.DEPARTMENT, "FS-11110"))
        assert listed.status_code == 200
        assert [r["version"] for r in listed.json()] == ["Initial"]
        one = client.get(f"{path}/1", headers=bearer(Role.OPERATOR, "alice"))
        assert one.json()["sitrep"]["report_number"] == 1
        assert client.get(f"{path}/2", headers=bearer(Role.OPERATOR, "alice")).status_code == 404
        unknown = client.get(f"/incidents/{uuid4()}/briefings", headers=bearer(Role.OPERATOR, "alice"))
        assert unknown.status_code == 404


async def test_a_report_is_an_escaped_html_page_for_a_browser() -> None:
    broadcast, fire, _ = await assembled_with_initial()
    at = T0 + timedelta(minutes=1)
    broadcast.hear(fire.updated(at, "<b>3층</b> & 옥상", injured=1))
    await broadcast.tick(at + timedelta(seconds=30))
    with served(broadcast) as client:
        page = client.get(
            f"/incidents/{fire.id}/briefings/2",
            headers={**bearer(Role.OPERATOR, "alice"), "Accept": "text/html,application/xhtml+xml"},
        )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "&lt;b&gt;3층&lt;/b&gt; &amp; 옥상" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


async def test_an_incident_closed_before_its_first_report_is_not_briefed() -> None:
    broadcast, fire = Broadcast(), Incident()
    broadcast.hear(fire.opened(), fire.assembled(T0), fire.closed(T0 + timedelta(seconds=1)))
    assert await broadcast.tick(T0 + timedelta(hours=1)) == []
