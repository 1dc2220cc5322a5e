"""The pipeline as the services run it: outbox relay, stream consumer, and commit → processed latency."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from nats.js import JetStreamContext

from bench.eventlog import service_app
from bench.figures import Context, Figure, Goal, percentile, rate
from bench.jetstream import nats_client
from bench.services import service_process
from shared.consumer import StreamConsumer
from shared.eventlog.application import ServiceApplication
from shared.eventlog.schema import relay_factory
from shared.eventlog.writer import Writer
from shared.events import Event, ProbeEchoed
from shared.probes import echo_probe, new_probe
from shared.relay import OutboxRelay
from shared.settings import DatabaseSettings, NatsSettings
from shared.stream import ensure_stream

__all__ = ["BENCHMARKS", "end_to_end_latency", "relay_and_consumer"]

_TIMEOUT_S = 120.0  # a stage that takes longer is stuck, not slow
_WARMUP_PROBES = 50
_LATENCY_LIMIT = ("pg_commit_latency_p50_ms", "js_publish_rtt_p50_ms")

Runner = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def recorder_of(app: ServiceApplication) -> PostgresApplicationRecorder:
    recorder = app.recorder
    if not isinstance(recorder, PostgresApplicationRecorder):
        raise TypeError(f"the benchmarks run on PostgreSQL, not {type(recorder).__name__}")
    return recorder


@contextlib.asynccontextmanager
async def _pipeline_parts(
    source: str, sink: str, database: DatabaseSettings, nats: NatsSettings
) -> AsyncIterator[tuple[ServiceApplication, ServiceApplication, OutboxRelay, StreamConsumer]]:
    """Service ``source`` with its relay, and service ``sink`` echoing ``source``'s probes."""
    with (
        service_app(source, database) as source_app,
        service_app(sink, database) as sink_app,
        relay_factory(source, database) as factory,
    ):
        async with nats_client(nats, f"bench-{source}-{sink}") as nc:
            js: JetStreamContext = nc.jetstream()
            await ensure_stream(js, nats)
            relay = OutboxRelay(
                source,
                recorder_of(source_app),
                factory.tracking_recorder(),
                js,
                database_url=database.url,
                stream=nats.stream,
            )
            consumer = StreamConsumer(
                sink_app,
                js,
                name="probes",
                subjects=[f"jikimi.{source}.probe_sent"],
                handler=echo_probe(sink),
                stream=nats.stream,
            )
            yield source_app, sink_app, relay, consumer


async def _wait_until(done: Callable[[], bool], tasks: Sequence[asyncio.Task[None]], what: str) -> None:
    """Poll ``done`` every 2 ms; raise if a running task failed or nothing finished within the timeout."""
    deadline = time.perf_counter() + _TIMEOUT_S
    while not done():
        for task in tasks:
            if task.done():
                task.result()  # raises its error
                raise RuntimeError(f"{what}: a pipeline task stopped early")
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what}: not done within {_TIMEOUT_S:.0f} s")
        await asyncio.sleep(0.002)


@contextlib.asynccontextmanager
async def running(*runners: Runner) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Run each ``runner(stop)`` as a task; set ``stop`` and wait for them on the way out."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run(stop)) for run in runners]
    try:
        yield tasks
    finally:
        stop.set()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=10.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def _timed_run(run: Runner, done: Callable[[], bool], what: str) -> float:
    start = time.perf_counter()
    async with running(run) as tasks:
        await _wait_until(done, tasks, what)
        return time.perf_counter() - start


def _prefill(app: ServiceApplication, events: int, batch_size: int) -> int:
    """Record ``events`` probes in batches; the last notification id."""
    last = 0
    for done in range(0, events, batch_size):
        recordings = app.record(*[new_probe() for _ in range(min(batch_size, events - done))])
        last = recordings[-1].notification.id
    return last


async def relay_and_consumer(ctx: Context) -> Sequence[Figure]:
    """The relay publishing a backlog of N events, then a consumer processing all N from the stream."""
    events = ctx.sizes.pipeline_events
    async with _pipeline_parts("pipea", "pipeb", ctx.database, ctx.nats) as (source, _, relay, consumer):
        last = await asyncio.to_thread(_prefill, source, events, ctx.sizes.batch_size)
        relay_s = await _timed_run(relay.run, lambda: relay.stats.position >= last, "relay")
        consumer_s = await _timed_run(consumer.run, lambda: consumer.stats.processed >= events, "consumer")
    return [
        Figure(
            name="relay_events_per_s",
            value=rate(events, relay_s),
            unit="events/s",
            limit_of=("js_publish_async_per_s",),
            goal=Goal(at_least=0.5, on_ratio=True),
        ),
        Figure(
            name="consumer_events_per_s",
            value=rate(events, consumer_s),
            unit="events/s",
            limit_of=("pg_batched_insert_rows_per_s",),
            goal=Goal(at_least=5_000),
        ),
    ]


class Stateless:
    """The writer's state for probes: nothing to decide, nothing to fold."""

    def catch_up(self) -> int:
        return 0

    def apply(self, event: Event) -> None:
        pass

    def reset(self) -> None:
        pass


class _Probe:
    def __init__(self) -> None:
        self.events = [new_probe()]


def _probe_command(_: Stateless, __: datetime) -> _Probe:
    return _Probe()


async def send_paced(
    writer: Writer[Any], count: int, per_s: float, command: Callable[[Any, datetime], Any] = _probe_command
) -> float:
    """Submit ``count`` commands (probes unless told), one at a time at ``per_s``, through the
    services' write path (the shared-commit writer); the seconds until the last is committed."""
    start = time.perf_counter()
    pending: list[asyncio.Task[object]] = []
    for i in range(count):
        delay = start + i / per_s - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(writer.submit(command)))
    await asyncio.gather(*pending)
    return time.perf_counter() - start


def _echo_latencies_ms(app: ServiceApplication, after: int) -> list[float]:
    """echo.recorded_at - probe.recorded_at of every echo recorded after notification ``after``."""
    latencies = []
    while page := recorder_of(app).select_notifications(start=after, limit=1000, inclusive_of_start=False):
        for notification in page:
            echo = app.mapper.to_domain_event(notification)
            if isinstance(echo, ProbeEchoed):
                latencies.append(echo.recorded_at.timestamp() * 1000 - echo.probe_recorded_at_ms)
        after = page[-1].id
    return latencies


async def end_to_end_latency(ctx: Context) -> Sequence[Figure]:
    """Probes at a steady rate through relay, stream and consumer: commit in A → echo committed in B.

    Measured as echo.recorded_at - probe.recorded_at: both are stamped just before their transaction,
    so the figure includes A's commit, the relay, JetStream and the consumer's handling, not B's commit.
    Each probe is its own command to the shared-commit writer the services use, submitted at its
    paced moment: probes that arrive while a commit is under way share the next one."""
    per_s = ctx.sizes.e2e_rate_per_s
    count = round(per_s * ctx.sizes.e2e_s)
    async with _pipeline_parts("lata", "latb", ctx.database, ctx.nats) as (source, sink, relay, consumer):
        writer: Writer[Stateless] = Writer(source, Stateless())
        async with running(relay.run, consumer.run, writer.run) as tasks:
            await send_paced(writer, _WARMUP_PROBES, per_s)
            await _wait_until(lambda: consumer.stats.processed >= _WARMUP_PROBES, tasks, "latency warm-up")
            after = await asyncio.to_thread(recorder_of(sink).max_notification_id) or 0
            sent_s = await send_paced(writer, count, per_s)
            await _wait_until(lambda: consumer.stats.processed >= _WARMUP_PROBES + count, tasks, "latency run")
            latencies = await asyncio.to_thread(_echo_latencies_ms, sink, after)
    return [
        # The latency goal holds at the offered rate: say so when the writer could not keep it up.
        Figure(
            name="e2e_probe_rate_per_s",
            value=rate(count, sent_s),
            unit="probes/s",
            goal=Goal(at_least=round(0.95 * per_s)),
        ),
        Figure(name="e2e_latency_p50_ms", value=percentile(latencies, 50), unit="ms", limit_of=_LATENCY_LIMIT),
        Figure(
            name="e2e_latency_p99_ms",
            value=percentile(latencies, 99),
            unit="ms",
            limit_of=_LATENCY_LIMIT,
            goal=Goal(at_most=20),
        ),
    ]


async def end_to_end_across_services(ctx: Context) -> Sequence[Figure]:
    """The same probes as deployed: written into intake's log, published by the intake
    service's own relay (its process), echoed by the community service (another process).
    The bench process only writes the probes (through the shared-commit writer) and reads
    community's log afterwards."""
    per_s = ctx.sizes.e2e_rate_per_s
    count = round(per_s * ctx.sizes.e2e_s)
    async with (
        service_process(ctx, "intake"),
        service_process(ctx, "community"),
    ):
        with service_app("intake", ctx.database) as intake, service_app("community", ctx.database) as community:
            writer: Writer[Stateless] = Writer(intake, Stateless())
            echoes_before = await asyncio.to_thread(recorder_of(community).max_notification_id) or 0

            def echoed() -> int:
                return len(_echo_latencies_ms(community, echoes_before))

            async with running(writer.run) as tasks:
                await send_paced(writer, _WARMUP_PROBES, per_s)
                await _wait_until(lambda: echoed() >= _WARMUP_PROBES, tasks, "warm-up echoes")
                after = await asyncio.to_thread(recorder_of(community).max_notification_id) or 0
                sent_s = await send_paced(writer, count, per_s)
                deadline = time.monotonic() + _TIMEOUT_S
                while len(latencies := await asyncio.to_thread(_echo_latencies_ms, community, after)) < count:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{len(latencies)} of {count} probes echoed")
                    await asyncio.sleep(0.2)
    return [
        Figure(
            name="e2e_services_probe_rate_per_s",
            value=rate(count, sent_s),
            unit="probes/s",
            goal=Goal(at_least=round(0.95 * per_s)),
        ),
        Figure(name="e2e_services_latency_p50_ms", value=percentile(latencies, 50), unit="ms", limit_of=_LATENCY_LIMIT),
        Figure(
            name="e2e_services_latency_p99_ms",
            value=percentile(latencies, 99),
            unit="ms",
            limit_of=_LATENCY_LIMIT,
            goal=Goal(at_most=20),
        ),
    ]


BENCHMARKS = (relay_and_consumer, end_to_end_latency, end_to_end_across_services)
