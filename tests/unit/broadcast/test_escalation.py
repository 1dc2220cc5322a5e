"""A delivered message nobody acknowledged in time goes on to the recipient's next channel; an
expert's answer acknowledges their invitation, which then stays where it is."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from services.broadcast.application import BroadcastApplication
from services.broadcast.channels import DeliveryError
from services.broadcast.deliveries import DeliveryView, Sender
from services.broadcast.escalation import acknowledge_answers, escalations
from shared.events import utc_now
from shared.events.broadcast import DeliveryRequested, DeliveryWithdrawn
from shared.events.common import ContactRef
from shared.events.community import InvitationAccepted, InvitationTimedOut, MemberReleased
from tests.unit.broadcast.test_deliveries import PRIVACY, FakeChannel

INCIDENT = uuid4()


def invitation(*alternates: str, ack_within_s: int | None = 60) -> DeliveryRequested:
    return DeliveryRequested(
        originator_id=uuid4(),
        originator_version=1,
        incident_id=INCIDENT,
        recipient="EXP-014",
        channel="telegram",
        kind="invitation",
        text="[지키미] 참여 요청",
        address_sealed=PRIVACY.seal("telegram:900000014"),
        alternates=[ContactRef(c, PRIVACY.seal(f"{c}:010-0000-0014")) for c in alternates],
        ack_within_s=ack_within_s,
    )


async def delivered(request: DeliveryRequested) -> tuple[Sender, FakeChannel, FakeChannel]:
    app = BroadcastApplication()
    telegram, kakao = FakeChannel(), FakeChannel()
    sender = Sender(app, DeliveryView(app.recorder), {"telegram": telegram, "kakao": kakao}, PRIVACY)
    app.record(request)
    await sender.send_due()
    assert len(telegram.sent) == 1
    return sender, telegram, kakao


async def test_an_invitation_nobody_acknowledged_in_time_goes_on_to_the_next_channel_too() -> None:
    sender, telegram, kakao = await delivered(invitation("kakao"))
    now = utc_now()
    assert escalations(sender.view, now + timedelta(seconds=50)) == []  # still within its minute
    [escalated] = escalations(sender.view, now + timedelta(seconds=61))
    assert (escalated.channel, escalated.next_channel) == ("telegram", "kakao")
    sender.app.record(escalated)
    await sender.send_due()
    assert [(address, text) for address, text, _ in kakao.sent] == [("010-0000-0014", "[지키미] 참여 요청")]
    assert len(telegram.sent) == 1  # not sent twice where it was already delivered
    assert escalations(sender.view, now + timedelta(hours=1)) == []  # no channel left after kakao


async def test_an_answered_invitation_is_acknowledged_and_stays_where_it_is() -> None:
    request = invitation("kakao")
    sender, _, kakao = await delivered(request)
    answered = InvitationAccepted(
        originator_id=uuid4(), originator_version=3, incident_id=INCIDENT, expert_id="EXP-014", seat_field="fire"
    )
    [ack] = acknowledge_answers(sender.view)(answered)
    sender.app.record(ack)
    sender.view.catch_up()
    assert not acknowledge_answers(sender.view)(answered)  # once
    assert escalations(sender.view, utc_now() + timedelta(hours=1)) == []
    await sender.send_due()
    assert kakao.sent == []


async def test_without_another_channel_or_a_time_to_acknowledge_nothing_escalates() -> None:
    for request in (invitation(), invitation("kakao", ack_within_s=None)):
        sender, _, kakao = await delivered(request)
        assert escalations(sender.view, utc_now() + timedelta(hours=1)) == []
        assert kakao.sent == []


async def test_an_invitation_that_ended_unanswered_is_withdrawn_never_escalated_nor_sent_late() -> None:
    delivered_one = invitation("kakao")
    sender, _, kakao = await delivered(delivered_one)
    released = MemberReleased(
        originator_id=uuid4(),
        originator_version=4,
        incident_id=INCIDENT,
        expert_id="EXP-014",
        seat_field="fire",
        reason="no longer needed",
    )
    [withdrawn] = acknowledge_answers(sender.view)(released)
    assert isinstance(withdrawn, DeliveryWithdrawn)
    assert withdrawn.reason == "the invitation ended: no longer needed"
    sender.app.record(withdrawn)
    sender.view.catch_up()
    assert not acknowledge_answers(sender.view)(released)  # once
    assert escalations(sender.view, utc_now() + timedelta(hours=1)) == []
    await sender.send_due()
    assert kakao.sent == []

    # Not yet sent when it timed out: it is not sent at all.
    app = BroadcastApplication()
    telegram = FakeChannel([DeliveryError("the channel answered 503", retryable=True)])
    late = Sender(app, DeliveryView(app.recorder), {"telegram": telegram}, PRIVACY)
    app.record(invitation())
    await late.send_due()  # the first attempt fails: it waits for a retry
    timed_out = InvitationTimedOut(
        originator_id=uuid4(), originator_version=3, incident_id=INCIDENT, expert_id="EXP-014", seat_field="fire"
    )
    [gone] = acknowledge_answers(late.view)(timed_out)
    app.record(gone)
    late.view.catch_up()
    assert [d.status for d in late.view.deliveries.values()] == ["withdrawn"]
    assert late.view.due(utc_now() + timedelta(hours=1), 10) == []
