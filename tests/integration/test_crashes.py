"""Kill -9 the relay and the consumer at random moments: nothing lost, nothing twice.

JetStream's duplicate window is cut to its minimum (100 ms) on this test's own server, so
the stream's de-duplication cannot hide a relay that republishes after a restart.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from jikimi.embedded import NatsProcess, free_port
from shared.events import CODEC, ProbeEchoed
from shared.probes import new_probe
from shared.settings import DatabaseSettings, NatsSettings
from shared.stream import connect, ensure_stream
from tests.integration.pipeline import Running, eventually, relay_for, service_app, stream_messages, unique_service

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def crash_nats(tmp_path: Path) -> Iterator[NatsSettings]:
    server = NatsProcess.start(port=free_port(), store_dir=tmp_path / "nats", monitor_port=free_port())
    try:
        yield NatsSettings(url=server.url, duplicate_window_s=0.1)
    finally:
        server.stop()


@pytest.fixture
async def crash_nc(crash_nats: NatsSettings) -> AsyncIterator[Client]:
    client = await connect(crash_nats, name="crash-tests")
    await ensure_stream(client.jetstream(), crash_nats)
    yield client
    await client.close()


def spawn(database: DatabaseSettings, nats: NatsSettings, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JIKIMI_DATABASE_URL": database.url,
        "JIKIMI_NATS_URL": nats.url,
        "JIKIMI_NATS_STREAM": nats.stream,
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen([sys.executable, "-m", "tests.integration.pipeline_process", *args], cwd=ROOT, env=env)


async def kill_repeatedly(
    database: DatabaseSettings,
    nats: NatsSettings,
    args: tuple[str, ...],
    *,
    kills: int,
    progress: Callable[[], int],
    done: int,
) -> subprocess.Popen[bytes]:
    """Start the process; ``kills`` times, once it has made progress since its last start and
    before it is done, SIGKILL it at a random moment and start it again."""
    chance = random.Random(20261125)  # noqa: S311 -- moments to kill, not secrets
    process = spawn(database, nats, *args)
    for _ in range(kills):
        at_start = progress()
        await eventually(lambda: progress() > at_start, timeout_s=30, what="progress before the kill")  # noqa: B023
        await asyncio.sleep(chance.uniform(0.0, 0.3))
        assert progress() < done, "the work finished before the kill: make it longer"
        process.send_signal(signal.SIGKILL)
        process.wait()
        process = spawn(database, nats, *args)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def test_a_relay_killed_three_times_while_2000_events_are_written_publishes_each_exactly_once(
    crash_nc: Client, crash_nats: NatsSettings, database: DatabaseSettings
) -> None:
    app = service_app(unique_service("crash"), database)

    def write() -> None:
        for _ in range(400):  # 2,000 events in small transactions over a few seconds
            app.record(*[new_probe() for _ in range(5)])
            time.sleep(0.012)

    writer = threading.Thread(target=write)
    writer.start()
    subject = f"jikimi.{app.service}.>"
    js = crash_nc.jetstream()
    counted = [0]

    async def published() -> int:
        info = await js.stream_info(crash_nats.stream, subjects_filter=subject)
        counted[0] = sum((info.state.subjects or {}).values())
        return counted[0]

    async def count_continually() -> None:
        while writer.is_alive():
            await published()
            await asyncio.sleep(0.02)

    counting = asyncio.create_task(count_continually())
    process = await kill_repeatedly(
        database, crash_nats, ("relay", app.service), kills=3, progress=lambda: counted[0], done=2000
    )
    await asyncio.to_thread(writer.join)
    await counting
    try:
        for _ in range(600):
            if await published() >= 2000:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # would a duplicate still arrive?
    finally:
        stop(process)

    messages = await stream_messages(crash_nc, crash_nats.stream, subject)
    positions = [n.id for n in app.recorder.select_notifications(0, 10_000)]
    assert len(positions) == 2000
    assert sorted(msg_id for msg_id, _ in messages) == sorted(f"{app.service}:{p}" for p in positions)


async def test_a_consumer_killed_mid_batch_three_times_causes_no_duplicate_side_effects(
    crash_nc: Client, crash_nats: NatsSettings, database: DatabaseSettings
) -> None:
    source = service_app(unique_service("up"), database)
    target = service_app(unique_service("down"), database)
    for _ in range(20):
        source.record(*[new_probe() for _ in range(100)])
    relay = relay_for(source, crash_nc.jetstream(), database, crash_nats)
    running = Running.start(relay.run)
    await eventually(lambda: relay.stats.position == 2000)
    await running.finish()

    def echoes() -> list[ProbeEchoed]:
        found = [CODEC.decode(n.state) for n in target.recorder.select_notifications(0, 100_000)]
        return [e for e in found if isinstance(e, ProbeEchoed)]

    process = await kill_repeatedly(
        database,
        crash_nats,
        ("consumer", target.service, source.service),
        kills=3,
        progress=lambda: len(echoes()),
        done=2000,
    )
    try:
        try:
            await eventually(lambda: len(echoes()) >= 2000, timeout_s=60, what="2000 echoes")
        except AssertionError:
            info = await crash_nc.jetstream().consumer_info(crash_nats.stream, f"{target.service}-crash")
            raise AssertionError(f"{len(echoes())} echoes; consumer: {info}; process: {process.poll()}") from None
        await asyncio.sleep(2.5)  # past the ack wait: would a redelivery add anything?
    finally:
        stop(process)

    probe_ids = [e.probe_id for e in echoes()]
    assert len(probe_ids) == 2000
    assert len(set(probe_ids)) == 2000
