"""Members' live streams on the in-memory store: who gets a room message, resuming after the last
item seen, each item once, delivered when it reached a stream, acknowledged once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

from services.broadcast.application import BroadcastApplication
from services.broadcast.deliveries import DeliveryView
from services.broadcast.live import Lagged, LiveHub, LiveItem, fan_out, member_of
from shared.events import CODEC
from shared.events.broadcast import (
    DeliveryAcknowledged,
    DeliveryRequested,
    LiveFannedOut,
    LiveReached,
    live_delivery_id,
)
from shared.events.community import MessagePosted

AUDIENCE = ["expert:EXP-001", "expert:EXP-002", "department:FS-11440", "citizen:p_abc"]


def posted(text: str, author: str = "expert:EXP-001", number: int = 1, incident: object = None) -> MessagePosted:
    incident_id = incident or uuid4()
    return MessagePosted(
        originator_id=uuid4(),
        originator_version=number,
        incident_id=incident_id,  # type: ignore[arg-type]
        author=author,
        text=text,
        audience=AUDIENCE,
    )


def test_a_room_message_goes_live_to_every_member_but_its_author_once_as_one_event() -> None:
    message = posted("3층 진입", author="expert:EXP-001")
    [fan] = fan_out(message)
    assert isinstance(fan, LiveFannedOut)
    assert fan.members == [m for m in AUDIENCE if m != "expert:EXP-001"]
    assert (fan.kind, fan.text, fan.causation_id) == ("room_message", "3층 진입", message.id)
    assert [e.originator_id for e in fan_out(message)] == [fan.originator_id]  # redelivered: the same fan-out
    alone = MessagePosted(
        originator_id=uuid4(), originator_version=1, author="operator:op", text="x", audience=["operator:op"]
    )
    assert not fan_out(alone)  # nobody to tell


def test_whose_a_delivery_is() -> None:
    assert member_of("EXP-007", "invitation") == "expert:EXP-007"
    assert member_of("FS-11440", "briefing") == "department:FS-11440"
    assert member_of("operators", "seat_unfillable") == "operator:*"
    assert member_of("department:FS-11440", "room_message") == "department:FS-11440"


async def recorded_hub(*events: object) -> tuple[BroadcastApplication, LiveHub]:
    app = BroadcastApplication()
    if events:
        app.record(*events)  # type: ignore[arg-type]
    hub = LiveHub(app)
    await hub.start()
    return app, hub


async def take(items: AsyncIterator[LiveItem | Lagged], count: int) -> list[LiveItem | Lagged]:
    taken: list[LiveItem | Lagged] = []
    async with asyncio.timeout(5):
        async for item in items:
            taken.append(item)
            if len(taken) == count:
                break
    return taken


async def test_a_member_gets_their_history_then_new_items_in_order_and_resumes_after_the_last_seen() -> None:
    incident = uuid4()
    first, second = fan_out(posted("one", incident=incident)), fan_out(posted("two", number=2, incident=incident))
    app, hub = await recorded_hub(*first)
    stream = hub.follow(["department:FS-11440"])
    [one] = await take(stream, 1)
    app.record(*second)
    await hub.pump()
    [two] = await take(stream, 1)
    assert isinstance(one, LiveItem) and isinstance(two, LiveItem)
    assert (one.text, two.text) == ("one", "two")
    assert two.id > one.id
    await stream.aclose()
    resumed = hub.follow(["department:FS-11440"], after=one.id)
    [again] = await take(resumed, 1)
    assert isinstance(again, LiveItem) and again.id == two.id  # nothing before it, nothing twice
    await resumed.aclose()


async def test_an_item_reaching_an_open_stream_is_recorded_delivered_and_acknowledged_once() -> None:
    [fan] = fan_out(posted("불 꺼짐"))
    app, hub = await recorded_hub(fan)
    stream = hub.follow(["expert:EXP-002"])
    [item] = await take(stream, 1)
    await stream.aclose()
    await hub._record_reached()
    stored = [CODEC.decode(n.state) for n in app.recorder.select_notifications(0, 100)]
    [reached] = [e for e in stored if isinstance(e, LiveReached)]
    assert (reached.originator_id, reached.members) == (fan.originator_id, ["expert:EXP-002"])
    await hub._record_reached()  # nothing new reached: nothing recorded again
    assert len(app.recorder.select_notifications(0, 100)) == len(stored)
    assert isinstance(item, LiveItem)
    assert item.delivery_id == live_delivery_id(fan.originator_id, "expert:EXP-002")
    by = "expert:EXP-002"
    assert await hub.acknowledge([item.delivery_id], members=["expert:EXP-002"], by=by) == 1
    assert await hub.acknowledge([item.delivery_id], members=["expert:EXP-002"], by=by) == 0
    strangers = live_delivery_id(fan.originator_id, "citizen:p_abc")
    assert await hub.acknowledge([strangers], members=["expert:EXP-002"], by=by) == 0  # not theirs
    stored = [CODEC.decode(n.state) for n in app.recorder.select_notifications(0, 100)]
    assert len([e for e in stored if isinstance(e, DeliveryAcknowledged)]) == 1


async def test_who_has_not_seen_a_room_message_is_each_member_of_the_fan_out_not_acknowledged() -> None:
    incident = uuid4()
    [fan] = fan_out(posted("대피하세요", incident=incident))
    app, hub = await recorded_hub(fan)
    stream = hub.follow(["department:FS-11440"])
    [item] = await take(stream, 1)
    await stream.aclose()
    await hub._record_reached()
    assert isinstance(item, LiveItem)
    await hub.acknowledge([item.delivery_id], members=["department:FS-11440"], by="department:FS-11440")
    view = DeliveryView(app.recorder)
    view.catch_up()
    states = {d.recipient: (d.status, d.acknowledged_by) for d in view.of_incident(incident)}
    assert states == {
        "expert:EXP-002": ("pending", ""),  # no open stream: not reached
        "department:FS-11440": ("delivered", "department:FS-11440"),
        "citizen:p_abc": ("pending", ""),
    }


async def test_a_stream_that_falls_too_far_behind_is_cut_off_rather_than_buffered() -> None:
    app = BroadcastApplication()
    hub = LiveHub(app, queue_size=3)
    await hub.start()
    stream = hub.follow(["department:FS-11440"])
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)  # the stream is subscribed and waiting
    for n in range(10):
        app.record(*fan_out(posted(f"m{n}", number=n + 1)))
    await hub.pump()
    taken = [await first, *[item async for item in stream]]  # the stream ends by itself
    assert isinstance(taken[-1], Lagged)
    assert len(taken) <= 4


def test_a_requested_invitation_is_the_experts_item() -> None:
    """What an expert's token sees includes invitations addressed to their bare id."""
    request = DeliveryRequested(
        originator_id=uuid4(),
        originator_version=1,
        recipient="EXP-009",
        channel="telegram",
        kind="invitation",
        text="참여 요청: {link}",
    )
    assert member_of(request.recipient, request.kind) == "expert:EXP-009"


async def test_quiet_streams_get_keep_alives_between_items() -> None:
    app = BroadcastApplication()
    hub = LiveHub(app, poll_s=0.01, keep_alive_s=0.02)
    await hub.start()
    stop = asyncio.Event()
    following = asyncio.create_task(hub.run(stop))
    stream = hub.follow(["expert:EXP-002"])
    try:
        assert await take(stream, 2) == [None, None]
        app.record(*fan_out(posted("새 소식")))
        taken = await take(stream, 3)
        assert [i.text for i in taken if isinstance(i, LiveItem)] == ["새 소식"]
    finally:
        stop.set()
        await following
