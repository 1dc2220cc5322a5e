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
import time
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
import structlog
from eventsourcing.persistence import ApplicationRecorder, IntegrityError, Notification

from services.broadcast.channels import (
    Adapter,
    BulkAdapter,
    DeliveryError,
    GatewayMessage,
    Message,
    MessageAdapter,
)
from services.broadcast.domain import (
    ALERT_TAGS,
    DELIVERY_TAGS,
    AlertBatch,
    Delivery,
    FanOut,
    RetryPolicy,
    apply_delivery,
)
from shared.eventlog.application import ServiceApplication
from shared.eventlog.notify import listening
from shared.eventlog.view import LogView
from shared.events import Event, utc_now
from shared.events.broadcast import (
    AlertBatchRequested,
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

_ENDS_PER_COMMIT = 2_000
"""Ends recorded in one commit at most: an alert's 10,000 would hold the sender for a second,
while an invitation that came meanwhile waits to be sent."""


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

    topics = DELIVERY_TAGS | ALERT_TAGS

    def __init__(self, recorder: ApplicationRecorder) -> None:
        super().__init__(recorder)
        self.deliveries: dict[UUID, Delivery] = {}
        self._by_purpose: dict[tuple[UUID | None, str, str], UUID] = {}
        self._sendable: set[UUID] = set()  # pending and not live: what ``due`` looks through
        self.fan_outs: dict[UUID, FanOut] = {}
        self.alerts: dict[UUID, AlertBatch] = {}

    def apply(self, event: Event) -> None:
        with self.lock:
            if isinstance(event, LiveFannedOut):
                self.fan_outs[event.originator_id] = FanOut.of(event)
                return
            if isinstance(event, AlertBatchRequested):
                self.alerts.setdefault(event.originator_id, AlertBatch.of(event))
                return
            if (batch := self.alerts.get(event.originator_id)) is not None:
                if event.originator_version == batch.version + 1:
                    batch.apply(event)
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
                if after.pending and not after.live:
                    self._sendable.add(after.id)
                else:
                    self._sendable.discard(after.id)

    def holds(self, notification: Notification) -> bool:
        # The Sender applies its attempts and ends as it records them: reading them back needs no decoding.
        stream = notification.originator_id
        if not isinstance(stream, UUID):
            return False
        known = self.deliveries.get(stream) or self.alerts.get(stream)
        return known is not None and known.version >= notification.originator_version

    def reset(self) -> None:
        """Forget everything, to be read again from the log (after a failed shared commit)."""
        with self.lock:
            self.position = 0
            self.deliveries.clear()
            self._by_purpose.clear()
            self._sendable.clear()
            self.fan_outs.clear()
            self.alerts.clear()

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
            for batch in self.alerts.values():
                if batch.incident_id == incident_id:
                    found.extend(batch.deliveries())
        return sorted(found, key=lambda d: d.requested_at)

    def due(self, now: datetime, limit: int) -> list[Delivery]:
        """The pending deliveries the Sender sends that are due at ``now``, earliest first."""
        with self.lock:
            # Only those still to send, not every delivery ever made: the log keeps growing.
            waiting = (self.deliveries[i] for i in self._sendable)
            ready = [d for d in waiting if d.pending and d.due_at <= now]
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
    """Sends what is due, recording each attempt and its end; a channel that failed for good hands
    the delivery to the next of its alternates.

    Deliveries on a channel whose adapter takes many messages in one request (a ``BulkAdapter``
    with ``bulk_max``: the SMS and Kakao gateways' bulk API) go out in requests of up to that many,
    ``bulk_concurrency`` requests in flight per channel, each message with its own result; the
    others each in its own task, at most ``concurrency`` at once. Either way at most
    ``per_recipient`` are in flight to one recipient on one channel, each send is bounded by
    ``send_timeout_s``, and due deliveries are picked up while others are still in flight: a slow
    or dead receiver delays nobody else. A commit to the log (new requests) wakes the sender at
    once when it has the ``database_url`` to listen on; else it looks every ``poll_s``.

    Attempts are recorded before their send (one commit per request, or per round of single
    sends). Ends are recorded many in one commit, once nothing more can start or they have waited
    ``ends_within_s``; a delivery in flight is never picked again until its end is recorded.
    Crash or restart: its attempt is in the log without an end, so it is due again (the gateway's
    key per message keeps it from reaching the phone twice).
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
        database_url: str | None = None,
        poll_s: float = 0.25,
        batch: int = 100,
        concurrency: int = 50,
        bulk_concurrency: int = 4,
        per_recipient: int = 4,
        send_timeout_s: float = 30.0,
        ends_within_s: float = 2.0,
        grace_s: float = 2.0,  # within the 5 s the runtime gives a loop to stop
    ) -> None:
        self.app, self.view, self.adapters, self.privacy = app, view, adapters, privacy
        self.links = links
        self.policy = policy or RetryPolicy()
        self._database_url, self._poll_s, self._batch = database_url, poll_s, batch
        self._concurrency, self._per_recipient = concurrency, per_recipient
        self._bulk_concurrency = bulk_concurrency
        self._bulk = {c: a for c, a in adapters.items() if isinstance(a, BulkAdapter) and a.bulk_max > 0}
        self._send_timeout_s, self._ends_within_s, self._grace_s = send_timeout_s, ends_within_s, grace_s
        self._in_flight: dict[UUID, asyncio.Task[None]] = {}  # picked, end not yet recorded
        self._lanes: dict[asyncio.Task[None], str] = {}  # running sends: a bulk channel, or "" for one message
        self._ended: list[Event] = []  # ends of sends that finished, not yet recorded
        self._ended_since = 0.0  # monotonic time the oldest of them came
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            async with listening(self.app.recorder, self._database_url, self._wake, stop):
                while not stop.is_set():
                    started = await self._start_due()
                    waited = self._ended and time.monotonic() - self._ended_since >= self._ends_within_s
                    if not started or waited:
                        await self._record_ends()
                    if not started and not self._ended:
                        await self._pause(stop)
                await self._drain(self._grace_s)
        finally:
            for task in set(self._in_flight.values()):
                task.cancel()  # its end is not recorded: it is due again after a restart

    async def send_due(self) -> int:
        """One whole round: send what is due now and record how each send ended; how many started."""
        started = await self._start_due()
        await self._drain(None)
        return started

    async def _drain(self, timeout_s: float | None) -> None:
        if self._in_flight:
            await asyncio.wait(set(self._in_flight.values()), timeout=timeout_s)
        while self._ended:
            await self._record_ends()

    async def _pause(self, stop: asyncio.Event) -> None:
        """Until a send ends, the log gains something, ``stop`` is set, or the poll interval passed."""
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=self._poll_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        self._wake.clear()

    def _free(self, lane: str) -> int:
        limit = self._bulk_concurrency if lane else self._concurrency
        return limit - sum(1 for running in self._lanes.values() if running == lane)

    async def _start_due(self) -> int:
        """Record the attempts of what is due and can start now, and start its sends; how many."""
        free = {lane: self._free(lane) for lane in ("", *self._bulk)}
        if all(n <= 0 for n in free.values()):
            return 0
        await asyncio.to_thread(self.view.catch_up)
        started = 0
        for lane, chosen in self._pick(min(free[""], self._batch)).items():
            size = self._bulk[lane].bulk_max if lane else len(chosen)
            for start in range(0, len(chosen), max(size, 1)):
                # A request goes while one of its channel's is free; requests come back while the next
                # one's attempts commit, so a whole alert usually goes in one round, the rest next round.
                if lane and self._free(lane) <= 0:
                    break
                chunk = chosen[start : start + size]
                attempts = await self._attempt(chunk)
                if not attempts:
                    continue
                if lane:  # one request for the chunk, its attempts committed before it goes
                    self._start(self._send_many_and_keep(lane, list(zip(chunk, attempts, strict=True))), lane, chunk)
                else:
                    for d, a in zip(chunk, attempts, strict=True):
                        self._start(self._send_and_keep(d, a), lane, [d])
                started += len(chunk)
        return started

    def _pick(self, single: int) -> dict[str, list[Delivery]]:
        """What is due and not in flight, by lane: every bulk channel's, and ``single`` of the rest."""
        busy: Counter[tuple[str, str]] = Counter()
        for task_delivery in self._in_flight:
            if (known := self.view.deliveries.get(task_delivery)) is not None:
                busy[known.channel, known.recipient] += 1
        picked: dict[str, list[Delivery]] = {lane: [] for lane in ("", *self._bulk)}
        # All that is due, not a batch: a recipient at its limit must not hide the others behind it.
        for d in self.view.due(utc_now(), len(self.view.deliveries)):
            lane = d.channel if d.channel in self._bulk else ""
            if d.id in self._in_flight or busy[d.channel, d.recipient] >= self._per_recipient:
                continue
            if lane or len(picked[lane]) < single:
                busy[d.channel, d.recipient] += 1
                picked[lane].append(d)
        return picked

    async def _attempt(self, due: Sequence[Delivery]) -> list[DeliveryAttempted]:
        """Record that ``due`` are being tried (one commit); none if another writer got to one first."""
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
        try:
            await self._record(attempts)
        except IntegrityError:
            # An answer acknowledged one of them meanwhile, say: picked again next round, as it now is.
            log.info("delivery_attempts_conflicted", deliveries=len(due))
            return []
        return attempts

    def _start(self, send: Coroutine[Any, Any, None], lane: str, deliveries: Sequence[Delivery]) -> None:
        name = f"deliveries-{lane}-{len(deliveries)}" if lane else f"delivery-{deliveries[0].id}"
        task = asyncio.create_task(send, name=name)
        self._lanes[task] = lane
        task.add_done_callback(lambda done: self._lanes.pop(done, None))
        for d in deliveries:
            self._in_flight[d.id] = task

    def _keep(self, ended: Sequence[Event]) -> None:
        if not self._ended:
            self._ended_since = time.monotonic()
        self._ended.extend(ended)
        self._wake.set()

    async def _send_and_keep(self, delivery: Delivery, attempt: DeliveryAttempted) -> None:
        try:
            ended = await asyncio.wait_for(self._send(delivery, attempt), timeout=self._send_timeout_s)
        except TimeoutError:
            reason = f"no answer within {self._send_timeout_s:g} s"
            ended = self._failed(delivery, self._envelope(delivery, attempt), reason, retryable=True)
        except Exception as e:  # an adapter's bug must not lose the delivery: it is tried again
            log.exception("delivery_send_crashed", delivery_id=str(delivery.id), channel=delivery.channel)
            ended = self._failed(delivery, self._envelope(delivery, attempt), type(e).__name__, retryable=True)
        self._keep([ended])

    async def _send_many_and_keep(self, channel: str, sends: list[tuple[Delivery, DeliveryAttempted]]) -> None:
        try:
            ended = await asyncio.wait_for(self._send_many(channel, sends), timeout=self._send_timeout_s)
        except TimeoutError:
            reason = f"no answer within {self._send_timeout_s:g} s"
            ended = [self._failed(d, self._envelope(d, a), reason, retryable=True, quiet=True) for d, a in sends]
            log.warning("bulk_send_timed_out", channel=channel, messages=len(sends))
        except Exception as e:  # as for one message: every delivery of the request is tried again
            log.exception("bulk_send_crashed", channel=channel, messages=len(sends))
            error = type(e).__name__
            ended = [self._failed(d, self._envelope(d, a), error, retryable=True, quiet=True) for d, a in sends]
        self._keep(ended)

    async def _record_ends(self) -> None:
        """Record the ends that came, up to ``_ENDS_PER_COMMIT`` of them (the rest next time round)."""
        ended, self._ended = self._ended[:_ENDS_PER_COMMIT], self._ended[_ENDS_PER_COMMIT:]
        if not ended:
            return
        try:
            try:
                await self._record(ended)
            except IntegrityError:
                # Another writer added to one of these deliveries since its attempt (an acknowledgement):
                # each end follows what its stream holds now, rather than all of them being sent again.
                ended = await asyncio.to_thread(self._rebased, ended)
                await self._record(ended)
        except BaseException:
            self._ended[:0] = ended  # kept for the next try; still in flight, so not picked again
            raise
        for event in ended:
            self._in_flight.pop(event.originator_id, None)

    def _rebased(self, ended: Sequence[Event]) -> list[Event]:
        self.view.catch_up()
        with self.view.lock:
            known = self.view.deliveries
            return [
                msgspec.structs.replace(e, originator_version=known[e.originator_id].version + 1)
                if e.originator_id in known
                else e
                for e in ended
            ]

    async def _record(self, events: Sequence[Event]) -> None:
        await asyncio.to_thread(self._record_and_fold, events)

    def _record_and_fold(self, events: Sequence[Event]) -> None:
        # In a worker thread: the view's lock may be held by another reader's catch-up for a while.
        self.app.record(*events)
        with self.view.lock:
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

    async def _send_many(self, channel: str, sends: Sequence[tuple[Delivery, DeliveryAttempted]]) -> list[Event]:
        """One request to ``channel``'s bulk API for ``sends``; the end of each."""
        ended: list[Event] = []
        alone: list[tuple[Delivery, DeliveryAttempted]] = []
        messages: list[GatewayMessage] = []
        waiting: list[tuple[Delivery, dict[str, Any]]] = []
        now = utc_now()
        for delivery, attempt in sends:
            envelope = self._envelope(delivery, attempt)
            try:
                sealed_for, address = self.privacy.open_address(delivery.address_sealed)
                if sealed_for != channel:  # sealed for another channel: sent there alone, as ever
                    alone.append((delivery, attempt))
                    continue
                text = self.links.text_of(delivery, now) if self.links else delivery.text
            except UnsealError:
                ended.append(self._failed(delivery, envelope, "the address cannot be unsealed", retryable=False))
                continue
            except DeliveryError as e:
                reroutable = not isinstance(e, LinkLapsedError)
                ended.append(self._failed(delivery, envelope, str(e), retryable=e.retryable, reroutable=reroutable))
                continue
            messages.append(GatewayMessage(delivery.id, address, text))
            waiting.append((delivery, envelope))
        results = await self._bulk[channel].send_many(messages) if messages else []
        errors: Counter[str] = Counter()
        for (delivery, envelope), result in zip(waiting, results, strict=True):
            if isinstance(result, DeliveryError):
                failed = self._failed(delivery, envelope, str(result), retryable=result.retryable, quiet=True)
                errors[failed.error] += 1
                ended.append(failed)
            else:
                ended.append(DeliveryDelivered(**envelope, provider_id=result))
        ended += await asyncio.gather(*(self._send(d, a) for d, a in alone))
        # One line per request rather than per message, its failures counted by reason (each one
        # is in the event log as its DeliveryFailed, rerouted or parked).
        log.info("bulk_sent", channel=channel, messages=len(messages), failed=sum(errors.values()), errors=dict(errors))
        return ended

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
        self,
        delivery: Delivery,
        envelope: dict[str, Any],
        error: str,
        *,
        retryable: bool,
        reroutable: bool = True,
        quiet: bool = False,  # a bulk request logs its failures as one line
    ) -> DeliveryFailed:
        attempt: int = envelope["attempt"]
        parked = retryable and attempt >= self.policy.max_attempts
        if parked:  # the channel kept failing: no more attempts on it, and the reason says so
            error = f"parked after {attempt} attempts: {error}"
        final = not retryable or parked
        retry_at = None if final else utc_now() + self.policy.delay(delivery.id, attempt)
        if final and reroutable and delivery.alternates:
            following = delivery.alternates[0].channel
            if not quiet:
                log.warning(
                    "delivery_rerouted",
                    delivery_id=str(delivery.id),
                    channel=delivery.channel,
                    to=following,
                    error=error,
                )
            return DeliveryFailed(**envelope, error=error, retry_at=utc_now(), next_channel=following)
        if not quiet:
            log.warning(
                "delivery_parked" if parked else "delivery_failed",
                delivery_id=str(delivery.id),
                channel=delivery.channel,
                attempt=attempt,
                error=error,
                final=final,
            )
        return DeliveryFailed(**envelope, error=error, retry_at=retry_at)
