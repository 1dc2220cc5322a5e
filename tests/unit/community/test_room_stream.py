"""A live room: history then new messages, community changes, the end of access, keep-alives,
and a reader too slow to keep up, from one watcher over the log (in memory here)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from services.community.application import CommunityApplication
from services.community.room_stream import AccessEnded, Ping, RoomUpdate, RoomWatch
from services.community.rooms import post_message
from services.community.view import Community, CommunityView, community_id
from shared.events.community import (
    CandidateScore,
    CommunityAssembled,
    InvitationAccepted,
    MemberInvited,
    MemberReleased,
    MessagePosted,
    SeatPlanned,
)

EXPERT = "EXP-001"
AT = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)


async def room(queue_size: int = 256) -> tuple[CommunityApplication, RoomWatch, UUID]:
    """A fire's community with one invited expert, and a watcher started on its log."""
    app = CommunityApplication()
    incident = uuid4()
    stream = community_id(incident)
    app.record(
        CommunityAssembled(
            originator_id=stream,
            originator_version=1,
            incident_id=incident,
            disaster_type="fire",
            severity="moderate",
            policy_version="test",
            seats=[SeatPlanned("fire", 1, 15)],
            departments=["FS-11440"],
        ),
        MemberInvited(
            originator_id=stream,
            originator_version=2,
            incident_id=incident,
            expert_id=EXPERT,
            seat_field="fire",
            rank=1,
            score=CandidateScore(EXPERT, 1.0),
            expires_at=AT,
        ),
    )
    watch = RoomWatch(app, CommunityView(app.recorder), queue_size=queue_size)
    await watch.start()
    return app, watch, incident


def say(app: CommunityApplication, incident: UUID, text: str) -> None:
    post_message(app, incident, author="operator:alice", text=text)


def text(update: RoomUpdate) -> str:
    assert isinstance(update, MessagePosted)
    return update.text


async def test_a_member_gets_the_community_then_the_history_then_each_new_message() -> None:
    app, watch, incident = await room()
    _, _, elsewhere = await room()
    say(app, incident, "one")
    say(app, incident, "two")
    stream = watch.follow(incident, "expert", EXPERT)
    assert isinstance(await anext(stream), Community)
    assert [text(await anext(stream)), text(await anext(stream))] == ["one", "two"]
    say(app, elsewhere, "another room")
    say(app, incident, "three")
    await watch.pump()
    assert text(await anext(stream)) == "three"
    await stream.aclose()  # the client went away
    assert not watch._subscribers


async def test_a_reconnecting_reader_resumes_after_its_last_message() -> None:
    app, watch, incident = await room()
    for word in ("one", "two", "three"):
        say(app, incident, word)
    stream = watch.follow(incident, "operator", "alice", after=2)
    await anext(stream)  # the community
    assert text(await anext(stream)) == "three"
    await stream.aclose()  # the client went away
    assert not watch._subscribers


async def test_a_changed_community_is_sent_and_a_released_expert_is_let_go_with_the_reason() -> None:
    app, watch, incident = await room()
    stream = watch.follow(incident, "expert", EXPERT)
    await anext(stream)
    stream_id = community_id(incident)
    app.record(
        InvitationAccepted(
            originator_id=stream_id, originator_version=3, incident_id=incident, expert_id=EXPERT, seat_field="fire"
        )
    )
    await watch.pump()
    changed = await anext(stream)
    assert isinstance(changed, Community)
    assert changed.filled("fire") == 1
    app.record(
        MemberReleased(
            originator_id=stream_id, originator_version=4, incident_id=incident, expert_id=EXPERT, seat_field="fire"
        )
    )
    await watch.pump()
    assert await anext(stream) == AccessEnded("released")
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_a_stranger_is_told_at_once_and_the_stream_ends() -> None:
    _, watch, incident = await room()
    stream = watch.follow(incident, "expert", "EXP-999")
    assert await anext(stream) == AccessEnded("not_invited")
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_a_quiet_room_sends_keep_alives() -> None:
    _, watch, incident = await room()
    stream = watch.follow(incident, "operator", "alice", ping_s=0.01)
    await anext(stream)
    assert await anext(stream) == Ping()
    await stream.aclose()


async def test_a_reader_too_slow_to_keep_up_is_disconnected_rather_than_buffered() -> None:
    app, watch, incident = await room(queue_size=2)
    say(app, incident, "read")
    stream: AsyncIterator[RoomUpdate] = watch.follow(incident, "operator", "alice")
    await anext(stream)
    assert text(await anext(stream)) == "read"
    for n in range(5):  # while the reader is busy elsewhere
        say(app, incident, f"unread {n}")
    await watch.pump()
    with pytest.raises(StopAsyncIteration):  # it reconnects with its Last-Event-ID
        await anext(stream)
    assert not watch._subscribers
