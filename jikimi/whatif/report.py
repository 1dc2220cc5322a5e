"""The two runs side by side: per seat, who was invited when, who accepted, when the seat filled.

Both runs are read the same way, from their community events (the recorded stream, the sandbox's
decisions), folded with community's own ``CommunityView``. Times are seconds after the incident
opened (its ``IncidentOpened.recorded_at``, the time community's decisions take), from each
event's ``occurred_at``: the time it was decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec
from eventsourcing.popo import POPOApplicationRecorder

from services.community.view import Community, CommunityView, community_id
from shared.events import Event
from shared.events.community import (
    CommunityAssembled,
    InvitationAccepted,
    InvitationDeclined,
    InvitationTimedOut,
    InvitationUndeliverable,
    MemberInvited,
    MemberReleased,
    SeatsChanged,
    SeatUnfillable,
)

__all__ = ["Invitee", "Run", "SeatRun", "summarise"]

Outcome = Literal["invited", "accepted", "declined", "timed_out", "undeliverable"]
_OUTCOMES: dict[type[Event], Outcome] = {
    InvitationAccepted: "accepted",
    InvitationDeclined: "declined",
    InvitationTimedOut: "timed_out",
    InvitationUndeliverable: "undeliverable",
}


class Invitee(msgspec.Struct, kw_only=True):
    """An expert invited to a seat, and how their invitation ended (times after the opening)."""

    expert_id: str
    name: str = ""
    rank: int
    score: float
    invited_after_s: float
    outcome: Outcome = "invited"
    """``invited``: no answer before the run ended (the incident closed, or it is still open)."""
    outcome_after_s: float | None = None
    released_after_s: float | None = None
    released_reason: str = ""
    answer: Literal["recorded", "as_recorded", "assumed", "lapsed_first"] = "recorded"
    """Where the answer came from: the log (the recorded run); in the what-if, the expert's
    recorded answer at the same delay, an assumed one (no answer was recorded), or a recorded
    answer that came after the invitation lapsed under the policy tried."""
    note: str = ""


class SeatRun(msgspec.Struct, kw_only=True):
    """One seat (field) in one run."""

    field: str
    count: int
    confirm_within_min: int
    invited: list[Invitee] = msgspec.field(default_factory=list)
    accepted: int = 0
    filled_after_s: float | None = None
    """When the seat had its ``count`` of accepted experts (and kept them); None: never."""
    unfillable: str = ""
    """Why community reported the seat unfillable, if it did."""
    in_final_plan: bool = True


class Run(msgspec.Struct, kw_only=True):
    """One run of the incident: the policy versions it followed, its seats, its departments."""

    policy_versions: list[str] = msgspec.field(default_factory=list)
    seats: list[SeatRun] = msgspec.field(default_factory=list)
    departments: list[str] = msgspec.field(default_factory=list)
    filled_after_s: float | None = None
    """When every seat of the final plan was filled; None: never."""


def summarise(
    events: Sequence[Event], *, incident_id: UUID, opened_at: datetime, close_id: UUID | None, names: dict[str, str]
) -> Run:
    """The run that ``events`` (one community stream, in order) record. Seats count as filled until
    the incident's close (``close_id``) releases everyone."""
    reader = _Reader(opened_at, names)
    view = CommunityView(POPOApplicationRecorder())
    stream = community_id(incident_id)
    closing = False
    for event in events:
        view.apply(event)
        closing = closing or (close_id is not None and event.causation_id == close_id)
        reader.read(event, closing=closing)
        community = view.communities.get(stream)
        if community is not None and not closing:
            reader.count_filled(community, event)
    run = reader.run
    run.seats = list(reader.seats.values())
    final = [s.filled_after_s for s in run.seats if s.in_final_plan]
    if final and None not in final:
        run.filled_after_s = max(t for t in final if t is not None)
    return run


class _Reader:
    """Folds one run's community events into its seats and invitees."""

    def __init__(self, opened_at: datetime, names: dict[str, str]) -> None:
        self.opened_at, self.names = opened_at, names
        self.run = Run()
        self.seats: dict[str, SeatRun] = {}
        self.invitees: dict[str, Invitee] = {}

    def after(self, event: Event) -> float:
        return round((event.occurred_at - self.opened_at).total_seconds(), 3)

    def read(self, event: Event, *, closing: bool) -> None:
        if isinstance(event, CommunityAssembled | SeatsChanged):
            self._plan(event)
        elif isinstance(event, MemberInvited):
            seat = self._seat(event.seat_field)
            invitee = Invitee(
                expert_id=event.expert_id,
                name=self.names.get(event.expert_id, ""),
                rank=event.rank,
                score=event.score.total,
                invited_after_s=self.after(event),
            )
            self.invitees[event.expert_id] = invitee
            seat.invited.append(invitee)
        elif type(event) in _OUTCOMES and (answered := self.invitees.get(event.expert_id)):  # type: ignore[attr-defined]
            answered.outcome, answered.outcome_after_s = _OUTCOMES[type(event)], self.after(event)
        elif isinstance(event, MemberReleased) and not closing and (released := self.invitees.get(event.expert_id)):
            released.released_after_s, released.released_reason = self.after(event), event.reason
        elif isinstance(event, SeatUnfillable):
            self._seat(event.seat_field).unfillable = event.reason

    def _seat(self, field: str) -> SeatRun:
        return self.seats.setdefault(field, SeatRun(field=field, count=0, confirm_within_min=0))

    def _plan(self, event: CommunityAssembled | SeatsChanged) -> None:
        if event.policy_version not in self.run.policy_versions:
            self.run.policy_versions.append(event.policy_version)
        self.run.departments = list(event.departments) or self.run.departments
        planned = {s.field for s in event.seats}
        for seat in self.seats.values():
            seat.in_final_plan = seat.field in planned
        for s in event.seats:
            seat = self._seat(s.field)
            seat.count, seat.confirm_within_min, seat.in_final_plan = s.count, s.confirm_within_min, True

    def count_filled(self, community: Community, event: Event) -> None:
        """A seat fills when it has its count of accepted experts; losing one opens it again."""
        for field, seat in self.seats.items():
            seat.accepted = community.filled(field)
            if seat.accepted < seat.count or not seat.in_final_plan:
                seat.filled_after_s = None
            elif seat.filled_after_s is None:
                seat.filled_after_s = self.after(event)
