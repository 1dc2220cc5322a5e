"""Jikimi's services as the processes they run as, on the bench's servers."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from bench.figures import Context
from jikimi.embedded.services import running_service

__all__ = ["service_process", "settled"]

_SECRET_KEY = secrets.token_urlsafe(32)  # one per run: the services of a run trust each other


@asynccontextmanager
async def service_process(ctx: Context, name: str) -> AsyncIterator[str]:
    """Start one service (uvicorn, one worker) on a free port; yields its URL once healthy."""
    started = running_service(name, ctx.database, ctx.nats, secret_key=_SECRET_KEY)
    url = await asyncio.to_thread(started.__enter__)
    try:
        yield url
    finally:
        await asyncio.to_thread(started.__exit__, None, None, None)


async def settled(url: str, *, quiet_s: float = 2.0, within_s: float = 300.0) -> None:
    """Until the service's consumers have worked through what earlier benchmarks left in the
    stream: what they processed stops growing for ``quiet_s``."""
    deadline = time.monotonic() + within_s
    last, since = -1, time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        while time.monotonic() < deadline:
            consumers = (await client.get("/health")).json().get("consumers", {})
            processed = sum(c.get("processed", 0) + c.get("redelivered", 0) for c in consumers.values())
            if processed != last:
                last, since = processed, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return
            await asyncio.sleep(0.25)
    raise TimeoutError(f"{url}: its consumers were still busy after {within_s:.0f} s")
