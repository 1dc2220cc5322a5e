"""An incident's state at a moment, replayed from a fire's whole story: what an analyst notices."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import msgspec

from services.timeline.state import IncidentState, state_at
from shared.events import Event
from shared.events.broadcast import (
    BriefingIssued,
    DeliveryAcknowledged,
    DeliveryAttempted,
    DeliveryDelivered,
    DeliveryFailed,
    DeliveryRequested,
    LiveFannedOut,
    LiveReached,
    SitRep,
    SitRepBody,
    SituationInformation,
    live_delivery_id,
)
from shared.events.common import Actor, ContactRef, Location
from shared.events.community import (
    CandidateScore,
    CommunityAssembled,
    CommunityClosed,
    EngagedDepartment,
    InvitationAccepted,
    InvitationDeclined,
    InvitationDelivered,
    InvitationTimedOut,
    MemberInvited,
    MemberReleased,
    MessagePosted,
    ReporterJoined,
    SeatPlanned,
    SeatsChanged,
)
from shared.events.intake import (
    Classification,
    IncidentClosed,
    IncidentEscalated,
    IncidentOpened,
    ReporterNoticeQueued,
    ReportLinked,
    ReportReceived,
    SituationUpdated,
)

T0 = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # 14:00 in Seoul
SEALED = "SEALED-dGVsZWdyYW06MTIzNDU2"
ALICE = Actor("operator", "alice")
INTAKE = Actor("system", "intake")
Clock = Literal["occurred", "recorded"]


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def cut(events: list[Event], until: datetime, clock: Clock = "recorded") -> list[Event]:
    """What the timeline's store gives: the events by ``until`` on ``clock``, in recorded order."""
    kept = [e for e in events if (e.occurred_at if clock == "occurred" else e.recorded_at) <= until]
    return sorted(kept, key=lambda e: e.recorded_at)


class Story:
    """A fire in Eunpyeong-gu, from the first report to its closing, as the three services record it.

    At m:ss after 14:00 KST (occurred = recorded unless said):
      0:00 report R1 on telegram; 0:02 incident opened from it, R1 linked, the reporter told
      0:05 community: a fire seat and a hazmat seat; EXP-001 (fire) and EXP-012 (hazmat) invited
      0:06 the reporter joins; invitations and the room link requested; delivered at 0:08 and 0:09
      0:35 briefing 1 to the fire station (webhook) and the district office (e-mail), delivered by 0:40
      1:00 EXP-001 accepts (acknowledging the invitation); 2:00 EXP-012 declines, EXP-020 invited
      2:00 the fire station acknowledges the briefing live; the reporter's notice fails for good
      3:00 report R2 by SMS, recorded only at 8:00 (the gateway held it) and linked then
      10:00 alice posts to the room's 5 members; 3 streams reached at 10:01; 2 acknowledge
      12:00 escalated to extreme, the police engaged too; 15:00 situation update
      17:00 EXP-020 timed out, EXP-031 invited (delivered at 17:15); 20:00 EXP-031 accepts: every seat filled
      60:00 closed by alice; community closed; both experts released
    """

    def __init__(self) -> None:
        self.incident = uuid4()
        self.community = uuid5(NAMESPACE_URL, f"jikimi:community:{self.incident}")
        self.room = uuid5(NAMESPACE_URL, f"jikimi:room:{self.incident}")
        self.r1, self.r2 = uuid4(), uuid4()
        self.events: list[Event] = []
        self._versions: defaultdict[UUID, int] = defaultdict(int)
        self.deliveries: dict[str, UUID] = {}
        self._tell()

    def add(
        self, cls: type[Event], stream: UUID, when: datetime, recorded: datetime | None = None, **fields: Any
    ) -> Any:
        self._versions[stream] += 1
        service = cls.wire_tag().split(".")[0]
        event = cls(
            originator_id=stream,
            originator_version=self._versions[stream],
            incident_id=fields.pop("incident_id", self.incident),
            occurred_at=when,
            recorded_at=recorded or when,
            correlation_id=self.incident,
            service=service,
            **fields,
        )
        self.events.append(event)
        return event

    def request(self, name: str, when: datetime, *, recipient: str, kind: str, channel: str, cause: UUID) -> UUID:
        delivery = uuid5(NAMESPACE_URL, f"jikimi:delivery:{cause}:{name}")
        self.deliveries[name] = delivery
        self.add(
            DeliveryRequested,
            delivery,
            when,
            causation_id=cause,
            recipient=recipient,
            channel=channel,
            kind=kind,
            text="[지키미] {link}",
            address_sealed=SEALED,
            alternates=[ContactRef("email", SEALED)] if kind == "invitation" else [],
        )
        return delivery

    def deliver(self, name: str, when: datetime, channel: str, *, kind: str, recipient: str) -> None:
        delivery = self.deliveries[name]
        self.add(DeliveryAttempted, delivery, when - timedelta(seconds=1), attempt=1, channel=channel)
        self.add(DeliveryDelivered, delivery, when, attempt=1, channel=channel, kind=kind, recipient=recipient)

    def invite(self, expert: str, seat: str, rank: int, when: datetime) -> MemberInvited:
        score = CandidateScore(expert, 0.9 - rank / 10, reason=f"rank {rank}: on call, 2.1 km")
        return self.add(  # type: ignore[no-any-return]
            MemberInvited,
            self.community,
            when,
            expert_id=expert,
            seat_field=seat,
            rank=rank,
            score=score,
            expires_at=when + timedelta(minutes=15),
            reason=score.reason,
            contacts=[ContactRef("telegram", SEALED)],
        )

    def invitation_delivered(self, expert: str, invited: MemberInvited, when: datetime, took: float) -> None:
        self.request(
            expert,
            when - timedelta(seconds=took),
            recipient=expert,
            kind="invitation",
            channel="telegram",
            cause=invited.id,
        )
        self.deliver(expert, when, "telegram", kind="invitation", recipient=expert)
        self.add(
            InvitationDelivered,
            self.community,
            when,
            expert_id=expert,
            channel="telegram",
            delivery_id=self.deliveries[expert],
        )

    def answer(self, cls: type[Event], expert: str, seat: str, when: datetime, **fields: Any) -> None:
        """The expert's answer, and broadcast acknowledging their invitation for it."""
        answered = self.add(
            cls, self.community, when, expert_id=expert, seat_field=seat, by=f"expert:{expert}", **fields
        )
        self.add(
            DeliveryAcknowledged,
            self.deliveries[expert],
            when + timedelta(seconds=1),
            causation_id=answered.id,
            recipient=expert,
            kind="invitation",
            by=f"expert:{expert}",
        )

    def _tell(self) -> None:  # noqa: PLR0915 -- one story, told in order
        i, c = self.incident, self.community
        self.add(
            ReportReceived,
            self.r1,
            at(0),
            incident_id=None,
            channel="telegram",
            sender="p_reporterone",
            channel_message_id="tg:1",
            receipt="J-0001",
            text="은평구 연신내역 앞 상가 2층에서 불이 났어요",
            location=Location(district_code="11380", address="연신내역", source="text"),
            classification=Classification("fire", "severe", ["불"], confidence=0.92),
            reply_to_sealed=SEALED,
        )
        self.add(
            IncidentOpened,
            i,
            at(0, 2),
            disaster_type="fire",
            severity="severe",
            title="은평구 연신내역 화재",
            location=Location(district_code="11380", address="연신내역", source="text"),
            first_report_id=self.r1,
            reason="no open fire incident near the report",
        )
        self.add(
            ReportLinked,
            i,
            at(0, 2),
            report_id=self.r1,
            reporter="p_reporterone",
            by=INTAKE,
            reason="first report",
            reply_to=ContactRef("telegram", SEALED),
        )
        notice = self.add(
            ReporterNoticeQueued,
            i,
            at(0, 2),
            report_id=self.r1,
            reporter="p_reporterone",
            channel="kakao",
            status="in_incident",
            text="접수되었습니다",
            reply_to_sealed=SEALED,
        )
        fire_station = EngagedDepartment("FS-11380", "은평소방서", "fire_station", ContactRef("webhook", SEALED))
        district_office = EngagedDepartment("DO-11380", "은평구청", "district_office", ContactRef("email", SEALED))
        self.add(
            CommunityAssembled,
            c,
            at(0, 5),
            disaster_type="fire",
            severity="severe",
            policy_version="2026.1",
            seats=[SeatPlanned("fire", 1, 15), SeatPlanned("hazmat", 1, 15)],
            departments=["FS-11380", "DO-11380"],
            district_code="11380",
            engaged=[fire_station, district_office],
        )
        first = self.invite("EXP-001", "fire", 1, at(0, 5))
        hazmat = self.invite("EXP-012", "hazmat", 1, at(0, 5))
        joined = self.add(
            ReporterJoined,
            c,
            at(0, 6),
            reporter="p_reporterone",
            report_id=self.r1,
            reply_to=ContactRef("telegram", SEALED),
        )
        self.invitation_delivered("EXP-001", first, at(0, 8), took=2)
        self.invitation_delivered("EXP-012", hazmat, at(0, 9), took=4)
        self.request(
            "room_link", at(0, 6), recipient="p_reporterone", kind="room_link", channel="telegram", cause=joined.id
        )
        self.deliver("room_link", at(0, 9), "telegram", kind="room_link", recipient="p_reporterone")
        self.request(
            "notice", at(0, 3), recipient="p_reporterone", kind="reporter_notice", channel="kakao", cause=notice.id
        )
        briefing = uuid5(NAMESPACE_URL, f"jikimi:briefing:{i}:1")
        self.add(
            BriefingIssued,
            uuid5(NAMESPACE_URL, f"jikimi:briefings:{i}"),
            at(0, 35),
            id=briefing,
            number=1,
            version="Initial",
            sitrep=SitRep(
                message_id=briefing,
                prepared_by="jikimi",
                prepared_at=at(0, 35),
                purpose="initial",
                report_number=1,
                report_version="Initial",
                period_from=at(0, 2),
                period_to=at(0, 35),
                body=SitRepBody(SituationInformation(title="은평구 연신내역 화재")),
            ),
            reason="community assembled",
            recipients=["DO-11380", "FS-11380"],
        )
        self.request("brief:FS", at(0, 35), recipient="FS-11380", kind="briefing", channel="webhook", cause=briefing)
        self.request("brief:DO", at(0, 35), recipient="DO-11380", kind="briefing", channel="email", cause=briefing)
        self.deliver("brief:FS", at(0, 36), "webhook", kind="briefing", recipient="FS-11380")
        self.deliver("brief:DO", at(0, 40), "email", kind="briefing", recipient="DO-11380")
        self.answer(InvitationAccepted, "EXP-001", "fire", at(1))
        self.answer(InvitationDeclined, "EXP-012", "hazmat", at(2), reason="off duty")
        second = self.invite("EXP-020", "hazmat", 2, at(2))
        self.invitation_delivered("EXP-020", second, at(2, 5), took=3)
        self.add(
            DeliveryAcknowledged,
            self.deliveries["brief:FS"],
            at(2, 10),
            recipient="FS-11380",
            kind="briefing",
            by="department:FS-11380",
        )
        notice_delivery = self.deliveries["notice"]
        self.add(DeliveryAttempted, notice_delivery, at(0, 4), attempt=1, channel="kakao")
        self.add(
            DeliveryFailed,
            notice_delivery,
            at(0, 5),
            attempt=1,
            channel="kakao",
            error="the channel answered 503",
            retry_at=at(0, 7),
            kind="reporter_notice",
            recipient="p_reporterone",
        )
        self.add(DeliveryAttempted, notice_delivery, at(0, 7), attempt=2, channel="kakao")
        self.add(
            DeliveryFailed,
            notice_delivery,
            at(0, 8),
            attempt=2,
            channel="kakao",
            error="the channel answered 400",
            kind="reporter_notice",
            recipient="p_reporterone",
        )
        self.add(
            ReportReceived,
            self.r2,
            at(3),
            recorded=at(8),
            incident_id=None,
            channel="sms",
            sender="p_reportertwo",
            channel_message_id="sms:9",
            receipt="J-0002",
            text="연신내 상가에서 검은 연기",
            classification=Classification("fire", "moderate", ["연기"], confidence=0.7),
            reply_to_sealed=SEALED,
        )
        self.add(
            ReportLinked,
            i,
            at(8),
            report_id=self.r2,
            reporter="p_reportertwo",
            by=INTAKE,
            reason="0.1 km from the incident",
            distance_km=0.1,
        )
        audience = [
            "expert:EXP-001",
            "expert:EXP-020",
            "department:DO-11380",
            "department:FS-11380",
            "citizen:p_reporterone",
        ]
        posted = self.add(
            MessagePosted,
            self.room,
            at(10),
            author="operator:alice",
            text="2층 대피 완료, 진입 금지",
            audience=audience,
        )
        self.fan_out = uuid5(NAMESPACE_URL, f"jikimi:fan-out:{posted.id}")
        self.add(
            LiveFannedOut,
            self.fan_out,
            at(10),
            causation_id=posted.id,
            members=audience,
            text=posted.text,
            data={"author": "operator:alice"},
        )
        self.add(
            LiveReached,
            self.fan_out,
            at(10, 1),
            members=["citizen:p_reporterone", "department:FS-11380", "expert:EXP-001"],
        )
        for member, when in (("expert:EXP-001", at(10, 30)), ("department:FS-11380", at(11))):
            self.add(
                DeliveryAcknowledged,
                live_delivery_id(self.fan_out, member),
                when,
                causation_id=self.fan_out,
                recipient=member,
                kind="room_message",
                by=member,
            )
        self.add(
            IncidentEscalated,
            i,
            at(12),
            severity="extreme",
            previous_severity="severe",
            by=ALICE,
            reason="spreading to the 3rd floor",
        )
        police = EngagedDepartment("POLICE-SEOUL", "서울경찰청", "police", ContactRef("email", SEALED))
        self.add(
            SeatsChanged,
            c,
            at(12, 5),
            disaster_type="fire",
            severity="extreme",
            policy_version="2026.1",
            seats=[SeatPlanned("fire", 1, 15), SeatPlanned("hazmat", 1, 10)],
            reason="escalated to extreme",
            departments=["FS-11380", "DO-11380", "POLICE-SEOUL"],
            engaged=[fire_station, district_office, police],
        )
        self.add(SituationUpdated, i, at(15), text="3층으로 확산, 2명 부상", by=ALICE, casualties_injured=2)
        self.add(InvitationTimedOut, c, at(17), expert_id="EXP-020", seat_field="hazmat", expired_at=at(17))
        third = self.invite("EXP-031", "hazmat", 3, at(17))
        self.invitation_delivered("EXP-031", third, at(17, 15), took=10)
        self.answer(InvitationAccepted, "EXP-031", "hazmat", at(20))
        self.add(IncidentClosed, i, at(60), outcome="extinguished", by=ALICE, summary="진화 완료")
        self.add(CommunityClosed, c, at(60), outcome="extinguished")
        for expert, seat in (("EXP-001", "fire"), ("EXP-031", "hazmat")):
            self.add(
                MemberReleased,
                c,
                at(60),
                expert_id=expert,
                seat_field=seat,
                reason="incident closed",
                contacts=[ContactRef("telegram", SEALED)],
            )

    def at(self, when: datetime, clock: Clock = "recorded") -> IncidentState:
        return state_at(cut(self.events, when, clock))


def test_before_anything_happened_the_incident_does_not_exist() -> None:
    story = Story()

    before = story.at(at(-1))

    assert before == IncidentState()
    assert before.exists is False and before.incident is None and before.community is None
    assert msgspec.json.decode(msgspec.json.encode(before))["exists"] is False


def test_a_report_received_before_the_incident_opened_is_there_but_not_linked() -> None:
    story = Story()

    state = story.at(at(0, 1))

    assert not state.exists
    [report] = state.reports
    assert (report.reporter, report.channel, report.linked) == ("p_reporterone", "telegram", False)
    assert report.disaster_type == "fire" and report.text.startswith("은평구 연신내역")


def test_just_opened_the_incident_has_its_type_place_and_first_report_but_no_community() -> None:
    story = Story()

    state = story.at(at(0, 3))

    assert state.exists and state.incident is not None and state.incident_id == story.incident
    facts = state.incident
    assert (facts.disaster_type, facts.severity, facts.status, facts.public) == ("fire", "severe", "open", False)
    assert (facts.district_code, facts.place, facts.opened_at) == ("11380", "연신내역", at(0, 2))
    assert [(r.report_id, r.linked) for r in state.reports] == [(story.r1, True)]
    assert state.community is None


def test_after_the_invitations_went_out_but_before_anyone_answered_they_are_outstanding() -> None:
    story = Story()

    state = story.at(at(0, 30))

    community = state.community
    assert community is not None
    assert community.outstanding == ["EXP-001", "EXP-012"]
    assert {m.expert_id: (m.status, m.delivered_on) for m in community.members} == {
        "EXP-001": ("delivered", "telegram"),
        "EXP-012": ("delivered", "telegram"),
    }
    assert [(s.field, s.needed, s.filled_by) for s in community.seats] == [("fire", 1, []), ("hazmat", 1, [])]
    assert [(d.id, d.name) for d in community.departments] == [("FS-11380", "은평소방서"), ("DO-11380", "은평구청")]
    assert [r.reporter for r in community.reporters] == ["p_reporterone"]


def test_a_decline_passes_the_seat_on_and_only_the_new_invitation_is_outstanding() -> None:
    story = Story()

    state = story.at(at(2, 30))

    community = state.community
    assert community is not None
    statuses = {m.expert_id: m.status for m in community.members}
    assert statuses == {"EXP-001": "accepted", "EXP-012": "declined", "EXP-020": "delivered"}
    assert community.outstanding == ["EXP-020"]
    assert [(s.field, s.filled_by) for s in community.seats] == [("fire", ["EXP-001"]), ("hazmat", [])]


def test_after_closing_the_incident_is_closed_with_its_escalation_latest_update_and_nobody_left_waiting() -> None:
    story = Story()

    state = story.at(at(90))

    facts, community = state.incident, state.community
    assert facts is not None and community is not None
    assert (facts.status, facts.closed_at, facts.outcome, facts.severity) == (
        "closed",
        at(60),
        "extinguished",
        "extreme",
    )
    assert [(c.kind, c.previous_severity, c.severity, c.by) for c in facts.changes] == [
        ("escalated", "severe", "extreme", "operator:alice")
    ]
    assert facts.latest_update is not None and facts.latest_update.casualties_injured == 2
    statuses = {m.expert_id: m.status for m in community.members}
    assert statuses == {"EXP-001": "released", "EXP-012": "declined", "EXP-020": "timed_out", "EXP-031": "released"}
    assert community.outstanding == [] and community.closed_at == at(60)
    assert [d.id for d in community.departments] == ["FS-11380", "DO-11380", "POLICE-SEOUL"]
    assert (state.counts.reports, state.counts.reports_linked, state.counts.room_messages) == (2, 2, 1)


def test_every_member_of_the_room_has_a_delivery_of_the_message_and_the_room_sees_who_acknowledged() -> None:
    story = Story()

    state = story.at(at(30))

    room = {d.member: d for d in state.deliveries if d.fan_out_id == story.fan_out}
    assert set(room) == {
        "expert:EXP-001",
        "expert:EXP-020",
        "department:DO-11380",
        "department:FS-11380",
        "citizen:p_reporterone",
    }
    assert room["expert:EXP-020"].delivery_id == live_delivery_id(story.fan_out, "expert:EXP-020")
    assert {m: d.status for m, d in room.items() if d.status == "delivered"}.keys() == {
        "expert:EXP-001",
        "department:FS-11380",
        "citizen:p_reporterone",
    }
    assert {m: d.acknowledged_by for m, d in room.items() if d.acknowledged_by} == {
        "expert:EXP-001": "expert:EXP-001",
        "department:FS-11380": "department:FS-11380",
    }
    assert room["citizen:p_reporterone"].delivered_at == at(10, 1) and not room["citizen:p_reporterone"].acknowledged_by


def test_deliveries_of_their_own_show_channel_status_error_and_acknowledgement() -> None:
    story = Story()

    state = story.at(at(30))

    by_id = {d.delivery_id: d for d in state.deliveries}
    invitation = by_id[story.deliveries["EXP-001"]]
    assert (invitation.member, invitation.status, invitation.delivered_on) == (
        "expert:EXP-001",
        "delivered",
        "telegram",
    )
    assert invitation.acknowledged_by == "expert:EXP-001"
    notice = by_id[story.deliveries["notice"]]
    assert (notice.status, notice.attempts, notice.error) == ("failed", 2, "the channel answered 400")
    briefing = by_id[story.deliveries["brief:DO"]]
    assert (briefing.member, briefing.channel, briefing.status, briefing.acknowledged_by) == (
        "department:DO-11380",
        "email",
        "delivered",
        "",
    )


def test_as_it_happened_a_held_report_is_there_that_the_room_did_not_know_of_yet() -> None:
    story = Story()

    happened = story.at(at(5), "occurred")
    known = story.at(at(5), "recorded")

    assert [r.report_id for r in happened.reports] == [story.r1, story.r2]
    assert [r.report_id for r in known.reports] == [story.r1]
    held = happened.reports[1]
    assert (held.received_at, held.linked) == (at(3), False)


def test_the_state_holds_no_sealed_address_and_reads_back_as_json() -> None:
    story = Story()

    state = story.at(at(90))
    encoded = msgspec.json.encode(state)

    assert SEALED.encode() not in encoded
    assert msgspec.json.decode(encoded, type=IncidentState) == state


def test_a_partial_history_gives_a_partial_state_rather_than_an_error() -> None:
    story = Story()
    receipts_only = [e for e in story.events if not isinstance(e, DeliveryRequested | LiveFannedOut | MemberInvited)]

    state = state_at(receipts_only)

    assert state.deliveries == []
    assert state.community is not None and state.community.members == []
    assert state.incident is not None and state.incident.status == "closed"
