"""What operators do to incidents: each a pure command over the current state.

Every step is an event that names who did it. A command refuses what makes no sense (a closed
incident changed, an escalation that lowers severity, a report linked twice) with an
IntakeError, and records nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from services.intake.domain import (
    Incident,
    InvalidChangeError,
    NotFoundError,
    apply_incident,
)
from services.intake.notices import notice_for
from services.intake.reception import IntakeState, reply_to
from shared import taxonomy
from shared.events import Event
from shared.events.common import Actor, Location
from shared.events.intake import (
    IncidentClosed,
    IncidentEscalated,
    IncidentMadePublic,
    IncidentOpened,
    IncidentReclassified,
    ReportLinked,
    ReportUnlinked,
    SituationUpdated,
)
from shared.taxonomy import Severity

__all__ = ["Change", "Operations"]


class Change(msgspec.Struct, frozen=True):
    """An operator command's outcome: the events to record and the incident after them."""

    events: list[Event]
    incident: Incident


IntakeCommand = Callable[[IntakeState, datetime], Change]


def _incident(state: IntakeState, incident_id: UUID) -> Incident:
    incident = state.incident(incident_id)
    if incident is None:
        raise NotFoundError(f"no incident {incident_id}")
    return incident


def _next(incident: Incident, now: datetime) -> dict[str, Any]:
    """The envelope of the incident's next event: its stream, next version, correlation, time."""
    return {
        "originator_id": incident.id,
        "originator_version": incident.version + 1,
        "incident_id": incident.id,
        "correlation_id": incident.id,
        "occurred_at": now,
    }


def _changed(incident: Incident, *events: Event) -> Change:
    after: Incident | None = incident
    for event in events:
        after = apply_incident(after, event)
    assert after is not None
    return Change(list(events), after)


def _check_type(disaster_type: str, severity: str) -> None:
    if disaster_type not in taxonomy.DISASTER_TYPES:
        raise InvalidChangeError(f"disaster_type: unknown type {disaster_type!r}")
    if severity not in Severity.__members__.values():
        raise InvalidChangeError(f"severity: must be one of {', '.join(Severity)}")


class Operations:
    """The operator's commands, as ``(state, now) -> Change`` functions for the writer."""

    @staticmethod
    def open_incident(
        *,
        disaster_type: str,
        severity: str,
        title: str,
        location: Location | None,
        by: Actor,
        incident_id: UUID | None = None,
    ) -> IntakeCommand:
        _check_type(disaster_type, severity)
        new_id = incident_id or uuid4()

        def command(state: IntakeState, now: datetime) -> Change:
            existing = state.incident(new_id)
            if existing is not None:
                return Change([], existing)  # the same Idempotency-Key again
            opened = IncidentOpened(
                originator_id=new_id,
                originator_version=1,
                incident_id=new_id,
                correlation_id=new_id,
                occurred_at=now,
                disaster_type=disaster_type,
                severity=severity,
                title=title,
                location=location,
                opened_by=by,
                reason="opened by an operator",
            )
            incident = apply_incident(None, opened)
            assert incident is not None
            return Change([opened], incident)

        return command

    @staticmethod
    def reclassify(incident_id: UUID, *, disaster_type: str, severity: str, by: Actor, reason: str) -> IntakeCommand:
        _check_type(disaster_type, severity)

        def command(state: IntakeState, now: datetime) -> Change:
            incident = _incident(state, incident_id)
            incident.require_open()
            if (incident.disaster_type, incident.severity) == (disaster_type, severity):
                raise InvalidChangeError("disaster_type, severity: the incident is already classified so")
            return _changed(
                incident,
                IncidentReclassified(
                    **_next(incident, now),
                    disaster_type=disaster_type,
                    severity=severity,
                    previous_type=incident.disaster_type,
                    previous_severity=incident.severity,
                    by=by,
                    reason=reason,
                ),
            )

        return command

    @staticmethod
    def escalate(incident_id: UUID, *, severity: str, by: Actor, reason: str) -> IntakeCommand:
        _check_type("fire", severity)

        def command(state: IntakeState, now: datetime) -> Change:
            incident = _incident(state, incident_id)
            incident.require_open()
            if Severity(severity).rank <= Severity(incident.severity).rank:
                raise InvalidChangeError(f"severity: escalation must go above {incident.severity}")
            return _changed(
                incident,
                IncidentEscalated(
                    **_next(incident, now),
                    severity=severity,
                    previous_severity=incident.severity,
                    by=by,
                    reason=reason,
                ),
            )

        return command

    @staticmethod
    def update_situation(
        incident_id: UUID,
        *,
        text: str,
        by: Actor,
        injured: int | None = None,
        dead: int | None = None,
        next_update_at: datetime | None = None,
    ) -> IntakeCommand:
        def command(state: IntakeState, now: datetime) -> Change:
            incident = _incident(state, incident_id)
            incident.require_open()
            return _changed(
                incident,
                SituationUpdated(
                    **_next(incident, now),
                    text=text,
                    by=by,
                    casualties_injured=injured,
                    casualties_dead=dead,
                    next_update_at=next_update_at,
                ),
            )

        return command

    @staticmethod
    def link_report(incident_id: UUID, report_id: UUID, *, by: Actor, reason: str) -> IntakeCommand:
        def command(state: IntakeState, now: datetime) -> Change:
            incident = _incident(state, incident_id)
            incident.require_open()
            report = state.report(report_id)
            if report is None:
                raise NotFoundError(f"no report {report_id}")
            if report.incident_id == incident.id:
                raise InvalidChangeError(f"report_id: {report_id} is already linked to this incident")
            events: list[Event] = []
            if report.incident_id is not None and (previous := state.incident(report.incident_id)) is not None:
                events.append(
                    ReportUnlinked(
                        **_next(previous, now),
                        report_id=report_id,
                        reporter=report.sender,
                        by=by,
                        reason=f"moved to incident {incident.id}: {reason}",
                    )
                )
            linked = ReportLinked(
                **_next(incident, now),
                causation_id=report_id,
                report_id=report_id,
                reporter=report.sender,
                by=by,
                reason=reason,
                reply_to=reply_to(report),
            )
            after = apply_incident(incident, linked) or incident
            events.append(linked)
            if (notice := notice_for(report, after, "in_incident", cause=linked.id, now=now)) is not None:
                events.append(notice)
            return Change(events, after)

        return command

    @staticmethod
    def unlink_report(incident_id: UUID, report_id: UUID, *, by: Actor, reason: str) -> IntakeCommand:
        def command(state: IntakeState, now: datetime) -> Change:
            incident = _incident(state, incident_id)
            incident.require_open()
            report = state.report(report_id)
            if report is None or report_id not in incident.reports:
                raise NotFoundError(f"report {report_id} is not linked to incident {incident_id}")
            return _changed(
                incident,
                ReportUnlinked(
                    **_next(incident, now),
                    report_id=report_id,
                    reporter=report.sender,
                    by=by,
                    reason=reason,
                ),
            )

        return command

    @staticmethod
    def make_public(incident_id: UUID, *, by: Actor, headline: str, instruction: str) -> IntakeCommand:
        def command(state: IntakeState, now: datetime) -> Change:
            incident = _incident(state, incident_id)
            incident.require_open()
            if incident.public:
                raise InvalidChangeError("the incident is already public")
            return _changed(
                incident,
                IncidentMadePublic(
                    **_next(incident, now),
                    by=by,
                    headline=headline or incident.title,
                    instruction=instruction,
                ),
            )

        return command

    @staticmethod
    def close(incident_id: UUID, *, outcome: str, by: Actor, summary: str) -> IntakeCommand:
        def command(state: IntakeState, now: datetime) -> Change:
            incident = _incident(state, incident_id)
            incident.require_open()
            closed = IncidentClosed(
                **_next(incident, now),
                outcome=outcome,
                by=by,
                summary=summary,
            )
            after = apply_incident(incident, closed) or incident
            reports = [r for r in map(state.report, sorted(incident.reports)) if r is not None]
            notices = [notice_for(r, after, "closed", cause=closed.id, now=now) for r in reports]
            return Change([closed, *(n for n in notices if n is not None)], after)

        return command
