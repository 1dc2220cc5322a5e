"""Waking on commits: the recorder NOTIFYs its channel on every commit; a follower of the log
LISTENs there rather than polling fast (other replicas' writes wake it too)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import psycopg
import structlog
from eventsourcing.persistence import ApplicationRecorder
from psycopg import sql

__all__ = ["listening", "wake_on_commit"]

log = structlog.get_logger()


async def wake_on_commit(
    recorder: ApplicationRecorder, database_url: str, wake: asyncio.Event, stop: asyncio.Event
) -> None:
    """Set ``wake`` on each commit to ``recorder``'s tables until ``stop`` (reconnects on errors)."""
    listen = sql.SQL("LISTEN {0}").format(sql.Identifier(getattr(recorder, "channel_name", "")))
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
                await conn.execute(listen)
                wake.set()  # catch anything committed before we listened
                async for _ in conn.notifies():
                    wake.set()
        except (psycopg.Error, OSError) as e:
            log.warning("listen_failed", error=repr(e))
            await asyncio.sleep(1.0)


@contextlib.asynccontextmanager
async def listening(
    recorder: ApplicationRecorder, database_url: str | None, wake: asyncio.Event, stop: asyncio.Event
) -> AsyncIterator[None]:
    """While the block runs, ``wake`` is set on each commit (without a database URL: nothing, the
    follower polls)."""
    task = asyncio.create_task(wake_on_commit(recorder, database_url, wake, stop)) if database_url else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
