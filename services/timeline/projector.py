"""The live side of the timeline: the shared stream's events filed as they are published.

A durable pull consumer (``timeline-entries``, shared by the timeline's instances) reads every
subject of the stream from its first message. Each fetched batch is filed and inserted in one
transaction, then acknowledged as a whole; an entry filed twice (a redelivery, a rebuild that
got there first) is stored once, so nothing needs tracking beyond the table's key. On start it
reads back the reports filed so far, so a report linked after a restart still brings what its
citizen said.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.timeline.entries import Entry, Filing
from services.timeline.store import TimelineStore
from shared.stream import fetch_ready

__all__ = ["Projector", "ProjectorStats"]

log = structlog.get_logger()


@dataclass
class ProjectorStats:
    events: int = 0
    entries: int = 0
    batches: int = 0
    undecodable: int = 0


class Projector:
    """Files the stream's events into ``store``, batch by batch, until stopped."""

    durable = "timeline-entries"

    def __init__(
        self, store: TimelineStore, nats: Callable[[], Client | None], *, stream: str, batch: int = 500
    ) -> None:
        self._store = store
        self._nats = nats
        self._stream = stream
        self._batch = batch
        self.stats = ProjectorStats()

    async def run(self, stop: asyncio.Event) -> None:
        nc = self._nats()
        assert nc is not None, "the runtime connects to NATS before its loops start"
        js = nc.jetstream()
        config = ConsumerConfig(
            durable_name=self.durable,
            filter_subject="jikimi.>",
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.ALL,
            ack_wait=60,
            max_ack_pending=20 * self._batch,
            max_deliver=-1,
        )
        await js.add_consumer(self._stream, config)
        psub = await js.pull_subscribe_bind(self.durable, self._stream)
        filing = Filing()
        for entry in await self._store.report_entries():
            filing.remember(entry)
        log.info("timeline_projector_started", consumer=self.durable)
        try:
            while not stop.is_set():
                if msgs := await fetch_ready(psub, self._batch):
                    await self._file(filing, msgs)
        finally:
            with contextlib.suppress(Exception):
                await psub.unsubscribe()
            log.info("timeline_projector_stopped", **vars(self.stats))

    async def _file(self, filing: Filing, msgs: list[Msg]) -> None:
        entries: list[Entry] = []
        for msg in msgs:
            try:
                entries += filing.file(msg.data)
            except ValueError as e:  # msgspec's DecodeError: not an event, nothing to file
                self.stats.undecodable += 1
                log.warning("timeline_undecodable", subject=msg.subject, error=str(e)[:200])
        try:
            await self._store.insert(entries)
        except Exception:
            # The batch comes again, and the filing (which took it in) is read back from the
            # table when the runtime starts this loop again.
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.nak(delay=1)
            raise
        await self._store.forget_unfiled(filing.linked)
        filing.linked.clear()
        await msgs[-1].ack()  # acknowledges the whole batch (AckPolicy.ALL)
        self.stats.events += len(msgs)
        self.stats.entries += len(entries)
        self.stats.batches += 1
