"""The expert pool as events: the seed, an admin's changes, availability (pure writer commands).

Each command is ``(view, now) -> Changed`` for the community service's writer, so a change to
the pool and the decisions it causes commit together. The seed registers the bundled experts
the log does not know yet (once: a restart finds them registered). Retiring an expert, or
marking them unavailable, releases them from what they were invited to and asks the next
candidate for each seat, so no seat waits on someone who will not come.

Errors::

    LookupError
     └── ExpertNotFoundError   no expert with that id (HTTP 404)
    ValueError
     └── PoolConflictError     the id is taken, or the expert is retired (HTTP 409)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import msgspec

from services.community.invitations import Changed, Command
from services.community.registry import Expert, profile_of
from services.community.seating import refill, release
from services.community.view import CommunityView, expert_stream
from shared.events import Event
from shared.events.community import (
    ExpertAvailabilityChanged,
    ExpertChanged,
    ExpertRegistered,
    ExpertRetired,
)

__all__ = [
    "ExpertNotFoundError",
    "PoolConflictError",
    "change",
    "clear_availability",
    "register",
    "retire",
    "seed",
    "set_availability",
]

Seal = Callable[[str, str], str]
"""``Privacy.seal_address``: (channel, address) → sealed."""
Open = Callable[[str], tuple[str, str]]
"""``Privacy.open_address``: sealed → (channel, address)."""


class ExpertNotFoundError(LookupError):
    """Raised when no expert has the id."""


class PoolConflictError(ValueError):
    """Raised when an id is taken or the expert is retired."""


def _next(view: CommunityView, expert_id: str) -> dict[str, Any]:
    return {"originator_id": expert_stream(expert_id), "originator_version": view.expert_version(expert_id) + 1}


def seed(experts: Sequence[Expert], seal: Seal, *, source: str) -> Command:
    """Register each of ``experts`` the log does not know (retired ones registered, then retired)."""

    def command(view: CommunityView, now: datetime) -> Changed:
        events: list[Event] = []
        for expert in experts:
            if expert.id in view.experts:
                continue
            stream = expert_stream(expert.id)
            by = f"seed:{source}"
            profile = profile_of(expert, seal)
            events.append(
                ExpertRegistered(
                    originator_id=stream, originator_version=1, expert_id=expert.id, profile=profile, by=by
                )
            )
            if not expert.active:
                events.append(
                    ExpertRetired(
                        originator_id=stream, originator_version=2, expert_id=expert.id, reason="retired", by=by
                    )
                )
        return Changed(events)

    return command


def register(expert: Expert, seal: Seal, *, by: str) -> Command:
    """Add ``expert`` to the pool; refused if the id is taken."""

    def command(view: CommunityView, now: datetime) -> Changed:
        if expert.id in view.experts:
            raise PoolConflictError(f"id: {expert.id} is already in the pool")
        registered = ExpertRegistered(
            **_next(view, expert.id), occurred_at=now, expert_id=expert.id, profile=profile_of(expert, seal), by=by
        )
        return Changed([registered])

    return command


def _existing(view: CommunityView, expert_id: str) -> Expert:
    expert = view.experts.get(expert_id)
    if expert is None:
        raise ExpertNotFoundError(f"no expert {expert_id}")
    if not expert.active:
        raise PoolConflictError(f"{expert_id} is retired")
    return expert


def _differences(before: Expert, after: Expert, open_address: Open) -> list[str]:
    old = msgspec.structs.asdict(before)
    new = msgspec.structs.asdict(after)
    parts = ("name", "fields", "district_code", "lat", "lon", "languages", "on_call", "max_concurrent")
    changed = [k for k in parts if old[k] != new[k]]
    if [open_address(c.address) for c in before.channels] != [(c.channel, c.address) for c in after.channels]:
        changed.append("channels")
    return changed


def change(expert: Expert, seal: Seal, open_address: Open, *, by: str) -> Command:
    """Replace an expert's profile; invitations to seats of fields they no longer have are released."""

    def command(view: CommunityView, now: datetime) -> Changed:
        before = _existing(view, expert.id)
        differences = _differences(before, expert, open_address)
        if not differences:
            return Changed([])
        changed = ExpertChanged(
            **_next(view, expert.id),
            occurred_at=now,
            expert_id=expert.id,
            profile=profile_of(expert, seal),
            changed=differences,
            by=by,
        )
        view.apply(changed)  # the releases below rank with the expert as changed
        dropped = set(before.fields) - set(expert.fields)
        return Changed(
            [changed, *_release(view, expert.id, now, reason=f"no longer an expert of {{field}} ({by})", only=dropped)]
        )

    return command


def retire(expert_id: str, *, reason: str, by: str) -> Command:
    """Take an expert out of the pool for good; what they were invited to or seated in is released."""

    def command(view: CommunityView, now: datetime) -> Changed:
        _existing(view, expert_id)
        retired = ExpertRetired(**_next(view, expert_id), occurred_at=now, expert_id=expert_id, reason=reason, by=by)
        view.apply(retired)
        why = f"retired from the pool: {reason}" if reason else "retired from the pool"
        return Changed([retired, *_release(view, expert_id, now, reason=why, statuses={"invited", "accepted"})])

    return command


def set_availability(expert_id: str, *, available: bool, until: datetime | None, reason: str, by: str) -> Command:
    """Mark an expert (un)available until ``until``; while unavailable, open invitations are
    released and the seats asked of the next candidates (seats already taken are kept)."""

    def command(view: CommunityView, now: datetime) -> Changed:
        _existing(view, expert_id)
        if until is not None and until <= now:
            raise PoolConflictError(f"until: {until.isoformat()} has already passed")
        changed = ExpertAvailabilityChanged(
            **_next(view, expert_id),
            occurred_at=now,
            expert_id=expert_id,
            available=available,
            until=until,
            reason=reason,
            by=by,
        )
        view.apply(changed)
        if available:
            return Changed([changed])
        why = f"marked unavailable: {reason}" if reason else "marked unavailable"
        return Changed([changed, *_release(view, expert_id, now, reason=why)])

    return command


def clear_availability(expert_id: str, *, by: str) -> Command:
    """Back to the on-call schedule: whatever was set by hand ends now."""

    def command(view: CommunityView, now: datetime) -> Changed:
        expert = _existing(view, expert_id)
        if expert.availability is None or not expert.availability.holds_at(now):
            return Changed([])
        cleared = ExpertAvailabilityChanged(
            **_next(view, expert_id),
            occurred_at=now,
            expert_id=expert_id,
            available=True,
            until=now,
            reason="back to the on-call schedule",
            by=by,
        )
        return Changed([cleared])

    return command


def _release(
    view: CommunityView,
    expert_id: str,
    now: datetime,
    *,
    reason: str,
    statuses: Collection[str] = ("invited",),
    only: Collection[str] | None = None,
) -> list[Event]:
    """Release ``expert_id`` wherever their invitation is in ``statuses`` (for seats of ``only``
    those fields, if given), and ask the next candidate for each seat."""
    events: list[Event] = []
    for original in list(view.communities.values()):
        invitation = original.invitations.get(expert_id)
        if original.closed or invitation is None or invitation.status not in statuses:
            continue
        if only is not None and invitation.seat_field not in only:
            continue
        community = original
        released = release(community, invitation, reason=reason.format(field=invitation.seat_field), view=view, now=now)
        community = view.folded(community, released)
        events.append(released)
        for invited in refill(community, invitation.seat_field, version=community.version + 1, view=view, now=now):
            community = view.folded(community, invited)
            events.append(invited)
    return events
