"""Members' live streams at scale: one room of 1,000 members, each with an open SSE stream.

Community's log gets a room message whose audience is the 1,000 members (as community's API
records it); community's relay publishes it, broadcast records its fan-out (one event holding a
delivery per member), and its LiveHub writes it to the 1,000 open streams. The figure is
the time from the message's commit to its arrival on each stream, over every (message, member).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from urllib.parse import urlsplit
from uuid import uuid4

from bench.eventlog import service_app
from bench.figures import Context, Figure, Goal, percentile
from bench.services import _SECRET_KEY, service_process, settled
from shared.auth import Role, issue_token
from shared.eventlog.application import ServiceApplication
from shared.events import CODEC
from shared.events.broadcast import LiveFannedOut
from shared.events.community import MessagePosted

__all__ = ["BENCHMARKS"]

MEMBERS = 1_000
MESSAGES = 20


class _Tally:
    """Counts arrivals over every stream; ``done`` is set once all expected have arrived."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.done = asyncio.Event()

    def count(self) -> None:
        self.expected -= 1
        if self.expected <= 0:
            self.done.set()


class _Member:
    """One member's SSE stream, read by hand (asyncio streams, no client library in the way)."""

    def __init__(self, index: int, everyone: _Tally) -> None:
        self.id = f"BENCH-{index:04d}"
        self.arrived: dict[str, float] = {}
        self.ready = asyncio.Event()
        self._tally = everyone

    async def listen(self, host: str, port: int) -> None:
        token = issue_token(_SECRET_KEY.encode(), self.id, Role.EXPERT, ttl_s=3600)
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            f"GET /live/stream HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"{self.id}: {status!r}")
        while (await reader.readline()) not in {b"\r\n", b""}:
            pass  # the rest of the headers
        self.ready.set()
        pending = b""
        try:
            while chunk := await reader.read(65536):  # whatever has come, then its whole frames
                arrived = time.time()
                *frames, pending = (pending + chunk).split(b"\n\n")
                for frame in frames:
                    _, found, data = frame.partition(b"\ndata: ")
                    if not found:
                        continue  # a keep-alive
                    text = json.loads(data)["text"]
                    if text not in self.arrived:
                        self.arrived[text] = arrived
                        self._tally.count()
        finally:
            writer.close()


async def room_message_to_1000_sse_members(ctx: Context) -> Sequence[Figure]:
    """Room messages to a room of 1,000 members, each on an open SSE stream of broadcast."""
    tally = _Tally(MEMBERS * MESSAGES)
    members = [_Member(i, tally) for i in range(MEMBERS)]
    audience = [f"expert:{m.id}" for m in members]
    incident = uuid4()
    async with service_process(ctx, "community") as community_url, service_process(ctx, "broadcast") as url:
        await settled(community_url)  # what earlier benchmarks left in the stream is behind them both
        await settled(url)
        where = urlsplit(url)
        host, port = where.hostname or "127.0.0.1", where.port or 80
        listening = [asyncio.create_task(m.listen(host, port)) for m in members]
        try:
            await asyncio.wait_for(asyncio.gather(*(m.ready.wait() for m in members)), timeout=60)
            with service_app("community", ctx.database) as community:
                committed: dict[str, float] = {}
                for n in range(MESSAGES):
                    text = f"bench-{n}"
                    message = MessagePosted(
                        originator_id=uuid4(),
                        originator_version=1,
                        incident_id=incident,
                        author="operator:bench",
                        text=text,
                        audience=audience,
                    )
                    [recorded] = await asyncio.to_thread(community.record, message)
                    stamped: MessagePosted = recorded.domain_event  # type: ignore[assignment]
                    committed[text] = stamped.recorded_at.timestamp()
                    await asyncio.sleep(0.3)
                with contextlib.suppress(TimeoutError):  # what did not arrive shows as less than 100 %
                    await asyncio.wait_for(tally.done.wait(), timeout=30)
            with service_app("broadcast", ctx.database) as broadcast:
                fanned = await asyncio.to_thread(_fanned_out_at, broadcast)
        finally:
            for task in listening:
                task.cancel()
            await asyncio.gather(*listening, return_exceptions=True)
    latencies = [(m.arrived[t] - committed[t]) * 1000 for m in members for t in committed if t in m.arrived]
    reached = len(latencies) / (MEMBERS * MESSAGES)
    last = [max(m.arrived.get(t, float("nan")) for m in members) - committed[t] for t in committed]
    consumer_ms = [(fanned[t] - committed[t]) * 1000 for t in committed if t in fanned]
    return [
        Figure(name="live_room_members", value=MEMBERS, unit="streams"),
        Figure(name="live_fanned_out_recorded_p50_ms", value=percentile(consumer_ms, 50), unit="ms"),
        Figure(name="live_share_reached", value=round(reached * 100, 2), unit="%", goal=Goal(at_least=100)),
        Figure(name="live_fanout_p50_ms", value=percentile(latencies, 50), unit="ms"),
        Figure(name="live_fanout_p99_ms", value=percentile(latencies, 99), unit="ms", goal=Goal(at_most=100)),
        Figure(name="live_last_member_p50_ms", value=percentile([x * 1000 for x in last], 50), unit="ms"),
    ]


def _fanned_out_at(broadcast: ServiceApplication) -> dict[str, float]:
    """When broadcast committed each message's live deliveries (the consumer's share of the time)."""
    at: dict[str, float] = {}
    position = 0
    while page := broadcast.recorder.select_notifications(position, 5000, inclusive_of_start=False):
        position = page[-1].id
        for event in (CODEC.decode(n.state) for n in page):
            if isinstance(event, LiveFannedOut):
                at.setdefault(event.text, event.recorded_at.timestamp())
    return at


BENCHMARKS = (room_message_to_1000_sse_members,)
