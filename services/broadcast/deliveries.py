"""Deliveries from request to end: requested once per cause, attempted, delivered or failed.

``request_reporter_notice`` is the consumer handler that turns intake's reporter notices into
delivery requests (exactly once, through the consumer's tracking). The ``Sender`` follows
broadcast's own log through ``DeliveryView``, takes the deliveries that are due, records the
attempts, hands each message to its channel's adapter, and records how each ended. A restart
reads the log again: what was delivered stays delivered; what was pending is due again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from eventsourcing.persistence import ApplicationRecorder

from services.broadcast.channels import Adapter, DeliveryError
from services.broadcast.domain import Delivery, RetryPolicy, apply_delivery
from shared.eventlog.application import ServiceApplication
from shared.eventlog.view import LogView
from shared.events import Event, utc_now
from shared.events.broadcast import DeliveryAttempted, DeliveryDelivered, DeliveryFailed, DeliveryRequested
from shared.events.intake import ReporterNoticeQueued
from shared.links import invitation_token, room_token
from shared.privacy import Privacy, UnsealError
from shared.settings import DEFAULT_PORTS

__all__ = ["DeliveryView", "Links", "Sender", "request_reporter_notice"]

log = structlog.get_logger()


def request_reporter_notice(event: Event) -> Sequence[Event]:
    """A consumer handler: a reporter's notice becomes a delivery request."""
    if not isinstance(event, ReporterNoticeQueued):
        return ()
    return [
        DeliveryRequested(
            originator_id=uuid5(NAMESPACE_URL, f"jikimi:delivery:{event.id}"),
            originator_version=1,
            incident_id=event.incident_id,
            causation_id=event.id,
            correlation_id=event.correlation_id or event.id,
            recipient=event.reporter,
            channel=event.channel,
            kind="reporter_notice",
            text=event.text,
            address_sealed=event.reply_to_sealed,
            language=event.language,
        )
    ]


class DeliveryView(LogView):
    """Every delivery by id, folded idempotently from broadcast's log."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        super().__init__(recorder)
        self.deliveries: dict[UUID, Delivery] = {}

    def apply(self, event: Event) -> None:
        with self.lock:
            current = self.deliveries.get(event.originator_id)
            if event.originator_version != (current.version if current else 0) + 1:
                return
            after = apply_delivery(current, event)
            if after is not None:
                self.deliveries[after.id] = after

    def due(self, now: datetime, limit: int) -> list[Delivery]:
        with self.lock:
            ready = [d for d in self.deliveries.values() if d.pending and d.due_at <= now]
        return sorted(ready, key=lambda d: d.due_at)[:limit]


class LinkLapsedError(DeliveryError):
    """Raised when a message's link lapsed before it could be sent: no channel can help."""


@dataclass(frozen=True)
class Links:
    """Mints the link a message carries when it is sent (a link is never stored): an expert's
    invitation, a reporter's room. ``base_url`` is where community's link routes are reached."""

    key: bytes = field(repr=False)
    base_url: str

    @classmethod
    def from_env(cls, key: bytes) -> Links:
        default = f"http://127.0.0.1:{os.environ.get('JIKIMI_COMMUNITY_PORT', DEFAULT_PORTS['community'])}"
        return cls(key, os.environ.get("JIKIMI_PUBLIC_URL", default).rstrip("/"))

    def text_of(self, delivery: Delivery, now: datetime) -> str:
        """The message as sent: ``{link}`` replaced by a fresh link; DeliveryError once it lapsed."""
        if delivery.link_until is None:
            return delivery.text
        if delivery.incident_id is None:
            raise LinkLapsedError("the message's link names no incident", retryable=False)
        if now >= delivery.link_until:
            raise LinkLapsedError("the link lapsed before the message could be sent", retryable=False)
        if delivery.kind == "invitation":
            token = invitation_token(
                self.key, delivery.incident_id, delivery.recipient, expires_at=delivery.link_until, now=now
            )
            path = f"/invitations/{token}"
        else:
            ttl = max(1, int((delivery.link_until - now).total_seconds()))
            path = f"/rooms/{room_token(self.key, delivery.incident_id, delivery.recipient, now=now, ttl_s=ttl)}"
        return delivery.text.replace("{link}", f"{self.base_url}{path}")


class Sender:
    """Sends what is due, a batch at a time, recording each attempt and its end; a channel that
    failed for good hands the delivery to the next of its alternates."""

    def __init__(
        self,
        app: ServiceApplication,
        view: DeliveryView,
        adapters: dict[str, Adapter],
        privacy: Privacy,
        policy: RetryPolicy | None = None,
        *,
        links: Links | None = None,
        poll_s: float = 0.25,
        batch: int = 100,
    ) -> None:
        self.app, self.view, self.adapters, self.privacy = app, view, adapters, privacy
        self.links = links
        self.policy = policy or RetryPolicy()
        self._poll_s, self._batch = poll_s, batch

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            sent = await self.send_due()
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._poll_s)

    async def send_due(self) -> int:
        """One round: the deliveries due now; how many were attempted."""
        await asyncio.to_thread(self.view.catch_up)
        due = self.view.due(utc_now(), self._batch)
        if not due:
            return 0
        attempts = [
            DeliveryAttempted(
                originator_id=d.id,
                originator_version=d.version + 1,
                incident_id=d.incident_id,
                attempt=d.attempts + 1,
                channel=d.channel,
            )
            for d in due
        ]
        await self._record(attempts)
        outcomes = await asyncio.gather(*(self._send(d, a) for d, a in zip(due, attempts, strict=True)))
        await self._record(outcomes)
        return len(due)

    async def _record(self, events: Sequence[Event]) -> None:
        await asyncio.to_thread(self.app.record, *events)
        for event in events:
            self.view.apply(event)

    async def _send(self, delivery: Delivery, attempt: DeliveryAttempted) -> Event:
        envelope: dict[str, Any] = {
            "originator_id": delivery.id,
            "originator_version": attempt.originator_version + 1,
            "incident_id": delivery.incident_id,
            "causation_id": attempt.id,
            "attempt": attempt.attempt,
            "channel": delivery.channel,
            "kind": delivery.kind,
            "recipient": delivery.recipient,
        }
        try:
            channel, _, address = self.privacy.unseal(delivery.address_sealed).partition(":")
            adapter = self.adapters.get(channel)
            if adapter is None:
                raise DeliveryError(f"channel {channel!r} is not configured", retryable=False)
            text = self.links.text_of(delivery, utc_now()) if self.links else delivery.text
            provider_id = await adapter.send(address, text, delivery_id=delivery.id)
        except UnsealError:
            return self._failed(delivery, envelope, "the address cannot be unsealed", retryable=False)
        except DeliveryError as e:
            reroutable = not isinstance(e, LinkLapsedError)
            return self._failed(delivery, envelope, str(e), retryable=e.retryable, reroutable=reroutable)
        log.info("delivered", delivery_id=str(delivery.id), channel=delivery.channel, attempt=attempt.attempt)
        return DeliveryDelivered(**envelope, provider_id=provider_id)

    def _failed(
        self, delivery: Delivery, envelope: dict[str, Any], error: str, *, retryable: bool, reroutable: bool = True
    ) -> Event:
        attempt: int = envelope["attempt"]
        final = not retryable or attempt >= self.policy.max_attempts
        retry_at = None if final else utc_now() + self.policy.delay(delivery.id, attempt)
        if final and reroutable and delivery.alternates:
            following = delivery.alternates[0].channel
            log.warning("delivery_rerouted", delivery_id=str(delivery.id), channel=delivery.channel, to=following)
            return DeliveryFailed(**envelope, error=error, retry_at=utc_now(), next_channel=following)
        log.warning(
            "delivery_failed",
            delivery_id=str(delivery.id),
            channel=delivery.channel,
            attempt=attempt,
            error=error,
            final=final,
        )
        return DeliveryFailed(**envelope, error=error, retry_at=retry_at)
