"""Intake over HTTP: reports/s accepted, each committed before its 201, and latency at half the peak.

The intake service runs as its own process (uvicorn, one worker), on the bench's database and
NATS; this process is the load: many concurrent citizens posting ``/reports``. The raw limit
beside the peak is PostgreSQL's single-row INSERT+COMMIT/s measured in the same run: intake
beats it only because concurrent reports share a commit.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import msgspec

from bench.figures import Context, Figure, Goal, percentile, rate
from bench.httpload import Connection
from jikimi.embedded import free_port
from shared.eventlog.schema import create_tables
from shared.services import SERVICES
from shared.stream import connect, ensure_stream

__all__ = ["BENCHMARKS", "intake_reports"]

ROOT = Path(__file__).resolve().parents[1]
_TEXTS = (
    "불이 났어요 연기가 많이 나요",
    "가스 냄새가 심하게 나요",
    "지하 주차장에 물이 차고 있어요",
    "건물 외벽이 무너졌어요",
    "엘리베이터에 사람이 갇혔어요",
    "Smoke is coming out of the building",
)
_CONCURRENCY = 64


@asynccontextmanager
async def _intake_service(ctx: Context) -> AsyncIterator[str]:
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
        "JIKIMI_INTAKE_PORT": str(port),
    }
    process = subprocess.Popen(  # noqa: S603, ASYNC220 -- our own service; starting it does not block
        [
            sys.executable,
            "-m",
            "uvicorn",
            "services.intake.app:create_app",
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
                    raise RuntimeError(f"intake exited with {process.returncode}")
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("intake did not become healthy")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _report(chance: random.Random, n: int) -> dict[str, object]:
    return {
        "text": chance.choice(_TEXTS),
        "reporter": f"bench-{n}",
        "location": {"lat": round(chance.uniform(37.45, 37.68), 5), "lon": round(chance.uniform(126.82, 127.15), 5)},
    }


async def _post(client: Connection, body: dict[str, object], latencies: list[float]) -> None:
    status, answer, seconds = await client.post_json("/reports", msgspec.json.encode(body))
    if status != 201:
        raise RuntimeError(f"intake answered {status}: {answer[:200]!r}")
    latencies.append(seconds * 1000)


async def _peak(clients: Sequence[Connection], seconds: float) -> tuple[int, float, list[float]]:
    """As many reports as ``_CONCURRENCY`` citizens can post back to back for ``seconds``."""
    chance, counter = random.Random(1), iter(range(10**9))
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def citizen(client: Connection) -> None:
        while time.perf_counter() < deadline:
            await _post(client, _report(chance, next(counter)), latencies)

    start = time.perf_counter()
    await asyncio.gather(*(citizen(client) for client in clients))
    return len(latencies), time.perf_counter() - start, latencies


async def _paced(clients: Sequence[Connection], per_s: float, seconds: float) -> list[float]:
    """Reports at a steady ``per_s`` for ``seconds``: what each one waited for its 201."""
    chance = random.Random(2)
    latencies: list[float] = []
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    for n in range(round(per_s * seconds)):
        delay = start + n / per_s - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        client = clients[n % len(clients)]
        tasks.append(asyncio.create_task(_post(client, _report(chance, 10**8 + n), latencies)))
    await asyncio.gather(*tasks)
    return latencies


async def intake_reports(ctx: Context) -> Sequence[Figure]:
    seconds = max(3.0, 2 * ctx.sizes.timed_s)
    async with _intake_service(ctx) as url:
        host, _, port = url.removeprefix("http://").partition(":")
        # Raw keep-alive connections: an httpx client would cost the shared cores more than the
        # service does (about a millisecond per request), and one httpx pool for many
        # connections tops out near 140 requests/s here.
        clients = [await Connection.open(host, int(port)) for _ in range(_CONCURRENCY)]
        try:
            await _peak(clients, 1.0)  # warm-up: connections, caches, the writer's first commits
            count, elapsed, _ = await _peak(clients, seconds)
            peak = rate(count, elapsed)
            half = await _paced(clients, peak / 2, seconds)
        finally:
            for client in clients:
                await client.close()
    return [
        Figure(
            name="intake_reports_per_s",
            value=peak,
            unit="reports/s",
            limit_of=("pg_single_insert_commit_per_s",),
            goal=Goal(at_least=1.0, on_ratio=True),
        ),
        Figure(name="intake_half_peak_latency_p50_ms", value=percentile(half, 50), unit="ms"),
        Figure(name="intake_half_peak_latency_p99_ms", value=percentile(half, 99), unit="ms", goal=Goal(at_most=50)),
    ]


BENCHMARKS = (intake_reports,)
