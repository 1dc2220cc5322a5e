"""Jikimi's services as the processes they run as, on the bench's servers."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bench.figures import Context
from jikimi.embedded.services import running_service

__all__ = ["service_process"]

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
