"""The intake service's current state, folded from its own log: what decisions and the
situation board read.

Applying an event is idempotent (a stream's event is applied only if its version is the next
one), so the writer can apply its decisions at once and the log follower can apply the same
events again from the log without harm. Other instances' events arrive through the follower.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from uuid import UUID

import msgspec
from eventsourcing.persistence import ApplicationRecorder

from services.intake.domain import Incident, Report, apply_incident, apply_report
from shared.eventlog.view import LogView
from shared.events import Event
from shared.events.common import Location
from shared.events.intake import (
    CapAlertReceived,
    DisasterMessageReceived,
    IncidentOpened,
    ReportLinked,
    ReportReceived,
    ReportUnlinked,
)

__all__ = ["IntakeView"]


class IntakeView(LogView):
    """Reports, incidents and alerts by id, with the indexes reception needs."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        super().__init__(recorder)
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
            self._open: dict[str, dict[UUID, Incident]] = {}  # by disaster type
            self._near: dict[tuple[str, object, object], set[UUID]] = {}  # by type and grid cell or district

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
        previous = self.incidents.get(incident_id)
        if previous is not None:
            self._open.get(previous.disaster_type, {}).pop(incident_id, None)
            for key in _places(previous):
                self._near.get(key, set()).discard(incident_id)
        self.incidents[incident_id] = incident
        if incident.status == "open":
            self._open.setdefault(incident.disaster_type, {})[incident_id] = incident
            for key in _places(incident):
                self._near.setdefault(key, set()).add(incident_id)
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

    def open_incidents(self, disaster_type: str) -> Iterable[Incident]:
        return self._open.get(disaster_type, {}).values()

    def open_incidents_near(self, disaster_type: str, location: Location, radius_km: float) -> list[Incident]:
        """Open incidents of the type that could be within ``radius_km`` of ``location`` (by grid
        cell) or share its district: the candidates, not yet measured."""
        found: set[UUID] = set()
        if location.point is not None:
            reach = math.ceil(radius_km / _CELL_KM)
            row, column = _cell(location.point.lat, location.point.lon)
            for d_row in range(-reach, reach + 1):
                for d_column in range(-reach, reach + 1):
                    found |= self._near.get((disaster_type, row + d_row, column + d_column), set())
        if location.district_code:
            found |= self._near.get((disaster_type, "district", location.district_code), set())
        open_of_type = self._open.get(disaster_type, {})
        return [open_of_type[i] for i in found if i in open_of_type]

    def reports_of(self, incident: Incident) -> Iterator[Report]:
        return (self.reports[r] for r in incident.reports if r in self.reports)


_CELL_KM = 1.0
_CELL_LAT = _CELL_KM / 111.0  # degrees of latitude per cell
_CELL_LON = _CELL_KM / 88.0  # degrees of longitude per cell at Seoul's latitude (111 km * cos 37.5°)


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _CELL_LAT), math.floor(lon / _CELL_LON)


def _places(incident: Incident) -> list[tuple[str, object, object]]:
    """The index keys an incident is found under: its grid cell and its district."""
    keys: list[tuple[str, object, object]] = []
    location = incident.location
    if location is not None and location.point is not None:
        keys.append((incident.disaster_type, *_cell(location.point.lat, location.point.lon)))
    if location is not None and location.district_code:
        keys.append((incident.disaster_type, "district", location.district_code))
    return keys
