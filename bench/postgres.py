"""Raw psycopg on a table shaped like an event table: the ceilings for the event log's figures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from uuid import uuid4

import msgspec
import psycopg
from psycopg import sql

from bench.figures import Context, Figure, percentile, rate
from shared.events import encode
from shared.probes import new_probe

__all__ = ["BENCHMARKS", "batched_insert", "event_state", "single_insert_commit"]

# The library's own event table: same key, same notification-id index.
_CREATE = sql.SQL("""
CREATE TABLE {table} (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
);
CREATE UNIQUE INDEX {index} ON {table} (notification_id);
""")
_INSERT = sql.SQL("INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)")


def event_state() -> bytes:
    """The stored bytes of a typical published probe (~350 bytes), the payload of every raw figure."""
    return encode(msgspec.structs.replace(new_probe(), service="bench", position=1_000_000))


def _create_table(url: str, table: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(_CREATE.format(table=sql.Identifier(table), index=sql.Identifier(f"{table}_notification_id")))


def _single_inserts(url: str, seconds: float) -> tuple[int, float, list[float]]:
    """INSERT + COMMIT one row at a time on one connection, for ``seconds``."""
    _create_table(url, "raw_single")
    state = event_state()
    insert = _INSERT.format(table=sql.Identifier("raw_single"))
    latencies_ms: list[float] = []
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        deadline = start + seconds
        now = start
        while now < deadline:
            conn.execute(insert, (uuid4(), 1, "system.probe_sent", state), prepare=True)
            conn.commit()
            before, now = now, time.perf_counter()
            latencies_ms.append((now - before) * 1000)
        elapsed = now - start
    return len(latencies_ms), elapsed, latencies_ms


def _batched_inserts(url: str, rows: int, batch_size: int) -> tuple[int, float]:
    """``executemany`` (pipelined by psycopg) in transactions of ``batch_size`` rows."""
    _create_table(url, "raw_batched")
    state = event_state()
    insert = _INSERT.format(table=sql.Identifier("raw_batched"))
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        start = time.perf_counter()
        done = 0
        while done < rows:
            batch = [(uuid4(), 1, "system.probe_sent", state) for _ in range(min(batch_size, rows - done))]
            cursor.executemany(insert, batch)
            conn.commit()
            done += len(batch)
        elapsed = time.perf_counter() - start
    return done, elapsed


async def single_insert_commit(ctx: Context) -> Sequence[Figure]:
    """Single-row commits per second, and the median commit's latency."""
    count, elapsed, latencies = await asyncio.to_thread(_single_inserts, ctx.database.url, ctx.sizes.timed_s)
    return [
        Figure(name="pg_single_insert_commit_per_s", value=rate(count, elapsed), unit="commits/s"),
        Figure(name="pg_commit_latency_p50_ms", value=percentile(latencies, 50), unit="ms"),
    ]


async def batched_insert(ctx: Context) -> Sequence[Figure]:
    """Rows per second inserted in batches, one transaction per batch."""
    count, elapsed = await asyncio.to_thread(
        _batched_inserts, ctx.database.url, ctx.sizes.pg_batch_rows, ctx.sizes.batch_size
    )
    return [Figure(name="pg_batched_insert_rows_per_s", value=rate(count, elapsed), unit="rows/s")]


BENCHMARKS = (single_insert_commit, batched_insert)
