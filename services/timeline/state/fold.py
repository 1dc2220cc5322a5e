"""The fold behind ``state_at``: the incident, its reports, its community, its deliveries."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from msgspec.structs import replace

from services.timeline.state.deliveries import Deliveries
from services.timeline.state.values import (
    OUTSTANDING,
    CommunityState,
    Counts,
    DepartmentState,
    IncidentChange,
    IncidentFacts,
    IncidentState,
    MemberState,
    MemberStatus,
    ReporterState,
    ReportState,
    SeatState,
    SituationNote,
)
from shared.events import Event
from shared.events.community import (
    CommunityAssembled,
    CommunityClosed,
    EngagedDepartment,
    InvitationAccepted,
    InvitationDeclined,
    InvitationDelivered,
    InvitationTimedOut,
    InvitationUndeliverable,
    MemberInvited,
    MemberReleased,
    MessagePosted,
    ReporterJoined,
    ReporterLeft,
    SeatPlanned,
    SeatsChanged,
    SeatUnfillable,
)
from shared.events.intake import (
    IncidentClosed,
    IncidentEscalated,
    IncidentMadePublic,
    IncidentOpened,
    IncidentReclassified,
    ReportAmended,
    ReportCancelled,
    ReportLinked,
    ReportReceived,
    ReportUnlinked,
    SituationUpdated,
)

__all__ = ["IncidentFold"]

_ANSWERED: dict[type[Event], MemberStatus] = {
    InvitationAccepted: "accepted",
    InvitationDeclined: "declined",
    InvitationTimedOut: "timed_out",
    InvitationUndeliverable: "undeliverable",
    MemberReleased: "released",
}


class IncidentFold:
    """An incident's state, one event at a time (``figures_of`` watches it as it goes)."""

    def __init__(self) -> None:
        self.events = 0
        self.incident_id: UUID | None = None
        self.incident: IncidentFacts | None = None
        self.reports: dict[UUID, ReportState] = {}
        self.community: CommunityState | None = None
        self.seats: list[SeatPlanned] = []
        self.unfillable: dict[str, str] = {}
        self.members: dict[str, MemberState] = {}
        self.reporters: dict[str, ReporterState] = {}
        self.deliveries = Deliveries()
        self.room_messages = 0

    def apply(self, event: Event) -> None:
        """Fold one event in; one the state does not use (a briefing fact, an expert's profile) is
        only counted, one about something the events never introduced is skipped."""
        self.events += 1
        if self.incident_id is None and event.incident_id is not None:
            self.incident_id = event.incident_id
        self._incident(event)
        self._report(event)
        self._community(event)
        self._member(event)
        self.deliveries.apply(event)

    def seats_filled(self) -> bool:
        """Every planned seat has as many accepted experts as it needs (False with none planned)."""
        return bool(self.seats) and all(len(self._filled_by(s.field)) >= s.count for s in self.seats)

    def state(self) -> IncidentState:
        """The state the events so far give."""
        reports = list(self.reports.values())
        deliveries = list(self.deliveries)
        community = self.community
        if community is not None:
            members = list(self.members.values())
            community = replace(
                community,
                seats=[
                    SeatState(
                        field=s.field,
                        needed=s.count,
                        filled_by=self._filled_by(s.field),
                        unfillable=self.unfillable.get(s.field, ""),
                    )
                    for s in self.seats
                ],
                members=members,
                reporters=list(self.reporters.values()),
                outstanding=[m.expert_id for m in members if m.status in OUTSTANDING],
            )
        counts = Counts(
            events=self.events,
            reports=len(reports),
            reports_linked=sum(r.linked for r in reports),
            room_messages=self.room_messages,
            deliveries=len(deliveries),
            delivered=sum(d.status == "delivered" for d in deliveries),
            acknowledged=sum(bool(d.acknowledged_by) for d in deliveries),
        )
        return IncidentState(
            exists=self.incident is not None,
            incident_id=self.incident_id,
            incident=self.incident,
            reports=reports,
            community=community,
            deliveries=deliveries,
            counts=counts,
        )

    def _filled_by(self, field: str) -> list[str]:
        return [m.expert_id for m in self.members.values() if m.seat_field == field and m.status == "accepted"]

    def _incident(self, event: Event) -> None:
        at, facts = event.occurred_at, self.incident
        if isinstance(event, IncidentOpened):
            location = event.location
            self.incident = IncidentFacts(
                incident_id=event.incident_id or event.originator_id,
                disaster_type=event.disaster_type,
                severity=event.severity,
                title=event.title,
                district_code=location.district_code if location else None,
                place=location.address if location else "",
                opened_at=at,
                opened_by=str(event.opened_by),
            )
            self.incident_id = self.incident.incident_id
            return
        if facts is None:
            return  # the incident's own events come after its opening; a cut may leave only later ones
        match event:
            case IncidentReclassified() | IncidentEscalated():
                change = _change(event, facts)
                self.incident = replace(
                    facts,
                    disaster_type=change.disaster_type,
                    severity=change.severity,
                    changes=[*facts.changes, change],
                )
            case SituationUpdated():
                note = SituationNote(
                    at=at,
                    by=str(event.by),
                    text=event.text,
                    casualties_injured=event.casualties_injured,
                    casualties_dead=event.casualties_dead,
                )
                self.incident = replace(facts, latest_update=note, updates=facts.updates + 1)
            case IncidentMadePublic():
                self.incident = replace(facts, public=True, public_at=at)
            case IncidentClosed():
                self.incident = replace(facts, status="closed", closed_at=at, outcome=event.outcome)

    def _report(self, event: Event) -> None:
        match event:
            case ReportReceived():
                self.reports[event.originator_id] = ReportState(
                    report_id=event.originator_id,
                    reporter=event.sender,
                    channel=event.channel,
                    received_at=event.occurred_at,
                    text=event.text,
                    disaster_type=event.classification.disaster_type,
                    confidence=event.classification.confidence,
                )
            case ReportAmended() if (report := self.reports.get(event.originator_id)) is not None:
                judged = event.classification
                self.reports[report.report_id] = replace(
                    report,
                    text="\n".join(t for t in (report.text, event.text) if t),
                    amendments=report.amendments + 1,
                    disaster_type=judged.disaster_type if judged else report.disaster_type,
                    confidence=judged.confidence if judged else report.confidence,
                )
            case ReportCancelled() if (report := self.reports.get(event.originator_id)) is not None:
                self.reports[report.report_id] = replace(report, cancelled=True)
            case ReportLinked():
                report = self.reports.get(event.report_id) or ReportState(
                    report_id=event.report_id, reporter=event.reporter
                )
                self.reports[event.report_id] = replace(report, linked=True, linked_at=event.occurred_at)
            case ReportUnlinked() if (report := self.reports.get(event.report_id)) is not None:
                self.reports[event.report_id] = replace(report, linked=False, unlinked_at=event.occurred_at)

    def _community(self, event: Event) -> None:
        match event:
            case CommunityAssembled():
                self.community = CommunityState(
                    assembled_at=event.occurred_at,
                    policy_version=event.policy_version,
                    reporters_join=event.reporters_join,
                    departments=_departments(event.departments, event.engaged),
                )
                self.seats = list(event.seats)
            case SeatsChanged() if (community := self.community) is not None:
                departments = _departments(event.departments, event.engaged) or community.departments
                self.community = replace(community, policy_version=event.policy_version, departments=departments)
                self.seats, self.unfillable = list(event.seats), {}  # the new plan is decided afresh
            case SeatUnfillable():
                self.unfillable[event.seat_field] = event.reason
            case ReporterJoined():
                self.reporters[event.reporter] = ReporterState(
                    reporter=event.reporter, joined_at=event.occurred_at, report_id=event.report_id
                )
            case ReporterLeft() if (reporter := self.reporters.get(event.reporter)) is not None:
                self.reporters[event.reporter] = replace(reporter, left_at=event.occurred_at)
            case CommunityClosed() if (community := self.community) is not None:
                self.community = replace(community, closed_at=event.occurred_at)
            case MessagePosted():
                self.room_messages += 1

    def _member(self, event: Event) -> None:
        at = event.occurred_at
        if isinstance(event, MemberInvited):
            self.members[event.expert_id] = MemberState(
                expert_id=event.expert_id,
                seat_field=event.seat_field,
                status="invited",
                status_at=at,
                invited_at=at,
                expires_at=event.expires_at,
                rank=event.rank,
                score=event.score.total,
                reason=event.reason or event.score.reason,
            )
        elif isinstance(event, InvitationDelivered) and (member := self.members.get(event.expert_id)):
            if member.status == "invited":  # a receipt after the answer changes nothing but the channel
                member = replace(member, status="delivered", status_at=at)
            self.members[event.expert_id] = replace(member, delivered_on=event.channel)
        elif (status := _ANSWERED.get(type(event))) is not None:
            expert_id: str = getattr(event, "expert_id", "")
            if (member := self.members.get(expert_id)) is not None:
                self.members[expert_id] = replace(member, status=status, status_at=at)


def _departments(ids: list[str], engaged: list[EngagedDepartment]) -> list[DepartmentState]:
    """The departments by id, named where the event says (never with their briefing channel)."""
    named = {d.id: d for d in engaged}
    return [
        DepartmentState(id=i, name=named[i].name, kind=named[i].kind) if i in named else DepartmentState(id=i)
        for i in ids or list(named)
    ]


def _change(event: IncidentReclassified | IncidentEscalated, facts: IncidentFacts) -> IncidentChange:
    kind: Literal["reclassified", "escalated"] = "escalated"
    disaster_type = previous_type = facts.disaster_type
    if isinstance(event, IncidentReclassified):
        kind, disaster_type, previous_type = "reclassified", event.disaster_type, event.previous_type
    return IncidentChange(
        at=event.occurred_at,
        kind=kind,
        by=str(event.by),
        disaster_type=disaster_type,
        severity=event.severity,
        previous_type=previous_type,
        previous_severity=event.previous_severity,
        reason=event.reason,
    )
