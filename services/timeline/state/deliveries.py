"""An incident's deliveries, folded: each message to each member, where it stands, who saw it.

A delivery of its own is its stream: requested, attempted, delivered or failed (perhaps on the
next of its channels), escalated, acknowledged. A room message is one ``LiveFannedOut`` for the
whole room, ``LiveReached`` rounds on the same stream, and each member's acknowledgement caused by
the fan-out; it is kept as one record and expanded per member only when the state is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from uuid import UUID

import msgspec
from msgspec.structs import replace

from services.timeline.state.values import DeliveryState
from shared.events import Event
from shared.events.broadcast import (
    DeliveryAcknowledged,
    DeliveryAttempted,
    DeliveryDelivered,
    DeliveryEscalated,
    DeliveryFailed,
    DeliveryRequested,
    LiveFannedOut,
    LiveReached,
    live_delivery_id,
    member_of,
)

__all__ = ["Deliveries", "member_of"]


class _FanOut(msgspec.Struct, kw_only=True):
    id: UUID
    kind: str
    requested_at: datetime
    members: list[str]
    caused_by: UUID | None
    reached: dict[str, datetime] = msgspec.field(default_factory=dict)
    acknowledged: dict[str, tuple[str, datetime]] = msgspec.field(default_factory=dict)

    def deliveries(self) -> Iterator[DeliveryState]:
        for member in self.members:
            by, at = self.acknowledged.get(member, ("", None))
            yield DeliveryState(
                delivery_id=live_delivery_id(self.id, member),
                kind=self.kind,
                recipient=member,
                member=member,
                channel="live",
                requested_at=self.requested_at,
                status="delivered" if member in self.reached else "requested",
                delivered_at=self.reached.get(member),
                delivered_on="live" if member in self.reached else "",
                acknowledged_by=by,
                acknowledged_at=at,
                fan_out_id=self.id,
                caused_by=self.caused_by,
            )


class Deliveries:
    """Every delivery of the events folded so far, in the order they were requested."""

    def __init__(self) -> None:
        self._by_id: dict[UUID, DeliveryState | _FanOut] = {}

    def apply(self, event: Event) -> None:
        """Fold one event in; a receipt for a delivery the events never requested is skipped."""
        if isinstance(event, DeliveryRequested):
            self._by_id[event.originator_id] = DeliveryState(
                delivery_id=event.originator_id,
                kind=event.kind,
                recipient=event.recipient,
                member=member_of(event.recipient, event.kind),
                channel=event.channel,
                requested_at=event.occurred_at,
                caused_by=event.causation_id,
            )
        elif isinstance(event, LiveFannedOut):
            self._by_id[event.originator_id] = _FanOut(
                id=event.originator_id,
                kind=event.kind,
                requested_at=event.occurred_at,
                members=list(event.members),
                caused_by=event.causation_id,
            )
        elif isinstance(fan_out := self._by_id.get(event.causation_id or event.originator_id), _FanOut):
            _reach(fan_out, event)
        elif isinstance(delivery := self._by_id.get(event.originator_id), DeliveryState):
            self._by_id[delivery.delivery_id] = _after(delivery, event)

    def __iter__(self) -> Iterator[DeliveryState]:
        """Each delivery, a room message's member by member."""
        for delivery in self._by_id.values():
            if isinstance(delivery, _FanOut):
                yield from delivery.deliveries()
            else:
                yield delivery


def _reach(fan_out: _FanOut, event: Event) -> None:
    if isinstance(event, LiveReached):
        for member in event.members:
            fan_out.reached.setdefault(member, event.occurred_at)
    elif isinstance(event, DeliveryAcknowledged):
        fan_out.acknowledged.setdefault(event.recipient, (event.by or event.recipient, event.occurred_at))


def _after(delivery: DeliveryState, event: Event) -> DeliveryState:  # noqa: PLR0911 -- a case per event
    """``delivery`` after one of its own events. Once delivered it stays delivered: an escalation
    sends it on another channel too, but it did reach the recipient."""
    reached = delivery.status == "delivered"
    match event:
        case DeliveryAttempted():
            status = delivery.status if reached else "attempted"
            return replace(delivery, channel=event.channel, attempts=delivery.attempts + 1, status=status)
        case DeliveryDelivered() if reached:
            return replace(delivery, channel=event.channel)
        case DeliveryDelivered():
            return replace(
                delivery,
                channel=event.channel,
                status="delivered",
                delivered_at=event.occurred_at,
                delivered_on=event.channel,
            )
        case DeliveryFailed():
            status = "failed" if event.final and not reached else delivery.status
            return replace(delivery, channel=event.next_channel or event.channel, status=status, error=event.error)
        case DeliveryEscalated():
            escalated_to = [*delivery.escalated_to, event.next_channel]
            return replace(delivery, channel=event.next_channel, escalated_to=escalated_to)
        case DeliveryAcknowledged() if not delivery.acknowledged_by:
            return replace(delivery, acknowledged_by=event.by or event.recipient, acknowledged_at=event.occurred_at)
    return delivery
