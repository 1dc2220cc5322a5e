"""Raw JetStream publishes on a plain file-stored stream: the ceilings for the relay."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence

from nats.aio.client import Client
from nats.js.api import StorageType, StreamConfig

from bench.figures import Context, Figure, percentile, rate
from bench.postgres import event_state
from shared.relay import MSG_ID
from shared.settings import NatsSettings
from shared.stream import connect

__all__ = ["BENCHMARKS", "nats_client", "publish_async", "publish_sequential"]

_STREAM = "BENCH_RAW"


@contextlib.asynccontextmanager
async def nats_client(settings: NatsSettings, name: str) -> AsyncIterator[Client]:
    """A connection for one benchmark, closed (not drained) afterwards."""
    nc = await connect(settings, name=name)
    try:
        yield nc
    finally:
        await nc.close()


async def _raw_stream(nc: Client) -> None:
    with contextlib.suppress(Exception):
        await nc.jetstream().delete_stream(_STREAM)
    await nc.jetstream().add_stream(StreamConfig(name=_STREAM, subjects=["benchraw.>"], storage=StorageType.FILE))


async def publish_sequential(ctx: Context) -> Sequence[Figure]:
    """One acknowledged publish at a time (with a message id, as the relay's carry), for a fixed time."""
    payload = event_state()
    async with nats_client(ctx.nats, "bench-js-sequential") as nc:
        await _raw_stream(nc)
        js = nc.jetstream()
        round_trips_ms: list[float] = []
        start = now = time.perf_counter()
        deadline = start + ctx.sizes.timed_s
        while now < deadline:
            await js.publish("benchraw.sequential", payload, headers={MSG_ID: f"seq:{len(round_trips_ms)}"})
            before, now = now, time.perf_counter()
            round_trips_ms.append((now - before) * 1000)
    return [
        Figure(name="js_publish_sequential_per_s", value=rate(len(round_trips_ms), now - start), unit="msgs/s"),
        Figure(name="js_publish_rtt_p50_ms", value=percentile(round_trips_ms, 50), unit="ms"),
    ]


async def publish_async(ctx: Context) -> Sequence[Figure]:
    """Publishes with many in flight (the client's default cap of 4,000), then every acknowledgement awaited."""
    payload = event_state()
    count = ctx.sizes.js_async_messages
    async with nats_client(ctx.nats, "bench-js-async") as nc:
        await _raw_stream(nc)
        js = nc.jetstream()
        start = time.perf_counter()
        futures = [
            await js.publish_async("benchraw.async", payload, headers={MSG_ID: f"async:{i}"}, wait_stall=30.0)
            for i in range(count)
        ]
        acks = await asyncio.gather(*futures)
        elapsed = time.perf_counter() - start
    return [Figure(name="js_publish_async_per_s", value=rate(len(acks), elapsed), unit="msgs/s")]


BENCHMARKS = (publish_sequential, publish_async)
