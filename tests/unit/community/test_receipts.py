"""Broadcast's receipts for invitations: the seat shows where it reached the expert, or goes on."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import msgspec
import pytest

from services.broadcast.application import BroadcastApplication
from services.broadcast.channels import DeliveryError
from services.broadcast.deliveries import DeliveryView, Links, Sender
from services.broadcast.requests import CommunityRequests, operator_contacts
from services.community.application import CommunityApplication
from services.community.invitations import answer
from services.community.reactions import Reactions
from services.community.view import Community, CommunityView, community_id
from shared.consumer import StreamConsumer
from shared.events import CODEC, Event, utc_now
from shared.events.broadcast import DeliveryDelivered, DeliveryFailed, DeliveryRequested
from shared.events.community import InvitationDelivered, InvitationUndeliverable, MemberInvited, SeatUnfillable
from tests.unit.broadcast.test_deliveries import FakeChannel
from tests.unit.community.test_invitations import assembled_fire, run
from tests.unit.community.test_reactions import AT, DEPARTMENTS, POLICY, PRIVACY, from_intake, logged, opened, setup
from tests.unit.fakes import FakeMsg

REFUSED = DeliveryError("the channel answered 400", retryable=False)


def from_broadcast(event: Event, position: int, *, delivered: int = 1) -> FakeMsg:
    return FakeMsg.of(
        msgspec.structs.replace(event, service="broadcast", position=position), position, delivered=delivered
    )


def delivered(invited: MemberInvited, channel: str = "telegram", minutes: float = 1) -> DeliveryDelivered:
    return DeliveryDelivered(
        originator_id=uuid4(),
        originator_version=3,
        incident_id=invited.incident_id,
        recorded_at=AT + timedelta(minutes=minutes),
        attempt=1,
        channel=channel,
        kind="invitation",
        recipient=invited.expert_id,
    )


def failed(
    invited: MemberInvited, *, next_channel: str = "", retry: bool = False, minutes: float = 1
) -> DeliveryFailed:
    return DeliveryFailed(
        originator_id=uuid4(),
        originator_version=3,
        incident_id=invited.incident_id,
        recorded_at=AT + timedelta(minutes=minutes),
        attempt=1,
        channel="kakao",
        error="the channel answered 400",
        retry_at=AT + timedelta(minutes=minutes + 1) if retry or next_channel else None,
        next_channel=next_channel,
        kind="invitation",
        recipient=invited.expert_id,
    )


async def assembled() -> tuple[CommunityApplication, CommunityView, StreamConsumer, MemberInvited]:
    """A moderate fire's community: one fire seat, one expert invited to it."""
    app, view, consumer = setup()
    await consumer.process([from_intake(opened(kind="fire", severity="moderate"), 1)])  # type: ignore[list-item]
    [invited] = [e for e in logged(app) if isinstance(e, MemberInvited)]
    return app, view, consumer, invited


def community_of(view: CommunityView, invited: MemberInvited) -> Community:
    assert invited.incident_id is not None
    view.catch_up()
    return view.communities[community_id(invited.incident_id)]


async def test_a_delivered_invitation_shows_the_channel_it_reached_the_expert_on() -> None:
    app, view, consumer, invited = await assembled()
    await consumer.process([from_broadcast(delivered(invited, "kakao"), 1)])  # type: ignore[list-item]
    [receipt] = [e for e in logged(app) if isinstance(e, InvitationDelivered)]
    assert (receipt.expert_id, receipt.channel) == (invited.expert_id, "kakao")
    invitation = community_of(view, invited).invitations[invited.expert_id]
    assert (invitation.status, invitation.delivered_on) == ("invited", "kakao")  # still theirs to answer


async def test_an_invitation_is_marked_delivered_once_however_many_receipts_arrive() -> None:
    app, view, consumer, invited = await assembled()
    receipt = delivered(invited, "telegram")
    await consumer.process([from_broadcast(receipt, 1)])  # type: ignore[list-item]
    await consumer.process([from_broadcast(receipt, 1, delivered=2)])  # type: ignore[list-item]
    await consumer.process([from_broadcast(delivered(invited, "kakao", minutes=2), 2)])  # type: ignore[list-item]
    assert [e.channel for e in logged(app) if isinstance(e, InvitationDelivered)] == ["telegram"]
    assert community_of(view, invited).invitations[invited.expert_id].delivered_on == "telegram"


async def test_an_invitation_that_reached_nobody_passes_the_seat_to_the_next_candidate() -> None:
    app, view, consumer, invited = await assembled()
    await consumer.process([from_broadcast(failed(invited, minutes=2), 1)])  # type: ignore[list-item]
    [lost] = [e for e in logged(app) if isinstance(e, InvitationUndeliverable)]
    assert (lost.expert_id, lost.seat_field) == (invited.expert_id, "fire")
    assert "400" in lost.error
    [_, following] = [e for e in logged(app) if isinstance(e, MemberInvited)]
    assert following.expert_id != invited.expert_id
    assert (following.seat_field, following.rank) == ("fire", 2)
    assert following.expires_at == AT + timedelta(minutes=2 + 15)  # a full window from when it was lost
    assert following.contacts  # broadcast is told where to reach them
    community = community_of(view, invited)
    assert community.invitations[invited.expert_id].status == "undeliverable"
    assert not community.admits("expert", invited.expert_id)
    assert view.load()[invited.expert_id] == 0  # the unreachable expert is free for other incidents
    assert community.pending("fire") == 1


@pytest.mark.parametrize(
    ("next_channel", "retry"), [("telegram", False), ("", True)], ids=["falls-back", "tried-again"]
)
async def test_a_failure_that_broadcast_has_not_given_up_on_changes_nothing(next_channel: str, retry: bool) -> None:
    app, view, consumer, invited = await assembled()
    before = logged(app)
    receipt = failed(invited, next_channel=next_channel, retry=retry)
    assert not receipt.final
    await consumer.process([from_broadcast(receipt, 1)])  # type: ignore[list-item]
    assert logged(app) == before
    assert community_of(view, invited).invitations[invited.expert_id].status == "invited"


async def test_receipts_for_unknown_incidents_uninvited_experts_or_other_messages_change_nothing() -> None:
    app, _, consumer, invited = await assembled()
    before = logged(app)
    receipts: list[Event] = [
        msgspec.structs.replace(failed(invited), incident_id=uuid4()),
        msgspec.structs.replace(failed(invited), recipient="EXP-999"),
        msgspec.structs.replace(failed(invited), kind="release_notice"),
        msgspec.structs.replace(delivered(invited), kind="reporter_notice"),
        msgspec.structs.replace(delivered(invited), incident_id=None),
    ]
    await consumer.process([from_broadcast(r, n) for n, r in enumerate(receipts, start=1)])  # type: ignore[misc]
    assert logged(app) == before


async def test_a_receipt_after_the_expert_answered_changes_nothing() -> None:
    service, incident, [invited] = await assembled_fire()
    run(service, answer(incident.originator_id, invited.expert_id, accept=True, by="expert", reason=""), 1)  # type: ignore[attr-defined]
    reactions = Reactions(service.view, DEPARTMENTS, POLICY)
    assert reactions.handle(failed(invited, minutes=2)) == []
    assert reactions.handle(delivered(invited, minutes=2)) == []
    community = community_of(service.view, invited)
    assert community.filled("fire") == 1


async def test_a_redelivered_undeliverable_receipt_asks_the_next_candidate_once() -> None:
    app, _, consumer, invited = await assembled()
    receipt = failed(invited, minutes=2)
    await consumer.process([from_broadcast(receipt, 1)])  # type: ignore[list-item]
    await consumer.process([from_broadcast(receipt, 1, delivered=2)])  # type: ignore[list-item]
    await consumer.process([from_broadcast(msgspec.structs.replace(receipt, id=uuid4()), 2)])  # type: ignore[list-item]
    events = logged(app)
    assert len([e for e in events if isinstance(e, InvitationUndeliverable)]) == 1
    assert len([e for e in events if isinstance(e, MemberInvited)]) == 2  # the first, and the one after it


async def test_an_invitation_no_channel_could_deliver_goes_to_the_next_candidate_across_services() -> None:
    community_app, _, consumer, invited = await assembled()
    # The first fire expert is reached by kakao, then email (no adapter), then telegram; all fail.
    assert [c.channel for c in invited.contacts] == ["kakao", "email", "telegram"]
    broadcast = BroadcastApplication()
    kakao, telegram = FakeChannel([REFUSED]), FakeChannel([REFUSED])
    sender = Sender(
        broadcast,
        DeliveryView(broadcast.recorder),
        {"kakao": kakao, "telegram": telegram},
        PRIVACY,
        links=Links(b"community-unit-test-link-key-0123456789", "https://jikimi.test"),
    )
    requests = CommunityRequests(operator_contacts(PRIVACY, ""))
    # Sent now, so the link has not lapsed yet.
    broadcast.record(*requests.handle(msgspec.structs.replace(invited, expires_at=utc_now() + timedelta(minutes=15))))
    for _ in range(3):
        await sender.send_due()
    receipts = [
        (n.id, e)
        for n in broadcast.recorder.select_notifications(0, 1000)
        if isinstance(e := CODEC.decode(n.state), DeliveryDelivered | DeliveryFailed)
    ]
    assert [e.final for _, e in receipts] == [False, False, True]  # type: ignore[union-attr]
    # Recorded two minutes into the incident, so the next candidate is ranked at a known time.
    at_two = [msgspec.structs.replace(e, recorded_at=AT + timedelta(minutes=2)) for _, e in receipts]
    await consumer.process([from_broadcast(e, n) for (n, _), e in zip(receipts, at_two, strict=True)])  # type: ignore[misc]
    [lost] = [e for e in logged(community_app) if isinstance(e, InvitationUndeliverable)]
    assert lost.expert_id == invited.expert_id
    [_, following] = [e for e in logged(community_app) if isinstance(e, MemberInvited)]
    [asked] = requests.handle(following)
    assert isinstance(asked, DeliveryRequested)
    assert (asked.kind, asked.recipient, asked.incident_id) == ("invitation", following.expert_id, invited.incident_id)
    for event in [
        *logged(community_app),
        *(CODEC.decode(n.state) for n in broadcast.recorder.select_notifications(0, 1000)),
    ]:
        written = msgspec.json.encode(event)
        assert b"010-0000-" not in written
        assert b"90000004" not in written
        assert b"@example.org" not in written


async def test_when_nobody_left_can_be_reached_the_situation_room_is_told() -> None:
    app, _, consumer = setup()
    await consumer.process([from_intake(opened(kind="heat_wave", severity="moderate"), 1)])  # type: ignore[list-item]
    unfillable: list[SeatUnfillable] = []
    for position in range(1, 6):
        current = [e for e in logged(app) if isinstance(e, MemberInvited)][-1]
        await consumer.process([from_broadcast(failed(current, minutes=position), position)])  # type: ignore[list-item]
        unfillable = [e for e in logged(app) if isinstance(e, SeatUnfillable)]
        if unfillable:
            break
    [seat] = unfillable
    assert (seat.seat_field, seat.reason) == ("heat_cold", "no heat_cold expert is left to ask")
    told = CommunityRequests(operator_contacts(PRIVACY, "telegram:-1001,sms:01000000000")).handle(seat)
    assert [(r.kind, r.channel) for r in told] == [("seat_unfillable", "telegram"), ("seat_unfillable", "sms")]  # type: ignore[attr-defined]
