"""Jikimi's services as the processes they run as, on the bench's servers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from bench.figures import Context
from jikimi.embedded import free_port
from shared.eventlog.schema import create_tables
from shared.services import SERVICES
from shared.stream import connect, ensure_stream

__all__ = ["service_process"]

ROOT = Path(__file__).resolve().parents[1]


@asynccontextmanager
async def service_process(ctx: Context, name: str) -> AsyncIterator[str]:
    """Start one service (uvicorn, one worker) on a free port; yields its URL once healthy."""
    await asyncio.to_thread(create_tables, SERVICES, ctx.database)
    nc = await connect(ctx.nats, name="bench-migrate")
    await ensure_stream(nc.jetstream(), ctx.nats)
    await nc.close()
    port = free_port()
    env = {
        **os.environ,
        "JIKIMI_DATABASE_URL": ctx.database.url,
        "JIKIMI_NATS_URL": ctx.nats.url,
        "JIKIMI_SECRET_KEY": "bench-secret-key-0123456789abcdefghij",
        f"JIKIMI_{name.upper()}_PORT": str(port),
    }
    process = subprocess.Popen(  # noqa: S603, ASYNC220 -- our own service; starting it does not block
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"services.{name}.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2) as client:
            for _ in range(300):
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}")
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"{name} did not become healthy")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
