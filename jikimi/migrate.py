"""Making the stores ready before any service starts: the event tables and the JetStream stream."""

from __future__ import annotations

import asyncio

import psycopg
import structlog

from services.timeline.store import create_table as create_timeline_table
from shared.eventlog.schema import create_tables
from shared.services import SERVICES
from shared.settings import DatabaseSettings, NatsSettings
from shared.stream import connect, ensure_stream

__all__ = ["MigrationError", "create_read_models", "migrate"]

log = structlog.get_logger()


class MigrationError(RuntimeError):
    """Raised when the database or the NATS server cannot be reached or prepared."""


def migrate(database: DatabaseSettings, nats: NatsSettings, *, connect_timeout_s: float = 15.0) -> None:
    """Create every service's tables (if missing) and create or update the stream; idempotent."""
    create_tables(SERVICES, database)
    create_read_models(database)
    log.info("tables_ready", services=list(SERVICES))
    asyncio.run(_ensure_stream(nats, connect_timeout_s))
    log.info("stream_ready", stream=nats.stream)


def create_read_models(database: DatabaseSettings) -> None:
    """The tables of the read models kept in PostgreSQL (the timeline's), if missing."""
    with psycopg.connect(database.url) as conn:
        create_timeline_table(conn)


async def _ensure_stream(settings: NatsSettings, connect_timeout_s: float) -> None:
    try:
        # The client retries its first connection for ever; a migration should give up and say so.
        nc = await asyncio.wait_for(connect(settings, name="jikimi-migrate"), connect_timeout_s)
    except TimeoutError as e:
        msg = f"cannot reach NATS at {settings.url} within {connect_timeout_s:.0f} s"
        raise MigrationError(msg) from e
    try:
        await ensure_stream(nc.jetstream(), settings)
    finally:
        await nc.close()
