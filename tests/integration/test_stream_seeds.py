"""A cluster's seeds in JIKIMI_NATS_URL: a service reaches the stream through whichever seed
answers."""

from __future__ import annotations

from typing import Any

from jikimi.embedded.processes import free_port
from shared.settings import NatsSettings
from shared.stream import connect


def test_the_seeds_are_read_from_a_comma_separated_list() -> None:
    settings = NatsSettings(url=" nats://n1:4222, nats://n2:4222 ,nats://n3:4222,")
    assert settings.servers == ["nats://n1:4222", "nats://n2:4222", "nats://n3:4222"]


async def test_a_seed_that_does_not_answer_is_passed_over_for_one_that_does(nats_server: Any) -> None:
    dead = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    client = await connect(NatsSettings(url=f"{dead},{nats_server.url}"), name="jikimi-tests-seeds")
    try:
        assert client.is_connected
        assert client.connected_url is not None
        assert client.connected_url.port == int(nats_server.url.rsplit(":", 1)[1])
        info = await client.jetstream().account_info()
        assert info.limits is not None
    finally:
        await client.close()
