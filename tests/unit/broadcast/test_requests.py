"""What community's decisions ask broadcast to deliver: to whom, on which channel, saying what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import msgspec
import pytest

from services.broadcast.application import BroadcastApplication
from services.broadcast.requests import CommunityRequests, operator_contacts
from shared.consumer import StreamConsumer
from shared.events import CODEC, Event
from shared.events.broadcast import DeliveryRequested
from shared.events.common import ContactRef
from shared.events.community import CandidateScore, MemberInvited, MemberReleased, SeatUnfillable
from shared.privacy import Privacy
from tests.unit.fakes import FakeJetStream, FakeMsg

PRIVACY = Privacy(b"broadcast-unit-test-secret-0123456789")
OPERATORS = "telegram:-1001,sms:01000000000"
# 14:00 in Seoul.
AT = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)


def contacts(*items: str) -> list[ContactRef]:
    return [ContactRef(item.partition(":")[0], PRIVACY.seal(item)) for item in items]


def invited(language: str = "ko", expires_at: datetime = AT + timedelta(minutes=15), **more: object) -> MemberInvited:
    incident = uuid4()
    fields: dict[str, object] = {
        "contacts": contacts("telegram:900000001", "kakao:010-0000-0001"),
        "disaster_type": "fire",
        "severity": "severe",
        "district_code": "11440",
        **more,
    }
    return MemberInvited(
        originator_id=uuid4(),
        originator_version=2,
        incident_id=incident,
        correlation_id=incident,
        expert_id="EXP-001",
        seat_field="fire",
        rank=1,
        score=CandidateScore("EXP-001", 0.9),
        expires_at=expires_at,
        language=language,
        **fields,  # type: ignore[arg-type]
    )


def released() -> MemberReleased:
    return MemberReleased(
        originator_id=uuid4(),
        originator_version=3,
        incident_id=uuid4(),
        expert_id="EXP-001",
        seat_field="fire",
        reason="the incident closed (resolved)",
        contacts=contacts("sms:010-0000-0001"),
    )


def unfillable() -> SeatUnfillable:
    return SeatUnfillable(
        originator_id=uuid4(),
        originator_version=2,
        incident_id=uuid4(),
        seat_field="hazmat",
        reason="no expert of hazmat can be asked (nobody in the pool has it)",
    )


def asked(event: Event, operators: str = OPERATORS) -> list[DeliveryRequested]:
    requests = list(CommunityRequests(operator_contacts(PRIVACY, operators)).handle(event))
    assert all(isinstance(r, DeliveryRequested) for r in requests)
    return requests  # type: ignore[return-value]


def test_an_invitation_goes_to_the_experts_first_channel_with_the_others_as_fallbacks() -> None:
    event = invited()
    [request] = asked(event)
    assert (request.kind, request.recipient, request.incident_id) == ("invitation", "EXP-001", event.incident_id)
    assert request.channel == "telegram"
    assert PRIVACY.unseal(request.address_sealed) == "telegram:900000001"
    assert [(c.channel, PRIVACY.unseal(c.address_sealed)) for c in request.alternates] == [
        ("kakao", "kakao:010-0000-0001")
    ]
    assert request.link_until == event.expires_at  # the link lapses with the invitation
    assert (request.causation_id, request.correlation_id) == (event.id, event.incident_id)


def test_an_invitation_says_what_the_incident_is_and_by_when_to_answer_in_korea_time() -> None:
    [request] = asked(invited())
    assert request.text == (
        "[지키미] 마포구 화재(severe) 사고에 화재 전문가로 참여를 요청합니다. 14:15까지 응답해 주세요: {link}"
    )
    assert request.language == "ko"


def test_an_expert_who_reads_english_gets_the_invitation_in_english() -> None:
    [request] = asked(invited(language="en"))
    assert request.language == "en"
    assert request.text.startswith("[Jikimi] Please advise on ")
    assert "as the fire expert" in request.text
    assert request.text.endswith("Answer by 14:15 KST: {link}")


def test_a_released_expert_is_told_why_without_a_link() -> None:
    event = released()
    [request] = asked(event)
    assert (request.kind, request.recipient, request.channel) == ("release_notice", "EXP-001", "sms")
    assert "the incident closed (resolved)" in request.text
    assert request.link_until is None
    assert "{link}" not in request.text
    assert request.alternates == []


def test_an_unfillable_seat_is_told_to_every_operator_channel() -> None:
    event = unfillable()
    requests = asked(event)
    assert [(r.kind, r.recipient, r.channel) for r in requests] == [
        ("seat_unfillable", "operators", "telegram"),
        ("seat_unfillable", "operators", "sms"),
    ]
    assert [PRIVACY.unseal(r.address_sealed) for r in requests] == ["telegram:-1001", "sms:01000000000"]
    assert len({r.originator_id for r in requests}) == 2  # one delivery per channel, each on its own
    assert all("위험물·화학" in r.text and str(event.incident_id) in r.text for r in requests)
    assert all(r.alternates == [] for r in requests)


def test_an_unfillable_seat_asks_nothing_when_no_operator_channel_is_configured() -> None:
    assert asked(unfillable(), operators="") == []


def test_an_operator_channel_without_an_address_is_refused() -> None:
    with pytest.raises(ValueError, match="channel:address"):
        operator_contacts(PRIVACY, "telegram")


def test_an_expert_with_no_way_to_be_reached_is_asked_nothing() -> None:
    assert asked(invited(contacts=[])) == []


@pytest.mark.parametrize("event", [invited(), released(), unfillable()], ids=["invitation", "release", "unfillable"])
def test_the_same_event_twice_asks_for_the_same_deliveries(event: Event) -> None:
    first, again = asked(event), asked(event)
    assert [r.originator_id for r in first] == [r.originator_id for r in again]


def test_invitations_of_two_experts_are_two_deliveries() -> None:
    one, other = invited(), invited()
    assert asked(one)[0].originator_id != asked(other)[0].originator_id


@pytest.mark.parametrize("event", [invited(), released(), unfillable()], ids=["invitation", "release", "unfillable"])
def test_no_phone_number_or_chat_id_appears_in_a_request(event: Event) -> None:
    for request in asked(event):
        written = msgspec.json.encode(request)
        for secret in (b"900000001", b"010-0000-0001", b"01000000000", b"-1001"):
            assert secret not in written


async def test_a_redelivered_invitation_is_asked_for_once() -> None:
    app = BroadcastApplication()
    consumer = StreamConsumer(
        app,
        FakeJetStream(),  # type: ignore[arg-type]
        name="community-requests",
        subjects=["jikimi.community.>"],
        handler=CommunityRequests(operator_contacts(PRIVACY, OPERATORS)).handle,
        stream="JIKIMI",
    )
    event = msgspec.structs.replace(invited(), service="community", position=5)
    first, redelivered = FakeMsg.of(event, 5), FakeMsg.of(event, 5, delivered=2)
    await consumer.process([first])  # type: ignore[list-item]
    await consumer.process([redelivered])  # type: ignore[list-item]
    logged = [CODEC.decode(n.state) for n in app.recorder.select_notifications(0, 100)]
    assert [e.kind for e in logged if isinstance(e, DeliveryRequested)] == ["invitation"]
    assert (first.answers, redelivered.answers) == (["ack"], ["ack"])
