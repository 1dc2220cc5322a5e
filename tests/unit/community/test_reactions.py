"""Incidents assemble their communities, reporters join and leave: through the consumer, in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import msgspec

from services.community.application import CommunityApplication
from services.community.policy import load_policy
from services.community.pool import seed
from services.community.reactions import Reactions
from services.community.registry import FIELDS, load_departments, load_experts, sealed_departments
from services.community.view import CommunityView, community_id
from shared.consumer import StreamConsumer
from shared.events import CODEC, Event
from shared.events.common import Actor, GeoPoint, Location
from shared.events.community import (
    CommunityAssembled,
    MemberInvited,
    ReporterJoined,
    ReporterLeft,
    SeatUnfillable,
)
from shared.events.intake import IncidentOpened, ReportLinked, ReportUnlinked
from shared.privacy import Privacy
from tests.unit.fakes import FakeJetStream, FakeMsg

PRIVACY = Privacy(b"community-unit-test-secret-0123456789")
EXPERTS = load_experts()
DEPARTMENTS = sealed_departments(load_departments(), PRIVACY.seal_address)  # as the service passes them
POLICY = load_policy(frozenset(FIELDS), frozenset(d.kind for d in DEPARTMENTS))
SYSTEM = Actor("system", "intake")
# Wednesday 2026-11-25 14:00 in Seoul.
AT = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
MAPO = GeoPoint(37.5594, 126.9081)


def seeded(app: CommunityApplication) -> None:
    """The bundled pool registered in ``app``'s log, as the service does when it starts."""
    view = CommunityView(app.recorder)
    app.record(*seed(EXPERTS, PRIVACY.seal_address, source="experts.json")(view, AT).events)


def setup() -> tuple[CommunityApplication, CommunityView, StreamConsumer]:
    app = CommunityApplication()
    seeded(app)
    view = CommunityView(app.recorder)
    consumer = StreamConsumer(
        app,
        FakeJetStream(),
        name="incidents",
        subjects=["jikimi.intake.>"],  # type: ignore[arg-type]
        handler=Reactions(view, DEPARTMENTS, POLICY).handle,
        stream="JIKIMI",
        state=view,
    )
    return app, view, consumer


def from_intake(event: Event, position: int) -> FakeMsg:
    return FakeMsg.of(msgspec.structs.replace(event, service="intake", position=position), position)


def opened(kind: str = "fire", severity: str = "severe", point: GeoPoint | None = MAPO) -> IncidentOpened:
    incident = uuid4()
    return IncidentOpened(
        originator_id=incident,
        originator_version=1,
        incident_id=incident,
        recorded_at=AT,
        disaster_type=kind,
        severity=severity,
        title="화재 · 마포구",
        location=Location(point=point, district_code="11440", source="gps"),
    )


def linked(incident: IncidentOpened, version: int, reporter: str) -> ReportLinked:
    return ReportLinked(
        originator_id=incident.originator_id,
        originator_version=version,
        incident_id=incident.originator_id,
        recorded_at=AT + timedelta(seconds=version),
        report_id=uuid4(),
        reporter=reporter,
        by=SYSTEM,
    )


def logged(app: CommunityApplication) -> list[Event]:
    return [CODEC.decode(n.state) for n in app.recorder.select_notifications(0, 10_000)]


async def test_a_severe_fire_assembles_a_community_with_invitations_departments_and_reasons() -> None:
    app, view, consumer = setup()
    incident = opened()
    await consumer.process([from_intake(incident, 1)])  # type: ignore[list-item]
    events = logged(app)
    [assembled] = [e for e in events if isinstance(e, CommunityAssembled)]
    assert assembled.originator_id == community_id(incident.originator_id)
    assert assembled.policy_version == POLICY.version
    assert [(s.field, s.count) for s in assembled.seats] == [("fire", 2), ("ems", 1), ("structural", 1)]
    assert all(s.candidates for s in assembled.seats)
    invited = [e for e in events if isinstance(e, MemberInvited)]
    assert [(i.seat_field, i.rank) for i in invited] == [("fire", 1), ("fire", 2), ("ems", 1), ("structural", 1)]
    first = invited[0]
    assert first.expert_id == assembled.seats[0].candidates[0].expert_id  # the log says why: rank 1 of the ranking
    assert first.expires_at == AT + timedelta(minutes=10)
    assert "fire expert" in first.reason
    assert "FS-11440" in assembled.departments
    assert view.load()[first.expert_id] == 1


async def test_the_same_incident_opened_twice_assembles_one_community() -> None:
    app, _, consumer = setup()
    incident = opened()
    await consumer.process([from_intake(incident, 1)])  # type: ignore[list-item]
    await consumer.process([from_intake(incident, 2)])  # type: ignore[list-item]  (republished under another id)
    assert len([e for e in logged(app) if isinstance(e, CommunityAssembled)]) == 1


async def test_reporters_join_and_leave_even_within_the_batch_that_opened_the_incident() -> None:
    app, view, consumer = setup()
    incident = opened(kind="inundation", severity="moderate")
    unlink = ReportUnlinked(
        originator_id=incident.originator_id,
        originator_version=4,
        incident_id=incident.originator_id,
        recorded_at=AT,
        report_id=uuid4(),
        reporter="p_b",
        by=Actor("operator", "alice"),
        reason="another building",
    )
    batch = [
        from_intake(incident, 1),
        from_intake(linked(incident, 2, "p_a"), 2),
        from_intake(linked(incident, 3, "p_b"), 3),
        from_intake(unlink, 4),
    ]
    await consumer.process(batch)  # type: ignore[arg-type]
    events = logged(app)
    assert [e.reporter for e in events if isinstance(e, ReporterJoined)] == ["p_a", "p_b"]
    assert [e.reporter for e in events if isinstance(e, ReporterLeft)] == ["p_b"]
    assert view.communities[community_id(incident.originator_id)].reporters == {"p_a"}


async def test_earthquake_communities_do_not_take_reporters_in() -> None:
    app, _, consumer = setup()
    incident = opened(kind="earthquake", severity="moderate")
    await consumer.process([from_intake(incident, 1), from_intake(linked(incident, 2, "p_a"), 2)])  # type: ignore[list-item]
    assert not [e for e in logged(app) if isinstance(e, ReporterJoined)]


async def test_experts_already_invited_elsewhere_count_as_load_and_busy_ones_are_skipped() -> None:
    app, view, consumer = setup()
    for n in range(12):
        await consumer.process([from_intake(opened(kind="subway_accident", severity="moderate"), n + 1)])  # type: ignore[list-item]
    unfillable = [e for e in logged(app) if isinstance(e, SeatUnfillable)]
    assert unfillable, "the pool's subway experts run out after a dozen incidents"
    assert all(e.seat_field in {"subway_rail", "ems"} for e in unfillable)
    assert any("at the maximum" in s.reason for s in unfillable[0].skipped)
    assert max(view.load().values()) <= max(e.max_concurrent for e in EXPERTS)


async def test_an_escalated_fire_gets_the_severe_seats_and_keeps_who_it_had() -> None:
    from shared.events.community import SeatsChanged
    from shared.events.intake import IncidentEscalated

    app, view, consumer = setup()
    incident = opened(kind="fire", severity="moderate")
    await consumer.process([from_intake(incident, 1)])  # type: ignore[list-item]
    [first] = [e for e in logged(app) if isinstance(e, MemberInvited)]
    escalated = IncidentEscalated(
        originator_id=incident.originator_id,
        originator_version=2,
        incident_id=incident.originator_id,
        recorded_at=AT + timedelta(minutes=3),
        severity="severe",
        previous_severity="moderate",
        by=Actor("operator", "alice"),
        reason="spreading to the next floor",
    )
    await consumer.process([from_intake(escalated, 2)])  # type: ignore[list-item]
    events = logged(app)
    [changed] = [e for e in events if isinstance(e, SeatsChanged)]
    assert [(s.field, s.count) for s in changed.seats] == [("fire", 2), ("ems", 1), ("structural", 1)]
    invited = [e for e in events if isinstance(e, MemberInvited)]
    assert [i.seat_field for i in invited] == ["fire", "fire", "ems", "structural"]
    assert invited[0].expert_id == first.expert_id  # nobody was replaced
    community = view.communities[community_id(incident.originator_id)]
    assert community.pending("fire") == 2
    assert "POLICE-SEOUL" in changed.departments  # a severe fire also engages the police
    assert "POLICE-SEOUL" in community.departments
    assert community.admits("department", "POLICE-SEOUL")
    assert {d.id for d in changed.engaged} == set(changed.departments)


async def test_engaged_departments_come_with_their_briefing_channels_sealed() -> None:
    app, _, consumer = setup()
    await consumer.process([from_intake(opened(), 1)])  # type: ignore[list-item]
    [assembled] = [e for e in logged(app) if isinstance(e, CommunityAssembled)]
    assert [d.id for d in assembled.engaged] == assembled.departments
    station = next(d for d in assembled.engaged if d.id == "FS-11440")
    assert (station.kind, station.name) == ("fire_station", "마포소방서")
    clear = next(d.briefing_channel for d in load_departments() if d.id == "FS-11440")
    assert PRIVACY.unseal(station.briefing.address_sealed) == f"{clear.channel}:{clear.address}"
    assert clear.address not in station.briefing.address_sealed


async def test_a_reclassification_releases_the_members_no_longer_needed_with_a_notice() -> None:
    from shared.events.community import MemberReleased
    from shared.events.intake import IncidentReclassified

    app, _, consumer = setup()
    incident = opened(kind="fire", severity="moderate")
    await consumer.process([from_intake(incident, 1)])  # type: ignore[list-item]
    [fire_expert] = [e.expert_id for e in logged(app) if isinstance(e, MemberInvited)]
    reclassified = IncidentReclassified(
        originator_id=incident.originator_id,
        originator_version=2,
        incident_id=incident.originator_id,
        recorded_at=AT + timedelta(minutes=5),
        disaster_type="gas_leak",
        severity="moderate",
        previous_type="fire",
        previous_severity="moderate",
        by=Actor("operator", "alice"),
        reason="it was a gas leak, not a fire",
    )
    await consumer.process([from_intake(reclassified, 2)])  # type: ignore[list-item]
    events = logged(app)
    [released] = [e for e in events if isinstance(e, MemberReleased)]
    assert released.expert_id == fire_expert
    assert "no fire seat" in released.reason
    assert [e.seat_field for e in events if isinstance(e, MemberInvited)][-1] == "gas_electric"


async def test_closing_the_incident_releases_everyone_and_frees_their_load() -> None:
    from shared.events.community import CommunityClosed, MemberReleased
    from shared.events.intake import IncidentClosed

    app, view, consumer = setup()
    incident = opened(kind="fire", severity="severe")
    await consumer.process([from_intake(incident, 1)])  # type: ignore[list-item]
    assert sum(view.load().values()) == 4
    closed = IncidentClosed(
        originator_id=incident.originator_id,
        originator_version=2,
        incident_id=incident.originator_id,
        recorded_at=AT + timedelta(hours=2),
        outcome="resolved",
        by=Actor("operator", "alice"),
    )
    await consumer.process([from_intake(closed, 2)])  # type: ignore[list-item]
    events = logged(app)
    assert len([e for e in events if isinstance(e, MemberReleased)]) == 4
    assert isinstance(events[-1], CommunityClosed)
    assert sum(view.load().values()) == 0
