"""Broadcast: one incident alerted to a district's subscribers, across the real processes.

``alert_10000_subscribers``: 10,000 subscriptions to 마포구 recorded straight into broadcast's
log, intake and broadcast running as processes, and a local SMS gateway on loopback that notes
when each message arrived. One IncidentOpened is written into intake's log; the figures are the
time from its commit to the last DeliveryRequested recorded, and to the last message the
gateway received (the issue's goal: within 1 s).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from uuid import uuid4

import msgspec

from bench.eventlog import service_app
from bench.figures import Context, Figure, Goal, rate
from bench.pipeline import recorder_of
from jikimi.embedded import free_port
from jikimi.embedded.services import running_service
from services.broadcast.subscriptions import subscription_id
from shared.eventlog.application import ServiceApplication
from shared.events import CODEC, Event
from shared.events.broadcast import DeliveryRequested, SubscriptionAdded
from shared.events.common import Actor, Location
from shared.events.intake import IncidentOpened
from shared.privacy import Privacy

__all__ = ["BENCHMARKS"]

SUBSCRIBERS = int(os.environ.get("JIKIMI_BENCH_SUBSCRIBERS", "10000"))
MAPO, GANGNAM = "11440", "11680"
_GATEWAY_SECRET = "bench-gateway"  # noqa: S105 -- a loopback gateway for one run


class _Sms(msgspec.Struct):
    to: str
    text: str = ""
    channel: str = ""


class Gateway:
    """An SMS gateway on loopback, HTTP/1.1 keep-alive on raw asyncio streams (its own thread
    and loop, so it takes no time from the bench's loop); notes when each message arrived."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: dict[str, float] = {}  # to → time.time() of its first arrival
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()

    @contextmanager
    def running(self) -> Iterator[str]:
        thread = threading.Thread(target=self._serve, daemon=True, name="bench-gateway")
        thread.start()
        self._ready.wait(10)
        try:
            yield f"http://127.0.0.1:{self.port}/sms"
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            thread.join(5)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answer = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"id":"gw"}'
        try:
            while await reader.readline():  # the request line; empty when the client closed
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                sms = msgspec.json.decode(body, type=_Sms)
                self.received.setdefault(sms.to, time.time())
                writer.write(answer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def _process(ctx: Context, name: str, key: str, env: dict[str, str]) -> AsyncIterator[str]:
    """As bench.services.service_process, with the gateway's settings and this run's key."""
    log = Path(tempfile.gettempdir()) / f"jikimi-bench-{name}.log"
    with log.open("wb") as output:
        started = running_service(name, ctx.database, ctx.nats, secret_key=key, env=env, output=output)
        url = await asyncio.to_thread(started.__enter__)
        try:
            yield url
        finally:
            await asyncio.to_thread(started.__exit__, None, None, None)


def _phone(n: int) -> str:
    return f"010-{n // 10_000:04d}-{n % 10_000:04d}"


def _subscribe(broadcast: ServiceApplication, privacy: Privacy, phones: Sequence[str], district: str) -> None:
    """Subscriptions recorded straight into broadcast's log, as the route would, in bulk."""
    events: list[Event] = []
    for phone in phones:
        subscriber = privacy.pseudonym("sms", phone)
        events.append(
            SubscriptionAdded(
                originator_id=subscription_id(subscriber, district),
                originator_version=1,
                subscriber=subscriber,
                district_code=district,
                channel="sms",
                address_sealed=privacy.seal_address("sms", phone),
                language="ko" if len(events) % 5 else "en",
            )
        )
    for start in range(0, len(events), 2_000):
        broadcast.record(*events[start : start + 2_000])


def _open(intake: ServiceApplication, district: str) -> IncidentOpened:
    incident = uuid4()
    event = IncidentOpened(
        originator_id=incident,
        originator_version=1,
        incident_id=incident,
        disaster_type="fire",
        severity="severe",
        title="bench: 상가 화재",
        location=Location(district_code=district, source="operator"),
        opened_by=Actor("system", "bench"),
    )
    intake.record(event)
    return event


def _committed_at(intake: ServiceApplication, event: IncidentOpened) -> datetime:
    """The event's recorded_at as it stands in intake's log."""
    for notification in recorder_of(intake).select_notifications(0, 1_000_000):
        stored = CODEC.decode(notification.state)
        if stored.id == event.id:
            return stored.recorded_at
    raise LookupError("the incident is not in intake's log")


async def _requested(
    broadcast: ServiceApplication, cause: IncidentOpened, count: int, until_s: float
) -> list[datetime]:
    """recorded_at of each DeliveryRequested caused by ``cause``, once ``count`` are in (or time is up)."""
    found: list[datetime] = []
    position = 0
    deadline = time.monotonic() + until_s
    while len(found) < count and time.monotonic() < deadline:
        page = await asyncio.to_thread(
            recorder_of(broadcast).select_notifications,
            position,
            20_000,
            topics=[DeliveryRequested.wire_tag()],
            inclusive_of_start=False,
        )
        for notification in page:
            position = notification.id
            event = CODEC.decode(notification.state)
            if event.causation_id == cause.id:
                found.append(event.recorded_at)
        if not page:
            await asyncio.sleep(0.05)
    return found


async def _arrived(gateway: Gateway, phones: Sequence[str], until_s: float) -> list[float]:
    deadline = time.monotonic() + until_s
    # The gateway's thread fills ``received``: polling it is simpler than a cross-thread event.
    while time.monotonic() < deadline:
        if all(p in gateway.received for p in phones):
            break
        await asyncio.sleep(0.1)
    return [gateway.received[p] for p in phones if p in gateway.received]


async def alert_10000_subscribers(ctx: Context) -> Sequence[Figure]:
    key = secrets.token_urlsafe(32)
    privacy = Privacy(key.encode())
    mapo = [_phone(n) for n in range(SUBSCRIBERS)]
    warm = [_phone(SUBSCRIBERS + 1)]
    gateway = Gateway()
    with (
        service_app("broadcast", ctx.database) as broadcast,
        service_app("intake", ctx.database) as intake,
        gateway.running() as gateway_url,
    ):
        await asyncio.to_thread(_subscribe, broadcast, privacy, mapo, MAPO)
        await asyncio.to_thread(_subscribe, broadcast, privacy, warm, GANGNAM)
        env = {"JIKIMI_SMS_GATEWAY_URL": gateway_url, "JIKIMI_GATEWAY_SECRET": _GATEWAY_SECRET}
        async with _process(ctx, "intake", key, env), _process(ctx, "broadcast", key, env):
            # A first incident elsewhere, so the consumer has folded the subscriptions before the clock starts.
            await asyncio.to_thread(_open, intake, GANGNAM)
            if not await _arrived(gateway, warm, 60):
                raise TimeoutError("the warm-up alert did not reach the gateway within 60 s")
            opened = await asyncio.to_thread(_open, intake, MAPO)
            requested = await _requested(broadcast, opened, SUBSCRIBERS, 60)
            if len(requested) < SUBSCRIBERS:
                # Seen at 10,000: the commit of ~5,000+ events in one transaction never returns (the
                # event log's insert in psycopg's pipeline mode); see docs/architecture.md.
                raise TimeoutError(f"{len(requested)} of {SUBSCRIBERS} delivery requests recorded within 60 s")
            arrived = await _arrived(gateway, mapo, 180)
            committed = await asyncio.to_thread(_committed_at, intake, opened)
    start = committed.timestamp()
    if len(arrived) < SUBSCRIBERS:
        raise TimeoutError(f"{len(arrived)} of {SUBSCRIBERS} messages reached the gateway within 180 s")
    last_request_ms = (max(requested).timestamp() - start) * 1000
    first_ms, last_ms = (min(arrived) - start) * 1000, (max(arrived) - start) * 1000
    return [
        Figure(name="broadcast_alert_10000_requested_ms", value=last_request_ms, unit="ms"),
        Figure(name="broadcast_alert_10000_first_received_ms", value=first_ms, unit="ms"),
        Figure(name="broadcast_alert_10000_last_received_ms", value=last_ms, unit="ms", goal=Goal(at_most=1000)),
        Figure(
            name="broadcast_gateway_messages_per_s",
            value=rate(SUBSCRIBERS, (max(arrived) - min(arrived))),
            unit="messages/s",
        ),
    ]


BENCHMARKS = (alert_10000_subscribers,)
