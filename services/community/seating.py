"""Filling seats: the envelope of a community's next event, a ranked candidate as the events
record it, inviting and releasing experts, and asking the next candidates for a seat (used by
reactions, invitations and the pool)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from services.community.assembly import Ranked, rank_for_seat
from services.community.registry import Expert
from services.community.view import Community, CommunityView, Invitation
from shared.events import Event
from shared.events.common import ContactRef
from shared.events.community import (
    CandidateScore,
    MemberInvited,
    MemberReleased,
    SeatUnfillable,
    SkippedCandidate,
)

__all__ = ["SEOUL_CENTRE", "contacts_of", "envelope", "invite", "refill", "release", "score_of"]

SEOUL_CENTRE = (37.5665, 126.9780)  # City Hall: where an incident with no known place is ranked from


def score_of(r: Ranked) -> CandidateScore:
    """A ranked candidate as the events record it."""
    s = r.scores
    return CandidateScore(
        r.expert_id, s.total, s.field, s.distance, s.on_call, s.load, s.language, s.distance_km, r.reason
    )


def envelope(community: Community, version: int, now: datetime) -> dict[str, Any]:
    return {
        "originator_id": community.id,
        "originator_version": version,
        "incident_id": community.incident_id,
        "correlation_id": community.incident_id,
        "occurred_at": now,
    }


def contacts_of(expert: Expert | None) -> tuple[list[ContactRef], str]:
    """Where to reach an expert (addresses stay sealed) and the language to write to them in."""
    if expert is None:
        return [], "ko"
    contacts = [ContactRef(c.channel, c.address) for c in expert.channels]
    return contacts, expert.languages[0] if expert.languages else "ko"


def invite(
    common: dict[str, Any],
    candidate: Ranked,
    *,
    field: str,
    rank: int,
    minutes: int,
    reason: str,
    view: CommunityView,
    now: datetime,
    incident: tuple[str, str, str | None],
) -> MemberInvited:
    """The invitation of a ranked candidate, with where broadcast is to send it and what the
    incident is (``incident``: disaster type, severity, district code) for the message."""
    contacts, language = contacts_of(view.experts.get(candidate.expert_id))
    disaster_type, severity, district_code = incident
    return MemberInvited(
        **common,
        expert_id=candidate.expert_id,
        seat_field=field,
        rank=rank,
        score=score_of(candidate),
        expires_at=now + timedelta(minutes=minutes),
        reason=reason,
        contacts=contacts,
        language=language,
        disaster_type=disaster_type,
        severity=severity,
        district_code=district_code,
    )


def release(
    community: Community,
    invitation: Invitation,
    *,
    reason: str,
    view: CommunityView,
    now: datetime,
    causation_id: UUID | None = None,
) -> MemberReleased:
    """An expert's invitation or seat ends; the notice goes where they are reached."""
    contacts, language = contacts_of(view.experts.get(invitation.expert_id))
    return MemberReleased(
        **envelope(community, community.version + 1, now),
        causation_id=causation_id,
        expert_id=invitation.expert_id,
        seat_field=invitation.seat_field,
        reason=reason,
        contacts=contacts,
        language=language,
    )


def refill(community: Community, field: str, *, version: int, view: CommunityView, now: datetime) -> list[Event]:
    """Invite as many new candidates as ``field``'s seat still lacks, ranked afresh among those not
    yet asked (from the pool as the view has it now); or report the seat unfillable."""
    seat = next((s for s in community.seats if s.field == field), None)
    if seat is None:
        return []
    lacking = seat.count - community.filled(field) - community.pending(field)
    if lacking <= 0:
        return []
    ranked, skipped = rank_for_seat(
        field,
        at=community.at or SEOUL_CENTRE,
        experts=view.pool(),
        load=view.load(),
        excluded=set(community.invitations),
        now=now,
    )
    asked = sum(1 for i in community.invitations.values() if i.seat_field == field)
    events: list[Event] = []
    for n, candidate in enumerate(ranked[:lacking]):
        events.append(
            invite(
                envelope(community, version + len(events), now),
                candidate,
                field=field,
                rank=asked + n + 1,
                minutes=seat.confirm_within_min,
                reason=f"next candidate: {candidate.reason}",
                view=view,
                now=now,
                incident=(community.disaster_type, community.severity, community.district_code),
            )
        )
    if not ranked:
        events.append(
            SeatUnfillable(
                **envelope(community, version, now),
                seat_field=field,
                reason=f"no {field} expert is left to ask",
                skipped=[SkippedCandidate(s.expert_id, s.reason) for s in skipped],
            )
        )
    return events
