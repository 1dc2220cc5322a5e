"""Events of the community service: each incident's emergency community, decided and explained.

A community's stream is the community (``originator_id`` = uuid5 of the incident id). Every
decision carries its inputs and reasons: the policy version, each seat's ranked candidates with
their scores, who was skipped and why, so the log answers "why this expert, not that one?".
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from shared.events.base import Event
from shared.events.common import ContactRef

__all__ = [
    "CandidateScore",
    "CommunityAssembled",
    "CommunityClosed",
    "ContactRef",
    "EngagedDepartment",
    "ExpertAvailabilityChanged",
    "ExpertChanged",
    "ExpertProfile",
    "ExpertRegistered",
    "ExpertRetired",
    "InvitationAccepted",
    "InvitationDeclined",
    "InvitationDelivered",
    "InvitationTimedOut",
    "InvitationUndeliverable",
    "MemberInvited",
    "MemberReleased",
    "MessagePosted",
    "OnCallHours",
    "ReporterJoined",
    "ReporterLeft",
    "SeatPlanned",
    "SeatUnfillable",
    "SeatsChanged",
    "SkippedCandidate",
]


class CandidateScore(msgspec.Struct, frozen=True):
    """One expert as ranked for a seat: each component in 0..1 and the weighted total."""

    expert_id: str
    total: float
    field: float = 0.0
    distance: float = 0.0
    on_call: float = 0.0
    load: float = 0.0
    language: float = 0.0
    distance_km: float = 0.0
    reason: str = ""


class SkippedCandidate(msgspec.Struct, frozen=True):
    expert_id: str
    reason: str


class SeatPlanned(msgspec.Struct, frozen=True):
    """A seat of the community: its field, how many, by when, and the head of the ranking it was
    filled from (those invited and the next few; ``ranked`` says how many could have been asked)."""

    field: str
    count: int
    confirm_within_min: int
    candidates: list[CandidateScore] = msgspec.field(default_factory=list)
    skipped: list[SkippedCandidate] = msgspec.field(default_factory=list)
    ranked: int = 0


class EngagedDepartment(msgspec.Struct, frozen=True):
    """A response department engaged for the incident, and where its briefings go (sealed)."""

    id: str
    name: str
    kind: str
    briefing: ContactRef


class CommunityAssembled(Event, frozen=True, tag="community.community_assembled"):
    """The community of an incident was decided: its seats (with rankings), the departments
    engaged (ids, by kind, district and type), whether reporters join."""

    disaster_type: str
    severity: str
    policy_version: str
    seats: list[SeatPlanned] = msgspec.field(default_factory=list)
    departments: list[str] = msgspec.field(default_factory=list)
    reporters_join: bool = True
    district_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    engaged: list[EngagedDepartment] = msgspec.field(default_factory=list)
    """The departments of ``departments``, with their briefing channels (for broadcast)."""


class MemberInvited(Event, frozen=True, tag="community.member_invited"):
    """An expert is asked to take a seat; the invitation lapses at ``expires_at``."""

    expert_id: str
    seat_field: str
    rank: int
    score: CandidateScore
    expires_at: datetime
    reason: str = ""
    contacts: list[ContactRef] = msgspec.field(default_factory=list)
    """Where broadcast sends the invitation (its link), in the expert's order of preference."""
    language: str = "ko"
    disaster_type: str = ""
    severity: str = ""
    district_code: str | None = None


class SeatUnfillable(Event, frozen=True, tag="community.seat_unfillable"):
    """Nobody in the pool can take a seat: the incident's operators must be told."""

    seat_field: str
    reason: str
    skipped: list[SkippedCandidate] = msgspec.field(default_factory=list)


class ReporterJoined(Event, frozen=True, tag="community.reporter_joined"):
    """A reporter is in the community: broadcast sends them their room link at ``reply_to``."""

    reporter: str
    report_id: UUID | None = None
    reply_to: ContactRef | None = None


class ReporterLeft(Event, frozen=True, tag="community.reporter_left"):
    reporter: str
    reason: str = ""


class InvitationAccepted(Event, frozen=True, tag="community.invitation_accepted"):
    """The expert took the seat: a member of the community now."""

    expert_id: str
    seat_field: str
    by: str = ""


class InvitationDeclined(Event, frozen=True, tag="community.invitation_declined"):
    expert_id: str
    seat_field: str
    reason: str = ""
    by: str = ""


class InvitationTimedOut(Event, frozen=True, tag="community.invitation_timed_out"):
    """Nobody answered by ``expires_at``: the seat goes to the next candidate."""

    expert_id: str
    seat_field: str
    expired_at: datetime | None = None


class SeatsChanged(Event, frozen=True, tag="community.seats_changed"):
    """The incident changed (reclassified, escalated): the community's seats follow the new plan."""

    disaster_type: str
    severity: str
    policy_version: str
    seats: list[SeatPlanned] = msgspec.field(default_factory=list)
    reason: str = ""
    departments: list[str] = msgspec.field(default_factory=list)
    """The departments engaged under the new plan (empty in events written before it was recorded)."""
    engaged: list[EngagedDepartment] = msgspec.field(default_factory=list)


class MemberReleased(Event, frozen=True, tag="community.member_released"):
    """An expert's invitation or seat ends (no longer needed, or the incident closed): a notice
    goes to them, and their access to the room ends."""

    expert_id: str
    seat_field: str
    reason: str = ""
    contacts: list[ContactRef] = msgspec.field(default_factory=list)
    """Where broadcast sends the notice, in the expert's order of preference."""
    language: str = "ko"


class CommunityClosed(Event, frozen=True, tag="community.community_closed"):
    outcome: str = ""


class MessagePosted(Event, frozen=True, tag="community.message_posted"):
    """A message in an incident's room (its stream is the room: uuid5 of the incident, for rooms).

    ``author`` is ``role:id`` (operator:alice, expert:EXP-012, department:FS-11440)."""

    author: str
    text: str = ""
    lat: float | None = None
    lon: float | None = None
    photo_ref: str = ""
    audience: list[str] = msgspec.field(default_factory=list)
    """The room's members when it was posted (``role:id``; operators see every room and are not
    listed): broadcast fans the message out to each of them but its author."""


# The registry of experts. An expert's stream is the expert (uuid5 of "jikimi:expert:<id>"). Contact
# addresses are sealed (only broadcast, which delivers, opens them); everything else is in the clear
# so an analyst can see what the pool looked like when a decision was made.


class OnCallHours(msgspec.Struct, frozen=True):
    """A weekly on-call window in Korea time: from ``start`` to ``end`` (HH:MM) on each weekday
    (0 = Monday); ``end`` before ``start`` runs past midnight, ``end == start`` is 24 hours."""

    weekdays: list[int]
    start: str
    end: str


class ExpertProfile(msgspec.Struct, frozen=True):
    name: str
    fields: list[str]
    """Fields of expertise, the main one first."""
    district_code: str
    lat: float
    lon: float
    languages: list[str]
    channels: list[ContactRef]
    """In order of preference."""
    on_call: list[OnCallHours]
    max_concurrent: int = 2


class ExpertRegistered(Event, frozen=True, tag="community.expert_registered"):
    """An expert joined the pool (``by`` is ``seed:<file>`` for the bundled seed data)."""

    expert_id: str
    profile: ExpertProfile
    by: str = ""


class ExpertChanged(Event, frozen=True, tag="community.expert_changed"):
    """An expert's profile was replaced; ``changed`` names the parts that differ."""

    expert_id: str
    profile: ExpertProfile
    changed: list[str] = msgspec.field(default_factory=list)
    by: str = ""


class ExpertRetired(Event, frozen=True, tag="community.expert_retired"):
    """The expert leaves the pool: never invited again; open invitations and seats are released."""

    expert_id: str
    reason: str = ""
    by: str = ""


class ExpertAvailabilityChanged(Event, frozen=True, tag="community.expert_availability_changed"):
    """The expert is (un)available beyond their on-call schedule, until ``until`` (None: until
    changed again). Unavailable experts are skipped, with this reason recorded."""

    expert_id: str
    available: bool
    until: datetime | None = None
    reason: str = ""
    by: str = ""


class InvitationDelivered(Event, frozen=True, tag="community.invitation_delivered"):
    """Broadcast delivered the invitation (its link) to the expert on ``channel``."""

    expert_id: str
    channel: str
    delivery_id: UUID | None = None


class InvitationUndeliverable(Event, frozen=True, tag="community.invitation_undeliverable"):
    """No channel of the expert took the invitation: the seat goes to the next candidate now."""

    expert_id: str
    seat_field: str
    error: str = ""
    delivery_id: UUID | None = None
