"""What the community service does when intake's incidents move: a consumer handler.

An incident opened → its community is assembled (seats ranked and invited, departments
engaged, unfillable seats reported); a report linked → its reporter joins (when the plan says
reporters join); unlinked → leaves. Broadcast's receipts for invitations mark them delivered,
or, when no channel reached the expert, pass the seat to the next candidate. Decisions take
their time from the upstream event's ``recorded_at``, never the clock, so replaying the log
reproduces them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.community.assembly import Assembly, assemble, engaged_departments
from services.community.policy import SeatPolicy
from services.community.registry import Department
from services.community.seating import SEOUL_CENTRE, envelope, invite, refill, release, score_of
from services.community.view import CommunityView, community_id
from shared import geo
from shared.events import Event
from shared.events.broadcast import DeliveryDelivered, DeliveryFailed
from shared.events.common import ContactRef
from shared.events.community import (
    CommunityAssembled,
    CommunityClosed,
    EngagedDepartment,
    InvitationDelivered,
    InvitationUndeliverable,
    ReporterJoined,
    ReporterLeft,
    SeatPlanned,
    SeatsChanged,
    SeatUnfillable,
    SkippedCandidate,
)
from shared.events.intake import (
    IncidentClosed,
    IncidentEscalated,
    IncidentOpened,
    IncidentReclassified,
    ReportLinked,
    ReportUnlinked,
)

__all__ = ["SEOUL_CENTRE", "Reactions"]


class Reactions:
    """The handler: ``handle(event)`` returns the community events ``event`` causes."""

    def __init__(self, view: CommunityView, departments: Sequence[Department], policy: SeatPolicy) -> None:
        """``departments`` with their briefing addresses already sealed (see ``sealed_departments``)."""
        self.view, self.departments, self.policy = view, departments, policy

    def handle(self, event: Event) -> Sequence[Event]:  # noqa: PLR0911 -- a return per event kind
        if isinstance(event, IncidentOpened):
            return self._assemble(event)
        if isinstance(event, ReportLinked):
            return self._reporter(event, joins=True)
        if isinstance(event, ReportUnlinked):
            return self._reporter(event, joins=False)
        if isinstance(event, IncidentReclassified):
            return self._follow(event, event.disaster_type, event.severity, f"reclassified: {event.reason}")
        if isinstance(event, IncidentEscalated):
            return self._follow(event, None, event.severity, f"escalated: {event.reason}")
        if isinstance(event, IncidentClosed):
            return self._close(event)
        if isinstance(event, DeliveryDelivered | DeliveryFailed) and event.kind == "invitation":
            return self._receipt(event)
        return ()

    def _engaged(self, ids: Sequence[str]) -> list[EngagedDepartment]:
        """The departments ``ids``, in that order, with where their briefings go (sealed already)."""
        by_id = {d.id: d for d in self.departments}
        return [
            EngagedDepartment(
                d.id, d.name_ko, d.kind, ContactRef(d.briefing_channel.channel, d.briefing_channel.address)
            )
            for d in (by_id[i] for i in ids if i in by_id)
        ]

    def _receipt(self, event: DeliveryDelivered | DeliveryFailed) -> list[Event]:
        """Broadcast says how an invitation went: delivered (the seat shows it), or reached the
        expert on no channel (the seat goes to the next candidate now, not at the deadline)."""
        if event.incident_id is None or (isinstance(event, DeliveryFailed) and not event.final):
            return []
        community = self.view.communities.get(community_id(event.incident_id))
        invitation = community.invitations.get(event.recipient) if community else None
        if community is None or invitation is None or invitation.status != "invited" or community.closed:
            return []
        common = {**envelope(community, community.version + 1, event.recorded_at), "causation_id": event.id}
        if isinstance(event, DeliveryDelivered):
            if invitation.delivered_on:
                return []
            return [
                InvitationDelivered(
                    **common, expert_id=event.recipient, channel=event.channel, delivery_id=event.originator_id
                )
            ]
        lost = InvitationUndeliverable(
            **common,
            expert_id=event.recipient,
            seat_field=invitation.seat_field,
            error=event.error,
            delivery_id=event.originator_id,
        )
        after = self.view.folded(community, lost)
        now = event.recorded_at
        return [lost, *refill(after, invitation.seat_field, version=after.version + 1, view=self.view, now=now)]

    def _follow(self, event: Event, disaster_type: str | None, severity: str, why: str) -> list[Event]:
        """The incident changed: seats follow the new plan; members no longer needed are released."""
        community = self.view.communities.get(community_id(event.originator_id))
        if community is None or community.closed:
            return []
        kind = disaster_type or community.disaster_type
        plan = self.policy.plan_for(kind, severity)
        now = event.recorded_at
        departments = engaged_departments(self.departments, plan.departments, community.district_code, kind)
        changed = SeatsChanged(
            **envelope(community, community.version + 1, now),
            causation_id=event.id,
            disaster_type=kind,
            severity=severity,
            policy_version=self.policy.version,
            reason=why,
            seats=[SeatPlanned(s.field, s.count, s.confirm_within_min) for s in plan.seats],
            departments=departments,
            engaged=self._engaged(departments),
        )
        events: list[Event] = [changed]
        community = self.view.folded(community, changed)
        needed = {s.field for s in plan.seats}
        for invitation in list(community.invitations.values()):
            if invitation.status in {"invited", "accepted"} and invitation.seat_field not in needed:
                released = release(
                    community,
                    invitation,
                    reason=f"no {invitation.seat_field} seat after the incident was {why}",
                    view=self.view,
                    now=now,
                    causation_id=event.id,
                )
                community = self.view.folded(community, released)
                events.append(released)
        for seat in plan.seats:
            for invited in refill(community, seat.field, version=community.version + 1, view=self.view, now=now):
                community = self.view.folded(community, invited)
                events.append(invited)
        return events

    def _close(self, closed: IncidentClosed) -> list[Event]:
        """The incident closed: everyone still invited or seated is released; the community closes."""
        community = self.view.communities.get(community_id(closed.originator_id))
        if community is None or community.closed:
            return []
        now, events = closed.recorded_at, list[Event]()
        for invitation in list(community.invitations.values()):
            if invitation.status in {"invited", "accepted"}:
                released = release(
                    community,
                    invitation,
                    reason=f"the incident closed ({closed.outcome})",
                    view=self.view,
                    now=now,
                    causation_id=closed.id,
                )
                community = self.view.folded(community, released)
                events.append(released)
        events.append(
            CommunityClosed(
                **envelope(community, community.version + 1, now), causation_id=closed.id, outcome=closed.outcome
            )
        )
        return events

    def _assemble(self, opened: IncidentOpened) -> list[Event]:
        incident_id = opened.originator_id
        stream = community_id(incident_id)
        if stream in self.view.communities:
            return []
        location = opened.location
        district = location.district_code if location else None
        place = SEOUL_CENTRE
        if location is not None and location.point is not None:
            place = (location.point.lat, location.point.lon)
        elif district and (d := geo.district_by_code(district)) is not None:
            place = (d.lat, d.lon)
        plan = self.policy.plan_for(opened.disaster_type, opened.severity)
        now = opened.recorded_at
        decision = assemble(
            plan=plan,
            policy_version=self.policy.version,
            disaster_type=opened.disaster_type,
            at=place,
            district_code=district,
            experts=self.view.pool(),
            departments=self.departments,
            load=self.view.load(),
            now=now,
        )
        common: dict[str, Any] = {
            "originator_id": stream,
            "incident_id": incident_id,
            "correlation_id": incident_id,
            "causation_id": opened.id,
            "occurred_at": now,
        }
        events: list[Event] = [
            CommunityAssembled(
                **common,
                originator_version=1,
                disaster_type=opened.disaster_type,
                severity=opened.severity,
                policy_version=decision.policy_version,
                seats=_seats(decision),
                departments=decision.departments,
                reporters_join=decision.reporters_join,
                district_code=district,
                lat=place[0],
                lon=place[1],
                engaged=self._engaged(decision.departments),
            )
        ]
        for seat in decision.seats:
            if seat.unfillable:
                why = "; ".join(f"{s.expert_id}: {s.reason}" for s in seat.skipped) or "nobody in the pool has it"
                events.append(
                    SeatUnfillable(
                        **common,
                        originator_version=len(events) + 1,
                        seat_field=seat.field,
                        reason=f"no expert of {seat.field} can be asked ({why})",
                        skipped=[SkippedCandidate(s.expert_id, s.reason) for s in seat.skipped],
                    )
                )
            for rank, ranked in enumerate(seat.invite, start=1):
                events.append(
                    invite(
                        {**common, "originator_version": len(events) + 1},
                        ranked,
                        field=seat.field,
                        rank=rank,
                        minutes=seat.confirm_within_min,
                        reason=ranked.reason,
                        view=self.view,
                        now=now,
                        incident=(opened.disaster_type, opened.severity, district),
                    )
                )
        # The departments engaged are in CommunityAssembled: an event each would double the writes.
        return events

    def _reporter(self, event: ReportLinked | ReportUnlinked, *, joins: bool) -> list[Event]:
        community = self.view.communities.get(community_id(event.originator_id))
        if community is None or not community.reporters_join:
            return []
        if joins == (event.reporter in community.reporters):
            return []  # already in (or already out)
        common = {**envelope(community, community.version + 1, event.recorded_at), "causation_id": event.id}
        if joins:
            assert isinstance(event, ReportLinked)
            return [
                ReporterJoined(**common, reporter=event.reporter, report_id=event.report_id, reply_to=event.reply_to)
            ]
        return [ReporterLeft(**common, reporter=event.reporter, reason=event.reason)]


RUNNERS_UP = 5  # candidates recorded beyond those invited: enough to say why not them


def _seats(decision: Assembly) -> list[SeatPlanned]:
    """Each seat with those invited and the next few, with their scores; the whole ranking of a
    large pool would make every assembly event large (and every write slow)."""
    return [
        SeatPlanned(
            seat.field,
            seat.count,
            seat.confirm_within_min,
            candidates=[score_of(r) for r in [*seat.invite, *seat.waiting[:RUNNERS_UP]]],
            skipped=[SkippedCandidate(s.expert_id, s.reason) for s in seat.skipped],
            ranked=len(seat.invite) + len(seat.waiting),
        )
        for seat in decision.seats
    ]
