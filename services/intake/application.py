"""The intake service's use cases: each returns once its events are committed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from services.intake import national
from services.intake.alerts import CapAlert, KrDisasterMessage
from services.intake.domain import Incident, NotFoundError, Report
from services.intake.national import Recorded
from services.intake.operations import Change, IntakeCommand, Operations
from services.intake.reception import InboundMessage, Reception, ReceptionPolicy, receive
from services.intake.view import IntakeView
from shared.eventlog.application import ServiceApplication
from shared.eventlog.writer import Writer
from shared.events.common import Actor, Location
from shared.events.intake import CapAlertReceived
from shared.privacy import Privacy

__all__ = ["IncidentFilter", "IntakeApplication", "IntakeService"]


class IntakeApplication(ServiceApplication):
    """Intake's system of record (tables ``intake_events``, ``intake_tracking``)."""

    name = "intake"


class IncidentFilter:
    """The situation board's filters; None means any."""

    def __init__(
        self,
        *,
        district: str | None = None,
        disaster_type: str | None = None,
        severity: str | None = None,
        status: str | None = "open",
    ) -> None:
        self.district, self.disaster_type, self.severity, self.status = district, disaster_type, severity, status

    def admits(self, incident: Incident) -> bool:
        district = incident.location.district_code if incident.location else None
        return all(
            (
                self.district is None or district == self.district,
                self.disaster_type is None or incident.disaster_type == self.disaster_type,
                self.severity is None or incident.severity == self.severity,
                self.status is None or incident.status == self.status,
            )
        )


class IntakeService:
    """Reports from citizens, incidents for operators, over one writer and one view."""

    def __init__(self, app: ServiceApplication, privacy: Privacy, policy: ReceptionPolicy | None = None) -> None:
        self.app = app
        self.privacy = privacy
        self.policy = policy or ReceptionPolicy()
        self.view = IntakeView(app.recorder)
        self.writer: Writer[IntakeView] = Writer(app, self.view)

    async def start(self) -> None:
        """Read the log into the view before the first request is decided."""
        await asyncio.to_thread(self.view.catch_up)

    async def run(self, stop: asyncio.Event) -> None:
        await self.writer.run(stop)

    async def receive_message(self, msg: InboundMessage) -> Reception:
        """Record a citizen's message (once, however often it is sent) and what it leads to."""
        sender = self.privacy.pseudonym(msg.channel, msg.sender_id)
        sealed = self.privacy.seal_address(msg.channel, msg.reply_to) if msg.reply_to else ""
        policy = self.policy

        def command(state: IntakeView, now: datetime) -> Reception:
            return receive(msg, sender=sender, reply_to_sealed=sealed, state=state, now=now, policy=policy)

        result: Reception = await self.writer.submit(command)
        return result

    async def change(self, command: IntakeCommand) -> Incident:
        """Run an operator's command; the incident as it stands after it."""
        result: Change = await self.writer.submit(command)
        return result.incident

    async def open_incident(
        self,
        *,
        disaster_type: str,
        severity: str,
        title: str,
        location: Location | None,
        by: Actor,
        incident_id: UUID | None = None,
    ) -> Incident:
        return await self.change(
            Operations.open_incident(
                disaster_type=disaster_type,
                severity=severity,
                title=title,
                location=location,
                by=by,
                incident_id=incident_id,
            )
        )

    async def record_cap_alert(self, alert: CapAlert) -> tuple[CapAlertReceived, bool]:
        """Record a validated CAP alert once; returns its event and whether it was a repeat."""
        result: Recorded = await self.writer.submit(national.record_cap_alert(alert))
        alert_id = national.cap_alert_id(alert.sender, alert.identifier)
        return self.view.alerts[alert_id], bool(result.duplicates)

    async def record_disaster_messages(self, messages: list[KrDisasterMessage]) -> int:
        """Record the disaster text messages not seen before; returns how many were new."""
        result: Recorded = await self.writer.submit(national.record_disaster_messages(messages))
        return len(result.events)

    # Reads: the board and one incident.
    def list_incidents(self, where: IncidentFilter, *, limit: int = 200) -> list[Incident]:
        with self.view.lock:
            found = [i for i in self.view.incidents.values() if where.admits(i)]
        found.sort(key=lambda i: i.updated_at or i.opened_at, reverse=True)
        return found[:limit]

    def get_incident(self, incident_id: UUID) -> tuple[Incident, list[Report]]:
        with self.view.lock:
            incident = self.view.incident(incident_id)
            if incident is None:
                raise NotFoundError(f"no incident {incident_id}")
            reports = sorted(self.view.reports_of(incident), key=lambda r: r.received_at)
        return incident, reports

    def get_report(self, report_id: UUID) -> Report:
        report = self.view.report(report_id)
        if report is None:
            raise NotFoundError(f"no report {report_id}")
        return report

    def list_unlinked_reports(self, *, limit: int = 200) -> list[Report]:
        with self.view.lock:
            found: Iterable[Report] = [
                r for r in self.view.reports.values() if r.incident_id is None and not r.cancelled
            ]
        return sorted(found, key=lambda r: r.last_message_at, reverse=True)[:limit]
