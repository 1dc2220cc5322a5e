"""Filling seats: the envelope of a community's next event, a ranked candidate as the events
record it, and asking the next candidates for a seat (used by reactions and invitations)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from services.community.assembly import Ranked, rank_for_seat
from services.community.registry import Expert
from services.community.view import Community, CommunityView
from shared.events import Event
from shared.events.community import CandidateScore, MemberInvited, SeatUnfillable, SkippedCandidate

__all__ = ["SEOUL_CENTRE", "envelope", "refill", "score_of"]

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


def refill(
    community: Community, field: str, *, version: int, experts: Sequence[Expert], view: CommunityView, now: datetime
) -> list[Event]:
    """Invite as many new candidates as ``field``'s seat still lacks, ranked afresh among those not
    yet asked; or report the seat unfillable."""
    seat = next((s for s in community.seats if s.field == field), None)
    if seat is None:
        return []
    lacking = seat.count - community.filled(field) - community.pending(field)
    if lacking <= 0:
        return []
    ranked, skipped = rank_for_seat(
        field,
        at=community.at or SEOUL_CENTRE,
        experts=experts,
        load=view.load(),
        excluded=set(community.invitations),
        now=now,
    )
    asked = sum(1 for i in community.invitations.values() if i.seat_field == field)
    events: list[Event] = []
    for n, candidate in enumerate(ranked[:lacking]):
        events.append(
            MemberInvited(
                **envelope(community, version + len(events), now),
                expert_id=candidate.expert_id,
                seat_field=field,
                rank=asked + n + 1,
                score=score_of(candidate),
                expires_at=now + timedelta(minutes=seat.confirm_within_min),
                reason=f"next candidate: {candidate.reason}",
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
