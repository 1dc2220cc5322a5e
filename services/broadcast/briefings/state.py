"""Each incident's briefing state, folded from broadcast's own log (facts noted, reports issued).

The fold is idempotent and order-tolerant: a fact applies once (its stream id), a report only as
the next number, and a fact a report already covers never becomes pending again, so a replay
after a restart gives the same pending changes and the same next due time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from shared.eventlog.view import LogView
from shared.events import Event
from shared.events.broadcast import BriefingFactNoted, BriefingIssued
from shared.events.community import EngagedDepartment

__all__ = ["BriefingView", "IncidentBriefing", "Pending"]

UPDATES_KEPT = 5


@dataclass(frozen=True)
class Pending:
    """A significant change no report covers yet."""

    due_at: datetime
    reason: str


@dataclass
class IncidentBriefing:
    """What the incident's next report will say, and when it falls due."""

    incident_id: UUID
    title: str = ""
    disaster_type: str = ""
    severity: str = ""
    district_code: str | None = None
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    opened_at: datetime | None = None
    reports: int = 0
    seats: dict[str, int] = field(default_factory=dict)
    members: dict[str, tuple[str, str]] = field(default_factory=dict)
    """expert id → (field, status)."""
    unfillable: dict[str, str] = field(default_factory=dict)
    updates: list[tuple[datetime, str]] = field(default_factory=list)
    injured: int | None = None
    dead: int | None = None
    casualties_at: datetime | None = None
    next_update_at: datetime | None = None
    engaged: dict[str, EngagedDepartment] = field(default_factory=dict)
    ever_engaged: set[str] = field(default_factory=set)
    assembled_at: datetime | None = None
    outcome: str | None = None
    pending: dict[UUID, Pending] = field(default_factory=dict)
    covered: set[UUID] = field(default_factory=set)
    briefings: list[BriefingIssued] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.outcome is not None

    @property
    def next_report_at(self) -> datetime | None:
        return self.briefings[-1].next_report_at if self.briefings else None

    def note(self, fact: BriefingFactNoted) -> None:  # noqa: PLR0912 -- one branch per kind of fact
        """Fold one fact in (each field the fact carries replaces or adds to what was known)."""
        if fact.disaster_type:
            self.disaster_type = fact.disaster_type
        if fact.severity:
            self.severity = fact.severity
        if fact.title:
            self.title = fact.title
        if fact.district_code:
            self.district_code = fact.district_code
        if fact.place:
            self.place = fact.place
        if fact.lat is not None and fact.lon is not None:
            self.lat, self.lon = fact.lat, fact.lon
        if fact.cause == "intake.incident_opened":
            self.opened_at = fact.occurred_at
        self.reports = max(0, self.reports + fact.reports)
        if fact.seats:
            self.seats = {s.field: s.needed for s in fact.seats}
        if fact.engaged:
            self.engaged = {d.id: d for d in fact.engaged}
            self.ever_engaged |= set(self.engaged)
        if fact.cause == "community.community_assembled":
            self.assembled_at = fact.occurred_at
        if fact.member_status == "unfillable":
            self.unfillable[fact.seat_field] = fact.text
        elif fact.member_status:
            self.members[fact.expert_id] = (fact.seat_field, fact.member_status)
            if fact.member_status == "accepted":
                self.unfillable.pop(fact.seat_field, None)
        if fact.cause == "intake.situation_updated":
            if fact.text.strip():
                self.updates = [*self.updates, (fact.occurred_at, fact.text)][-UPDATES_KEPT:]
            if fact.casualties_injured is not None or fact.casualties_dead is not None:
                self.injured = fact.casualties_injured if fact.casualties_injured is not None else self.injured
                self.dead = fact.casualties_dead if fact.casualties_dead is not None else self.dead
                self.casualties_at = fact.occurred_at
            self.next_update_at = fact.next_update_at or self.next_update_at
        if fact.cause == "intake.incident_closed":
            self.outcome = fact.outcome
            if fact.text.strip():
                self.updates = [*self.updates, (fact.occurred_at, fact.text)][-UPDATES_KEPT:]
        if fact.significant and fact.due_at is not None and fact.originator_id not in self.covered:
            self.pending[fact.originator_id] = Pending(fact.due_at, fact.reason)

    def issued(self, report: BriefingIssued) -> None:
        self.briefings.append(report)
        self.covered |= set(report.covers)
        for fact_id in report.covers:
            self.pending.pop(fact_id, None)


class BriefingView(LogView):
    """Every incident's briefing state, from broadcast's log (other events are passed over)."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        super().__init__(recorder)
        self.incidents: dict[UUID, IncidentBriefing] = {}
        self._facts: set[UUID] = set()

    def apply(self, event: Event) -> None:
        if not isinstance(event, BriefingFactNoted | BriefingIssued) or event.incident_id is None:
            return
        with self.lock:
            incident = self.incidents.get(event.incident_id)
            if incident is None:
                incident = self.incidents[event.incident_id] = IncidentBriefing(event.incident_id)
            if isinstance(event, BriefingFactNoted):
                if event.originator_id not in self._facts:
                    self._facts.add(event.originator_id)
                    incident.note(event)
            elif event.number == len(incident.briefings) + 1:
                incident.issued(event)

    def get(self, incident_id: UUID) -> IncidentBriefing | None:
        with self.lock:
            return self.incidents.get(incident_id)
