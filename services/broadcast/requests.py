"""What community's decisions ask broadcast to deliver (consumer handlers, exactly once).

- An expert's invitation goes to their channels in their order of preference (the first, then
  the others as fallbacks), with a link minted when it is sent, valid until the invitation lapses.
- A released expert is told why their part ended.
- A reporter who joined their incident's community gets the link to its room (for a week).
- A seat nobody can take is told to the situation room's operators, on the channels set in
  ``JIKIMI_OPERATOR_CHANNELS`` (``telegram:<chat id>,sms:<number>``; sealed before they are
  written anywhere).

A delivery's id follows from the event that asked for it, so a redelivered event asks once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import timedelta
from uuid import NAMESPACE_URL, uuid5
from zoneinfo import ZoneInfo

import structlog

from shared import geo, taxonomy
from shared.events import Event
from shared.events.broadcast import DeliveryRequested
from shared.events.common import ContactRef
from shared.events.community import MemberInvited, MemberReleased, ReporterJoined, SeatUnfillable
from shared.links import ROOM_LINK_TTL_S
from shared.privacy import Privacy

__all__ = ["FIELD_NAMES", "CommunityRequests", "operator_contacts"]

log = structlog.get_logger()

SEOUL = ZoneInfo("Asia/Seoul")

FIELD_NAMES: dict[str, tuple[str, str]] = {
    "fire": ("화재", "fire"),
    "hazmat": ("위험물·화학", "hazmat"),
    "structural": ("구조물 붕괴", "structural collapse"),
    "flood": ("홍수·수해", "flood"),
    "earthquake": ("지진", "earthquake"),
    "gas_electric": ("가스·전기", "gas and electricity"),
    "ems": ("응급의료", "emergency medicine"),
    "high_rise": ("고층건물", "high-rise"),
    "subway_rail": ("지하철·철도", "subway and rail"),
    "forest_fire": ("산불", "forest fire"),
    "psych_support": ("심리지원", "psychological support"),
    "heat_cold": ("폭염·한파", "heat and cold"),
    "infectious_disease": ("감염병", "infectious disease"),
}


def operator_contacts(privacy: Privacy, spec: str | None = None) -> list[ContactRef]:
    """The situation room's channels from ``spec`` (default: ``JIKIMI_OPERATOR_CHANNELS``), sealed."""
    spec = os.environ.get("JIKIMI_OPERATOR_CHANNELS", "") if spec is None else spec
    contacts = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        channel, _, address = item.partition(":")
        if not address:
            msg = f"JIKIMI_OPERATOR_CHANNELS: {channel!r} needs channel:address"
            raise ValueError(msg)
        contacts.append(ContactRef(channel, privacy.seal_address(channel, address)))
    return contacts


def _what(event: MemberInvited, *, english: bool) -> str:
    """The incident in a few words: its type, severity and district."""
    try:
        kind = taxonomy.get(event.disaster_type)
        name = kind.en if english else kind.ko
    except taxonomy.UnknownDisasterTypeError:
        name = event.disaster_type or ("an incident" if english else "사고")
    district = geo.district_by_code(event.district_code) if event.district_code else None
    if district is None:
        return f"{name} ({event.severity})"
    return f"{name} ({event.severity}) in {district.en}" if english else f"{district.ko} {name}({event.severity})"


def _field(field: str, *, english: bool) -> str:
    ko, en = FIELD_NAMES.get(field, (field, field))
    return en if english else ko


def invitation_text(event: MemberInvited) -> str:
    """The invitation as the expert reads it; ``{link}`` is filled in when it is sent."""
    by = event.expires_at.astimezone(SEOUL).strftime("%H:%M")
    if event.language != "ko":
        return (
            f"[Jikimi] Please advise on {_what(event, english=True)} as the "
            f"{_field(event.seat_field, english=True)} expert. Answer by {by} KST: {{link}}"
        )
    return (
        f"[지키미] {_what(event, english=False)} 사고에 {_field(event.seat_field, english=False)} 전문가로 "
        f"참여를 요청합니다. {by}까지 응답해 주세요: {{link}}"
    )


def release_text(event: MemberReleased) -> str:
    if event.language != "ko":
        return f"[Jikimi] Your part in the incident has ended ({event.reason}). Thank you."
    return f"[지키미] 사고 대응 참여가 종료되었습니다 ({event.reason}). 감사합니다."


def unfillable_text(event: SeatUnfillable) -> str:
    return (
        f"[지키미 상황실] {_field(event.seat_field, english=False)} 전문가 자리를 채울 수 없습니다 — "
        f"사고 {event.incident_id}: {event.reason}"
    )


def _request(
    cause: Event, key: str, *, recipient: str, kind: str, text: str, contacts: Sequence[ContactRef], **more: object
) -> DeliveryRequested:
    first, *rest = contacts
    return DeliveryRequested(
        originator_id=uuid5(NAMESPACE_URL, f"jikimi:delivery:{cause.id}:{key}"),
        originator_version=1,
        incident_id=cause.incident_id,
        causation_id=cause.id,
        correlation_id=cause.correlation_id or cause.id,
        recipient=recipient,
        channel=first.channel,
        kind=kind,
        text=text,
        address_sealed=first.address_sealed,
        alternates=list(rest),
        **more,  # type: ignore[arg-type]
    )


class CommunityRequests:
    """The handler: ``handle(event)`` returns the deliveries a community event asks for.

    ``ack_within_s``, when given, is how long every invitation may go unacknowledged before its
    next channel is used, instead of a third of its answer window (tests shorten it)."""

    def __init__(self, operators: Sequence[ContactRef], *, ack_within_s: int | None = None) -> None:
        self.operators = list(operators)
        self.ack_within_s = ack_within_s

    @classmethod
    def from_env(cls, privacy: Privacy) -> CommunityRequests:
        """The operators of ``JIKIMI_OPERATOR_CHANNELS``; ``JIKIMI_INVITATION_ACK_WITHIN_S`` if set."""
        ack_within = os.environ.get("JIKIMI_INVITATION_ACK_WITHIN_S", "").strip()
        return cls(operator_contacts(privacy), ack_within_s=int(ack_within) if ack_within else None)

    def handle(self, event: Event) -> Sequence[Event]:
        if isinstance(event, MemberInvited):
            window = (event.expires_at - event.recorded_at).total_seconds()
            # Unanswered for a third of the time: the next channel too.
            ack_within = self.ack_within_s or max(60, int(window / 3))
            return self._to_expert(
                event, "invitation", invitation_text(event), link_until=event.expires_at, ack_within_s=ack_within
            )
        if isinstance(event, MemberReleased):
            return self._to_expert(event, "release_notice", release_text(event))
        if isinstance(event, ReporterJoined):
            return self._room_link(event)
        if isinstance(event, SeatUnfillable):
            return self._to_operators(event)
        return ()

    @staticmethod
    def _room_link(event: ReporterJoined) -> Sequence[Event]:
        if event.reply_to is None:
            return ()  # a web report: there is no channel to answer on
        text = "[지키미] 신고하신 사고의 상황방입니다. 대응 상황을 보고 추가 정보를 보내 주세요: {link}"
        until = event.recorded_at + timedelta(seconds=ROOM_LINK_TTL_S)
        return [
            _request(
                event,
                "room_link",
                recipient=event.reporter,
                kind="room_link",
                text=text,
                contacts=[event.reply_to],
                link_until=until,
            )
        ]

    def _to_operators(self, event: SeatUnfillable) -> Sequence[Event]:
        if not self.operators:
            log.warning("operators_not_told", incident_id=str(event.incident_id), why="JIKIMI_OPERATOR_CHANNELS unset")
            return ()
        text = unfillable_text(event)
        return [
            _request(event, f"operators:{n}", recipient="operators", kind="seat_unfillable", text=text, contacts=[c])
            for n, c in enumerate(self.operators)
        ]

    @staticmethod
    def _to_expert(event: MemberInvited | MemberReleased, kind: str, text: str, **more: object) -> Sequence[Event]:
        if not event.contacts:
            log.warning("expert_unreachable", expert_id=event.expert_id, kind=kind)
            return ()
        return [
            _request(
                event,
                kind,
                recipient=event.expert_id,
                kind=kind,
                text=text,
                contacts=event.contacts,
                language=event.language,
                **more,
            )
        ]
