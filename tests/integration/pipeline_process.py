"""A relay or a consumer in a process of its own, for tests that SIGKILL it.

    python -m tests.integration.pipeline_process relay SERVICE
    python -m tests.integration.pipeline_process consumer SERVICE UPSTREAM

Servers come from JIKIMI_DATABASE_URL, JIKIMI_NATS_URL and JIKIMI_NATS_STREAM.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any
from uuid import uuid4

import msgspec

from shared.consumer import StreamConsumer
from shared.events import Event
from shared.logging import configure_logging
from shared.probes import echo_probe, probe_subjects
from shared.settings import DatabaseSettings, NatsSettings
from shared.stream import connect
from tests.integration.pipeline import relay_for, service_app


def echo_with_random_ids(service: str):  # type: ignore[no-untyped-def]
    """Echoes whose ids are NOT derived from the probe: only tracking keeps them single."""
    echo = echo_probe(service)

    def handle(event: Event) -> Sequence[Event]:
        time.sleep(0.001)  # slow enough that the kills land mid-batch
        return [msgspec.structs.replace(e, originator_id=uuid4()) for e in echo(event)]

    return handle


class SlowToAcknowledge(StreamConsumer):
    """Waits a little between its commit and its acknowledgements, as over a slow network,
    so that kills land in that window too (where only tracking prevents a second commit)."""

    def _commit(self, items: Sequence[Any]) -> None:
        super()._commit(items)
        if len(items) > 1:  # a batch's acknowledgements, not each of a fallback's
            time.sleep(0.03)


async def main(role: str, service: str, upstream: str = "") -> None:
    configure_logging("warning")
    database, nats_settings = DatabaseSettings.from_env(), NatsSettings.from_env()
    app = service_app(service, database)
    nc = await connect(nats_settings, name=f"test-{role}")
    js = nc.jetstream()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if role == "relay":
        await relay_for(app, js, database, nats_settings).run(stop)
    else:
        consumer = SlowToAcknowledge(
            app,
            js,
            name="crash",
            subjects=probe_subjects(service, [upstream]),
            handler=echo_with_random_ids(service),
            stream=nats_settings.stream,
            batch_size=50,
            ack_wait_s=2.0,
        )
        await consumer.run(stop)
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
