"""Seats fill through invitations: answers, time-outs, and the next candidate (pure commands).

Each command is ``(view, now) -> Changed`` for the community's writer. An invitation answered
twice, after it lapsed, or for an expert it was not sent to is refused and changes nothing. A
decline or a time-out asks the next candidate, ranked afresh (who is on call, who is busy, as of
now) among those not yet asked; when nobody is left, the seat is reported unfillable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import msgspec

from services.community.seating import envelope, refill
from services.community.view import CommunityView, community_id
from shared.events import Event
from shared.events.community import (
    InvitationAccepted,
    InvitationDeclined,
    InvitationTimedOut,
)

__all__ = ["AnswerError", "Changed", "CommunityNotFoundError", "answer", "expire_due"]


class CommunityNotFoundError(LookupError):
    """Raised when an incident has no community."""


class AnswerError(ValueError):
    """Raised when an invitation cannot be answered: not sent to this expert, answered, or lapsed."""


class Changed(msgspec.Struct, frozen=True):
    events: list[Event]


Command = Callable[[CommunityView, datetime], Changed]


def answer(incident_id: UUID, expert_id: str, *, accept: bool, by: str, reason: str) -> Command:
    """Record an expert's answer to their invitation (and, on a decline, ask the next one)."""

    def command(view: CommunityView, now: datetime) -> Changed:
        community = view.communities.get(community_id(incident_id))
        if community is None:
            raise CommunityNotFoundError(f"incident {incident_id} has no community")
        invitation = community.invitations.get(expert_id)
        if invitation is None:
            raise AnswerError(f"expert_id: {expert_id} was not invited to this community")
        if invitation.status != "invited":
            raise AnswerError(f"the invitation was already {invitation.status.replace('_', ' ')}")
        if now > invitation.expires_at:
            raise AnswerError(f"the invitation lapsed at {invitation.expires_at.isoformat()}")
        version = community.version + 1
        if accept:
            return Changed(
                [
                    InvitationAccepted(
                        **envelope(community, version, now),
                        expert_id=expert_id,
                        seat_field=invitation.seat_field,
                        by=by,
                    )
                ]
            )
        declined = InvitationDeclined(
            **envelope(community, version, now),
            expert_id=expert_id,
            seat_field=invitation.seat_field,
            reason=reason,
            by=by,
        )
        after = view.folded(community, declined)
        return Changed([declined, *refill(after, invitation.seat_field, version=version + 1, view=view, now=now)])

    return command


def expire_due() -> Command:
    """Time out every invitation whose deadline has passed (also those that fell due while the
    service was down) and ask the next candidates."""

    def command(view: CommunityView, now: datetime) -> Changed:
        events: list[Event] = []
        for original in list(view.communities.values()):
            community = original
            due = [i for i in community.invitations.values() if i.status == "invited" and i.expires_at <= now]
            for invitation in due:
                timed_out = InvitationTimedOut(
                    **envelope(community, community.version + 1, now),
                    expert_id=invitation.expert_id,
                    seat_field=invitation.seat_field,
                    expired_at=invitation.expires_at,
                )
                community = view.folded(community, timed_out)
                refills = refill(community, invitation.seat_field, version=community.version + 1, view=view, now=now)
                for event in refills:
                    community = view.folded(community, event)
                events += [timed_out, *refills]
        return Changed(events)

    return command
