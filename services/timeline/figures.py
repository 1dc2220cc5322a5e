"""Per-incident figures from its log: how fast it came together, how fast messages went, who never saw them.

``figures_of`` reads an incident's events in recorded order, as ``state_at`` does (it watches the
same fold as it goes). Times are the events' ``occurred_at``; durations are in seconds, the later
time minus the earlier, None where either never happened. A negative ``report_to_opened_s`` means
the incident was opened (by an operator) before its first report came in.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from services.timeline.state import DeliveryState, IncidentFold
from shared.events import Event
from shared.events.community import (
    InvitationAccepted,
    InvitationDeclined,
    InvitationTimedOut,
    InvitationUndeliverable,
    MemberInvited,
    MemberReleased,
)
from shared.events.intake import IncidentOpened, ReportReceived

__all__ = [
    "ChannelLatency",
    "IncidentFigures",
    "InvitationOutcomes",
    "MessageAcknowledgements",
    "Milestones",
    "figures_of",
]

_OUTCOMES: dict[type[Event], str] = {
    InvitationAccepted: "accepted",
    InvitationDeclined: "declined",
    InvitationTimedOut: "timed_out",
    InvitationUndeliverable: "undeliverable",
    MemberReleased: "released",
}


class Milestones(msgspec.Struct, frozen=True, kw_only=True):
    """First report → incident opened → first expert accepted → every seat filled."""

    first_report_at: datetime | None = None
    opened_at: datetime | None = None
    first_accepted_at: datetime | None = None
    seats_filled_at: datetime | None = None
    """The first moment every planned seat had the experts it needed."""
    report_to_opened_s: float | None = None
    opened_to_first_accepted_s: float | None = None
    first_accepted_to_seats_filled_s: float | None = None
    report_to_seats_filled_s: float | None = None


class ChannelLatency(msgspec.Struct, frozen=True, kw_only=True):
    """Requested → first delivered, for one channel and one kind of message."""

    channel: str
    kind: str
    delivered: int
    p50_s: float | None
    max_s: float | None
    not_delivered: int = 0
    """Requested on this channel (last tried on it) and never delivered anywhere."""


class MessageAcknowledgements(msgspec.Struct, frozen=True, kw_only=True):
    """One message (a room message, a briefing, an invitation …) and which recipients never acknowledged it."""

    kind: str
    message_id: UUID
    """The fan-out of a room message, else the event that asked for it (the briefing, the invitation)."""
    sent_at: datetime
    recipients: int
    acknowledged: int
    never_acknowledged: list[str]


class InvitationOutcomes(msgspec.Struct, frozen=True, kw_only=True):
    """How each invitation ended: its answer, a lapse, no channel, released before an answer, or none yet."""

    invited: int = 0
    accepted: int = 0
    declined: int = 0
    timed_out: int = 0
    undeliverable: int = 0
    released: int = 0
    outstanding: int = 0


class IncidentFigures(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: UUID | None = None
    milestones: Milestones = msgspec.field(default_factory=Milestones)
    latency: list[ChannelLatency] = msgspec.field(default_factory=list)
    messages: list[MessageAcknowledgements] = msgspec.field(default_factory=list)
    never_acknowledged: dict[str, list[str]] = msgspec.field(default_factory=dict)
    """By kind of message: the members who acknowledged none of the messages of that kind sent to them."""
    invitations: InvitationOutcomes = msgspec.field(default_factory=InvitationOutcomes)


def figures_of(events: Sequence[Event]) -> IncidentFigures:
    """The incident's figures from its events (in recorded order); no events: ``IncidentFigures()``."""
    fold, invitations = IncidentFold(), _Invitations()
    first_report: datetime | None = None
    opened: datetime | None = None
    accepted: datetime | None = None
    filled: datetime | None = None
    for event in events:
        fold.apply(event)
        invitations.note(event)
        at = event.occurred_at
        if isinstance(event, ReportReceived):
            first_report = min(first_report or at, at)
        elif isinstance(event, IncidentOpened):
            opened = opened or at
        elif isinstance(event, InvitationAccepted):
            accepted = accepted or at
        if filled is None and fold.seats_filled():
            filled = at
    deliveries = list(fold.deliveries)
    return IncidentFigures(
        incident_id=fold.incident_id,
        milestones=Milestones(
            first_report_at=first_report,
            opened_at=opened,
            first_accepted_at=accepted,
            seats_filled_at=filled,
            report_to_opened_s=_seconds(first_report, opened),
            opened_to_first_accepted_s=_seconds(opened, accepted),
            first_accepted_to_seats_filled_s=_seconds(accepted, filled),
            report_to_seats_filled_s=_seconds(first_report, filled),
        ),
        latency=_latency(deliveries),
        messages=_messages(deliveries),
        never_acknowledged=_never_acknowledged(deliveries),
        invitations=invitations.outcomes(),
    )


class _Invitations:
    """Each invitation's outcome: the first of its answer, lapse, no channel or release decides
    (an expert released after accepting still counts as accepted)."""

    def __init__(self) -> None:
        self._current: dict[str, UUID] = {}
        self._ended: dict[UUID, str] = {}

    def note(self, event: Event) -> None:
        if isinstance(event, MemberInvited):
            self._current[event.expert_id] = event.id
            self._ended[event.id] = "outstanding"
        elif (outcome := _OUTCOMES.get(type(event))) is not None:
            invitation = self._current.get(getattr(event, "expert_id", ""))
            if invitation is not None and self._ended[invitation] == "outstanding":
                self._ended[invitation] = outcome

    def outcomes(self) -> InvitationOutcomes:
        counted = Counter(self._ended.values())
        return InvitationOutcomes(
            invited=len(self._ended),
            accepted=counted["accepted"],
            declined=counted["declined"],
            timed_out=counted["timed_out"],
            undeliverable=counted["undeliverable"],
            released=counted["released"],
            outstanding=counted["outstanding"],
        )


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start is not None and end is not None else None


def _latency(deliveries: list[DeliveryState]) -> list[ChannelLatency]:
    took: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    missed: defaultdict[tuple[str, str], int] = defaultdict(int)
    for d in deliveries:
        if d.delivered_at is not None:
            took[d.delivered_on, d.kind].append((d.delivered_at - d.requested_at).total_seconds())
        else:
            missed[d.channel, d.kind] += 1
    return [
        ChannelLatency(
            channel=channel,
            kind=kind,
            delivered=len(took[channel, kind]),
            p50_s=statistics.median(took[channel, kind]) if took[channel, kind] else None,
            max_s=max(took[channel, kind], default=None),
            not_delivered=missed[channel, kind],
        )
        for channel, kind in sorted(took.keys() | missed.keys())
    ]


def _message_of(d: DeliveryState) -> UUID:
    return d.fan_out_id or d.caused_by or d.delivery_id


def _messages(deliveries: list[DeliveryState]) -> list[MessageAcknowledgements]:
    grouped: dict[UUID, list[DeliveryState]] = defaultdict(list)
    for d in deliveries:
        grouped[_message_of(d)].append(d)
    found = []
    for message_id, sent in grouped.items():
        members = {d.member for d in sent}
        seen = {d.member for d in sent if d.acknowledged_by}
        found.append(
            MessageAcknowledgements(
                kind=sent[0].kind,
                message_id=message_id,
                sent_at=min(d.requested_at for d in sent),
                recipients=len(members),
                acknowledged=len(seen),
                never_acknowledged=sorted(members - seen),
            )
        )
    return sorted(found, key=lambda m: m.sent_at)


def _never_acknowledged(deliveries: list[DeliveryState]) -> dict[str, list[str]]:
    sent: defaultdict[str, set[str]] = defaultdict(set)
    seen: defaultdict[str, set[str]] = defaultdict(set)
    for d in deliveries:
        sent[d.kind].add(d.member)
        if d.acknowledged_by:
            seen[d.kind].add(d.member)
    return {kind: sorted(members - seen[kind]) for kind, members in sorted(sent.items()) if members - seen[kind]}
