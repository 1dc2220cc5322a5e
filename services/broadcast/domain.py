"""Deliveries: their state, folded from their events, and the retry schedule.

A delivery is pending until it is delivered or has failed for good. Each failed attempt is
retried after an exponential backoff with jitter, up to ``max_attempts``; the jitter is drawn
from the delivery's own id, so replaying the log gives the same schedule. When a channel fails
for good and the request named alternates, the delivery goes on on the next one, from attempt 1.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

import msgspec

from shared.events import Event
from shared.events.broadcast import (
    AlertBatchAttempted,
    AlertBatchRequested,
    AlertBatchSent,
    AlertRecipient,
    DeliveryAcknowledged,
    DeliveryAttempted,
    DeliveryDelivered,
    DeliveryEscalated,
    DeliveryFailed,
    DeliveryRequested,
    DeliveryWithdrawn,
    LiveFannedOut,
    LiveReached,
    SitRep,
    live_delivery_id,
)
from shared.events.common import ContactRef

__all__ = ["ALERT_TAGS", "DELIVERY_TAGS", "LIVE", "AlertBatch", "Delivery", "FanOut", "RetryPolicy", "apply_delivery"]

LIVE = "live"
"""The channel of deliveries to a member's live stream."""


DELIVERY_TAGS = frozenset(
    e.family()
    for e in (
        DeliveryRequested,
        DeliveryAttempted,
        DeliveryDelivered,
        DeliveryFailed,
        DeliveryEscalated,
        DeliveryAcknowledged,
        DeliveryWithdrawn,
        LiveFannedOut,
        LiveReached,
    )
)
"""The events of a delivery's stream: what the views of deliveries fold (broadcast's log holds
briefing facts and subscriptions too, which they need not decode)."""


class RetryPolicy(msgspec.Struct, frozen=True):
    max_attempts: int = 6
    first_delay_s: float = 2.0
    max_delay_s: float = 300.0

    def delay(self, delivery_id: UUID, attempt: int) -> timedelta:
        """How long to wait after failed attempt ``attempt`` (1, 2, …): doubling, with ±25 %
        jitter so that many failures do not retry in step."""
        base = min(self.first_delay_s * 2 ** (attempt - 1), self.max_delay_s)
        jitter = random.Random(f"{delivery_id}:{attempt}").uniform(0.75, 1.25)  # noqa: S311 -- spacing, not secrecy
        return timedelta(seconds=base * jitter)


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    version: int
    recipient: str
    channel: str
    kind: str
    text: str
    address_sealed: str
    requested_at: datetime
    incident_id: UUID | None = None
    language: str = "ko"
    alternates: tuple[ContactRef, ...] = ()
    link_until: datetime | None = None
    attempts: int = 0
    status: Literal["pending", "delivered", "failed", "withdrawn"] = "pending"
    due_at: datetime
    last_error: str = ""
    data: dict[str, str] = msgspec.field(default_factory=dict)
    ack_within_s: int | None = None
    delivered_at: datetime | None = None
    acknowledged_by: str = ""
    """Who acknowledged it (``role:id``), once they have."""
    sitrep: SitRep | None = None
    """A briefing's report, for channels that carry it as data (webhooks)."""

    @property
    def pending(self) -> bool:
        return self.status == "pending"

    def unacknowledged_past(self, now: datetime) -> bool:
        """Delivered, not acknowledged within its time, and another channel left to try."""
        if self.status != "delivered" or self.acknowledged_by or not self.alternates:
            return False
        if self.ack_within_s is None or self.delivered_at is None:
            return False
        return now >= self.delivered_at + timedelta(seconds=self.ack_within_s)

    @property
    def live(self) -> bool:
        """Delivered on the recipient's live stream (SSE, WebSocket), not sent by the Sender."""
        return self.channel == LIVE


def apply_delivery(delivery: Delivery | None, event: Event) -> Delivery | None:  # noqa: PLR0911 -- a case per event
    """The delivery after ``event``."""
    match event:
        case DeliveryRequested():
            return Delivery(
                id=event.originator_id,
                version=event.originator_version,
                recipient=event.recipient,
                channel=event.channel,
                kind=event.kind,
                text=event.text,
                address_sealed=event.address_sealed,
                requested_at=event.occurred_at,
                due_at=event.occurred_at,
                incident_id=event.incident_id,
                language=event.language,
                alternates=tuple(event.alternates),
                link_until=event.link_until,
                data=event.data,
                ack_within_s=event.ack_within_s,
                sitrep=event.sitrep,
            )
        case DeliveryWithdrawn() if delivery is not None:
            return msgspec.structs.replace(delivery, version=event.originator_version, status="withdrawn")
        case DeliveryAcknowledged() if delivery is not None:
            return msgspec.structs.replace(delivery, version=event.originator_version, acknowledged_by=event.by)
        case DeliveryAttempted() if delivery is not None:
            return msgspec.structs.replace(delivery, version=event.originator_version, attempts=event.attempt)
        case DeliveryDelivered() if delivery is not None:
            return msgspec.structs.replace(
                delivery, version=event.originator_version, status="delivered", delivered_at=event.recorded_at
            )
        case DeliveryEscalated() if delivery is not None and delivery.alternates:
            following, *rest = delivery.alternates
            return msgspec.structs.replace(
                delivery,
                version=event.originator_version,
                status="pending",
                channel=following.channel,
                address_sealed=following.address_sealed,
                alternates=tuple(rest),
                attempts=0,
                due_at=event.recorded_at,
                delivered_at=None,
            )
        case DeliveryFailed(next_channel=str(channel)) if delivery is not None and channel and delivery.alternates:
            following, *rest = delivery.alternates
            return msgspec.structs.replace(
                delivery,
                version=event.originator_version,
                channel=following.channel,
                address_sealed=following.address_sealed,
                alternates=tuple(rest),
                attempts=0,
                due_at=event.retry_at or delivery.due_at,
                last_error=event.error,
            )
        case DeliveryFailed() if delivery is not None:
            status: Literal["pending", "failed"] = "pending" if event.retry_at is not None else "failed"
            return msgspec.structs.replace(
                delivery,
                version=event.originator_version,
                status=status,
                due_at=event.retry_at or delivery.due_at,
                last_error=event.error,
            )
    return delivery


class FanOut(msgspec.Struct, kw_only=True):
    """A fan-out's deliveries, folded: whom it was for, whose stream it reached, who saw it.
    Kept as one record (a room of 1,000 is one entry, not 1,000), expanded when asked."""

    id: UUID
    incident_id: UUID | None
    kind: str
    text: str
    requested_at: datetime
    members: list[str]
    data: dict[str, str] = msgspec.field(default_factory=dict)
    reached_at: dict[str, datetime] = msgspec.field(default_factory=dict)
    acknowledged_by: dict[str, str] = msgspec.field(default_factory=dict)

    @classmethod
    def of(cls, event: LiveFannedOut) -> FanOut:
        return cls(
            id=event.originator_id,
            incident_id=event.incident_id,
            kind=event.kind,
            text=event.text,
            requested_at=event.occurred_at,
            members=event.members,
            data=event.data,
        )

    def apply(self, event: Event) -> None:
        """Note whose stream it reached (``LiveReached``) or who saw it (``DeliveryAcknowledged``)."""
        if isinstance(event, LiveReached):
            for member in event.members:
                self.reached_at.setdefault(member, event.recorded_at)
        elif isinstance(event, DeliveryAcknowledged):
            self.acknowledged_by.setdefault(event.recipient, event.by)

    def deliveries(self) -> list[Delivery]:
        """Each member's delivery: pending until it reached their stream."""
        return [
            Delivery(
                id=live_delivery_id(self.id, member),
                version=0,
                recipient=member,
                channel=LIVE,
                kind=self.kind,
                text=self.text,
                address_sealed="",
                requested_at=self.requested_at,
                due_at=self.requested_at,
                incident_id=self.incident_id,
                data=self.data,
                status="delivered" if member in self.reached_at else "pending",
                delivered_at=self.reached_at.get(member),
                acknowledged_by=self.acknowledged_by.get(member, ""),
            )
            for member in self.members
        ]


ALERT_TAGS = frozenset(e.family() for e in (AlertBatchRequested, AlertBatchAttempted, AlertBatchSent))
"""The events of an alert batch's stream."""


class AlertBatch(msgspec.Struct, kw_only=True):
    """An alert batch, folded: whom it is for, whom it reached, who is still to reach and when.
    A batch whose last attempt has no end (the service stopped while sending) is due again."""

    id: UUID
    version: int
    incident_id: UUID | None
    channel: str
    kind: str
    texts: dict[str, str]
    recipients: dict[str, AlertRecipient]
    requested_at: datetime
    due_at: datetime
    attempts: int = 0
    pending: set[str] = msgspec.field(default_factory=set)
    delivered_at: dict[str, datetime] = msgspec.field(default_factory=dict)
    failed: dict[str, str] = msgspec.field(default_factory=dict)

    @classmethod
    def of(cls, event: AlertBatchRequested) -> AlertBatch:
        recipients = {r.recipient: r for r in event.recipients}
        return cls(
            id=event.originator_id,
            version=event.originator_version,
            incident_id=event.incident_id,
            channel=event.channel,
            kind=event.kind,
            texts=event.texts,
            recipients=recipients,
            requested_at=event.occurred_at,
            due_at=event.occurred_at,
            pending=set(recipients),
        )

    def apply(self, event: Event) -> None:
        """Fold the batch's next event (the caller checks it is the next version)."""
        self.version = event.originator_version
        if isinstance(event, AlertBatchAttempted):
            self.attempts = event.attempt
        elif isinstance(event, AlertBatchSent):
            for recipient in event.delivered:
                self.delivered_at[recipient] = event.recorded_at
            for failure in event.failed:
                self.failed[failure.recipient] = failure.error
            self.pending -= {*event.delivered, *(f.recipient for f in event.failed)}
            self.due_at = event.retry_at or self.due_at

    def deliveries(self) -> list[Delivery]:
        """Each recipient's delivery, for "who has not been reached?"."""
        return [
            Delivery(
                id=live_delivery_id(self.id, recipient),
                version=0,
                recipient=recipient,
                channel=self.channel,
                kind=self.kind,
                text=self.texts.get(to.language, ""),
                address_sealed="",
                requested_at=self.requested_at,
                due_at=self.due_at,
                incident_id=self.incident_id,
                language=to.language,
                attempts=self.attempts,
                status="delivered"
                if recipient in self.delivered_at
                else "failed"
                if recipient in self.failed
                else "pending",
                delivered_at=self.delivered_at.get(recipient),
                last_error=self.failed.get(recipient, ""),
            )
            for recipient, to in self.recipients.items()
        ]
