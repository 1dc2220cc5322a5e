"""Alerts to many: one message to each of thousands of recipients, batch by batch.

An incident opened in a district alerts every subscriber of it. Recorded a delivery per
subscriber, ten thousand subscribers were thirty thousand events to commit, publish and read
before the last phone rang; as batches of at most ``BATCH`` recipients (``AlertBatchRequested``,
texts by language) they are a few dozen. ``AlertSender`` sends each due batch in one go: its
attempt is recorded first (``AlertBatchAttempted``, the recipients it tries), then the channel
gets the messages (a gateway's bulk API takes a thousand per request, each with its own result
and key; other channels one message each, side by side), then how it went for each recipient
(``AlertBatchSent``: delivered, failed for good, or to retry after a backoff with jitter, as
single deliveries are). A recipient's delivery id is ``live_delivery_id(batch, recipient)``: the
gateway's key, so a batch sent again after a crash reaches no phone twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Iterable, Sequence
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from eventsourcing.persistence import IntegrityError

from services.broadcast.channels import Adapter, BulkAdapter, DeliveryError, GatewayMessage, Message, MessageAdapter
from services.broadcast.deliveries import DeliveryView
from services.broadcast.domain import AlertBatch, RetryPolicy
from shared.eventlog.application import ServiceApplication
from shared.eventlog.notify import listening
from shared.events import Event, utc_now
from shared.events.broadcast import (
    AlertBatchAttempted,
    AlertBatchRequested,
    AlertBatchSent,
    AlertFailure,
    AlertRecipient,
    live_delivery_id,
)
from shared.privacy import Privacy, UnsealError

__all__ = ["BATCH", "AlertSender", "alert_batches"]

log = structlog.get_logger()

BATCH = 500
"""Recipients per batch: its event stays well under JetStream's message size (about 150 bytes a
recipient), and a gateway request carries one or two batches."""


def alert_batches(
    cause: Event,
    recipients: Iterable[tuple[str, AlertRecipient]],
    texts: dict[str, str],
    *,
    kind: str,
    incident_id: UUID | None,
) -> list[AlertBatchRequested]:
    """``recipients`` (by channel) in batches of at most ``BATCH`` per channel; each batch's id
    follows from the cause, the channel and its place, so a redelivered cause asks again for the
    same batches."""
    by_channel: dict[str, list[AlertRecipient]] = {}
    for channel, recipient in recipients:
        by_channel.setdefault(channel, []).append(recipient)
    return [
        AlertBatchRequested(
            originator_id=uuid5(NAMESPACE_URL, f"jikimi:alert-batch:{cause.id}:{channel}:{start}"),
            originator_version=1,
            incident_id=incident_id,
            causation_id=cause.id,
            correlation_id=cause.correlation_id or cause.id,
            channel=channel,
            kind=kind,
            recipients=everyone[start : start + BATCH],
            texts=texts,
        )
        for channel, everyone in sorted(by_channel.items())
        for start in range(0, len(everyone), BATCH)
    ]


class AlertSender:
    """Sends the alert batches that are due, at most ``concurrency`` at once, and records each
    attempt and how it ended. Woken by the log's NOTIFY when it has the ``database_url``."""

    def __init__(
        self,
        app: ServiceApplication,
        view: DeliveryView,
        adapters: dict[str, Adapter],
        privacy: Privacy,
        policy: RetryPolicy | None = None,
        *,
        database_url: str | None = None,
        poll_s: float = 1.0,
        concurrency: int = 8,
        singles_at_once: int = 50,
        send_timeout_s: float = 60.0,
    ) -> None:
        self.app, self.view, self.adapters, self.privacy = app, view, adapters, privacy
        self.policy = policy or RetryPolicy()
        self._database_url, self._poll_s = database_url, poll_s
        self._concurrency, self._singles_at_once, self._send_timeout_s = concurrency, singles_at_once, send_timeout_s
        self._in_flight: dict[UUID, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            async with listening(self.app.recorder, self._database_url, self._wake, stop):
                while not stop.is_set():
                    self._start_due(await self._due())
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=self._poll_s)
                    self._wake.clear()
        finally:
            for task in self._in_flight.values():
                task.cancel()  # its end is not recorded: the batch is due again after a restart

    async def send_due(self) -> int:
        """One round: send every batch due now and record how it went; how many batches."""
        due = await self._due()
        self._start_due(due)
        if self._in_flight:
            await asyncio.wait(set(self._in_flight.values()))
        return len(due)

    async def _due(self) -> list[AlertBatch]:
        await asyncio.to_thread(self.view.catch_up)
        now = utc_now()
        with self.view.lock:
            return [
                b for b in self.view.alerts.values() if b.pending and b.due_at <= now and b.id not in self._in_flight
            ]

    def _start_due(self, due: Sequence[AlertBatch]) -> None:
        for batch in sorted(due, key=lambda b: b.due_at)[: max(0, self._concurrency - len(self._in_flight))]:
            task = asyncio.create_task(self._send(batch), name=f"alert-batch-{batch.id}")
            self._in_flight[batch.id] = task
            task.add_done_callback(functools.partial(self._done, batch.id))

    def _done(self, batch_id: UUID, _: asyncio.Task[None]) -> None:
        self._in_flight.pop(batch_id, None)
        self._wake.set()  # a place is free: whatever is due next may go

    async def _send(self, batch: AlertBatch) -> None:
        recipients = sorted(batch.pending)
        attempt = AlertBatchAttempted(
            originator_id=batch.id,
            originator_version=batch.version + 1,
            incident_id=batch.incident_id,
            attempt=batch.attempts + 1,
            recipients=recipients,
        )
        try:
            await self._record(attempt)
        except IntegrityError:
            return  # another replica took it: it is read back with the log
        try:
            results = await asyncio.wait_for(self._deliver(batch, recipients), timeout=self._send_timeout_s)
        except TimeoutError:
            error = DeliveryError(f"no answer within {self._send_timeout_s:g} s", retryable=True)
            results = dict.fromkeys(recipients, error)
        except Exception as e:  # an adapter's bug must not lose the batch: it is tried again
            log.exception("alert_batch_crashed", batch_id=str(batch.id), channel=batch.channel)
            results = dict.fromkeys(recipients, DeliveryError(type(e).__name__, retryable=True))
        await self._record(self._ended(batch, attempt, results))

    def _ended(
        self, batch: AlertBatch, attempt: AlertBatchAttempted, results: dict[str, str | DeliveryError]
    ) -> AlertBatchSent:
        delivered, failed, retry = [], [], []
        for recipient, result in results.items():
            if not isinstance(result, DeliveryError):
                delivered.append(recipient)
            elif result.retryable and attempt.attempt < self.policy.max_attempts:
                retry.append(recipient)
            else:
                parked = f"parked after {attempt.attempt} attempts: " if result.retryable else ""
                failed.append(AlertFailure(recipient, parked + str(result)))
        retry_at = utc_now() + self.policy.delay(batch.id, attempt.attempt) if retry else None
        log.info(
            "alert_batch_sent",
            batch_id=str(batch.id),
            channel=batch.channel,
            attempt=attempt.attempt,
            delivered=len(delivered),
            failed=len(failed),
            retry=len(retry),
        )
        return AlertBatchSent(
            originator_id=batch.id,
            originator_version=attempt.originator_version + 1,
            incident_id=batch.incident_id,
            causation_id=attempt.id,
            attempt=attempt.attempt,
            delivered=delivered,
            failed=failed,
            retry=retry,
            retry_at=retry_at,
        )

    async def _deliver(self, batch: AlertBatch, recipients: Sequence[str]) -> dict[str, str | DeliveryError]:
        """Each recipient's message handed to the batch's channel: its id there, or why not."""
        adapter = self.adapters.get(batch.channel)
        if adapter is None:
            return dict.fromkeys(
                recipients, DeliveryError(f"channel {batch.channel!r} is not configured", retryable=False)
            )
        results: dict[str, str | DeliveryError] = {}
        messages: list[tuple[str, GatewayMessage]] = []
        for recipient in recipients:
            to = batch.recipients[recipient]
            try:
                channel, address = self.privacy.open_address(to.address_sealed)
            except UnsealError:
                results[recipient] = DeliveryError("the address cannot be unsealed", retryable=False)
                continue
            if channel != batch.channel:
                results[recipient] = DeliveryError(f"the address is for {channel}", retryable=False)
                continue
            text = batch.texts.get(to.language) or next(iter(batch.texts.values()), "")
            messages.append((recipient, GatewayMessage(live_delivery_id(batch.id, recipient), address, text)))
        if isinstance(adapter, BulkAdapter) and adapter.bulk_max > 0:
            answers = await adapter.send_many([m for _, m in messages])
            results.update((recipient, answer) for (recipient, _), answer in zip(messages, answers, strict=True))
        else:
            room = asyncio.Semaphore(self._singles_at_once)
            answers = await asyncio.gather(*(self._one(adapter, batch, m, room) for _, m in messages))
            results.update((recipient, answer) for (recipient, _), answer in zip(messages, answers, strict=True))
        return results

    @staticmethod
    async def _one(
        adapter: Adapter, batch: AlertBatch, message: GatewayMessage, room: asyncio.Semaphore
    ) -> str | DeliveryError:
        async with room:
            try:
                if isinstance(adapter, MessageAdapter):
                    whole = Message(message.delivery_id, message.text, batch.kind, "", batch.incident_id)
                    return await adapter.send_message(message.address, whole)
                return await adapter.send(message.address, message.text, delivery_id=message.delivery_id)
            except DeliveryError as e:
                return e

    async def _record(self, event: Event) -> None:
        def record_and_fold() -> None:
            [recorded] = self.app.record(event)
            stamped: Event = recorded.domain_event  # type: ignore[assignment]
            self.view.apply(stamped)

        await asyncio.to_thread(record_and_fold)
