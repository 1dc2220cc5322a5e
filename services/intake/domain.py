"""Reports and incidents: their state, how events change it, and the rules of each step.

State is immutable (msgspec Structs); ``apply`` folds one event into it. Commands are
functions that check the rules against the current state and return the events to record;
they read no clock (``now`` is passed in) and do no I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from shared.events import Event
from shared.events.common import Actor, Attachment, Location
from shared.events.intake import (
    Classification,
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

__all__ = [
    "Incident",
    "IncidentClosedError",
    "IntakeError",
    "InvalidChangeError",
    "NotFoundError",
    "Report",
    "apply_incident",
    "apply_report",
]


class IntakeError(Exception):
    """Base of the intake rules' errors (the API maps each to a status).

    NotFoundError        raised when an incident or report does not exist
    IncidentClosedError  raised when a closed incident is asked to change
    InvalidChangeError   raised when a change makes no sense (same type again, lower "escalation", …)
    """


class NotFoundError(IntakeError):
    pass


class IncidentClosedError(IntakeError):
    pass


class InvalidChangeError(IntakeError):
    pass


class Report(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    id: UUID
    version: int
    channel: str
    sender: str
    receipt: str
    received_at: datetime
    last_message_at: datetime
    texts: tuple[str, ...] = ()
    location: Location | None = None
    attachments: tuple[Attachment, ...] = ()
    classification: Classification = msgspec.field(default_factory=Classification)
    message_ids: frozenset[str] = frozenset()
    incident_id: UUID | None = None
    cancelled: bool = False
    reply_to_sealed: str = ""

    @property
    def text(self) -> str:
        return "\n".join(t for t in self.texts if t)


class Incident(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    id: UUID
    version: int
    disaster_type: str
    severity: str
    title: str
    opened_at: datetime
    opened_by: Actor
    location: Location | None = None
    status: Literal["open", "closed"] = "open"
    public: bool = False
    reports: frozenset[UUID] = frozenset()
    updates: tuple[SituationUpdated, ...] = ()
    updated_at: datetime | None = None
    outcome: str = ""

    def require_open(self) -> None:
        if self.status == "closed":
            raise IncidentClosedError(f"incident {self.id} is closed")


def apply_report(report: Report | None, event: Event) -> Report | None:
    """The report after ``event`` (events of other kinds leave it as it is)."""
    match event:
        case ReportReceived():
            return Report(
                id=event.originator_id,
                version=event.originator_version,
                channel=event.channel,
                sender=event.sender,
                receipt=event.receipt,
                received_at=event.occurred_at,
                last_message_at=event.occurred_at,
                texts=(event.text,),
                location=event.location,
                attachments=tuple(event.attachments),
                classification=event.classification,
                message_ids=frozenset({event.channel_message_id}),
                reply_to_sealed=event.reply_to_sealed,
            )
        case ReportAmended() if report is not None:
            return msgspec.structs.replace(
                report,
                version=event.originator_version,
                last_message_at=event.occurred_at,
                texts=(*report.texts, event.text) if event.text else report.texts,
                location=event.location or report.location,
                attachments=(*report.attachments, *event.attachments),
                classification=event.classification or report.classification,
                message_ids=report.message_ids | {event.channel_message_id},
            )
        case ReportCancelled() if report is not None:
            return msgspec.structs.replace(report, version=event.originator_version, cancelled=True)
    return report


def apply_incident(incident: Incident | None, event: Event) -> Incident | None:  # noqa: PLR0911 -- a return per event kind
    """The incident after ``event`` (events of other kinds leave it as it is)."""
    if isinstance(event, IncidentOpened):
        return Incident(
            id=event.originator_id,
            version=event.originator_version,
            disaster_type=event.disaster_type,
            severity=event.severity,
            title=event.title,
            opened_at=event.occurred_at,
            opened_by=event.opened_by,
            location=event.location,
            updated_at=event.occurred_at,
        )
    if incident is None:
        return None
    common = {"version": event.originator_version, "updated_at": event.occurred_at}
    match event:
        case ReportLinked():
            return msgspec.structs.replace(incident, reports=incident.reports | {event.report_id}, **common)
        case ReportUnlinked():
            return msgspec.structs.replace(incident, reports=incident.reports - {event.report_id}, **common)
        case IncidentReclassified():
            return msgspec.structs.replace(
                incident, disaster_type=event.disaster_type, severity=event.severity, **common
            )
        case IncidentEscalated():
            return msgspec.structs.replace(incident, severity=event.severity, **common)
        case SituationUpdated():
            return msgspec.structs.replace(incident, updates=(*incident.updates, event), **common)
        case IncidentMadePublic():
            return msgspec.structs.replace(incident, public=True, **common)
        case IncidentClosed():
            return msgspec.structs.replace(incident, status="closed", outcome=event.outcome, **common)
    return incident
