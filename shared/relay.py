"""The outbox relay: a service's committed events, published to JetStream exactly once.

The relay follows the service's notification log (the library's recorder, woken by the
recorder's own LISTEN/NOTIFY channel) and publishes each event to ``jikimi.<service>.<event>``
with ``Nats-Msg-Id: <service>:<notification id>``, many publishes in flight at once. It records
how far it got in its own tracking table only after JetStream acknowledged it, and at most
every 200 ms. After a crash it resumes after the larger of that position and the last of its
messages already in the stream, so a restart republishes nothing twice, however late it
comes; a republish inside the stream's duplicate window is discarded by JetStream anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import psycopg
import structlog
from eventsourcing.persistence import IntegrityError, Notification, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresTrackingRecorder
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from psycopg import sql

from shared.events import CODEC, UnknownEventError, encode

__all__ = ["MSG_ID", "OutboxRelay", "RelayStats"]

log = structlog.get_logger()

MSG_ID = "Nats-Msg-Id"
_CHUNK = 50


@dataclass
class RelayStats:
    published: int = 0
    duplicates: int = 0
    batches: int = 0
    position: int = 0


class OutboxRelay:
    """Publishes one service's events, in log order, batch after acknowledged batch."""

    def __init__(
        self,
        service: str,
        recorder: PostgresApplicationRecorder,
        position: PostgresTrackingRecorder,
        js: JetStreamContext,
        *,
        database_url: str,
        stream: str,
        batch_size: int = 1000,
        ack_timeout_s: float = 10.0,
        idle_poll_s: float = 1.0,
        record_every_s: float = 0.2,
    ) -> None:
        self.service = service
        self._recorder = recorder
        self._position = position
        self._js = js
        self._database_url = database_url
        self._stream = stream
        self._batch_size = batch_size
        self._ack_timeout_s = ack_timeout_s
        self._idle_poll_s = idle_poll_s
        self._wake = asyncio.Event()
        self._record_every_s = record_every_s
        self._recorded_at = 0.0
        self._recorded_position = 0
        self.stats = RelayStats()

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; every failure is retried, never skipped."""
        self.stats.position = self._recorded_position = await self.resume_position()
        log.info("relay_started", service=self.service, position=self.stats.position)
        listener = asyncio.create_task(self._listen(stop))
        try:
            while not stop.is_set():
                batch = await asyncio.to_thread(
                    self._recorder.select_notifications,
                    start=self.stats.position,
                    limit=self._batch_size,
                    inclusive_of_start=False,
                )
                if batch:
                    await self._publish_until_acknowledged(batch, stop)
                woken = len(batch) == self._batch_size or await self._sleep_until_woken(stop)
                if not woken and self.stats.position > self._recorded_position:
                    await self._record_position()  # idle: catch the recorded position up
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            if self.stats.position > self._recorded_position:
                with contextlib.suppress(Exception):  # a stop must not fail on this; resume covers it
                    await self._record_position()
            log.info("relay_stopped", service=self.service, position=self.stats.position)

    async def resume_position(self) -> int:
        """The last notification id known to be in the stream."""
        recorded = await asyncio.to_thread(self._position.max_tracking_id, self.service) or 0
        return max(recorded, await self._last_in_stream())

    async def _last_in_stream(self) -> int:
        try:
            last = await self._js.get_last_msg(self._stream, f"jikimi.{self.service}.>")
        except NotFoundError:
            return 0
        msg_id = (last.headers or {}).get(MSG_ID, "")
        service, _, position = msg_id.rpartition(":")
        return int(position) if service == self.service and position.isdigit() else 0

    async def _publish_until_acknowledged(self, batch: Sequence[Notification], stop: asyncio.Event) -> None:
        delay = 0.1
        while True:
            try:
                await self._publish(batch)
                break
            except Exception as e:  # any failure means: publish the batch again
                log.warning("relay_publish_failed", service=self.service, error=repr(e), retry_in_s=delay)
                if stop.is_set():
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.stats.position = batch[-1].id
        self.stats.batches += 1
        if time.monotonic() - self._recorded_at >= self._record_every_s:
            await self._record_position()

    async def _record_position(self) -> None:
        """Record how far JetStream holds our events. Not after every batch: under load that
        commit would sit between every two batches. A restart resumes after the larger of this
        and the last of our messages in the stream, so a position recorded late loses nothing."""
        self._recorded_at = time.monotonic()
        self._recorded_position = self.stats.position
        # An IntegrityError: another relay of this service recorded a later position; it is ahead of us.
        with contextlib.suppress(IntegrityError):
            await asyncio.to_thread(self._position.insert_tracking, Tracking(self.service, self.stats.position))

    async def _publish(self, batch: Sequence[Notification]) -> None:
        futures = []
        for i, notification in enumerate(batch, start=1):
            subject, payload, headers = self._message(notification)
            futures.append(
                await self._js.publish_async(subject, payload, headers=headers, wait_stall=self._ack_timeout_s)
            )
            if i % _CHUNK == 0:
                # A large batch would otherwise hold the event loop for tens of milliseconds,
                # and the service's own requests wait behind it.
                await asyncio.sleep(0)
        try:
            acks = await asyncio.wait_for(asyncio.gather(*futures), self._ack_timeout_s)
        finally:
            for future in futures:
                future.cancel()  # no effect on those already done
        duplicates = sum(1 for ack in acks if ack.duplicate)
        self.stats.duplicates += duplicates
        self.stats.published += len(acks) - duplicates

    def _message(self, notification: Notification) -> tuple[str, bytes, dict[str, str]]:
        headers = {MSG_ID: f"{self.service}:{notification.id}"}
        try:
            event = CODEC.decode(notification.state)
        except UnknownEventError:
            # Written by a newer version of this service: publish it as stored, never drop it.
            event_name = notification.topic.split(".")[1]
            return f"jikimi.{self.service}.{event_name}", notification.state, headers
        event = msgspec.structs.replace(event, position=notification.id)
        return event.subject(), encode(event), headers

    async def _sleep_until_woken(self, stop: asyncio.Event) -> bool:
        """Wait for a commit's NOTIFY (True), or for ``idle_poll_s`` or the stop (False)."""
        stopping = asyncio.create_task(stop.wait())
        woken = asyncio.create_task(self._wake.wait())
        await asyncio.wait({stopping, woken}, timeout=self._idle_poll_s, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        woken.cancel()
        was_woken = self._wake.is_set()
        self._wake.clear()
        return was_woken

    async def _listen(self, stop: asyncio.Event) -> None:
        """Wake the relay on each commit, from the recorder's own NOTIFY channel."""
        channel = sql.SQL("LISTEN {0}").format(sql.Identifier(self._recorder.channel_name))
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(self._database_url, autocommit=True) as conn:
                    await conn.execute(channel)
                    self._wake.set()  # catch anything committed before we listened
                    async for _ in conn.notifies():
                        self._wake.set()
            except (psycopg.Error, OSError) as e:
                log.warning("relay_listen_failed", service=self.service, error=repr(e))
                await asyncio.sleep(1.0)
