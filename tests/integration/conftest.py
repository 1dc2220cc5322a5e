"""Integration fixtures on top of the session's real servers (see tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from nats.aio.client import Client

from shared.settings import DatabaseSettings, NatsSettings
from shared.stream import connect, ensure_stream


@pytest.fixture(scope="session")
def database(database_url: str) -> DatabaseSettings:
    return DatabaseSettings(url=database_url, pool_size=4)


@pytest.fixture(scope="session")
def nats_settings(nats_server: Any) -> NatsSettings:
    return NatsSettings(url=nats_server.url)


@pytest.fixture
async def nc(nats_settings: NatsSettings) -> AsyncIterator[Client]:
    client = await connect(nats_settings, name="jikimi-tests")
    await ensure_stream(client.jetstream(), nats_settings)
    yield client
    await client.close()
