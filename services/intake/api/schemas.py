"""Request and response bodies of the intake API (msgspec Structs: validated at the edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from services.intake.domain import Incident, Report
from services.intake.reception import Reception
from shared.events.common import Actor, Attachment, Location
from shared.events.intake import Classification, SituationUpdated

Severity = Literal["minor", "moderate", "severe", "extreme"]
ShortText = Annotated[str, msgspec.Meta(max_length=500)]
LongText = Annotated[str, msgspec.Meta(max_length=4000)]


class ReportOut(msgspec.Struct, frozen=True):
    """A report as operators see it (the sender only as a pseudonym)."""

    id: UUID
    receipt: str
    channel: str
    sender: str
    received_at: datetime
    last_message_at: datetime
    text: str
    location: Location | None
    attachments: list[Attachment]
    classification: Classification
    incident_id: UUID | None
    cancelled: bool

    @classmethod
    def of(cls, r: Report) -> ReportOut:
        return cls(
            r.id,
            r.receipt,
            r.channel,
            r.sender,
            r.received_at,
            r.last_message_at,
            r.text,
            r.location,
            list(r.attachments),
            r.classification,
            r.incident_id,
            r.cancelled,
        )


class UpdateOut(msgspec.Struct, frozen=True):
    at: datetime
    text: str
    by: Actor
    casualties_injured: int | None
    casualties_dead: int | None
    next_update_at: datetime | None

    @classmethod
    def of(cls, u: SituationUpdated) -> UpdateOut:
        return cls(u.occurred_at, u.text, u.by, u.casualties_injured, u.casualties_dead, u.next_update_at)


class IncidentOut(msgspec.Struct, frozen=True):
    id: UUID
    title: str
    disaster_type: str
    severity: str
    status: str
    public: bool
    location: Location | None
    opened_at: datetime
    opened_by: Actor
    updated_at: datetime | None
    report_count: int
    outcome: str
    updates: list[UpdateOut]
    reports: list[ReportOut] | None = None

    @classmethod
    def of(cls, i: Incident, reports: list[Report] | None = None) -> IncidentOut:
        return cls(
            i.id,
            i.title,
            i.disaster_type,
            i.severity,
            i.status,
            i.public,
            i.location,
            i.opened_at,
            i.opened_by,
            i.updated_at,
            len(i.reports),
            i.outcome,
            [UpdateOut.of(u) for u in i.updates],
            [ReportOut.of(r) for r in reports] if reports is not None else None,
        )


class ReceiptOut(msgspec.Struct, frozen=True):
    """What a citizen (or the system that sent their report) gets back."""

    report_id: UUID | None
    receipt: str | None
    status: Literal["received", "duplicate", "cancelled", "nothing_to_cancel"]
    incident_id: UUID | None
    disaster_type: str | None
    needs_location: bool
    messages: list[str]

    @classmethod
    def of(cls, reception: Reception, messages: list[str]) -> ReceiptOut:
        report = reception.report
        status: Literal["received", "duplicate", "cancelled", "nothing_to_cancel"] = (
            "duplicate"
            if reception.duplicate
            else ("cancelled" if report else "nothing_to_cancel")
            if reception.cancelled
            else "received"
        )
        return cls(
            report.id if report else None,
            report.receipt if report else None,
            status,
            report.incident_id if report else None,
            report.classification.disaster_type if report else None,
            reception.needs_location,
            messages,
        )


class ReportStatusOut(msgspec.Struct, frozen=True):
    """A report's progress, for its citizen: no text, no sender, nothing personal."""

    receipt: str
    status: Literal["received", "in_incident", "closed", "cancelled"]
    disaster_type: str | None
    incident_title: str | None


class PointIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lat: Annotated[float, msgspec.Meta(ge=33, le=39)]
    lon: Annotated[float, msgspec.Meta(ge=124, le=132)]


class OpenIncidentIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    disaster_type: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    severity: Severity
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    district_code: Annotated[str, msgspec.Meta(pattern=r"^11\d{3}$")] | None = None
    point: PointIn | None = None
    address: ShortText = ""


class ReclassifyIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    disaster_type: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    severity: Severity
    reason: ShortText = ""


class EscalateIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    severity: Severity
    reason: ShortText = ""


class SituationUpdateIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    casualties_injured: Annotated[int, msgspec.Meta(ge=0)] | None = None
    casualties_dead: Annotated[int, msgspec.Meta(ge=0)] | None = None
    next_update_at: datetime | None = None


class LinkIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    report_id: UUID
    reason: ShortText = ""


class ReasonIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: ShortText = ""


class MakePublicIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    headline: ShortText = ""
    instruction: LongText = ""


class CloseIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    outcome: Literal["resolved", "false_alarm", "duplicate", "handed_over", "other"]
    summary: LongText = ""
