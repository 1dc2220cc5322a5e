"""The event log (eventsourcing on PostgreSQL with our mapper): saves and events per second."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import cast

from bench.figures import Context, Figure, rate
from shared.eventlog.application import ServiceApplication
from shared.eventlog.schema import create_tables
from shared.probes import new_probe
from shared.settings import DatabaseSettings, database_env

__all__ = ["BENCHMARKS", "batched_save", "service_app", "single_save"]


@contextlib.contextmanager
def service_app(name: str, database: DatabaseSettings) -> Iterator[ServiceApplication]:
    """A service application called ``name`` (lowercase letters) on fresh tables, closed afterwards."""
    create_tables([name], database)
    # A class per service, as each Application subclass reads its name (and table names) from the class.
    app_class = cast("type[ServiceApplication]", type(f"Bench{name.title()}", (ServiceApplication,), {"name": name}))
    app = app_class(env=database_env(database))
    try:
        yield app
    finally:
        app.close()


def _single_saves(database: DatabaseSettings, seconds: float) -> tuple[int, float]:
    with service_app("esone", database) as app:
        count = 0
        start = time.perf_counter()
        deadline = start + seconds
        while (now := time.perf_counter()) < deadline:
            app.record(new_probe())
            count += 1
        return count, now - start


def _batched_saves(database: DatabaseSettings, events: int, batch_size: int) -> tuple[int, float]:
    with service_app("esmany", database) as app:
        done = 0
        start = time.perf_counter()
        while done < events:
            recorded = app.record(*[new_probe() for _ in range(min(batch_size, events - done))])
            done += len(recorded)
        return done, time.perf_counter() - start


async def single_save(ctx: Context) -> Sequence[Figure]:
    """One event per transaction, one writer: bounded by a single-row commit."""
    count, elapsed = await asyncio.to_thread(_single_saves, ctx.database, ctx.sizes.timed_s)
    return [
        Figure(
            name="es_single_save_per_s",
            value=rate(count, elapsed),
            unit="saves/s",
            limit_of=("pg_single_insert_commit_per_s",),
        )
    ]


async def batched_save(ctx: Context) -> Sequence[Figure]:
    """Many events per transaction: bounded by batched inserts."""
    count, elapsed = await asyncio.to_thread(
        _batched_saves, ctx.database, ctx.sizes.es_batch_events, ctx.sizes.batch_size
    )
    return [
        Figure(
            name="es_batched_events_per_s",
            value=rate(count, elapsed),
            unit="events/s",
            limit_of=("pg_batched_insert_rows_per_s",),
        )
    ]


BENCHMARKS = (single_save, batched_save)
