"""Exactly-once processing, on the in-memory event store with a fake JetStream."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
import pytest

from shared.consumer import StreamConsumer
from shared.eventlog.application import ServiceApplication
from shared.events import Event, ProbeEchoed, ProbeSent
from shared.probes import echo_probe, new_probe
from tests.unit.fakes import FakeJetStream, FakeMsg


class Community(ServiceApplication):
    name = "community"


def published(event: Event, position: int, service: str = "intake") -> Event:
    return msgspec.structs.replace(event, service=service, position=position)


def probes(count: int, first_position: int = 1) -> list[FakeMsg]:
    return [FakeMsg.of(published(new_probe(), first_position + i), first_position + i) for i in range(count)]


def consumer(app: ServiceApplication, handler: Any = None, **options: Any) -> tuple[StreamConsumer, FakeJetStream]:
    js = FakeJetStream()
    handler = handler or echo_probe(app.service)
    return StreamConsumer(
        app,
        js,
        name="probes",
        subjects=["jikimi.*.probe_sent"],
        handler=handler,  # type: ignore[arg-type]
        stream="JIKIMI",
        **options,
    ), js


def echoes(app: ServiceApplication) -> list[ProbeEchoed]:
    found = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(0, 10_000)]
    return [e for e in found if isinstance(e, ProbeEchoed)]


async def test_a_batch_of_events_is_committed_together_and_acknowledged() -> None:
    app = Community()
    worker, _ = consumer(app)
    msgs = probes(5)
    await worker.process(msgs)  # type: ignore[arg-type]
    assert sorted(e.probe_position for e in echoes(app)) == [1, 2, 3, 4, 5]
    assert all(e.service == "community" and e.echoed_by == "community" for e in echoes(app))
    assert [m.answers for m in msgs] == [["ack"]] * 5
    assert worker.stats.batches == 1


async def test_a_redelivered_batch_changes_nothing_and_is_acknowledged_again() -> None:
    app = Community()
    worker, _ = consumer(app)
    msgs = probes(4)
    await worker.process(msgs)  # type: ignore[arg-type]
    again = [FakeMsg(m.data, m.subject, m.metadata, m.headers) for m in msgs]
    await worker.process(again)  # type: ignore[arg-type]
    assert len(echoes(app)) == 4
    assert [m.answers for m in again] == [["ack"]] * 4
    assert worker.stats.redelivered == 4


async def test_a_batch_mixing_new_and_already_processed_events_processes_only_the_new() -> None:
    app = Community()
    worker, _ = consumer(app)
    msgs = probes(6)
    await worker.process(msgs[1:3])  # type: ignore[arg-type]
    await worker.process(msgs)  # type: ignore[arg-type]
    assert sorted(e.probe_position for e in echoes(app)) == [1, 2, 3, 4, 5, 6]
    assert worker.stats.redelivered == 2


async def test_the_same_position_from_two_services_is_two_different_events() -> None:
    app = Community()
    worker, _ = consumer(app)
    from_intake = FakeMsg.of(published(new_probe(), 1, "intake"), 1)
    from_broadcast = FakeMsg.of(published(new_probe(), 1, "broadcast"), 2)
    await worker.process([from_intake, from_broadcast])  # type: ignore[list-item]
    assert sorted(e.probe_service for e in echoes(app)) == ["broadcast", "intake"]


async def test_an_undecodable_message_is_parked_and_the_rest_go_on() -> None:
    app = Community()
    worker, js = consumer(app)
    msgs = probes(2)
    garbage = FakeMsg(b'{"type": "nobody.knows_me"}', "jikimi.intake.knows_me", msgs[0].metadata)
    await worker.process([msgs[0], garbage, msgs[1]])  # type: ignore[list-item]
    assert len(echoes(app)) == 2
    assert garbage.answers == ["term"]
    [(subject, payload, headers)] = js.published
    assert subject == "parked.community.community-probes"
    assert payload == garbage.data
    assert headers["Jikimi-Original-Subject"] == "jikimi.intake.knows_me"
    assert "undecodable" in headers["Jikimi-Parked-Reason"]


def failing_on(position: int) -> Any:
    echo = echo_probe("community")

    def handle(event: Event) -> Sequence[Event]:
        if event.position == position:
            raise RuntimeError("the handler has a bug")
        return echo(event)

    return handle


async def test_a_failing_event_is_retried_later_without_holding_up_the_others() -> None:
    app = Community()
    worker, js = consumer(app, failing_on(2), max_attempts=3)
    msgs = probes(3)
    await worker.process(msgs)  # type: ignore[arg-type]
    assert sorted(e.probe_position for e in echoes(app)) == [1, 3]
    assert msgs[1].answers == ["nak 1.0"]
    assert js.published == []


async def test_an_event_failing_on_its_last_attempt_is_parked_not_dropped() -> None:
    app = Community()
    worker, js = consumer(app, failing_on(1), max_attempts=3)
    [msg] = probes(1)
    msg.metadata.num_delivered = 3
    await worker.process([msg])  # type: ignore[list-item]
    assert msg.answers == ["term"]
    assert "the handler has a bug" in js.published[0][2]["Jikimi-Parked-Reason"]
    assert worker.stats.parked == 1


def counter_handler(app: ServiceApplication, stream: UUID) -> Any:
    """Appends one echo per probe to a single stream: each event depends on the one before."""

    def handle(event: Event) -> Sequence[Event]:
        version = len(app.get_stream(stream)) if app.recorder.select_events(stream) else 0
        return [ProbeEchoed(originator_id=stream, originator_version=version + 1, probe_position=event.position)]

    return handle


async def test_events_of_one_batch_touching_one_stream_are_committed_one_after_another() -> None:
    app = Community()
    stream = uuid5(NAMESPACE_URL, "jikimi:test:counter")
    worker, _ = consumer(app, counter_handler(app, stream))
    msgs = probes(3)
    await worker.process(msgs)  # type: ignore[arg-type]
    written = app.get_stream(stream)
    assert [e.originator_version for e in written] == [1, 2, 3]
    assert sorted(e.probe_position for e in written if isinstance(e, ProbeEchoed)) == [1, 2, 3]
    assert [m.answers for m in msgs] == [["ack"]] * 3


@pytest.mark.parametrize("kind", [ProbeSent])
def test_probe_echo_ids_are_derived_from_the_probe(kind: type[Event]) -> None:
    probe = published(new_probe(), 4)
    assert echo_probe("community")(probe)[0].originator_id == echo_probe("community")(probe)[0].originator_id
    assert echo_probe("community")(probe)[0].originator_id != echo_probe("broadcast")(probe)[0].originator_id
    assert isinstance(probe, kind)


async def test_redeliveries_already_processed_are_acknowledged_without_a_second_commit() -> None:
    app = Community()
    worker, _ = consumer(app)
    msgs = probes(3)
    await worker.process(msgs[:2])  # type: ignore[arg-type]
    redelivered = [FakeMsg(m.data, m.subject, m.metadata, m.headers) for m in msgs]
    for m in redelivered[:2]:
        m.metadata.num_delivered = 2
    batches_before = worker.stats.batches
    await worker.process(redelivered)  # type: ignore[arg-type]
    assert [m.answers for m in redelivered] == [["ack"]] * 3
    assert worker.stats.redelivered == 2
    assert worker.stats.batches == batches_before + 1  # the new one, committed as a batch of its own
    assert sorted(e.probe_position for e in echoes(app)) == [1, 2, 3]


async def test_two_consumers_of_one_service_each_process_the_same_upstream_event() -> None:
    """Broadcast's briefings and its invitations both read community's MemberInvited: the one
    that runs second must not take the event for one it already processed."""
    app = Community()
    first, _ = consumer(app)
    second = StreamConsumer(
        app,
        FakeJetStream(),
        name="probes-again",
        subjects=["jikimi.*.probe_sent"],
        handler=lambda e: [  # type: ignore[arg-type]
            msgspec.structs.replace(r, originator_id=uuid5(NAMESPACE_URL, f"again:{r.originator_id}"))
            for r in echo_probe(app.service)(e)
        ],
        stream="JIKIMI",
    )
    [msg] = probes(1)
    await first.process([msg])  # type: ignore[list-item]
    await second.process([msg])  # type: ignore[list-item]
    assert second.stats.processed == 1
    assert second.stats.redelivered == 0
    assert len(echoes(app)) == 2
