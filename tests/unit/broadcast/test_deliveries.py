"""Deliveries on the in-memory event store with a fake channel: once, with retries, to the end."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import msgspec
import pytest

from services.broadcast.application import BroadcastApplication
from services.broadcast.channels import DeliveryError
from services.broadcast.deliveries import DeliveryView, Sender, request_reporter_notice
from services.broadcast.domain import RetryPolicy
from shared.events import CODEC, utc_now
from shared.events.broadcast import DeliveryDelivered, DeliveryFailed, DeliveryRequested
from shared.events.intake import ReporterNoticeQueued
from shared.privacy import Privacy

SECRET = b"unit-test-secret-key-0123456789abcdef"
PRIVACY = Privacy(SECRET)


class FakeChannel:
    """Records what it was asked to send; fails as told."""

    def __init__(self, failures: list[DeliveryError] | None = None) -> None:
        self.sent: list[tuple[str, str, UUID]] = []
        self.failures = failures or []

    async def send(self, address: str, text: str, *, delivery_id: UUID) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((address, text, delivery_id))
        return f"msg-{len(self.sent)}"


def notice(channel: str = "sms", address: str = "010-9876-5432") -> ReporterNoticeQueued:
    return ReporterNoticeQueued(
        originator_id=uuid4(),
        originator_version=1,
        incident_id=uuid4(),
        report_id=uuid4(),
        reporter="p_abc",
        channel=channel,
        status="closed",
        text="[119] 사건이 종료되었습니다.",
        reply_to_sealed=PRIVACY.seal(f"{channel}:{address}"),
        service="intake",
        position=7,
    )


def sender_with(channel: FakeChannel, name: str = "sms", policy: RetryPolicy | None = None) -> Sender:
    app = BroadcastApplication()
    return Sender(app, DeliveryView(app.recorder), {name: channel}, PRIVACY, policy)


def request(sender: Sender, event: ReporterNoticeQueued) -> DeliveryRequested:
    [requested] = request_reporter_notice(event)
    assert isinstance(requested, DeliveryRequested)
    sender.app.record(requested)
    return requested


def logged(sender: Sender) -> list[object]:
    return [CODEC.decode(n.state) for n in sender.app.recorder.select_notifications(0, 1000)]


def test_a_notice_asks_for_one_delivery_whose_id_follows_from_the_notice() -> None:
    event = notice()
    [first] = request_reporter_notice(event)
    [again] = request_reporter_notice(event)
    assert first.originator_id == again.originator_id
    assert isinstance(first, DeliveryRequested)
    assert (first.channel, first.recipient, first.causation_id) == ("sms", "p_abc", event.id)
    assert b"9876" not in msgspec.json.encode(first)


async def test_a_due_delivery_reaches_the_unsealed_address_and_is_recorded_delivered() -> None:
    channel = FakeChannel()
    sender = sender_with(channel)
    requested = request(sender, notice())
    assert await sender.send_due() == 1
    assert channel.sent == [("010-9876-5432", "[119] 사건이 종료되었습니다.", requested.originator_id)]
    [delivered] = [e for e in logged(sender) if isinstance(e, DeliveryDelivered)]
    assert (delivered.attempt, delivered.provider_id) == (1, "msg-1")
    assert await sender.send_due() == 0  # nothing is sent twice


async def test_a_retryable_failure_is_tried_again_later_with_backoff() -> None:
    channel = FakeChannel([DeliveryError("the channel answered 503", retryable=True)])
    sender = sender_with(channel)
    requested = request(sender, notice())
    await sender.send_due()
    [failed] = [e for e in logged(sender) if isinstance(e, DeliveryFailed)]
    assert failed.retry_at is not None
    assert timedelta(seconds=1) <= failed.retry_at - utc_now() <= timedelta(seconds=3)
    assert await sender.send_due() == 0  # not due yet
    delivery = sender.view.deliveries[requested.originator_id]
    sender.view.deliveries[delivery.id] = msgspec.structs.replace(delivery, due_at=utc_now())
    await sender.send_due()
    assert len(channel.sent) == 1
    assert sender.view.deliveries[delivery.id].status == "delivered"


async def test_a_delivery_fails_for_good_after_the_last_attempt() -> None:
    errors = [DeliveryError("timeout", retryable=True) for _ in range(3)]
    sender = sender_with(FakeChannel(errors), policy=RetryPolicy(max_attempts=2, first_delay_s=0.0))
    request(sender, notice())
    await sender.send_due()
    await sender.send_due()
    failures = [e for e in logged(sender) if isinstance(e, DeliveryFailed)]
    assert [(f.attempt, f.retry_at is None) for f in failures] == [(1, False), (2, True)]
    assert await sender.send_due() == 0


@pytest.mark.parametrize(
    ("channels", "error"),
    [({}, "not configured"), ({"sms": FakeChannel([DeliveryError("answered 400", retryable=False)])}, "400")],
)
async def test_a_delivery_that_cannot_succeed_fails_at_once(channels: dict[str, FakeChannel], error: str) -> None:
    app = BroadcastApplication()
    sender = Sender(app, DeliveryView(app.recorder), dict(channels), PRIVACY)
    request(sender, notice())
    await sender.send_due()
    [failed] = [e for e in logged(sender) if isinstance(e, DeliveryFailed)]
    assert failed.retry_at is None
    assert error in failed.error


async def test_after_a_restart_delivered_messages_are_not_sent_again_and_pending_ones_are() -> None:
    channel = FakeChannel()
    sender = sender_with(channel)
    request(sender, notice(address="010-1111-1111"))
    await sender.send_due()
    request(sender, notice(address="010-2222-2222"))
    restarted = Sender(sender.app, DeliveryView(sender.app.recorder), {"sms": channel}, PRIVACY)
    await restarted.send_due()
    assert [address for address, _, _ in channel.sent] == ["010-1111-1111", "010-2222-2222"]
