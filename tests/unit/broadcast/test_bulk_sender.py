"""The sender and a gateway with a bulk API (in memory): a district's messages go in a few
requests, each message ends on its own (delivered, refused for good, tried again later), and
nothing is lost or sent twice across a stop and a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import msgspec

from services.broadcast.application import BroadcastApplication
from services.broadcast.channels import DeliveryError, GatewayMessage
from services.broadcast.deliveries import DeliveryView, Links, Sender
from services.broadcast.domain import RetryPolicy
from services.broadcast.requests import CommunityRequests, operator_contacts
from shared.events import CODEC, Event, utc_now
from shared.events.broadcast import (
    DeliveryAcknowledged,
    DeliveryAttempted,
    DeliveryDelivered,
    DeliveryFailed,
    DeliveryRequested,
)
from shared.links import read_invitation_token
from tests.unit.broadcast.test_deliveries import FakeChannel
from tests.unit.broadcast.test_requests import OPERATORS, PRIVACY, contacts, invited, unfillable

KEY = b"broadcast-unit-test-link-key-0123456789"


class BulkGateway:
    """A gateway that takes up to ``bulk_max`` messages a request: it answers each, refusing
    the numbers in ``reject`` and deferring those in ``defer``; ``down`` fails whole requests."""

    def __init__(self, bulk_max: int = 100, *, reject: Iterable[str] = (), defer: Iterable[str] = ()) -> None:
        self.bulk_max = bulk_max
        self.reject, self.defer = set(reject), set(defer)
        self.down: list[DeliveryError] = []
        self.requests: list[list[GatewayMessage]] = []
        self.one_at_a_time: list[str] = []
        self.open = asyncio.Event()
        self.open.set()

    async def send(self, address: str, text: str, *, delivery_id: UUID) -> str:
        self.one_at_a_time.append(address)
        return "one"

    async def send_many(self, messages: Sequence[GatewayMessage]) -> list[str | DeliveryError]:
        self.requests.append(list(messages))
        await self.open.wait()
        if self.down:
            error = self.down.pop(0)
            return [error for _ in messages]
        return [self._answer(m) for m in messages]

    def _answer(self, message: GatewayMessage) -> str | DeliveryError:
        if message.address in self.reject:
            return DeliveryError("the gateway rejected it (invalid_number)", retryable=False)
        if message.address in self.defer:
            return DeliveryError("the gateway deferred it (carrier_busy)", retryable=True)
        return f"gw-{message.delivery_id}"

    @property
    def sent_to(self) -> list[str]:
        """Every number in every request, in order (a number twice means sent twice)."""
        return [m.address for request in self.requests for m in request]


class CountingApp(BroadcastApplication):
    """Counts commits."""

    commits = 0

    def record(self, *events: Event, **more: Any) -> Any:
        self.commits += 1
        return super().record(*events, **more)


def sender_for(channels: dict[str, Any], **options: Any) -> Sender:
    app = CountingApp()
    options = {"poll_s": 0.01, "links": Links(KEY, "https://jikimi.test"), **options}
    return Sender(app, DeliveryView(app.recorder), channels, PRIVACY, **options)


def number(n: int) -> str:
    return f"010-{n // 10_000:04d}-{n % 10_000:04d}"


def subscribers(sender: Sender, numbers: Iterable[str]) -> list[UUID]:
    requests = [
        DeliveryRequested(
            originator_id=uuid4(),
            originator_version=1,
            recipient=PRIVACY.pseudonym("sms", phone),
            channel="sms",
            kind="district_guide",
            text="[지키미] 마포구에서 화재 발생",
            address_sealed=PRIVACY.seal_address("sms", phone),
        )
        for phone in numbers
    ]
    sender.app.record(*requests)
    return [r.originator_id for r in requests]


def logged(sender: Sender, kind: type[Event] = Event) -> list[Any]:
    found = [CODEC.decode(n.state) for n in sender.app.recorder.select_notifications(0, 100_000)]
    return [e for e in found if isinstance(e, kind)]


async def eventually(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not check():  # noqa: ASYNC110 -- polls the event log, which has no event to wait on
            await asyncio.sleep(0.01)


async def test_a_districts_messages_go_in_requests_of_the_gateways_size_and_each_is_recorded_delivered() -> None:
    sms = BulkGateway(bulk_max=100)
    sender = sender_for({"sms": sms})
    asked = subscribers(sender, map(number, range(250)))
    assert await sender.send_due() == 250
    assert [len(r) for r in sms.requests] == [100, 100, 50]
    assert sorted(sms.sent_to) == sorted(map(number, range(250)))
    delivered = logged(sender, DeliveryDelivered)
    assert sorted(d.originator_id for d in delivered) == sorted(asked)
    assert {(d.attempt, d.provider_id) for d in delivered} == {(1, f"gw-{d.originator_id}") for d in delivered}
    assert len(logged(sender, DeliveryAttempted)) == 250
    assert sender.app.commits <= 1 + 3 + 1  # the requests, an attempt commit per request, the ends
    assert await sender.send_due() == 0  # nothing is sent twice


async def test_one_bad_number_fails_only_its_own_delivery_for_good() -> None:
    sms = BulkGateway(reject={number(1)})
    sender = sender_for({"sms": sms})
    subscribers(sender, map(number, range(3)))
    await sender.send_due()
    [failed] = logged(sender, DeliveryFailed)
    assert (failed.final, failed.error) == (True, "the gateway rejected it (invalid_number)")
    assert failed.recipient == PRIVACY.pseudonym("sms", number(1))
    assert len(logged(sender, DeliveryDelivered)) == 2
    assert await sender.send_due() == 0


async def test_an_invitation_refused_in_bulk_goes_on_to_the_experts_next_channel() -> None:
    sms, telegram = BulkGateway(reject={"010-0000-0001"}), FakeChannel()
    sender = sender_for({"sms": sms, "telegram": telegram})
    event = invited(expires_at=utc_now() + timedelta(minutes=15), contacts=contacts("sms:010-0000-0001", "telegram:9"))
    sender.app.record(*CommunityRequests(operator_contacts(PRIVACY, OPERATORS)).handle(event))
    await sender.send_due()
    [rerouted] = logged(sender, DeliveryFailed)
    assert (rerouted.channel, rerouted.next_channel) == ("sms", "telegram")
    await sender.send_due()
    [(address, text, _)] = telegram.sent
    assert address == "9"
    assert read_invitation_token(KEY, text.rsplit("/invitations/", 1)[-1]) == (event.incident_id, "EXP-001")


async def test_an_invitation_sent_in_bulk_carries_a_fresh_link_and_a_lapsed_one_is_sent_nowhere() -> None:
    sms = BulkGateway()
    sender = sender_for({"sms": sms})
    requests = CommunityRequests(operator_contacts(PRIVACY, OPERATORS))
    in_time = invited(expires_at=utc_now() + timedelta(minutes=15), contacts=contacts("sms:010-0000-0001"))
    lapsed = invited(expires_at=utc_now() - timedelta(minutes=1), contacts=contacts("sms:010-0000-0002"))
    sender.app.record(*requests.handle(in_time), *requests.handle(lapsed))
    await sender.send_due()
    [[message]] = sms.requests
    assert message.address == "010-0000-0001"
    token = message.text.rsplit("/invitations/", 1)[-1]
    assert read_invitation_token(KEY, token) == (in_time.incident_id, "EXP-001")
    [failed] = logged(sender, DeliveryFailed)
    assert failed.final
    assert "lapsed" in failed.error
    for written in logged(sender):
        assert token.encode() not in msgspec.json.encode(written)


async def test_a_deferred_message_is_tried_again_alone_after_its_backoff() -> None:
    sms = BulkGateway(defer={number(2)})
    sender = sender_for({"sms": sms})
    asked = subscribers(sender, map(number, range(4)))
    await sender.send_due()
    [deferred] = logged(sender, DeliveryFailed)
    assert deferred.retry_at is not None
    assert timedelta(seconds=1) <= deferred.retry_at - utc_now() <= timedelta(seconds=3)
    assert await sender.send_due() == 0  # not due yet
    sms.defer.clear()
    delivery = sender.view.deliveries[asked[2]]
    sender.view.deliveries[delivery.id] = msgspec.structs.replace(delivery, due_at=utc_now())
    await sender.send_due()
    assert [[m.address for m in r] for r in sms.requests[1:]] == [[number(2)]]
    assert sender.view.deliveries[delivery.id].status == "delivered"
    assert sender.view.deliveries[delivery.id].attempts == 2


async def test_a_gateway_that_keeps_failing_whole_requests_parks_each_delivery_after_its_last_attempt() -> None:
    sms = BulkGateway()
    sms.down = [DeliveryError("the channel answered 503", retryable=True) for _ in range(2)]
    sender = sender_for({"sms": sms}, policy=RetryPolicy(max_attempts=2, first_delay_s=0.0))
    subscribers(sender, map(number, range(3)))
    await sender.send_due()
    await sender.send_due()
    failures = logged(sender, DeliveryFailed)
    assert sorted((f.attempt, f.final) for f in failures) == [(1, False)] * 3 + [(2, True)] * 3
    assert {f.error for f in failures if f.final} == {"parked after 2 attempts: the channel answered 503"}
    assert await sender.send_due() == 0


async def test_channels_without_bulk_are_sent_one_by_one_in_the_same_round() -> None:
    sms, telegram = BulkGateway(), FakeChannel()
    sender = sender_for({"sms": sms, "telegram": telegram})
    sender.app.record(*CommunityRequests(operator_contacts(PRIVACY, OPERATORS)).handle(unfillable()))
    assert await sender.send_due() == 2
    assert [[m.address for m in r] for r in sms.requests] == [["01000000000"]]
    assert [address for address, _, _ in telegram.sent] == ["-1001"]
    assert sms.one_at_a_time == []


async def test_a_gateway_without_bulk_gets_one_message_a_request() -> None:
    sms = BulkGateway(bulk_max=0)  # a gateway whose bulk API is not configured
    sender = sender_for({"sms": sms})
    subscribers(sender, map(number, range(3)))
    await sender.send_due()
    assert sorted(sms.one_at_a_time) == sorted(map(number, range(3)))
    assert sms.requests == []
    assert len(logged(sender, DeliveryDelivered)) == 3


async def test_a_request_in_flight_is_never_sent_again_while_new_ones_go_beside_it() -> None:
    sms = BulkGateway(bulk_max=2)
    sms.open.clear()
    sender = sender_for({"sms": sms}, bulk_concurrency=2)
    subscribers(sender, map(number, range(6)))
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    await eventually(lambda: len(sms.requests) == 2)
    await asyncio.sleep(0.05)
    assert len(sms.requests) == 2  # two requests in flight at most; the rest wait for them
    sms.open.set()
    await eventually(lambda: len(logged(sender, DeliveryDelivered)) == 6)
    stop.set()
    await running
    assert sorted(sms.sent_to) == sorted(map(number, range(6)))


async def test_a_request_cut_off_by_a_stop_is_sent_again_after_a_restart_and_what_was_delivered_is_not() -> None:
    sms = BulkGateway()
    sender = sender_for({"sms": sms}, grace_s=0.01)
    subscribers(sender, [number(1)])
    await sender.send_due()
    subscribers(sender, [number(2), number(3)])
    sms.open.clear()
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    await eventually(lambda: len(sms.requests) == 2)
    stop.set()
    await running
    sms.open.set()
    restarted = Sender(sender.app, DeliveryView(sender.app.recorder), {"sms": sms}, PRIVACY)
    assert await restarted.send_due() == 2
    cut_off = [number(2), number(3)]
    assert [sorted(m.address for m in r) for r in sms.requests] == [[number(1)], cut_off, cut_off]
    delivered = logged(sender, DeliveryDelivered)
    assert sorted((d.recipient, d.attempt) for d in delivered) == sorted(
        [(PRIVACY.pseudonym("sms", number(1)), 1), *((PRIVACY.pseudonym("sms", number(n)), 2) for n in (2, 3))]
    )


async def test_an_acknowledgement_recorded_during_a_bulk_send_keeps_every_receipt() -> None:
    sms = BulkGateway()
    sms.open.clear()
    sender = sender_for({"sms": sms})
    first, second = subscribers(sender, [number(1), number(2)])
    sending = asyncio.create_task(sender.send_due())
    await eventually(lambda: len(sms.requests) == 1)
    attempted = sender.view.deliveries[first]
    seen = DeliveryAcknowledged(
        originator_id=first, originator_version=attempted.version + 1, recipient=attempted.recipient, by="citizen:x"
    )
    sender.app.record(seen)
    sms.open.set()
    await sending
    assert {d.originator_id for d in logged(sender, DeliveryDelivered)} == {first, second}
    sender.view.catch_up()
    assert sender.view.deliveries[first].status == "delivered"
    assert sender.view.deliveries[first].acknowledged_by == "citizen:x"
    assert len(sms.requests) == 1
