"""Keeping the public view complete: read intake's public events from the stream's first
message, then follow new ones.

Why not a ``StreamConsumer`` whose handler records nothing and updates the view on the side: its
durable consumer acknowledges each event once handled and writes a tracking row, so after a
restart JetStream delivers only what came since, and the in-memory view would have lost every
alert from before; and a service's instances share a durable consumer, so each would see only
its part of the events. Recording events of our own (a copy of each public alert in broadcast's log)
would work, but would add a contract event that only repeats intake's facts.

So broadcast keeps no state of its own for the public: each process reads intake's events
straight from the stream (which keeps them for ever, see ``shared.stream``) through an ephemeral
pull consumer with no acknowledgements, starting at sequence 1, or after the last sequence it
applied when a broken connection makes it start over. The view is therefore complete after a
restart by construction: it is the fold of every public event in the stream. It says it has caught
up (``PublicView.caught_up``) once a message reports nothing pending after it, or the consumer
reports nothing pending when a fetch finds nothing; the routes wait for that, so a restarted
process never serves a partial feed. Each process reads on its own; nothing is shared between
replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.broadcast.public.view import PUBLIC_EVENTS, PublicView
from shared.events import CODEC, UnknownEventError, subjects_of

__all__ = ["PublicFollower", "public_subjects"]

log = structlog.get_logger()


def public_subjects() -> list[str]:
    """The subjects of intake's events the public view folds."""
    return subjects_of(*PUBLIC_EVENTS)


class PublicFollower:
    """Feeds the stream's public events into ``view``, from the beginning, for as long as it runs;
    ``connection`` gives the process's NATS connection once the runtime has made it."""

    def __init__(
        self, view: PublicView, connection: Callable[[], Client | None], *, stream: str, batch_size: int = 256
    ) -> None:
        self.view = view
        self._connection = connection
        self._stream = stream
        self._batch_size = batch_size

    def config(self) -> ConsumerConfig:
        """An ephemeral consumer starting after the last message the view applied."""
        start = self.view.sequence + 1
        return ConsumerConfig(
            filter_subjects=public_subjects(),
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=60.0,  # the server removes it a minute after this process is gone
            mem_storage=True,
            num_replicas=1,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Read until ``stop`` is set; a failure propagates (the runtime starts it again, resuming)."""
        nc = self._connection()
        assert nc is not None, "the runtime connects to NATS before it starts its loops"
        js = nc.jetstream()
        config = self.config()
        psub = await js.pull_subscribe("", stream=self._stream, config=config)
        log.info("public_view_reading", stream=self._stream, from_sequence=config.opt_start_seq)
        try:
            while not stop.is_set():
                await self._read(psub)
        finally:
            with contextlib.suppress(Exception):
                await psub.unsubscribe()
            with contextlib.suppress(Exception):
                await js.delete_consumer(self._stream, config.name or "")

    async def _read(self, psub: JetStreamContext.PullSubscription) -> None:
        # One message (waiting up to half a second), then whatever else is ready without lingering.
        try:
            msgs = await psub.fetch(1, timeout=0.5)
        except (TimeoutError, NatsTimeoutError):
            # Nothing came; a slow server is not an empty stream, so ask the consumer itself.
            if not self.view.caught_up.is_set() and (await psub.consumer_info()).num_pending == 0:
                self._caught_up()
            return
        with contextlib.suppress(TimeoutError, NatsTimeoutError):
            msgs += await psub.fetch(self._batch_size - 1, timeout=0.002)
        for msg in msgs:
            meta = msg.metadata
            try:
                event = CODEC.decode(msg.data)
            except UnknownEventError as e:  # a newer intake's event: skip it, say so
                log.warning("public_event_undecodable", sequence=meta.sequence.stream, error=str(e))
            else:
                self.view.apply(event, meta.sequence.stream)
            self.view.sequence = max(self.view.sequence, meta.sequence.stream)
            if meta.num_pending == 0:
                self._caught_up()

    def _caught_up(self) -> None:
        if not self.view.caught_up.is_set():
            self.view.caught_up.set()
            log.info(
                "public_view_caught_up",
                sequence=self.view.sequence,
                incidents=len(self.view.incidents),
                alerts=len(self.view.alerts),
                disaster_messages=len(self.view.disaster_messages),
            )
