"""Alerts to many, on the in-memory store: a district's subscribers in batches, each batch sent
in one request, each recipient ending on its own (delivered, refused for good, tried again
later with only those still to reach), nothing sent twice across a stop, and "who was not
reached?" answered per recipient."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import msgspec

from services.broadcast.alerts import BATCH, AlertSender, alert_batches
from services.broadcast.application import BroadcastApplication
from services.broadcast.deliveries import DeliveryView
from services.broadcast.domain import RetryPolicy
from shared.events import CODEC, utc_now
from shared.events.broadcast import AlertBatchAttempted, AlertBatchSent, AlertRecipient, live_delivery_id
from shared.events.intake import IncidentOpened
from tests.unit.broadcast.test_bulk_sender import BulkGateway
from tests.unit.broadcast.test_deliveries import PRIVACY, FakeChannel

INCIDENT = uuid4()
TEXTS = {"ko": "[지키미] 마포구에서 화재 발생", "en": "[Jikimi] Fire in Mapo-gu"}


def cause() -> IncidentOpened:
    return IncidentOpened(
        originator_id=INCIDENT,
        originator_version=1,
        incident_id=INCIDENT,
        disaster_type="fire",
        severity="severe",
        title="불",
    )


def subscribers(count: int, channel: str = "sms", *, start: int = 0) -> list[tuple[str, AlertRecipient]]:
    return [
        (
            channel,
            AlertRecipient(
                f"p_{n:05d}", PRIVACY.seal_address(channel, f"010-{n:04d}-0000"), "en" if n % 3 == 0 else "ko"
            ),
        )
        for n in range(start, start + count)
    ]


def sender(adapters: dict[str, object], *, app: BroadcastApplication | None = None) -> AlertSender:
    app = app or BroadcastApplication()
    policy = RetryPolicy(max_attempts=3, first_delay_s=1.0)
    return AlertSender(app, DeliveryView(app.recorder), adapters, PRIVACY, policy)  # type: ignore[arg-type]


def test_a_district_goes_in_batches_per_channel_with_ids_that_a_redelivery_asks_for_again() -> None:
    opened = cause()
    everyone = [*subscribers(BATCH + 201), *subscribers(3, "telegram", start=9000)]
    batches = alert_batches(opened, everyone, TEXTS, kind="district_guide", incident_id=INCIDENT)
    assert [(b.channel, len(b.recipients)) for b in batches] == [("sms", BATCH), ("sms", 201), ("telegram", 3)]
    again = alert_batches(opened, everyone, TEXTS, kind="district_guide", incident_id=INCIDENT)
    assert [b.originator_id for b in again] == [b.originator_id for b in batches]
    assert len(msgspec.json.encode(batches[0])) < 200_000  # far under a JetStream message's limit


async def test_a_batch_goes_in_one_request_and_each_recipient_ends_on_its_own() -> None:
    gateway = BulkGateway(bulk_max=1000, reject=["010-0001-0000"], defer=["010-0002-0000"])
    alerts = sender({"sms": gateway})
    [batch] = alert_batches(cause(), subscribers(5), TEXTS, kind="district_guide", incident_id=INCIDENT)
    alerts.app.record(batch)
    assert await alerts.send_due() == 1
    assert len(gateway.requests) == 1
    [request] = gateway.requests
    assert {m.delivery_id for m in request} == {
        live_delivery_id(batch.originator_id, r.recipient) for r in batch.recipients
    }
    texts = {m.address: m.text for m in request}
    assert texts["010-0000-0000"] == TEXTS["en"] and texts["010-0004-0000"] == TEXTS["ko"]  # each in their language

    stored = [CODEC.decode(n.state) for n in alerts.app.recorder.select_notifications(0, 10)]
    [sent] = [e for e in stored if isinstance(e, AlertBatchSent)]
    assert sorted(sent.delivered) == ["p_00000", "p_00003", "p_00004"]
    assert [(f.recipient, "invalid_number" in f.error) for f in sent.failed] == [("p_00001", True)]
    assert sent.retry == ["p_00002"] and sent.retry_at is not None

    assert await alerts.send_due() == 0  # not yet: its retry waits for the backoff
    state = alerts.view.alerts[batch.originator_id]
    state.due_at = utc_now() - timedelta(seconds=1)
    gateway.defer.clear()
    assert await alerts.send_due() == 1
    assert [m.address for m in gateway.requests[-1]] == ["010-0002-0000"]  # only the one still to reach
    assert state.pending == set()
    assert await alerts.send_due() == 0

    statuses = {d.recipient: d.status for d in alerts.view.of_incident(INCIDENT)}
    assert statuses == {
        "p_00000": "delivered",
        "p_00001": "failed",
        "p_00002": "delivered",
        "p_00003": "delivered",
        "p_00004": "delivered",
    }


async def test_a_channel_that_keeps_deferring_is_given_up_after_the_last_attempt() -> None:
    gateway = BulkGateway(defer=["010-0000-0000"])
    alerts = sender({"sms": gateway})
    [batch] = alert_batches(cause(), subscribers(1), TEXTS, kind="district_guide", incident_id=INCIDENT)
    alerts.app.record(batch)
    for _ in range(3):
        alerts.view.catch_up()
        alerts.view.alerts[batch.originator_id].due_at = utc_now() - timedelta(seconds=1)
        await alerts.send_due()
    state = alerts.view.alerts[batch.originator_id]
    assert state.pending == set()
    assert state.failed["p_00000"].startswith("parked after 3 attempts")


async def test_a_batch_cut_off_by_a_stop_goes_again_with_the_same_keys_and_once_it_ended_never() -> None:
    app = BroadcastApplication()
    [batch] = alert_batches(cause(), subscribers(3), TEXTS, kind="district_guide", incident_id=INCIDENT)
    app.record(batch)
    app.record(
        AlertBatchAttempted(originator_id=batch.originator_id, originator_version=2, attempt=1, recipients=["p_00000"])
    )
    gateway = BulkGateway()
    restarted = sender({"sms": gateway}, app=app)  # the attempt has no end: the service stopped mid-send
    assert await restarted.send_due() == 1
    first = {m.delivery_id for m in gateway.requests[0]}
    assert first == {live_delivery_id(batch.originator_id, r.recipient) for r in batch.recipients}
    again = sender({"sms": gateway}, app=app)
    assert await again.send_due() == 0  # it ended: nothing goes twice
    assert len(gateway.requests) == 1


async def test_a_channel_without_a_bulk_api_gets_each_message_on_its_own() -> None:
    telegram = FakeChannel()
    alerts = sender({"telegram": telegram})
    [batch] = alert_batches(cause(), subscribers(4, "telegram"), TEXTS, kind="district_guide", incident_id=INCIDENT)
    alerts.app.record(batch)
    await alerts.send_due()
    assert sorted(address for address, _, _ in telegram.sent) == [f"010-{n:04d}-0000" for n in range(4)]
    assert alerts.view.alerts[batch.originator_id].pending == set()


async def test_a_channel_that_is_not_configured_fails_the_batch_for_good_and_says_why() -> None:
    alerts = sender({})
    [batch] = alert_batches(cause(), subscribers(2, "kakao"), TEXTS, kind="district_guide", incident_id=INCIDENT)
    alerts.app.record(batch)
    await alerts.send_due()
    state = alerts.view.alerts[batch.originator_id]
    assert state.pending == set()
    assert set(state.failed.values()) == {"channel 'kakao' is not configured"}
