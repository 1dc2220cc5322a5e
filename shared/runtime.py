"""What every service process runs besides its HTTP routes: its event log, its relay, its
consumers, and the one NATS connection they share. Built in the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from nats.aio.client import Client

from shared.consumer import Handler, StreamConsumer
from shared.eventlog.application import ServiceApplication
from shared.eventlog.schema import relay_factory
from shared.eventlog.writer import State
from shared.relay import OutboxRelay
from shared.settings import DatabaseSettings, NatsSettings, database_env
from shared.stream import connect

__all__ = ["ConsumerSpec", "ServiceRuntime"]

log = structlog.get_logger()


@dataclass(frozen=True)
class ConsumerSpec:
    """One durable consumer of the service: what it reads and what it does with it."""

    name: str
    subjects: Sequence[str]
    handler: Handler
    batch_size: int = 256
    state: State | None = None


@dataclass
class ServiceRuntime:
    """The long-lived parts of one service process, started and stopped by the lifespan."""

    application: ServiceApplication
    consumers: list[ConsumerSpec] = field(default_factory=list)
    loops: list[tuple[str, Callable[[asyncio.Event], Awaitable[None]]]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    starting: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    stopping: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    nats: NatsSettings = field(default_factory=NatsSettings.from_env)
    database: DatabaseSettings | None = None
    relay: OutboxRelay | None = None
    stream_consumers: list[StreamConsumer] = field(default_factory=list)
    nc: Client | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def from_env(cls, application_class: type[ServiceApplication]) -> ServiceRuntime:
        """A runtime on the servers the environment names; add consumers, loops, state after."""
        database = DatabaseSettings.from_env()
        return cls(application_class(env=database_env(database)), database=database)

    @property
    def service(self) -> str:
        return self.application.service

    async def start(self) -> None:
        """Connect to NATS, then run the relay and every consumer as background tasks."""
        assert self.database is not None, "a runtime without a database has nothing to relay"
        for prepare in self.starting:
            await prepare()
        self.nc = await connect(self.nats, name=f"jikimi-{self.service}")
        js = self.nc.jetstream()
        recorder: Any = self.application.recorder
        self.relay = OutboxRelay(
            self.service,
            recorder,
            relay_factory(self.service, self.database).tracking_recorder(),
            js,
            database_url=self.database.url,
            stream=self.nats.stream,
        )
        self.stream_consumers = [
            StreamConsumer(
                self.application,
                js,
                name=spec.name,
                subjects=spec.subjects,
                handler=spec.handler,
                stream=self.nats.stream,
                batch_size=spec.batch_size,
                state=spec.state,
            )
            for spec in self.consumers
        ]
        relay = self.relay
        self._tasks = [asyncio.create_task(self._guard(lambda: relay.run(self._stop), "relay"), name="relay")]
        self._tasks += [
            asyncio.create_task(self._guard(lambda c=c: c.run(self._stop), c.durable), name=c.durable)  # type: ignore[misc]
            for c in self.stream_consumers
        ]
        self._tasks += [
            asyncio.create_task(self._guard(lambda loop=loop: loop(self._stop), name), name=name)  # type: ignore[misc]
            for name, loop in self.loops
        ]

    async def _guard(self, run: Callable[[], Awaitable[None]], what: str) -> None:
        """Run a background loop; if it fails, log why and start it again after a pause."""
        while not self._stop.is_set():
            try:
                await run()
                return  # finished on its own (stopping, or nothing to do)
            except Exception as e:  # a crashed loop is restarted, not lost
                log.exception("background_task_failed", task=what, error=repr(e))
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        """Stop the background work, drain NATS, close the database pool."""
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=5.0)
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.drain()
        for close in self.stopping:
            with contextlib.suppress(Exception):
                await close()
        self.application.close()

    def health(self) -> dict[str, Any]:
        """What ``/health`` shows: connections and how far the relay and consumers got."""
        return {
            "service": self.service,
            "nats": bool(self.nc and self.nc.is_connected),
            "relay": vars(self.relay.stats) if self.relay else None,
            "consumers": {c.durable: vars(c.stats) for c in self.stream_consumers},
        }
