"""Sending community's asks: the invitation's link minted at send time, and the next channel when one fails."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import msgspec

from services.broadcast.application import BroadcastApplication
from services.broadcast.channels import DeliveryError
from services.broadcast.deliveries import DeliveryView, Links, Sender
from services.broadcast.domain import RetryPolicy
from services.broadcast.requests import CommunityRequests, operator_contacts
from shared.events import CODEC, Event, utc_now
from shared.events.broadcast import DeliveryDelivered, DeliveryFailed, DeliveryRequested
from shared.events.community import MemberInvited
from shared.links import read_invitation_token, read_room_token
from tests.unit.broadcast.test_deliveries import FakeChannel
from tests.unit.broadcast.test_requests import OPERATORS, PRIVACY, invited, released, unfillable

KEY = b"broadcast-unit-test-link-key-0123456789"
BASE_URL = "https://jikimi.test"
REFUSED = DeliveryError("the channel answered 400", retryable=False)


def sender_with(channels: dict[str, FakeChannel], policy: RetryPolicy | None = None) -> Sender:
    app = BroadcastApplication()
    return Sender(app, DeliveryView(app.recorder), dict(channels), PRIVACY, policy, links=Links(KEY, BASE_URL))


def ask(sender: Sender, event: Event) -> list[DeliveryRequested]:
    requests = list(CommunityRequests(operator_contacts(PRIVACY, OPERATORS)).handle(event))
    sender.app.record(*requests)
    return requests  # type: ignore[return-value]


def logged(sender: Sender) -> list[Event]:
    return [CODEC.decode(n.state) for n in sender.app.recorder.select_notifications(0, 1000)]


def in_time() -> MemberInvited:
    """An invitation that lapses a quarter of an hour from now."""
    return invited(expires_at=utc_now() + timedelta(minutes=15))


async def test_an_invitation_reaches_the_expert_with_a_link_that_opens_their_invitation() -> None:
    telegram = FakeChannel()
    sender = sender_with({"telegram": telegram, "kakao": FakeChannel()})
    event = in_time()
    [request] = ask(sender, event)
    await sender.send_due()
    [(address, text, delivery_id)] = telegram.sent
    assert (address, delivery_id) == ("900000001", request.originator_id)
    assert "{link}" not in text
    prefix = f"{BASE_URL}/invitations/"
    [link] = [word for word in text.split() if word.startswith(prefix)]
    assert read_invitation_token(KEY, link.removeprefix(prefix)) == (event.incident_id, "EXP-001")
    [delivered] = [e for e in logged(sender) if isinstance(e, DeliveryDelivered)]
    assert (delivered.kind, delivered.recipient, delivered.channel) == ("invitation", "EXP-001", "telegram")


async def test_the_link_and_the_address_are_written_to_no_event() -> None:
    telegram = FakeChannel()
    sender = sender_with({"telegram": telegram})
    ask(sender, in_time())
    await sender.send_due()
    [(_, text, _)] = telegram.sent
    token = text.rsplit("/", 1)[-1]
    for event in logged(sender):
        written = msgspec.json.encode(event)
        assert token.encode() not in written
        assert b"/invitations/" not in written
        assert b"900000001" not in written
        assert b"010-0000-0001" not in written


async def test_an_invitation_that_lapsed_before_it_could_be_sent_is_sent_nowhere() -> None:
    telegram, kakao = FakeChannel(), FakeChannel()
    sender = sender_with({"telegram": telegram, "kakao": kakao})
    ask(sender, invited(expires_at=utc_now() - timedelta(minutes=1)))
    await sender.send_due()
    assert telegram.sent == kakao.sent == []
    [failed] = [e for e in logged(sender) if isinstance(e, DeliveryFailed)]
    assert failed.final  # the other channels are not tried: the link would not open
    assert (failed.kind, failed.recipient, failed.next_channel) == ("invitation", "EXP-001", "")
    assert "lapsed" in failed.error
    assert await sender.send_due() == 0


async def test_when_the_first_channel_refuses_the_invitation_goes_to_the_next_with_a_fresh_link() -> None:
    telegram, kakao = FakeChannel([REFUSED]), FakeChannel()
    sender = sender_with({"telegram": telegram, "kakao": kakao})
    event = in_time()
    ask(sender, event)
    await sender.send_due()
    [rerouted] = [e for e in logged(sender) if isinstance(e, DeliveryFailed)]
    assert (rerouted.channel, rerouted.next_channel, rerouted.final) == ("telegram", "kakao", False)
    assert (rerouted.kind, rerouted.recipient) == ("invitation", "EXP-001")
    await sender.send_due()
    [(address, text, _)] = kakao.sent
    assert address == "010-0000-0001"
    token = text.rsplit("/invitations/", 1)[-1]
    assert read_invitation_token(KEY, token) == (event.incident_id, "EXP-001")
    [delivered] = [e for e in logged(sender) if isinstance(e, DeliveryDelivered)]
    assert (delivered.channel, delivered.attempt) == ("kakao", 1)  # the next channel starts afresh
    assert telegram.sent == []


async def test_a_channel_that_keeps_failing_hands_over_after_its_last_attempt() -> None:
    busy = [DeliveryError("the channel answered 503", retryable=True) for _ in range(2)]
    telegram, kakao = FakeChannel(busy), FakeChannel()
    sender = sender_with({"telegram": telegram, "kakao": kakao}, RetryPolicy(max_attempts=2, first_delay_s=0.0))
    ask(sender, in_time())
    for _ in range(3):
        await sender.send_due()
    failures = [e for e in logged(sender) if isinstance(e, DeliveryFailed)]
    assert [(f.channel, f.attempt, f.next_channel) for f in failures] == [("telegram", 1, ""), ("telegram", 2, "kakao")]
    assert not any(f.final for f in failures)
    assert len(kakao.sent) == 1


async def test_a_channel_broadcast_has_no_adapter_for_falls_back_to_the_next() -> None:
    kakao = FakeChannel()
    sender = sender_with({"kakao": kakao})
    ask(sender, in_time())
    await sender.send_due()
    await sender.send_due()
    [rerouted] = [e for e in logged(sender) if isinstance(e, DeliveryFailed)]
    assert "not configured" in rerouted.error
    assert [address for address, _, _ in kakao.sent] == ["010-0000-0001"]


async def test_when_no_channel_reaches_the_expert_the_delivery_fails_for_good_once() -> None:
    telegram, kakao = FakeChannel([REFUSED]), FakeChannel([REFUSED])
    sender = sender_with({"telegram": telegram, "kakao": kakao})
    ask(sender, in_time())
    for _ in range(3):
        await sender.send_due()
    failures = [e for e in logged(sender) if isinstance(e, DeliveryFailed)]
    assert [(f.channel, f.final) for f in failures] == [("telegram", False), ("kakao", True)]
    assert all((f.kind, f.recipient) == ("invitation", "EXP-001") for f in failures)
    assert not [e for e in logged(sender) if isinstance(e, DeliveryDelivered)]


async def test_after_a_restart_a_rerouted_invitation_goes_on_on_the_next_channel() -> None:
    telegram, kakao = FakeChannel([REFUSED]), FakeChannel()
    sender = sender_with({"telegram": telegram, "kakao": kakao})
    ask(sender, in_time())
    await sender.send_due()
    restarted = Sender(
        sender.app,
        DeliveryView(sender.app.recorder),
        {"telegram": telegram, "kakao": kakao},
        PRIVACY,
        links=Links(KEY, BASE_URL),
    )
    await restarted.send_due()
    assert [address for address, _, _ in kakao.sent] == ["010-0000-0001"]
    assert telegram.sent == []


async def test_an_unfillable_seat_reaches_each_operator_channel_as_written() -> None:
    telegram, sms = FakeChannel(), FakeChannel()
    sender = sender_with({"telegram": telegram, "sms": sms})
    event = unfillable()
    requests = ask(sender, event)
    await sender.send_due()
    assert [(address, text) for address, text, _ in telegram.sent] == [("-1001", requests[0].text)]
    assert [(address, text) for address, text, _ in sms.sent] == [("01000000000", requests[1].text)]
    delivered = [e for e in logged(sender) if isinstance(e, DeliveryDelivered)]
    assert sorted((d.kind, d.recipient, d.channel) for d in delivered) == [
        ("seat_unfillable", "operators", "sms"),
        ("seat_unfillable", "operators", "telegram"),
    ]


async def test_one_operator_channel_failing_does_not_keep_the_other_from_being_told() -> None:
    telegram, sms = FakeChannel([REFUSED]), FakeChannel()
    sender = sender_with({"telegram": telegram, "sms": sms})
    ask(sender, unfillable())
    await sender.send_due()
    assert [address for address, _, _ in sms.sent] == ["01000000000"]
    [failed] = [e for e in logged(sender) if isinstance(e, DeliveryFailed)]
    assert (failed.channel, failed.final) == ("telegram", True)


async def test_a_release_notice_is_sent_as_written() -> None:
    sms = FakeChannel()
    sender = sender_with({"sms": sms})
    [request] = ask(sender, released())
    await sender.send_due()
    assert sms.sent == [("010-0000-0001", request.text, request.originator_id)]


async def test_a_message_with_a_link_for_a_reporter_opens_their_room() -> None:
    sms = FakeChannel()
    sender = sender_with({"sms": sms})
    incident = uuid4()
    request = DeliveryRequested(
        originator_id=uuid4(),
        originator_version=1,
        incident_id=incident,
        recipient="p_abc",
        channel="sms",
        kind="room_invitation",
        text="[119] 사고 현장 대화방: {link}",
        address_sealed=PRIVACY.seal("sms:010-9876-5432"),
        link_until=utc_now() + timedelta(days=7),
    )
    sender.app.record(request)
    await sender.send_due()
    [(_, text, _)] = sms.sent
    prefix = f"{BASE_URL}/rooms/"
    assert text.startswith(f"[119] 사고 현장 대화방: {prefix}")
    assert read_room_token(KEY, text.removeprefix(f"[119] 사고 현장 대화방: {prefix}")) == (incident, "p_abc")
