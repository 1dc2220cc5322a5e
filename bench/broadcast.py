"""Broadcast: one incident alerted to a district's subscribers, across the real processes.

``alert_10000_subscribers``: 10,000 SMS subscriptions to 마포구 recorded straight into broadcast's
log, intake and broadcast running as processes, and the local gateway of ``tests.support`` (its
bulk API) noting when each message arrived. One IncidentOpened is written into intake's log; the
figures are the time from its commit to the last AlertBatchRequested, AlertBatchAttempted and
AlertBatchSent recorded (``recorded_at``, stamped as each commit starts) and to the first and
last message the gateway received (the issue's goal: the last within 1 s).

Beside them, measured in the same run before the services start, the raw limits: the commits
the design cannot do without (the alert's batches in one transaction, as the consumer records
them, and their attempts, as the alert sender does before each request) and what the gateway
takes straight from the adapter, 1,000 messages a request, four in flight.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from uuid import UUID, uuid4

import httpx

from bench.eventlog import service_app
from bench.figures import Context, Figure, Goal, rate
from bench.pipeline import recorder_of
from bench.services import settled
from jikimi.embedded.services import running_service
from services.broadcast.channels import GatewayAdapter, GatewayMessage
from services.broadcast.subscriptions import DistrictGuides, Subscriptions, subscription_id
from shared.eventlog.application import ServiceApplication
from shared.events import CODEC, Event
from shared.events.broadcast import AlertBatchAttempted, AlertBatchRequested, AlertBatchSent, SubscriptionAdded
from shared.events.common import Actor, Location
from shared.events.intake import IncidentOpened
from shared.privacy import Privacy
from tests.support.gateway import FakeGateway

__all__ = ["BENCHMARKS"]

SUBSCRIBERS = int(os.environ.get("JIKIMI_BENCH_SUBSCRIBERS", "10000"))
MAPO, GANGNAM = "11440", "11680"
_GATEWAY_SECRET = "bench-gateway"  # noqa: S105 -- a loopback gateway for one run
_BULK = 1_000


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


def _subscriptions(privacy: Privacy, phones: Sequence[str], district: str) -> list[Event]:
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
    return events


def _subscribe(broadcast: ServiceApplication, privacy: Privacy, phones: Sequence[str], district: str) -> None:
    """Subscriptions recorded straight into broadcast's log, as the route would, in bulk."""
    events = _subscriptions(privacy, phones, district)
    for start in range(0, len(events), 2_000):
        broadcast.record(*events[start : start + 2_000])


def _incident(district: str) -> IncidentOpened:
    incident = uuid4()
    return IncidentOpened(
        originator_id=incident,
        originator_version=1,
        incident_id=incident,
        disaster_type="fire",
        severity="severe",
        title="bench: 상가 화재",
        location=Location(district_code=district, source="operator"),
        opened_by=Actor("system", "bench"),
    )


def _open(intake: ServiceApplication, district: str) -> IncidentOpened:
    event = _incident(district)
    intake.record(event)
    return event


def _committed_at(intake: ServiceApplication, event: IncidentOpened) -> datetime:
    """The event's recorded_at as it stands in intake's log."""
    for notification in recorder_of(intake).select_notifications(0, 1_000_000):
        stored = CODEC.decode(notification.state)
        if stored.id == event.id:
            return stored.recorded_at
    raise LookupError("the incident is not in intake's log")


def _recorded(broadcast: ServiceApplication, kind: type[Event], incident_id: UUID) -> list[tuple[datetime, int]]:
    """(recorded_at, recipients) of each ``kind`` of the incident's alert batch events in
    broadcast's log: the recipients asked for, tried, or reached."""
    found: list[tuple[datetime, int]] = []
    position = 0
    while page := recorder_of(broadcast).select_notifications(
        position, 20_000, topics=[kind.wire_tag()], inclusive_of_start=False
    ):
        position = page[-1].id
        for event in (CODEC.decode(n.state) for n in page):
            if event.incident_id != incident_id:
                continue
            if isinstance(event, AlertBatchRequested | AlertBatchAttempted):
                found.append((event.recorded_at, len(event.recipients)))
            elif isinstance(event, AlertBatchSent):
                found.append((event.recorded_at, len(event.delivered)))
    return found


def _last(recorded: Sequence[tuple[datetime, int]]) -> datetime:
    return max(at for at, _ in recorded)


def _count(recorded: Sequence[tuple[datetime, int]]) -> int:
    return sum(n for _, n in recorded)


async def _arrived(gateway: FakeGateway, phones: Sequence[str], until_s: float) -> list[float]:
    deadline = time.monotonic() + until_s
    # The gateway's thread fills ``first_at``: polling it is simpler than a cross-thread event.
    while time.monotonic() < deadline:
        if all(p in gateway.first_at for p in phones):
            break
        await asyncio.sleep(0.05)
    return [gateway.first_at[p] for p in phones if p in gateway.first_at]


async def _receipts(broadcast: ServiceApplication, incident_id: UUID, until_s: float) -> list[tuple[datetime, int]]:
    """The incident's AlertBatchSent, once every recipient is recorded reached (or time is up)."""
    deadline = time.monotonic() + until_s
    while _count(found := await asyncio.to_thread(_recorded, broadcast, AlertBatchSent, incident_id)) < SUBSCRIBERS:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    return found


def _raw_commits(ctx: Context, privacy: Privacy, phones: Sequence[str]) -> tuple[float, float]:
    """Seconds to record the alert's batches in one commit, and then their attempts, on tables of
    their own: what the alert sender must wait for before the last request."""
    with service_app("broadcastraw", ctx.database) as scratch:
        view = Subscriptions(scratch.recorder)
        for event in _subscriptions(privacy, phones, MAPO):
            view.apply(event)
        batches = [e for e in DistrictGuides(view).handle(_incident(MAPO)) if isinstance(e, AlertBatchRequested)]
        started = time.perf_counter()
        scratch.record(*batches)
        requested = time.perf_counter()
        for batch in batches:
            recipients = [r.recipient for r in batch.recipients]
            scratch.record(
                AlertBatchAttempted(
                    originator_id=batch.originator_id, originator_version=2, attempt=1, recipients=recipients
                )
            )
        return requested - started, time.perf_counter() - requested


async def _raw_gateway(gateway: FakeGateway, phones: Sequence[str]) -> float:
    """Seconds for the gateway to take a message to each of ``phones`` straight from the adapter."""
    async with httpx.AsyncClient(timeout=30) as client:
        adapter = GatewayAdapter(client, gateway.url(), "sms", _GATEWAY_SECRET, gateway.bulk_url(), _BULK)
        messages = [GatewayMessage(uuid4(), phone, "[지키미] 벤치 " * 20) for phone in phones]
        chunks = [messages[i : i + _BULK] for i in range(0, len(messages), _BULK)]
        in_flight = asyncio.Semaphore(4)

        async def send(chunk: list[GatewayMessage]) -> None:
            async with in_flight:
                await adapter.send_many(chunk)

        started = time.perf_counter()
        await asyncio.gather(*(send(c) for c in chunks))
        return time.perf_counter() - started


async def alert_10000_subscribers(ctx: Context) -> Sequence[Figure]:
    key = secrets.token_urlsafe(32)
    privacy = Privacy(key.encode())
    mapo = [_phone(n) for n in range(SUBSCRIBERS)]
    warm = [_phone(SUBSCRIBERS + 1)]
    raw_requests_s, raw_attempts_s = await asyncio.to_thread(_raw_commits, ctx, privacy, mapo)
    with FakeGateway(_GATEWAY_SECRET).running() as raw_gateway:
        raw_gateway_s = await _raw_gateway(raw_gateway, [f"raw-{p}" for p in mapo])
    gateway = FakeGateway(_GATEWAY_SECRET)
    with (
        service_app("broadcast", ctx.database) as broadcast,
        service_app("intake", ctx.database) as intake,
        gateway.running(),
    ):
        await asyncio.to_thread(_subscribe, broadcast, privacy, mapo, MAPO)
        await asyncio.to_thread(_subscribe, broadcast, privacy, warm, GANGNAM)
        env = {
            "JIKIMI_SMS_GATEWAY_URL": gateway.url(),
            "JIKIMI_SMS_GATEWAY_BULK_URL": gateway.bulk_url(),
            "JIKIMI_GATEWAY_BULK_MAX": str(_BULK),
            "JIKIMI_GATEWAY_SECRET": _GATEWAY_SECRET,
        }
        async with _process(ctx, "intake", key, env), _process(ctx, "broadcast", key, env) as broadcast_url:
            await settled(broadcast_url)  # what earlier benchmarks left in the stream is behind it
            # A first incident elsewhere, so the consumer has folded the subscriptions before the clock starts.
            await asyncio.to_thread(_open, intake, GANGNAM)
            if not await _arrived(gateway, warm, 60):
                raise TimeoutError("the warm-up alert did not reach the gateway within 60 s")
            await asyncio.sleep(1.0)  # its receipts recorded and relayed: the services are idle
            opened = await asyncio.to_thread(_open, intake, MAPO)
            # Nothing else from this process while the alert goes out: the log is read afterwards.
            arrived = await _arrived(gateway, mapo, 180)
            delivered = await _receipts(broadcast, opened.originator_id, 60)
            requested = await asyncio.to_thread(_recorded, broadcast, AlertBatchRequested, opened.originator_id)
            attempted = await asyncio.to_thread(_recorded, broadcast, AlertBatchAttempted, opened.originator_id)
            committed = await asyncio.to_thread(_committed_at, intake, opened)
    if _count(requested) < SUBSCRIBERS:
        raise TimeoutError(f"{_count(requested)} of {SUBSCRIBERS} recipients asked for")
    if len(arrived) < SUBSCRIBERS:
        raise TimeoutError(f"{len(arrived)} of {SUBSCRIBERS} messages reached the gateway within 180 s")
    if _count(delivered) < SUBSCRIBERS:
        raise TimeoutError(f"{_count(delivered)} of {SUBSCRIBERS} recipients recorded reached within 60 s")
    repeats = len(gateway.received) - len(gateway.first_at)
    start = committed.timestamp()

    def after(moment: float) -> float:
        return (moment - start) * 1000

    last_ms = after(max(arrived))
    return [
        Figure(name="broadcast_raw_record_10000_requests_ms", value=raw_requests_s * 1000, unit="ms"),
        Figure(name="broadcast_raw_record_10000_attempts_ms", value=raw_attempts_s * 1000, unit="ms"),
        Figure(name="broadcast_raw_gateway_messages_per_s", value=rate(SUBSCRIBERS, raw_gateway_s), unit="messages/s"),
        Figure(name="broadcast_alert_10000_requested_ms", value=after(_last(requested).timestamp()), unit="ms"),
        Figure(name="broadcast_alert_10000_attempted_ms", value=after(_last(attempted).timestamp()), unit="ms"),
        Figure(name="broadcast_alert_10000_first_received_ms", value=after(min(arrived)), unit="ms"),
        Figure(
            name="broadcast_alert_10000_last_received_ms",
            value=last_ms,
            unit="ms",
            limit_of=("broadcast_raw_record_10000_requests_ms", "broadcast_raw_record_10000_attempts_ms"),
            goal=Goal(at_most=1000),
        ),
        Figure(name="broadcast_alert_10000_delivered_ms", value=after(_last(delivered).timestamp()), unit="ms"),
        Figure(
            name="broadcast_gateway_messages_per_s",
            value=rate(SUBSCRIBERS, max(arrived) - min(arrived)),
            unit="messages/s",
            limit_of=("broadcast_raw_gateway_messages_per_s",),
        ),
        Figure(name="broadcast_gateway_repeats", value=repeats, unit="messages", goal=Goal(at_most=0)),
    ]


BENCHMARKS = (alert_10000_subscribers,)
