"""The intake service's current state, folded from its own log: what decisions and the
situation board read.

Applying an event is idempotent (a stream's event is applied only if its version is the next
one), so the writer can apply its decisions at once and the log follower can apply the same
events again from the log without harm. Other instances' events arrive through the follower.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from uuid import UUID

import msgspec
from eventsourcing.persistence import ApplicationRecorder

from services.intake.domain import Incident, Report, apply_incident, apply_report
from shared.events import CODEC, Event
from shared.events.intake import (
    CapAlertReceived,
    DisasterMessageReceived,
    IncidentOpened,
    ReportLinked,
    ReportReceived,
    ReportUnlinked,
)

__all__ = ["IntakeView"]


class IntakeView:
    """Reports, incidents and alerts by id, with the indexes reception needs."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self._recorder = recorder
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget everything (the next catch-up reads the whole log again)."""
        with self.lock:
            self.position = 0
            self.versions: dict[UUID, int] = {}
            self.reports: dict[UUID, Report] = {}
            self.incidents: dict[UUID, Incident] = {}
            self.alerts: dict[UUID, CapAlertReceived] = {}
            self.messages: dict[UUID, DisasterMessageReceived] = {}
            self._by_message: dict[tuple[str, str], UUID] = {}
            self._latest_by_sender: dict[str, UUID] = {}
            self._open: dict[UUID, Incident] = {}

    def catch_up(self, batch: int = 5000) -> int:
        """Apply every event recorded since the last catch-up; returns how many were read."""
        read = 0
        with self.lock:
            while True:
                notifications = self._recorder.select_notifications(self.position, batch, inclusive_of_start=False)
                for notification in notifications:
                    self.apply(CODEC.decode(notification.state))
                    self.position = notification.id
                read += len(notifications)
                if len(notifications) < batch:
                    return read

    def apply(self, event: Event) -> None:
        """Fold one event in, unless it is already in (its stream's version is not the next)."""
        with self.lock:
            stream = event.originator_id
            if event.originator_version != self.versions.get(stream, 0) + 1:
                return
            self.versions[stream] = event.originator_version
            if isinstance(event, CapAlertReceived):
                self.alerts[stream] = event
                return
            if isinstance(event, DisasterMessageReceived):
                self.messages[stream] = event
                return
            if stream in self.reports or isinstance(event, ReportReceived):
                self._apply_to_report(stream, event)
            if stream in self.incidents or isinstance(event, IncidentOpened):
                self._apply_to_incident(stream, event)

    def _apply_to_report(self, report_id: UUID, event: Event) -> None:
        report = apply_report(self.reports.get(report_id), event)
        if report is None:
            return
        self.reports[report_id] = report
        if isinstance(event, ReportReceived):
            self._latest_by_sender[report.sender] = report_id
        for message_id in report.message_ids:
            self._by_message[(report.channel, message_id)] = report_id

    def _apply_to_incident(self, incident_id: UUID, event: Event) -> None:
        incident = apply_incident(self.incidents.get(incident_id), event)
        if incident is None:
            return
        self.incidents[incident_id] = incident
        if incident.status == "open":
            self._open[incident_id] = incident
        else:
            self._open.pop(incident_id, None)
        if isinstance(event, ReportLinked | ReportUnlinked) and event.report_id in self.reports:
            linked_to = incident_id if isinstance(event, ReportLinked) else None
            report = self.reports[event.report_id]
            self.reports[event.report_id] = msgspec.structs.replace(report, incident_id=linked_to)

    # What reception reads (the IntakeState protocol).
    def report(self, report_id: UUID) -> Report | None:
        return self.reports.get(report_id)

    def report_by_message(self, channel: str, message_key: str) -> Report | None:
        report_id = self._by_message.get((channel, message_key))
        return self.reports.get(report_id) if report_id else None

    def latest_report_of(self, sender: str) -> Report | None:
        report_id = self._latest_by_sender.get(sender)
        return self.reports.get(report_id) if report_id else None

    def incident(self, incident_id: UUID) -> Incident | None:
        return self.incidents.get(incident_id)

    def open_incidents(self) -> Iterable[Incident]:
        return self._open.values()

    def reports_of(self, incident: Incident) -> Iterator[Report]:
        return (self.reports[r] for r in incident.reports if r in self.reports)
