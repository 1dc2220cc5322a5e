"""Building blocks for pipeline tests: uniquely named services on the session's servers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import uuid4

from nats.aio.client import Client
from nats.js import JetStreamContext

from shared.eventlog.application import ServiceApplication
from shared.eventlog.schema import create_tables, relay_factory
from shared.relay import OutboxRelay
from shared.settings import DatabaseSettings, NatsSettings, database_env


def unique_service(prefix: str = "svc") -> str:
    """A service name no other test uses: its tables and subjects are its own."""
    return f"{prefix}{uuid4().hex[:10]}"


def service_app(name: str, database: DatabaseSettings) -> ServiceApplication:
    """A ServiceApplication called ``name``, its tables created."""
    create_tables([name], database)
    app_class = type(f"App_{name}", (ServiceApplication,), {"name": name})
    app: ServiceApplication = app_class(env=database_env(database))
    return app


def relay_for(
    app: ServiceApplication, js: JetStreamContext, database: DatabaseSettings, nats: NatsSettings
) -> OutboxRelay:
    recorder = app.recorder
    return OutboxRelay(
        app.service,
        recorder,  # type: ignore[arg-type]
        relay_factory(app.service, database).tracking_recorder(),
        js,
        database_url=database.url,
        stream=nats.stream,
    )


@dataclass
class Running:
    """Background loops sharing one stop event."""

    stop: asyncio.Event
    tasks: list[asyncio.Task[None]]

    @classmethod
    def start(cls, *loops: Callable[[asyncio.Event], Awaitable[None]]) -> Running:
        stop = asyncio.Event()
        return cls(stop, [asyncio.create_task(loop(stop)) for loop in loops])  # type: ignore[arg-type]

    async def finish(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks)


async def eventually(check: Callable[[], bool], timeout_s: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def stream_messages(nc: Client, stream: str, subject: str) -> list[tuple[str, bytes]]:
    """Every (Nats-Msg-Id, payload) in ``stream`` on ``subject``, read with an ordered consumer."""
    js = nc.jetstream()
    info = await js.stream_info(stream, subjects_filter=subject)
    expected = sum((info.state.subjects or {}).values())
    found: list[tuple[str, bytes]] = []
    if not expected:
        return found
    sub = await js.subscribe(subject, ordered_consumer=True, stream=stream)
    try:
        while len(found) < expected:
            msg = await sub.next_msg(timeout=5)
            found.append(((msg.headers or {}).get("Nats-Msg-Id", ""), msg.data))
    finally:
        await sub.unsubscribe()
    return found
