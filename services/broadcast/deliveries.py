"""Deliveries from request to end: requested once per cause, attempted, delivered or failed.

``request_reporter_notice`` is the consumer handler that turns intake's reporter notices into
delivery requests (exactly once, through the consumer's tracking). The ``Sender`` follows
broadcast's own log through ``DeliveryView``, takes the deliveries that are due, records the
attempts, hands each message to its channel's adapter, and records how each ended. A restart
reads the log again: what was delivered stays delivered; what was pending is due again.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from eventsourcing.persistence import ApplicationRecorder

from services.broadcast.channels import Adapter, DeliveryError, Message, MessageAdapter
from services.broadcast.domain import DELIVERY_TAGS, Delivery, FanOut, RetryPolicy, apply_delivery
from shared.eventlog.application import ServiceApplication
from shared.eventlog.view import LogView
from shared.events import Event, utc_now
from shared.events.broadcast import (
    DeliveryAttempted,
    DeliveryDelivered,
    DeliveryFailed,
    DeliveryRequested,
    LiveFannedOut,
)
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

    topics = DELIVERY_TAGS

    def __init__(self, recorder: ApplicationRecorder) -> None:
        super().__init__(recorder)
        self.deliveries: dict[UUID, Delivery] = {}
        self._by_purpose: dict[tuple[UUID | None, str, str], UUID] = {}
        self.fan_outs: dict[UUID, FanOut] = {}

    def apply(self, event: Event) -> None:
        with self.lock:
            if isinstance(event, LiveFannedOut):
                self.fan_outs[event.originator_id] = FanOut.of(event)
                return
            if (fan_out := self.fan_outs.get(event.causation_id or event.originator_id)) is not None:
                fan_out.apply(event)  # reached a member's stream; a member's acknowledgement
                return
            current = self.deliveries.get(event.originator_id)
            if event.originator_version != (current.version if current else 0) + 1:
                return
            after = apply_delivery(current, event)
            if after is not None:
                self.deliveries[after.id] = after
                if current is None:
                    self._by_purpose[(after.incident_id, after.recipient, after.kind)] = after.id

    def reset(self) -> None:
        """Forget everything, to be read again from the log (after a failed shared commit)."""
        with self.lock:
            self.position = 0
            self.deliveries.clear()
            self._by_purpose.clear()
            self.fan_outs.clear()

    def find(self, incident_id: UUID | None, recipient: str, kind: str) -> Delivery | None:
        """The (latest) delivery of ``kind`` to ``recipient`` for an incident."""
        with self.lock:
            found = self._by_purpose.get((incident_id, recipient, kind))
            return self.deliveries.get(found) if found is not None else None

    def of_incident(self, incident_id: UUID) -> list[Delivery]:
        """Every delivery for an incident, each member's of a fan-out included, by request time."""
        with self.lock:
            found = [d for d in self.deliveries.values() if d.incident_id == incident_id]
            for fan_out in self.fan_outs.values():
                if fan_out.incident_id == incident_id:
                    found.extend(fan_out.deliveries())
        return sorted(found, key=lambda d: d.requested_at)

    def due(self, now: datetime, limit: int) -> list[Delivery]:
        with self.lock:
            ready = [d for d in self.deliveries.values() if d.pending and not d.live and d.due_at <= now]
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
    """Sends what is due, each delivery in its own task, recording each attempt and its end; a
    channel that failed for good hands the delivery to the next of its alternates.

    A slow or dead receiver delays nobody else: at most ``concurrency`` sends are in flight (and
    ``per_recipient`` to one recipient on one channel), each bounded by ``send_timeout_s``, and
    due deliveries are picked up while others are still in flight. Ends are recorded as they
    come, many in one commit; a delivery in flight is never picked again until its end is
    recorded. Crash or restart: its attempt is in the log without an end, so it is due again.
    """

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
        concurrency: int = 50,
        per_recipient: int = 4,
        send_timeout_s: float = 30.0,
        grace_s: float = 2.0,  # within the 5 s the runtime gives a loop to stop
    ) -> None:
        self.app, self.view, self.adapters, self.privacy = app, view, adapters, privacy
        self.links = links
        self.policy = policy or RetryPolicy()
        self._poll_s, self._batch = poll_s, batch
        self._concurrency, self._per_recipient = concurrency, per_recipient
        self._send_timeout_s, self._grace_s = send_timeout_s, grace_s
        self._in_flight: dict[UUID, asyncio.Task[None]] = {}
        self._ended: list[Event] = []  # ends of sends that finished, not yet recorded
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self._record_ends()
                started = await self._start_due()
                if started < self._batch or len(self._in_flight) >= self._concurrency:
                    await self._pause(stop)
            await self._drain(self._grace_s)
        finally:
            for task in self._in_flight.values():
                task.cancel()  # its end is not recorded: it is due again after a restart

    async def send_due(self) -> int:
        """One whole round: send what is due now and record how each send ended; how many started."""
        started = await self._start_due()
        await self._drain(None)
        return started

    async def _drain(self, timeout_s: float | None) -> None:
        if self._in_flight:
            await asyncio.wait(list(self._in_flight.values()), timeout=timeout_s)
        await self._record_ends()

    async def _pause(self, stop: asyncio.Event) -> None:
        """Until a send ends, ``stop`` is set, or the poll interval passed."""
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=self._poll_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        self._wake.clear()

    async def _start_due(self) -> int:
        """Record the attempts of what is due (one commit) and start a task for each; how many."""
        free = self._concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        await asyncio.to_thread(self.view.catch_up)
        busy: Counter[tuple[str, str]] = Counter()
        for task_delivery in self._in_flight:
            if (known := self.view.deliveries.get(task_delivery)) is not None:
                busy[known.channel, known.recipient] += 1
        due = []
        # All that is due, not a batch: a recipient at its limit must not hide the others behind it.
        for d in self.view.due(utc_now(), len(self.view.deliveries)):
            if d.id in self._in_flight or busy[d.channel, d.recipient] >= self._per_recipient:
                continue
            busy[d.channel, d.recipient] += 1
            due.append(d)
            if len(due) >= min(free, self._batch):
                break
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
        for d, a in zip(due, attempts, strict=True):
            self._in_flight[d.id] = asyncio.create_task(self._send_and_keep(d, a), name=f"delivery-{d.id}")
        return len(due)

    async def _send_and_keep(self, delivery: Delivery, attempt: DeliveryAttempted) -> None:
        try:
            ended = await asyncio.wait_for(self._send(delivery, attempt), timeout=self._send_timeout_s)
        except TimeoutError:
            reason = f"no answer within {self._send_timeout_s:g} s"
            ended = self._failed(delivery, self._envelope(delivery, attempt), reason, retryable=True)
        except Exception as e:  # an adapter's bug must not lose the delivery: it is tried again
            log.exception("delivery_send_crashed", delivery_id=str(delivery.id), channel=delivery.channel)
            ended = self._failed(delivery, self._envelope(delivery, attempt), type(e).__name__, retryable=True)
        self._ended.append(ended)
        self._wake.set()

    async def _record_ends(self) -> None:
        ended, self._ended = self._ended, []
        if not ended:
            return
        try:
            await self._record(ended)
        except BaseException:
            self._ended[:0] = ended  # kept for the next try; still in flight, so not picked again
            raise
        for event in ended:
            self._in_flight.pop(event.originator_id, None)

    async def _record(self, events: Sequence[Event]) -> None:
        await asyncio.to_thread(self.app.record, *events)
        for event in events:
            self.view.apply(event)

    @staticmethod
    def _envelope(delivery: Delivery, attempt: DeliveryAttempted) -> dict[str, Any]:
        return {
            "originator_id": delivery.id,
            "originator_version": attempt.originator_version + 1,
            "incident_id": delivery.incident_id,
            "causation_id": attempt.id,
            "attempt": attempt.attempt,
            "channel": delivery.channel,
            "kind": delivery.kind,
            "recipient": delivery.recipient,
        }

    async def _send(self, delivery: Delivery, attempt: DeliveryAttempted) -> Event:
        envelope = self._envelope(delivery, attempt)
        try:
            channel, address = self.privacy.open_address(delivery.address_sealed)
            adapter = self.adapters.get(channel)
            if adapter is None:
                raise DeliveryError(f"channel {channel!r} is not configured", retryable=False)
            text = self.links.text_of(delivery, utc_now()) if self.links else delivery.text
            if isinstance(adapter, MessageAdapter):
                message = Message(
                    delivery.id,
                    text,
                    delivery.kind,
                    delivery.recipient,
                    delivery.incident_id,
                    delivery.language,
                    sitrep=delivery.sitrep,
                )
                provider_id = await adapter.send_message(address, message)
            else:
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
        parked = retryable and attempt >= self.policy.max_attempts
        if parked:  # the channel kept failing: no more attempts on it, and the reason says so
            error = f"parked after {attempt} attempts: {error}"
        final = not retryable or parked
        retry_at = None if final else utc_now() + self.policy.delay(delivery.id, attempt)
        if final and reroutable and delivery.alternates:
            following = delivery.alternates[0].channel
            log.warning(
                "delivery_rerouted", delivery_id=str(delivery.id), channel=delivery.channel, to=following, error=error
            )
            return DeliveryFailed(**envelope, error=error, retry_at=utc_now(), next_channel=following)
        log.warning(
            "delivery_parked" if parked else "delivery_failed",
            delivery_id=str(delivery.id),
            channel=delivery.channel,
            attempt=attempt,
            error=error,
            final=final,
        )
        return DeliveryFailed(**envelope, error=error, retry_at=retry_at)
