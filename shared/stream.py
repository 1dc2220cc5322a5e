"""The one JetStream stream every service publishes to, and how to reach it."""

from __future__ import annotations

from typing import Any

import nats
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from shared.settings import NatsSettings

__all__ = ["SUBJECTS", "connect", "ensure_stream", "fetch_ready", "stream_config"]

log = structlog.get_logger()

SUBJECTS = "jikimi.>"


def stream_config(settings: NatsSettings) -> StreamConfig:
    """File storage, replicated as configured, kept for ever (the log is the audit trail);
    delete and purge are refused so nobody can quietly rewrite history."""
    return StreamConfig(
        name=settings.stream,
        subjects=[SUBJECTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        num_replicas=settings.replicas,
        duplicate_window=settings.duplicate_window_s,
        deny_delete=True,
        deny_purge=True,
        allow_direct=True,
    )


async def _error_cb(error: Exception) -> None:
    log.warning("nats_connection_error", error=str(error))


async def connect(settings: NatsSettings, *, name: str) -> Client:
    """A NATS connection that reconnects for ever and logs its troubles instead of printing."""
    options: dict[str, Any] = {
        "name": name,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 0.25,
        "error_cb": _error_cb,
    }
    return await nats.connect(settings.servers, **options)


async def ensure_stream(js: JetStreamContext, settings: NatsSettings) -> None:
    """Create the stream (and its ``parked.>`` twin for messages no consumer could handle),
    or bring an existing one's settings up to date."""
    config = stream_config(settings)
    try:
        await js.stream_info(settings.stream)
    except NotFoundError:
        await js.add_stream(config)
        log.info("stream_created", stream=settings.stream, replicas=settings.replicas)
    else:
        await js.update_stream(config)
    parked = StreamConfig(
        name=f"{settings.stream}_PARKED",
        subjects=["parked.>"],
        storage=StorageType.FILE,
        num_replicas=settings.replicas,
    )
    try:
        await js.stream_info(parked.name or "")
    except NotFoundError:
        await js.add_stream(parked)


async def fetch_ready(psub: JetStreamContext.PullSubscription, batch: int) -> list[Msg]:
    """Wait (up to 0.5 s) for one message, then take what else is ready, up to ``batch``, without
    waiting for a full batch.

    nats-py's fetch(n) lingers until n messages or its timeout once nothing was ready at the time
    of asking, which turns a trickle of events into half-second delays."""
    try:
        first = await psub.fetch(1, timeout=0.5)
    except (TimeoutError, NatsTimeoutError):
        return []
    try:
        # Ready messages come back on the no-wait request; a tiny timeout ends the lingering one.
        more = await psub.fetch(batch - 1, timeout=0.002)
    except (TimeoutError, NatsTimeoutError):
        more = []
    return [*first, *more]
