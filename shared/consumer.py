"""Exactly-once processing of the shared stream into one service's own log.

A :class:`StreamConsumer` pulls from a durable JetStream consumer (instances of a service
share it, and JetStream splits the work between them). For each upstream event the handler
returns the new events it causes; those events and one tracking record per upstream event
(upstream service, notification id) commit in one PostgreSQL transaction, so a redelivered
message changes nothing. A batch commits together; if that fails on a conflict, its events
are processed one by one, and an event whose tracking record already exists is simply
acknowledged. A message that cannot be decoded, or whose handler still fails after
``max_attempts`` deliveries, is parked on ``parked.<service>.<consumer>`` (its own stream)
with a log line naming its position; then the consumer goes on. Nothing is dropped silently.

Handlers must be deterministic in what they write: ids of aggregates they create are derived
from the upstream event (e.g. ``uuid5``), so that two instances racing on one event, or two
events of one batch touching one aggregate, collide on the event table's key, not duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from eventsourcing.persistence import IntegrityError, Tracking
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from shared.eventlog.application import ServiceApplication
from shared.eventlog.recorders import is_tracking_conflict
from shared.eventlog.writer import State
from shared.events import CODEC, Event, UnknownEventError
from shared.stream import fetch_ready

__all__ = ["ConsumerStats", "Handler", "StreamConsumer"]

log = structlog.get_logger()

_CONFLICT_ATTEMPTS = 6
"""Tries of an event whose write keeps meeting another writer's, before it is parked."""

Handler = Callable[[Event], Sequence[Event]]
"""Given one upstream event, the new events to record (may be empty). Runs in a worker thread;
may read the application's state; must not write."""


@dataclass
class ConsumerStats:
    processed: int = 0
    redelivered: int = 0
    parked: int = 0
    batches: int = 0


class _Item:
    __slots__ = ("event", "msg", "tracking")

    def __init__(self, msg: Msg, event: Event, consumer: str) -> None:
        self.msg = msg
        self.event = event
        # Keyed by upstream service AND consumer: two consumers of one service may both take an
        # event (broadcast's briefings and its invitations both read MemberInvited); each must
        # record, and recognise, only its own processing of it.
        self.tracking = Tracking(f"{event.service}/{consumer}", event.position)


class StreamConsumer:
    """Feeds ``subjects`` of the stream through ``handler`` into ``app``'s log, exactly once."""

    def __init__(
        self,
        app: ServiceApplication,
        js: JetStreamContext,
        *,
        name: str,
        subjects: Sequence[str],
        handler: Handler,
        stream: str,
        batch_size: int = 256,
        max_attempts: int = 5,
        ack_wait_s: float = 30.0,
        state: State | None = None,
    ) -> None:
        self.app = app
        self._state = state
        self.durable = f"{app.service}-{name}"
        self._js = js
        self._subjects = list(subjects)
        self._handler = handler
        self._stream = stream
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._ack_wait_s = ack_wait_s
        self.stats = ConsumerStats()

    def config(self) -> ConsumerConfig:
        """The durable pull consumer every instance of this service binds to."""
        return ConsumerConfig(
            durable_name=self.durable,
            filter_subjects=self._subjects,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait_s,
            max_ack_pending=max(4 * self._batch_size, 1000),
            max_deliver=-1,  # we park after max_attempts ourselves, so nothing is dropped unseen
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set."""
        await self._js.add_consumer(self._stream, self.config())
        psub = await self._js.pull_subscribe_bind(self.durable, self._stream)
        log.info("consumer_started", consumer=self.durable, subjects=self._subjects)
        fetching = asyncio.create_task(fetch_ready(psub, self._batch_size))
        try:
            while not stop.is_set():
                msgs = await fetching
                # Fetch the next batch while this one is handled and committed.
                fetching = asyncio.create_task(fetch_ready(psub, self._batch_size))
                if msgs:
                    await self.process(msgs)
        finally:
            fetching.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetching
            await psub.unsubscribe()
            log.info("consumer_stopped", consumer=self.durable, **vars(self.stats))

    async def process(self, msgs: Sequence[Msg]) -> None:
        """Handle one fetched batch: commit it, then acknowledge it."""
        items: list[_Item] = []
        for msg in msgs:
            try:
                items.append(_Item(msg, CODEC.decode(msg.data), self.durable))
            except UnknownEventError as e:
                await self._park(msg, f"undecodable: {e}")
        items = await self._without_processed(items)
        if not items:
            return
        self.stats.batches += 1
        try:
            await asyncio.to_thread(self._commit, items)
        except Exception:  # any failure: fall back to one event at a time
            for item in items:
                await self._process_one(item)
            return
        for item in items:
            await item.msg.ack()
        self.stats.processed += len(items)

    async def _without_processed(self, items: list[_Item]) -> list[_Item]:
        """Acknowledge redelivered events that were processed before (their tracking row exists);
        the rest. Only redeliveries are looked up: a first delivery cannot have been processed."""
        if all((item.msg.metadata.num_delivered or 1) <= 1 for item in items):
            return items
        recorder: Any = self.app.recorder
        done = await asyncio.to_thread(recorder.tracked, [item.tracking for item in items])
        for item in items:
            if item.tracking in done:
                self.stats.redelivered += 1
                await item.msg.ack()
        return [item for item in items if item.tracking not in done]

    def _commit(self, items: Sequence[_Item]) -> None:
        """Handle ``items`` in order and commit what they caused. With a ``state`` (a view of
        the service's log the handler reads), each handler sees what the ones before it in the
        batch decided; if the commit fails, the state is rebuilt from the log. The state's lock is
        held from reading to committing, as the service's writer holds it: two deciders sharing a
        view never decide on each other's uncommitted events."""
        lock = getattr(self._state, "lock", None)
        with lock if lock is not None else contextlib.nullcontext():
            self._commit_locked(items)

    def _commit_locked(self, items: Sequence[_Item]) -> None:
        if self._state is not None:
            self._state.catch_up()
        new_events: list[Event] = []
        for item in items:
            event = item.event
            ids = {"incident_id": str(event.incident_id or ""), "correlation_id": str(event.correlation_id or event.id)}
            with structlog.contextvars.bound_contextvars(**ids):
                caused = self._handler(event)
            if self._state is not None:
                for new in caused:
                    self._state.apply(new)
            new_events.extend(caused)
        try:
            self.app.record(*new_events, trackings=[item.tracking for item in items])
        except Exception:
            if self._state is not None:
                self._state.reset()
            raise

    async def _process_one(self, item: _Item) -> None:
        for attempt in range(_CONFLICT_ATTEMPTS):  # a conflict with another writer is retried on fresh state
            if attempt:
                await asyncio.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 -- spacing, not secrecy
            try:
                await asyncio.to_thread(self._commit, [item])
            except IntegrityError as e:
                if is_tracking_conflict(e):
                    self.stats.redelivered += 1
                    await item.msg.ack()  # processed before: nothing to do
                    return
                continue
            except Exception as e:  # handler bugs are parked, not fatal
                await self._retry_or_park(item, repr(e))
                return
            self.stats.processed += 1
            await item.msg.ack()
            return
        await self._retry_or_park(item, "conflicting writes on every attempt")

    async def _retry_or_park(self, item: _Item, reason: str) -> None:
        attempts = item.msg.metadata.num_delivered or 1
        if attempts >= self._max_attempts:
            await self._park(item.msg, reason)
            return
        log.warning(
            "event_handling_failed",
            consumer=self.durable,
            attempt=attempts,
            error=reason,
            position=item.event.position,
            upstream=item.event.service,
        )
        await item.msg.nak(delay=min(0.5 * 2**attempts, 30.0))

    async def _park(self, msg: Msg, reason: str) -> None:
        meta = msg.metadata
        headers = dict(msg.headers or {})
        headers.update(
            {
                "Jikimi-Parked-Reason": reason[:500],
                "Jikimi-Original-Subject": msg.subject,
                "Jikimi-Stream-Sequence": str(meta.sequence.stream),
            }
        )
        await self._js.publish(f"parked.{self.app.service}.{self.durable}", msg.data, headers=headers)
        await msg.term()
        self.stats.parked += 1
        log.error(
            "event_parked",
            consumer=self.durable,
            subject=msg.subject,
            stream_sequence=meta.sequence.stream,
            msg_id=headers.get("Nats-Msg-Id", ""),
            reason=reason,
        )
