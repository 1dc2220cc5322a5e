"""Links that work on a phone: an expert's invitation and a reporter's incident room.

A link carries a token signed with the shared secret (``JIKIMI_SECRET_KEY``), so community,
which checks it, and broadcast, which sends it, both know it without it ever being written to
an event or a log. An invitation link is for one expert and one incident until the invitation
lapses; single use follows from the invitation itself (once answered, a second answer is
refused, whoever holds the link). A room link is for one reporter (their pseudonym) and one
incident; it stops opening the room when the reporter leaves the community.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from shared.auth import InvalidTokenError, Role, issue_token, verify_token

__all__ = [
    "ROOM_LINK_TTL_S",
    "InvalidTokenError",
    "invitation_token",
    "read_invitation_token",
    "read_room_token",
    "room_token",
]

_INVITATION = "invitation"
_ROOM = "room"
ROOM_LINK_TTL_S = 7 * 24 * 3600
"""A reporter's room link opens the room for a week (or until they leave it)."""


def _split(subject: str) -> tuple[UUID, str]:
    who, _, incident = subject.rpartition("|")
    try:
        return UUID(incident), who
    except ValueError as e:
        raise InvalidTokenError("malformed link") from e


def invitation_token(key: bytes, incident_id: UUID, expert_id: str, *, expires_at: datetime, now: datetime) -> str:
    """The token of ``expert_id``'s invitation to ``incident_id``'s community."""
    ttl_s = max(1, int((expires_at - now).total_seconds()))
    return issue_token(
        key, f"{expert_id}|{incident_id}", Role.EXPERT, ttl_s=ttl_s, audience=_INVITATION, now=now.timestamp()
    )


def read_invitation_token(key: bytes, token: str) -> tuple[UUID, str]:
    """(incident id, expert id) of a valid, unexpired invitation token; InvalidTokenError otherwise."""
    return _split(verify_token(key, token, audience=_INVITATION).sub)


def room_token(key: bytes, incident_id: UUID, reporter: str, *, now: datetime, ttl_s: int = ROOM_LINK_TTL_S) -> str:
    """The token of a reporter's link to ``incident_id``'s room (``reporter`` is their pseudonym)."""
    return issue_token(key, f"{reporter}|{incident_id}", Role.CITIZEN, ttl_s=ttl_s, audience=_ROOM, now=now.timestamp())


def read_room_token(key: bytes, token: str) -> tuple[UUID, str]:
    """(incident id, reporter pseudonym) of a valid, unexpired room token; InvalidTokenError otherwise."""
    return _split(verify_token(key, token, audience=_ROOM).sub)
