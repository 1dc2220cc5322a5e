"""The shared event log on real PostgreSQL and JetStream: relay, consumers, parking."""

from __future__ import annotations

import asyncio

import msgspec
import psycopg
from nats.aio.client import Client

from shared.consumer import StreamConsumer
from shared.events import CODEC, ProbeEchoed
from shared.probes import echo_probe, new_probe, probe_subjects
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.pipeline import Running, eventually, relay_for, service_app, stream_messages, unique_service


def echoes_in(app: object) -> list[ProbeEchoed]:
    notifications = app.recorder.select_notifications(0, 100_000)  # type: ignore[attr-defined]
    events = [CODEC.decode(n.state) for n in notifications]
    return [e for e in events if isinstance(e, ProbeEchoed)]


async def test_every_committed_event_reaches_the_stream_once_with_its_position(
    nc: Client, database: DatabaseSettings, nats_settings: NatsSettings
) -> None:
    app = service_app(unique_service("src"), database)
    for _ in range(5):
        app.record(*[new_probe("bulk") for _ in range(100)])
    app.record(new_probe("single"))
    relay = relay_for(app, nc.jetstream(), database, nats_settings)
    running = Running.start(relay.run)
    await eventually(lambda: relay.stats.position == app.recorder.max_notification_id(), what="relay to catch up")
    await running.finish()

    messages = await stream_messages(nc, nats_settings.stream, f"jikimi.{app.service}.>")
    positions = [n.id for n in app.recorder.select_notifications(0, 1000)]
    assert [msg_id for msg_id, _ in messages] == [f"{app.service}:{p}" for p in positions]
    events = [CODEC.decode(payload) for _, payload in messages]
    assert [e.position for e in events] == positions
    assert all(e.service == app.service for e in events)
    assert relay.stats.published == 501
    assert relay.stats.duplicates == 0


async def test_a_restarted_relay_publishes_nothing_twice(
    nc: Client, database: DatabaseSettings, nats_settings: NatsSettings
) -> None:
    app = service_app(unique_service("src"), database)
    app.record(*[new_probe() for _ in range(50)])
    first = relay_for(app, nc.jetstream(), database, nats_settings)
    running = Running.start(first.run)
    await eventually(lambda: first.stats.position == 50)
    await running.finish()

    app.record(*[new_probe() for _ in range(30)])
    second = relay_for(app, nc.jetstream(), database, nats_settings)
    running = Running.start(second.run)
    await eventually(lambda: second.stats.position == 80)
    await running.finish()

    assert (second.stats.published, second.stats.duplicates) == (30, 0)
    assert len(await stream_messages(nc, nats_settings.stream, f"jikimi.{app.service}.>")) == 80


async def test_a_relay_that_lost_its_recorded_position_resumes_after_its_last_message_in_the_stream(
    nc: Client, database: DatabaseSettings, nats_settings: NatsSettings
) -> None:
    # As after a crash between the acknowledgement and the position's commit, long enough
    # ago that JetStream's duplicate window no longer covers it.
    app = service_app(unique_service("src"), database)
    app.record(*[new_probe() for _ in range(40)])
    first = relay_for(app, nc.jetstream(), database, nats_settings)
    running = Running.start(first.run)
    await eventually(lambda: first.stats.position == 40)
    await running.finish()
    with psycopg.connect(database.url, autocommit=True) as conn:
        conn.execute(f"DELETE FROM {app.service}_relay_tracking")  # noqa: S608 -- a test's own table name

    app.record(*[new_probe() for _ in range(10)])
    second = relay_for(app, nc.jetstream(), database, nats_settings)
    assert await second.resume_position() == 40
    running = Running.start(second.run)
    await eventually(lambda: second.stats.position == 50)
    await running.finish()
    assert (second.stats.published, second.stats.duplicates) == (10, 0)


async def test_a_consumer_turns_each_upstream_event_into_exactly_one_new_event(
    nc: Client, database: DatabaseSettings, nats_settings: NatsSettings
) -> None:
    source = service_app(unique_service("src"), database)
    target = service_app(unique_service("dst"), database)
    for _ in range(3):
        source.record(*[new_probe() for _ in range(200)])
    js = nc.jetstream()
    relay = relay_for(source, js, database, nats_settings)
    consumer = StreamConsumer(
        target,
        js,
        name="probes",
        subjects=probe_subjects(target.service, [source.service]),
        handler=echo_probe(target.service),
        stream=nats_settings.stream,
    )
    running = Running.start(relay.run, consumer.run)
    await eventually(lambda: consumer.stats.processed == 600, what="600 echoes")
    await running.finish()

    echoes = echoes_in(target)
    assert len(echoes) == 600
    assert len({e.probe_id for e in echoes}) == 600
    assert {e.probe_service for e in echoes} == {source.service}


async def test_two_instances_of_a_service_share_its_consumer_and_process_each_event_once(
    nc: Client, database: DatabaseSettings, nats_settings: NatsSettings
) -> None:
    source = service_app(unique_service("src"), database)
    name = unique_service("dst")
    first, second = service_app(name, database), service_app(name, database)
    js = nc.jetstream()

    def instance(app: object) -> StreamConsumer:
        return StreamConsumer(
            app,
            js,
            name="probes",
            subjects=probe_subjects(name, [source.service]),  # type: ignore[arg-type]
            handler=echo_probe(name),
            stream=nats_settings.stream,
            batch_size=20,
        )

    a, b = instance(first), instance(second)
    running = Running.start(a.run, b.run, relay_for(source, js, database, nats_settings).run)
    for _ in range(40):
        source.record(*[new_probe() for _ in range(25)])
        await asyncio.sleep(0.005)
    await eventually(lambda: a.stats.processed + b.stats.processed + a.stats.redelivered + b.stats.redelivered >= 1000)
    await running.finish()

    echoes = echoes_in(first)
    assert len(echoes) == 1000
    assert len({e.probe_id for e in echoes}) == 1000
    assert a.stats.processed > 0
    assert b.stats.processed > 0


async def test_a_message_nobody_can_decode_is_parked_and_the_consumer_goes_on(
    nc: Client, database: DatabaseSettings, nats_settings: NatsSettings
) -> None:
    source = unique_service("src")
    target = service_app(unique_service("dst"), database)
    js = nc.jetstream()
    subject = probe_subjects(target.service, [source])[0]
    await js.publish(
        subject, b'{"type": "system.probe_sent", "originator_id": "not a uuid"}', headers={"Nats-Msg-Id": f"{source}:1"}
    )
    good = msgspec.structs.replace(new_probe(), service=source, position=2)
    from shared.events import encode

    await js.publish(subject, encode(good), headers={"Nats-Msg-Id": f"{source}:2"})
    consumer = StreamConsumer(
        target, js, name="probes", subjects=[subject], handler=echo_probe(target.service), stream=nats_settings.stream
    )
    running = Running.start(consumer.run)
    await eventually(lambda: consumer.stats.processed == 1 and consumer.stats.parked == 1)
    await running.finish()

    [echo] = echoes_in(target)
    assert echo.probe_id == good.id
    parked = await stream_messages(nc, f"{nats_settings.stream}_PARKED", f"parked.{target.service}.>")
    assert [msg_id for msg_id, _ in parked] == [f"{source}:1"]
