"""The community service's current state, folded from its own log: communities, the expert pool
and each expert's load."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.persistence import ApplicationRecorder

from services.community.registry import Availability, Expert, expert_from_profile
from shared.eventlog.view import LogView
from shared.events import Event
from shared.events.community import (
    CommunityAssembled,
    CommunityClosed,
    ExpertAvailabilityChanged,
    ExpertChanged,
    ExpertRegistered,
    ExpertRetired,
    InvitationAccepted,
    InvitationDeclined,
    InvitationDelivered,
    InvitationTimedOut,
    InvitationUndeliverable,
    MemberInvited,
    MemberReleased,
    ReporterJoined,
    ReporterLeft,
    SeatsChanged,
)

__all__ = ["Community", "CommunityView", "Invitation", "Seat", "community_id", "expert_stream"]


def community_id(incident_id: UUID) -> UUID:
    """An incident has one community; its id follows from the incident's."""
    return uuid5(NAMESPACE_URL, f"jikimi:community:{incident_id}")


def expert_stream(expert_id: str) -> UUID:
    """An expert's registry entry is a stream of its own."""
    return uuid5(NAMESPACE_URL, f"jikimi:expert:{expert_id}")


class Invitation(msgspec.Struct, frozen=True, kw_only=True):
    expert_id: str
    seat_field: str
    expires_at: datetime
    status: Literal["invited", "accepted", "declined", "timed_out", "released", "undeliverable"] = "invited"
    delivered_on: str = ""
    """The channel the invitation reached the expert on, once broadcast delivered it."""


class Seat(msgspec.Struct, frozen=True):
    field: str
    count: int
    confirm_within_min: int = 15


class Community(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    incident_id: UUID
    version: int
    disaster_type: str
    severity: str
    reporters_join: bool
    seats: tuple[Seat, ...] = ()
    at: tuple[float, float] | None = None
    district_code: str | None = None
    invitations: dict[str, Invitation] = msgspec.field(default_factory=dict)
    reporters: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()
    closed: bool = False

    def admits(self, role: str, subject: str) -> bool:
        """Who may read and post in the room: operators; experts invited or seated (not after
        declining, timing out or release); departments engaged; reporters who joined (by their
        room link) until they leave."""
        if role in {"operator", "admin"}:
            return True
        if role == "expert":
            invitation = self.invitations.get(subject)
            return invitation is not None and invitation.status in {"invited", "accepted"}
        if role == "citizen":
            return subject in self.reporters
        return role == "department" and subject in self.departments

    @property
    def audience(self) -> list[str]:
        """Who is in the room now, as ``role:id``: experts invited or seated, departments engaged,
        reporters who joined (operators see every room and are not listed)."""
        experts = [f"expert:{e}" for e in sorted(self.invited)]
        departments = [f"department:{d}" for d in sorted(self.departments)]
        return experts + departments + [f"citizen:{r}" for r in sorted(self.reporters)]

    @property
    def invited(self) -> frozenset[str]:
        """Experts holding an open invitation or a seat (their load)."""
        return frozenset(e for e, i in self.invitations.items() if i.status in {"invited", "accepted"})

    def filled(self, field: str) -> int:
        return sum(1 for i in self.invitations.values() if i.seat_field == field and i.status == "accepted")

    def pending(self, field: str) -> int:
        return sum(1 for i in self.invitations.values() if i.seat_field == field and i.status == "invited")


class CommunityView(LogView):
    """Communities by id, the expert pool, and how many communities each expert is in (their load)."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        super().__init__(recorder)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.position = 0
            self.communities: dict[UUID, Community] = {}
            self.experts: dict[str, Expert] = {}
            self._expert_versions: dict[str, int] = {}
            self._pool: tuple[Expert, ...] | None = None
            self._load: Counter[str] = Counter()

    def pool(self) -> tuple[Expert, ...]:
        """Every expert ever registered (retired ones included, marked), in id order; kept between
        registry changes, as every decision asks for it."""
        with self.lock:
            if self._pool is None:
                self._pool = tuple(self.experts[k] for k in sorted(self.experts))
            return self._pool

    def expert_version(self, expert_id: str) -> int:
        """The version of the expert's registry stream (0: never registered)."""
        with self.lock:
            return self._expert_versions.get(expert_id, 0)

    def apply(self, event: Event) -> None:
        if isinstance(event, ExpertRegistered | ExpertChanged | ExpertRetired | ExpertAvailabilityChanged):
            self._apply_registry(event)
            return
        with self.lock:
            current = self.communities.get(event.originator_id)
            if event.originator_version != (current.version if current else 0) + 1:
                return
            after = _apply(current, event)
            if after is not None:
                self.communities[after.id] = after
                # Keep each expert's load as communities change, not recounted for every decision.
                before = current.invited if current is not None and not current.closed else frozenset()
                now = after.invited if not after.closed else frozenset()
                self._load.update(now - before)
                self._load.subtract(before - now)

    def _apply_registry(
        self, event: ExpertRegistered | ExpertChanged | ExpertRetired | ExpertAvailabilityChanged
    ) -> None:
        with self.lock:
            if event.originator_version != self._expert_versions.get(event.expert_id, 0) + 1:
                return
            self._expert_versions[event.expert_id] = event.originator_version
            self._pool = None
            current = self.experts.get(event.expert_id)
            if isinstance(event, ExpertRegistered | ExpertChanged):
                expert = expert_from_profile(event.expert_id, event.profile)
                if current is not None:
                    expert = msgspec.structs.replace(expert, active=current.active, availability=current.availability)
                self.experts[event.expert_id] = expert
            elif current is None:
                return
            elif isinstance(event, ExpertRetired):
                self.experts[event.expert_id] = msgspec.structs.replace(current, active=False)
            else:
                availability = Availability(event.available, event.until, event.reason)
                self.experts[event.expert_id] = msgspec.structs.replace(current, availability=availability)

    @staticmethod
    def folded(community: Community, event: Event) -> Community:
        """``community`` after ``event``, without touching the view (for decisions in progress)."""
        after = _apply(community, event)
        assert after is not None
        return after

    def load(self) -> Counter[str]:
        """Open invitations and memberships per expert."""
        with self.lock:
            return +self._load  # a copy, without the experts whose load went back to nothing


def _apply(community: Community | None, event: Event) -> Community | None:  # noqa: PLR0911 -- a return per event kind
    if isinstance(event, CommunityAssembled):
        assert event.incident_id is not None
        return Community(
            id=event.originator_id,
            incident_id=event.incident_id,
            version=event.originator_version,
            disaster_type=event.disaster_type,
            severity=event.severity,
            reporters_join=event.reporters_join,
            seats=tuple(Seat(s.field, s.count, s.confirm_within_min) for s in event.seats),
            at=(event.lat, event.lon) if event.lat is not None and event.lon is not None else None,
            district_code=event.district_code,
            departments=frozenset(event.departments),
        )
    if community is None:
        return None
    community = msgspec.structs.replace(community, version=event.originator_version)
    if isinstance(event, MemberInvited):
        invitation = Invitation(expert_id=event.expert_id, seat_field=event.seat_field, expires_at=event.expires_at)
        return msgspec.structs.replace(community, invitations={**community.invitations, event.expert_id: invitation})
    if isinstance(event, SeatsChanged):
        seats = tuple(Seat(s.field, s.count, s.confirm_within_min) for s in event.seats)
        departments = frozenset(event.departments) if event.departments else community.departments
        return msgspec.structs.replace(
            community,
            seats=seats,
            disaster_type=event.disaster_type,
            severity=event.severity,
            departments=departments,
        )
    if isinstance(event, CommunityClosed):
        return msgspec.structs.replace(community, closed=True)
    if isinstance(event, InvitationDelivered):
        delivered = community.invitations.get(event.expert_id)
        if delivered is None:
            return community
        delivered = msgspec.structs.replace(delivered, delivered_on=event.channel)
        return msgspec.structs.replace(community, invitations={**community.invitations, event.expert_id: delivered})
    answered = {
        InvitationAccepted: "accepted",
        InvitationDeclined: "declined",
        InvitationTimedOut: "timed_out",
        InvitationUndeliverable: "undeliverable",
        MemberReleased: "released",
    }
    if type(event) in answered:
        expert_id: str = event.expert_id  # type: ignore[attr-defined]
        invitation = msgspec.structs.replace(community.invitations[expert_id], status=answered[type(event)])
        return msgspec.structs.replace(community, invitations={**community.invitations, expert_id: invitation})
    if isinstance(event, ReporterJoined):
        return msgspec.structs.replace(community, reporters=community.reporters | {event.reporter})
    if isinstance(event, ReporterLeft):
        return msgspec.structs.replace(community, reporters=community.reporters - {event.reporter})
    return community
