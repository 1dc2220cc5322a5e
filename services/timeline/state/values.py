"""What an incident's state is made of: JSON-ready values, none holding an address or a link."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

__all__ = [
    "OUTSTANDING",
    "CommunityState",
    "Counts",
    "DeliveryState",
    "DeliveryStatus",
    "DepartmentState",
    "IncidentChange",
    "IncidentFacts",
    "IncidentState",
    "MemberState",
    "MemberStatus",
    "ReportState",
    "ReporterState",
    "SeatState",
    "SituationNote",
]

MemberStatus = Literal["invited", "delivered", "accepted", "declined", "timed_out", "undeliverable", "released"]
DeliveryStatus = Literal["requested", "attempted", "delivered", "failed"]

OUTSTANDING: frozenset[str] = frozenset({"invited", "delivered"})
"""An invitation in one of these states waits for the expert's answer."""


class IncidentChange(msgspec.Struct, frozen=True, kw_only=True):
    """A reclassification or an escalation: from what, to what, by whom, why."""

    at: datetime
    kind: Literal["reclassified", "escalated"]
    by: str
    disaster_type: str
    severity: str
    previous_type: str
    previous_severity: str
    reason: str = ""


class SituationNote(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    by: str
    text: str
    casualties_injured: int | None = None
    casualties_dead: int | None = None


class IncidentFacts(msgspec.Struct, frozen=True, kw_only=True):
    """The incident itself: what, how bad, where, open or closed, public or not, what changed."""

    incident_id: UUID
    disaster_type: str
    severity: str
    title: str
    district_code: str | None
    place: str
    opened_at: datetime
    opened_by: str
    status: Literal["open", "closed"] = "open"
    closed_at: datetime | None = None
    outcome: str = ""
    public: bool = False
    public_at: datetime | None = None
    changes: list[IncidentChange] = msgspec.field(default_factory=list)
    """Reclassifications and escalations so far, in order."""
    latest_update: SituationNote | None = None
    updates: int = 0


class ReportState(msgspec.Struct, frozen=True, kw_only=True):
    """A citizen's report, by its reporter's pseudonym; ``linked`` to this incident or not (yet)."""

    report_id: UUID
    reporter: str
    channel: str = ""
    received_at: datetime | None = None
    """None when only its link is among the events."""
    text: str = ""
    disaster_type: str | None = None
    confidence: float = 0.0
    amendments: int = 0
    linked: bool = False
    linked_at: datetime | None = None
    unlinked_at: datetime | None = None
    cancelled: bool = False


class SeatState(msgspec.Struct, frozen=True, kw_only=True):
    field: str
    needed: int
    filled_by: list[str]
    """The experts who accepted it (and were not released since)."""
    unfillable: str = ""
    """Why nobody could be found for it, if that was said under the current plan."""


class MemberState(msgspec.Struct, frozen=True, kw_only=True):
    """An expert asked to take a seat, and where that stands (``status_at``: since when)."""

    expert_id: str
    seat_field: str
    status: MemberStatus
    status_at: datetime
    invited_at: datetime
    expires_at: datetime
    rank: int
    score: float
    reason: str = ""
    delivered_on: str = ""


class DepartmentState(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str = ""
    kind: str = ""


class ReporterState(msgspec.Struct, frozen=True, kw_only=True):
    reporter: str
    joined_at: datetime
    report_id: UUID | None = None
    left_at: datetime | None = None


class CommunityState(msgspec.Struct, frozen=True, kw_only=True):
    """The incident's community: seats, experts, departments, reporters, and who has not answered."""

    assembled_at: datetime
    policy_version: str
    reporters_join: bool = True
    seats: list[SeatState] = msgspec.field(default_factory=list)
    members: list[MemberState] = msgspec.field(default_factory=list)
    departments: list[DepartmentState] = msgspec.field(default_factory=list)
    reporters: list[ReporterState] = msgspec.field(default_factory=list)
    outstanding: list[str] = msgspec.field(default_factory=list)
    """Experts whose invitation waits for an answer."""
    closed_at: datetime | None = None


class DeliveryState(msgspec.Struct, frozen=True, kw_only=True):
    """One message to one member: where it stands, on which channel, and who saw it.

    Each member's delivery of a room message is one of these (``fan_out_id`` names the message;
    its ``delivery_id`` is ``live_delivery_id(fan_out_id, member)``)."""

    delivery_id: UUID
    kind: str
    recipient: str
    member: str
    channel: str
    requested_at: datetime
    status: DeliveryStatus = "requested"
    attempts: int = 0
    delivered_at: datetime | None = None
    """When it first reached the recipient, on ``delivered_on``."""
    delivered_on: str = ""
    error: str = ""
    escalated_to: list[str] = msgspec.field(default_factory=list)
    acknowledged_by: str = ""
    acknowledged_at: datetime | None = None
    fan_out_id: UUID | None = None
    caused_by: UUID | None = None
    """The event that asked for it (a briefing, an invitation, a room message): deliveries of one
    message share it."""


class Counts(msgspec.Struct, frozen=True, kw_only=True):
    events: int = 0
    reports: int = 0
    reports_linked: int = 0
    room_messages: int = 0
    deliveries: int = 0
    delivered: int = 0
    acknowledged: int = 0


class IncidentState(msgspec.Struct, frozen=True, kw_only=True):
    """An incident at a moment. ``exists`` is whether it had been opened; before that (or before
    anything) it is ``IncidentState()``, with only the reports that came before it, if any."""

    exists: bool = False
    incident_id: UUID | None = None
    incident: IncidentFacts | None = None
    reports: list[ReportState] = msgspec.field(default_factory=list)
    community: CommunityState | None = None
    """None until the community was assembled."""
    deliveries: list[DeliveryState] = msgspec.field(default_factory=list)
    counts: Counts = msgspec.field(default_factory=Counts)
