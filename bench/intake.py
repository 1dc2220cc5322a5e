"""Intake over HTTP: reports/s accepted, each committed before its 201, and latency at half the peak.

The intake service runs as its own process (uvicorn, one worker), on the bench's database and
NATS; this process is the load: many concurrent citizens posting ``/reports``. The raw limit
beside the peak is PostgreSQL's single-row INSERT+COMMIT/s measured in the same run: intake
beats it only because concurrent reports share a commit.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from pathlib import Path

import msgspec

from bench.figures import Context, Figure, Goal, percentile, rate
from bench.httpload import Connection
from bench.services import service_process

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
    async with service_process(ctx, "intake") as url:
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
