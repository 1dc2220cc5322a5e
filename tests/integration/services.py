"""Real service processes for end-to-end tests: `python -m uvicorn services.<name>.app:create_app`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from jikimi.embedded import free_port
from shared.eventlog.schema import create_tables
from shared.services import SERVICES
from shared.settings import DatabaseSettings, NatsSettings
from shared.stream import connect, ensure_stream

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "integration-tests-secret-key-0123456789"


async def _ensure_stream(settings: NatsSettings) -> None:
    nc = await connect(settings, name="tests-migrate")
    await ensure_stream(nc.jetstream(), settings)
    await nc.close()


@contextmanager
def service_process(
    name: str, database: DatabaseSettings, nats_url: str, extra_env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Start one service on a free port; yields its base URL once /health answers 200."""
    create_tables(SERVICES, database)
    asyncio.run(_ensure_stream(NatsSettings(url=nats_url)))
    port = free_port()
    env = {
        **os.environ,
        "JIKIMI_DATABASE_URL": database.url,
        "JIKIMI_NATS_URL": nats_url,
        "JIKIMI_SECRET_KEY": SECRET_KEY,
        f"JIKIMI_{name.upper()}_PORT": str(port),
        **(extra_env or {}),
    }
    log = ROOT / "var" / "log"
    log.mkdir(parents=True, exist_ok=True)
    with (log / f"test-{name}-{port}.log").open("wb") as output:
        process = subprocess.Popen(
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
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see {output.name}")
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not become healthy; see {output.name}")
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
