"""Integration fixtures on top of the session's real servers (see tests/conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from shared.settings import DatabaseSettings, NatsSettings
from shared.stream import connect, ensure_stream
from tests.conftest import own_database


@pytest.fixture(scope="module")
def database(postgres_server_url: str) -> Iterator[DatabaseSettings]:
    """A database for each test module: what one module's incidents did to the expert pool (its
    load, its availability) or to the services' logs is not another module's starting point."""
    with own_database(postgres_server_url) as url:
        yield DatabaseSettings(url=url, pool_size=4)


@pytest.fixture(scope="module")
def nats_settings(nats_server: Any, database: DatabaseSettings) -> NatsSettings:
    """The session's NATS server with the streams emptied for the module (they follow the module's
    database: a relay resumes after the last message of its service in the stream)."""
    settings = NatsSettings(url=nats_server.url)
    asyncio.run(_delete_streams(settings))
    return settings


async def _delete_streams(settings: NatsSettings) -> None:
    client = await connect(settings, name="jikimi-tests-reset")
    try:
        for stream in (settings.stream, f"{settings.stream}_PARKED"):
            with contextlib.suppress(NotFoundError):
                await client.jetstream().delete_stream(stream)
    finally:
        await client.close()


@pytest.fixture
async def nc(nats_settings: NatsSettings) -> AsyncIterator[Client]:
    client = await connect(nats_settings, name="jikimi-tests")
    await ensure_stream(client.jetstream(), nats_settings)
    yield client
    await client.close()
