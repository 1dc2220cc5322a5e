"""Every event of the contract reads as one specific line, and no line gives away an address."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import msgspec
import msgspec.inspect as mi
import pytest

from services.timeline.summary import generic_summary, summarize
from shared.events import CODEC, Event
from shared.events.broadcast import DeliveryFailed, LiveFannedOut
from shared.events.common import Actor, ContactRef, Location
from shared.events.community import CandidateScore, InvitationDelivered, MemberInvited, MessagePosted
from shared.events.intake import Classification, IncidentOpened, ReportLinked, ReportReceived

T0 = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
SECRET = "SEALED-c2VjcmV0LWFkZHJlc3M"
_PRIVATE_NAMES = {"web", "contact", "uri", "address", "addresses"}


def _sample(info: mi.Type, name: str) -> Any:  # noqa: PLR0911 -- one answer per kind of type
    """A JSON-ready value for a field: every private-looking field holds ``SECRET``."""
    match info:
        case mi.StrType():
            return SECRET if "sealed" in name or name in _PRIVATE_NAMES or name == "reply_to" else f"some {name}"
        case mi.IntType():
            return 3
        case mi.FloatType():
            return 0.5
        case mi.BoolType():
            return True
        case mi.DateTimeType():
            return T0.isoformat()
        case mi.UUIDType():
            return str(uuid4())
        case mi.LiteralType():
            return info.values[0]
        case mi.ListType() | mi.TupleType() | mi.VarTupleType() | mi.SetType() | mi.FrozenSetType():
            items = info.item_types if isinstance(info, mi.TupleType) else (info.item_type,)
            return [_sample(item, name) for item in items]
        case mi.DictType():
            return {"author": "operator:alice", "link": SECRET}
        case mi.UnionType():
            chosen = next(t for t in info.types if not isinstance(t, mi.NoneType))
            return _sample(chosen, name)
        case mi.StructType():
            return _fields(info)
    raise AssertionError(f"no sample for {info!r} ({name})")


def _fields(info: mi.StructType) -> dict[str, Any]:
    values = {f.encode_name: _sample(f.type, f.name) for f in info.fields}
    if info.cls.__struct_config__.tag_field is not None and info.cls.__struct_config__.tag is not None:
        values[info.cls.__struct_config__.tag_field] = info.cls.__struct_config__.tag
    return values


def full(cls: type[Event]) -> Event:
    """An event of ``cls`` with every field filled, private ones with ``SECRET``."""
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    return msgspec.convert(_fields(info), cls)


@pytest.mark.parametrize("cls", CODEC.types, ids=lambda cls: cls.wire_tag())
def test_every_event_type_reads_as_its_own_line_without_any_address(cls: type[Event]) -> None:
    event = full(cls)

    line = summarize(event)

    assert line != generic_summary(event)
    assert cls.wire_tag() not in line
    assert "\n" not in line and 10 < len(line) <= 240
    assert SECRET not in line


def test_an_event_type_the_timeline_does_not_know_gets_a_line_from_its_tag() -> None:
    class Rehearsed(Event, frozen=True, tag="drill.evacuation_rehearsed"):
        pass

    assert summarize(Rehearsed(originator_id=uuid4(), originator_version=1)) == "Evacuation rehearsed (drill)"


def test_a_report_says_its_channel_its_words_and_what_the_rules_made_of_it() -> None:
    report = ReportReceived(
        originator_id=uuid4(),
        originator_version=1,
        channel="telegram",
        sender="p_abcdef",
        channel_message_id="tg:1",
        receipt="J-1",
        text="은평구 연신내역 앞 상가 2층에서 불이 났어요",
        classification=Classification("fire", "severe", confidence=0.92),
        reply_to_sealed=SECRET,
    )

    assert summarize(report) == (
        "Report received on telegram: '은평구 연신내역 앞 상가 2층에서 불이 났어요' (fire, 0.92)"
    )


def test_a_long_text_is_cut_to_a_line() -> None:
    posted = MessagePosted(
        originator_id=uuid4(), originator_version=7, author="operator:alice", text="대피하세요\n" * 40, audience=["x"]
    )

    line = summarize(posted)

    assert line.startswith("Room message from operator:alice to 1 member(s): '대피하세요 대피하세요")
    assert "…'" in line and "\n" not in line and len(line) < 120


def test_an_invitation_says_who_which_seat_rank_score_and_why_but_not_where_it_goes() -> None:
    invited = MemberInvited(
        originator_id=uuid4(),
        originator_version=2,
        expert_id="EXP-012",
        seat_field="hazmat",
        rank=1,
        score=CandidateScore("EXP-012", 0.81, reason="nearest on-call"),
        expires_at=T0,
        reason="nearest on-call",
        contacts=[ContactRef("telegram", SECRET)],
    )
    delivered = InvitationDelivered(
        originator_id=uuid4(), originator_version=3, expert_id="EXP-012", channel="telegram"
    )

    assert summarize(invited) == "Expert EXP-012 invited to the hazmat seat (rank 1, score 0.81): nearest on-call"
    assert summarize(delivered) == "Invitation to EXP-012 delivered on telegram"


def test_an_opened_incident_and_a_linked_report_say_where_and_why() -> None:
    incident = uuid4()
    opened = IncidentOpened(
        originator_id=incident,
        originator_version=1,
        disaster_type="fire",
        severity="severe",
        title="마포구 화재",
        location=Location(district_code="11440", address="합정동 1-1"),
        reason="no open fire incident near the report",
    )
    linked = ReportLinked(
        originator_id=incident,
        originator_version=2,
        report_id=incident,
        reporter="p_abcdef",
        by=Actor("system", "intake"),
        reason="within 0.4 km",
        distance_km=0.42,
        reply_to=ContactRef("sms", SECRET),
    )

    assert summarize(opened) == (
        "Incident opened by system:intake: fire (severe) '마포구 화재' in Mapo-gu: "
        "no open fire incident near the report"
    )
    assert summarize(linked) == (
        f"Report {str(incident)[:8]} from p_abcdef linked by system:intake (0.4 km away): within 0.4 km"
    )


def test_a_room_message_going_live_and_a_failed_delivery_read_as_what_happens_next() -> None:
    fanned = LiveFannedOut(
        originator_id=uuid4(),
        originator_version=1,
        members=[f"expert:E{n}" for n in range(998)],
        data={"author": "operator:alice"},
    )
    failed = DeliveryFailed(
        originator_id=uuid4(),
        originator_version=3,
        attempt=6,
        channel="sms",
        error="the channel answered 503",
        next_channel="email",
        kind="invitation",
        recipient="EXP-012",
    )

    assert summarize(fanned) == "Room message from operator:alice sent live to 998 member(s)"
    assert summarize(failed) == (
        "Invitation to EXP-012 failed on sms (attempt 6): the channel answered 503; goes on on email"
    )
