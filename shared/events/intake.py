"""Events of the intake service: citizens' reports, incidents, national alerts.

A report's stream is the report (``originator_id`` = report id); an incident's stream is the
incident (``originator_id`` = ``incident_id``). Senders are pseudonyms: an HMAC of the channel
and the sender's channel id. The address to reply to is sealed (encrypted), never in the clear.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from shared.events.base import Event
from shared.events.cap import CapAlert
from shared.events.common import Actor, Attachment, ContactRef, Location

__all__ = [
    "CapAlertReceived",
    "Classification",
    "DisasterMessageReceived",
    "IncidentClosed",
    "IncidentEscalated",
    "IncidentMadePublic",
    "IncidentOpened",
    "IncidentReclassified",
    "ReportAmended",
    "ReportCancelled",
    "ReportLinked",
    "ReportReceived",
    "ReportUnlinked",
    "ReporterNoticeQueued",
    "SituationUpdated",
]


class Classification(msgspec.Struct, frozen=True, gc=False):
    """What the rules made of a report's text, and why (the words that matched)."""

    disaster_type: str | None = None
    severity: str = "moderate"
    matched_terms: list[str] = msgspec.field(default_factory=list)
    severity_terms: list[str] = msgspec.field(default_factory=list)
    confidence: float = 0.0
    rules_version: str = ""


class ReportReceived(Event, frozen=True, tag="intake.report_received"):
    """A citizen's first message about something; later messages amend the same report."""

    channel: str
    sender: str
    channel_message_id: str
    receipt: str
    text: str = ""
    language: str = ""
    location: Location | None = None
    attachments: list[Attachment] = msgspec.field(default_factory=list)
    classification: Classification = msgspec.field(default_factory=Classification)
    reply_to_sealed: str = ""


class ReportAmended(Event, frozen=True, tag="intake.report_amended"):
    """A further message from the same sender in the same conversation (text, place, photo)."""

    channel_message_id: str
    text: str = ""
    location: Location | None = None
    attachments: list[Attachment] = msgspec.field(default_factory=list)
    classification: Classification | None = None


class ReportCancelled(Event, frozen=True, tag="intake.report_cancelled"):
    by: Actor
    reason: str = ""


class IncidentOpened(Event, frozen=True, tag="intake.incident_opened"):
    disaster_type: str
    severity: str
    title: str
    location: Location | None = None
    opened_by: Actor = Actor("system", "intake")
    first_report_id: UUID | None = None
    reason: str = ""


class ReportLinked(Event, frozen=True, tag="intake.report_linked"):
    """A report now belongs to this incident (its reporter joins the incident's community)."""

    report_id: UUID
    reporter: str
    by: Actor
    reason: str = ""
    distance_km: float | None = None
    minutes_since_opened: float | None = None
    reply_to: ContactRef | None = None
    """Where the reporter is answered (sealed), so their room link can reach them."""


class ReportUnlinked(Event, frozen=True, tag="intake.report_unlinked"):
    report_id: UUID
    reporter: str
    by: Actor
    reason: str = ""


class IncidentReclassified(Event, frozen=True, tag="intake.incident_reclassified"):
    disaster_type: str
    severity: str
    previous_type: str
    previous_severity: str
    by: Actor
    reason: str = ""


class IncidentEscalated(Event, frozen=True, tag="intake.incident_escalated"):
    severity: str
    previous_severity: str
    by: Actor
    reason: str = ""


class SituationUpdated(Event, frozen=True, tag="intake.situation_updated"):
    text: str
    by: Actor
    casualties_injured: int | None = None
    casualties_dead: int | None = None
    next_update_at: datetime | None = None


class IncidentMadePublic(Event, frozen=True, tag="intake.incident_made_public"):
    by: Actor
    headline: str = ""
    instruction: str = ""


class IncidentClosed(Event, frozen=True, tag="intake.incident_closed"):
    outcome: str
    by: Actor
    summary: str = ""


class ReporterNoticeQueued(Event, frozen=True, tag="intake.reporter_notice_queued"):
    """Something a reporter must be told on their own channel as their report's incident moves
    (delivered by broadcast, which holds the key to ``reply_to_sealed``)."""

    report_id: UUID
    reporter: str
    channel: str
    status: str
    text: str
    language: str = "ko"
    reply_to_sealed: str = ""


class CapAlertReceived(Event, frozen=True, tag="intake.cap_alert_received"):
    """A CAP 1.2 alert, as received and validated; ``references`` are the stream ids of the
    alerts it updates or cancels, ``district_codes`` the Seoul districts its areas cover."""

    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    alert: CapAlert | None = None
    references: list[UUID] = msgspec.field(default_factory=list)
    district_codes: list[str] = msgspec.field(default_factory=list)


class DisasterMessageReceived(Event, frozen=True, tag="intake.disaster_message_received"):
    """A Korean disaster text message (재난문자), idempotent on its serial number."""

    serial: int
    created_at: datetime
    text: str
    level: str
    disaster_type_ko: str
    regions: list[str] = msgspec.field(default_factory=list)
    district_codes: list[str] = msgspec.field(default_factory=list)
