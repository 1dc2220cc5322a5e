"""Broadcast: webhook deliveries per second to a receiver on loopback, beside the receiver's own limit.

``webhook_deliveries``: briefings of 400 incidents, five departments each (2,000 deliveries), are
issued by the briefing policy and recorded straight into broadcast's log, as its clock records
them (each department's briefing address a sealed ``webhook:`` URL). The broadcast service runs
as a process and sends them; the receiver, a process of its own on loopback, checks every
``Jikimi-Signature`` and refuses what it cannot verify. The figure is deliveries per second from
the requests' commit to the last ``DeliveryDelivered`` recorded. Its limit is the same receiver
taken in the same run by plain httpx POSTs of the same bodies, signed, as many at once as the
sender sends (50): what any client in Python gets from it, without broadcast's log around it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import msgspec

from bench.eventlog import service_app
from bench.figures import Context, Figure, Goal, rate
from bench.pipeline import recorder_of
from bench.services import settled
from jikimi.embedded import free_port
from jikimi.embedded.services import running_service
from services.broadcast.briefings import IncidentBriefing, issue
from services.broadcast.channels import webhook_signature
from shared.eventlog.application import ServiceApplication
from shared.events import CODEC, Event, utc_now
from shared.events.broadcast import DeliveryDelivered, DeliveryFailed, DeliveryRequested
from shared.events.common import ContactRef
from shared.events.community import EngagedDepartment
from shared.privacy import Privacy

__all__ = ["BENCHMARKS", "serve_receiver"]

DELIVERIES = int(os.environ.get("JIKIMI_BENCH_WEBHOOKS", "2000"))
DEPARTMENTS_PER_INCIDENT = 5
CONCURRENCY = 50  # the Sender's default: as many sends in flight as it allows
_SECRET_ENV = "JIKIMI_BENCH_WEBHOOK_SECRET"  # noqa: S105 -- the name of a variable, not a secret
_TOLERANCE_S = 300  # a signature older than this is refused, as a careful receiver would


class _Receiver:
    """HTTP/1.1 keep-alive on raw asyncio streams: every POST's signature is checked (200 when
    one ``v1`` matches, else 401); ``GET /stats`` says how many of each, and how many distinct
    ``Idempotency-Key`` were verified (a resent delivery counts once there)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self.verified = 0
        self.refused = 0
        self.keys: set[bytes] = set()

    def check(self, signature: bytes, body: bytes) -> bool:
        parts = [p.split(b"=", 1) for p in signature.split(b",") if b"=" in p]
        stamps = [v for k, v in parts if k == b"t"]
        if not stamps or not stamps[0].isdigit() or abs(time.time() - int(stamps[0])) > _TOLERANCE_S:
            return False
        expected = hmac.new(self._secret, stamps[0] + b"." + body, hashlib.sha256).hexdigest().encode()
        return any(k == b"v1" and hmac.compare_digest(v, expected) for k, v in parts)

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request := await reader.readline():  # empty when the client closed
                headers: dict[bytes, bytes] = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
                writer.write(self._answer(request, headers, body))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def _answer(self, request: bytes, headers: dict[bytes, bytes], body: bytes) -> bytes:
        if request.startswith(b"GET /stats"):
            stats = msgspec.json.encode({"verified": self.verified, "refused": self.refused, "keys": len(self.keys)})
            return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%b" % (
                len(stats),
                stats,
            )
        if self.check(headers.get(b"jikimi-signature", b""), body):
            self.verified += 1
            self.keys.add(headers.get(b"idempotency-key", b""))
            return b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        self.refused += 1
        return b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"


def serve_receiver(port: int) -> None:
    """The receiver's process: serve on 127.0.0.1:``port`` until killed (secret from the environment)."""

    async def serve() -> None:
        receiver = _Receiver(os.environ[_SECRET_ENV].encode())
        server = await asyncio.start_server(receiver.connection, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


class _Stats(msgspec.Struct):
    verified: int
    refused: int
    keys: int


@asynccontextmanager
async def _receiver(secret: str) -> AsyncIterator[str]:
    """The receiver as a process of its own (not a thread here: the limit's client must not share a
    GIL with it, as broadcast does not); yields its base URL once it answers."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        f"from bench.webhook import serve_receiver; serve_receiver({port})",
        env={**os.environ, _SECRET_ENV: secret},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                await _stats(url)
                break
            if process.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the webhook receiver did not answer on {url}")
            await asyncio.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def _stats(url: str) -> _Stats:
    async with httpx.AsyncClient(timeout=5) as client:
        return msgspec.json.decode((await client.get(f"{url}/stats")).content, type=_Stats)


@asynccontextmanager
async def _broadcast(ctx: Context, key: str, env: dict[str, str]) -> AsyncIterator[str]:
    """The broadcast service as a process, with the webhook settings and this run's key."""
    log = Path(tempfile.gettempdir()) / "jikimi-bench-webhook-broadcast.log"
    with log.open("wb") as output:
        started = running_service("broadcast", ctx.database, ctx.nats, secret_key=key, env=env, output=output)
        url = await asyncio.to_thread(started.__enter__)
        try:
            yield url
        finally:
            await asyncio.to_thread(started.__exit__, None, None, None)


def _briefings(privacy: Privacy, receiver: str, incidents: int, tag: str) -> list[Event]:
    """Each incident's Initial briefing and its requests, as the policy issues them: five
    departments of their own per incident, each briefed on a webhook of the receiver."""
    now = utc_now()
    events: list[Event] = []
    for n in range(incidents):
        departments = {}
        for k in range(DEPARTMENTS_PER_INCIDENT):
            department = f"BENCH-{tag}-{n:04d}-{k}"
            address = privacy.seal_address("webhook", f"{receiver}/briefings/{department}")
            departments[department] = EngagedDepartment(
                department, f"벤치 부서 {n}-{k}", "fire_station", ContactRef("webhook", address)
            )
        briefing = IncidentBriefing(
            uuid4(),
            title="bench: 상가 화재",
            disaster_type="fire",
            severity="severe",
            district_code="11440",
            place="서울 마포구 양화로 45",
            opened_at=now,
            reports=3,
            seats={"fire": 2, "ems": 1, "structural": 1},
            members={"EXP-002": ("fire", "accepted"), "EXP-017": ("fire", "invited"), "EXP-031": ("ems", "invited")},
            engaged=departments,
            assembled_at=now,
        )
        events += issue(briefing, now)
    return events


def _requests(events: Sequence[Event]) -> list[DeliveryRequested]:
    return [e for e in events if isinstance(e, DeliveryRequested)]


async def _ends(broadcast: ServiceApplication, wanted: set[UUID], until_s: float) -> tuple[list[datetime], int]:
    """recorded_at of each DeliveryDelivered of ``wanted`` (once all are in, or time is up), and
    how many of them failed for good."""
    delivered: dict[UUID, datetime] = {}
    failed: set[UUID] = set()
    position = 0
    topics = [DeliveryDelivered.wire_tag(), DeliveryFailed.wire_tag()]
    deadline = time.monotonic() + until_s
    while len(delivered) + len(failed) < len(wanted) and time.monotonic() < deadline:
        page = await asyncio.to_thread(
            recorder_of(broadcast).select_notifications, position, 20_000, topics=topics, inclusive_of_start=False
        )
        for notification in page:
            position = notification.id
            event = CODEC.decode(notification.state)
            if event.originator_id not in wanted:
                continue
            if isinstance(event, DeliveryDelivered):
                delivered.setdefault(event.originator_id, event.recorded_at)
            elif isinstance(event, DeliveryFailed) and event.retry_at is None:
                failed.add(event.originator_id)
        if not page:
            await asyncio.sleep(0.05)
    return list(delivered.values()), len(failed)


def _bodies(requests: Sequence[DeliveryRequested]) -> list[bytes]:
    """What the limit's client posts: the webhook bodies of the same requests (the report too)."""
    sent_at = datetime.now(UTC)
    return [
        msgspec.json.encode(
            {
                "id": r.originator_id,
                "kind": r.kind,
                "recipient": r.recipient,
                "text": r.text,
                "sent_at": sent_at,
                "incident_id": r.incident_id,
                "language": r.language,
                "sitrep": r.sitrep,
            }
        )
        for r in requests
    ]


async def _plain_posts(url: str, secret: str, bodies: Sequence[bytes]) -> float:
    """Seconds for ``CONCURRENCY`` httpx workers to POST every body, signed, to the receiver."""
    queue = list(enumerate(bodies))
    queue.reverse()

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            n, body = queue.pop()
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": f"plain-{n}",
                "Jikimi-Signature": webhook_signature(body, (secret,), int(time.time())),
            }
            response = await client.post(f"{url}/briefings/plain-{n}", content=body, headers=headers)
            response.raise_for_status()

    async with httpx.AsyncClient(timeout=10.0) as client:  # as the broadcast service's client
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
        return time.perf_counter() - start


async def webhook_deliveries(ctx: Context) -> Sequence[Figure]:
    """Briefings to 2,000 department webhooks, sent by the broadcast service to a loopback receiver."""
    key, secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    privacy = Privacy(key.encode())
    env = {"JIKIMI_WEBHOOK_SECRETS": secret, "JIKIMI_WEBHOOK_ALLOW_LOOPBACK": "1"}  # loopback: this bench only
    with service_app("broadcast", ctx.database) as broadcast:
        async with _receiver(secret) as receiver, _broadcast(ctx, key, env) as broadcast_url:
            await settled(broadcast_url)  # what earlier benchmarks left in the stream is behind it
            # One briefing first, so the service has read its log and opened its connections.
            warm = _requests(await asyncio.to_thread(_briefings, privacy, receiver, 1, "warm"))
            await asyncio.to_thread(broadcast.record, *warm)
            if len((await _ends(broadcast, {r.originator_id for r in warm}, 60))[0]) < len(warm):
                raise TimeoutError("the warm-up briefing did not reach the receiver within 60 s")
            before = await _stats(receiver)
            incidents = DELIVERIES // DEPARTMENTS_PER_INCIDENT
            issued = await asyncio.to_thread(_briefings, privacy, receiver, incidents, "run")
            requests = _requests(issued)
            await asyncio.to_thread(broadcast.record, *issued)
            committed = time.time()
            delivered, failed = await _ends(broadcast, {r.originator_id for r in requests}, 180)
            after = await _stats(receiver)
            if len(delivered) < len(requests):
                raise TimeoutError(
                    f"{len(delivered)} of {len(requests)} webhook deliveries delivered within 180 s ({failed} failed)"
                )
            limit_s = await _plain_posts(receiver, secret, _bodies(requests))
    last_s = max(delivered).timestamp() - committed
    verified = after.keys - before.keys
    return [
        Figure(name="webhook_receiver_plain_posts_per_s", value=rate(len(requests), limit_s), unit="posts/s"),
        Figure(
            name="webhook_deliveries_per_s",
            value=rate(len(requests), last_s),
            unit="deliveries/s",
            limit_of=("webhook_receiver_plain_posts_per_s",),
        ),
        Figure(name="webhook_last_delivered_ms", value=last_s * 1000, unit="ms"),
        Figure(
            name="webhook_share_verified",
            value=round(verified / len(requests) * 100, 2),
            unit="%",
            goal=Goal(at_least=100),
        ),
    ]


BENCHMARKS = (webhook_deliveries,)
