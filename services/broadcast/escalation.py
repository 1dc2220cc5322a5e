"""A message delivered but not acknowledged in time goes on to the recipient's next channel.

A request may say ``ack_within_s`` (invitations do: a third of the time the expert has to answer,
at least a minute). Once delivered, if nothing acknowledged it by then — the recipient's answer,
or their acknowledgement on the live stream — and another of their channels is left, the
delivery is escalated to it (``DeliveryEscalated``) and sent there too. ``escalations`` is the
pure decision, ``Escalator`` records it every second (also what fell due while the service was
down). ``acknowledge_answers`` is a consumer handler: an expert who accepted or declined has seen
their invitation, so it is acknowledged and never escalated.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import structlog
from eventsourcing.persistence import IntegrityError

from services.broadcast.deliveries import DeliveryView
from shared.eventlog.application import ServiceApplication
from shared.events import Event, utc_now
from shared.events.broadcast import DeliveryAcknowledged, DeliveryEscalated, DeliveryWithdrawn
from shared.events.community import InvitationAccepted, InvitationDeclined, InvitationTimedOut, MemberReleased

__all__ = ["Escalator", "acknowledge_answers", "escalations"]

log = structlog.get_logger()


def escalations(view: DeliveryView, now: datetime) -> list[DeliveryEscalated]:
    """Every delivered delivery left unacknowledged past its time, moved on to its next channel."""
    with view.lock:
        late = [d for d in view.deliveries.values() if d.unacknowledged_past(now)]
    return [
        DeliveryEscalated(
            originator_id=d.id,
            originator_version=d.version + 1,
            incident_id=d.incident_id,
            occurred_at=now,
            channel=d.channel,
            next_channel=d.alternates[0].channel,
            reason=f"not acknowledged within {d.ack_within_s} s of its delivery on {d.channel}",
        )
        for d in late
    ]


class Escalator:
    """Records the escalations that are due, every ``tick_s``."""

    def __init__(self, app: ServiceApplication, view: DeliveryView, *, tick_s: float = 1.0) -> None:
        self.app, self.view, self._tick_s = app, view, tick_s

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.escalate_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._tick_s)

    async def escalate_due(self) -> int:
        """Escalate what is due now; how many."""
        await asyncio.to_thread(self.view.catch_up)
        due = escalations(self.view, utc_now())
        if not due:
            return 0
        try:
            await asyncio.to_thread(self.app.record, *due)
        except IntegrityError:
            return 0  # an answer or a replica got there first: decide again next tick
        for event in due:
            self.view.apply(event)
            log.info("delivery_escalated", delivery_id=str(event.originator_id), to=event.next_channel)
        return len(due)


def acknowledge_answers(view: DeliveryView) -> Callable[[Event], Sequence[Event]]:
    """A consumer handler (its state is ``view``): an expert's answer acknowledges their
    invitation; an invitation that ended unanswered (released, timed out) is withdrawn, so it is
    neither sent late nor escalated to another channel with a link that no longer opens it."""

    def handle(event: Event) -> Sequence[Event]:
        if not isinstance(event, InvitationAccepted | InvitationDeclined | InvitationTimedOut | MemberReleased):
            return ()
        delivery = view.find(event.incident_id, event.expert_id, "invitation")
        if delivery is None or delivery.acknowledged_by or delivery.status in {"failed", "withdrawn"}:
            return ()
        on_its_stream: dict[str, Any] = {
            "originator_id": delivery.id,
            "originator_version": delivery.version + 1,
            "incident_id": delivery.incident_id,
            "causation_id": event.id,
            "recipient": delivery.recipient,
            "kind": delivery.kind,
        }
        if isinstance(event, InvitationTimedOut):
            return [DeliveryWithdrawn(**on_its_stream, reason="the invitation timed out")]
        if isinstance(event, MemberReleased):
            reason = f"the invitation ended: {event.reason}" if event.reason else "the invitation ended"
            return [DeliveryWithdrawn(**on_its_stream, reason=reason)]
        return [DeliveryAcknowledged(**on_its_stream, by=f"expert:{event.expert_id}")]

    return handle
