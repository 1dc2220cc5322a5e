"""One Jikimi service as a process of its own, for tests and benchmarks (``jikimi up`` has its
own supervision): prepared servers, a free port, started, healthy, stopped."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from jikimi.embedded.processes import EmbeddedError, free_port
from jikimi.migrate import create_read_models
from shared.eventlog.schema import create_tables
from shared.services import SERVICES
from shared.settings import DatabaseSettings, NatsSettings
from shared.stream import connect, ensure_stream

__all__ = ["running_service"]

ROOT = Path(__file__).resolve().parents[2]


async def _ensure_stream(settings: NatsSettings) -> None:
    nc = await connect(settings, name="jikimi-prepare")
    try:
        await ensure_stream(nc.jetstream(), settings)
    finally:
        await nc.close()


def _wait_healthy(name: str, url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise EmbeddedError(f"{name} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise EmbeddedError(f"{name} did not answer 200 on {url}/health within {timeout_s:.0f} s")
        time.sleep(0.1)


@contextmanager
def running_service(
    name: str,
    database: DatabaseSettings,
    nats: NatsSettings,
    *,
    secret_key: str,
    env: Mapping[str, str] | None = None,
    output: IO[bytes] | None = None,
    timeout_s: float = 30.0,
) -> Iterator[str]:
    """Create the tables and the stream if missing, start ``services.<name>`` under uvicorn on a
    free port, and yield its URL once ``/health`` answers 200; stop it afterwards."""
    create_tables(SERVICES, database)
    create_read_models(database)
    asyncio.run(_ensure_stream(nats))
    port = free_port()
    environment = {
        **os.environ,
        "JIKIMI_DATABASE_URL": database.url,
        "JIKIMI_NATS_URL": nats.url,
        "JIKIMI_NATS_STREAM": nats.stream,
        "JIKIMI_SECRET_KEY": secret_key,
        f"JIKIMI_{name.upper()}_PORT": str(port),
        **(env or {}),
    }
    command = [
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
    ]
    sink = output if output is not None else subprocess.DEVNULL
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(name, url, process, timeout_s)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
