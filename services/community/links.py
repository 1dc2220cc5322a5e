"""Invitation links that work on a phone: signed, expiring, single-use.

The link carries a token signed with the service secret, for one expert and one incident, valid
until the invitation lapses. Single use follows from the invitation itself: once answered, a
second answer is refused (409), whoever holds the link.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from shared.auth import InvalidTokenError, Role, issue_token, verify_token

__all__ = ["InvalidTokenError", "invitation_token", "read_invitation_token"]

_AUDIENCE = "invitation"


def invitation_token(key: bytes, incident_id: UUID, expert_id: str, *, expires_at: datetime, now: datetime) -> str:
    """The token of ``expert_id``'s invitation to ``incident_id``'s community."""
    ttl_s = max(1, int((expires_at - now).total_seconds()))
    return issue_token(
        key, f"{expert_id}|{incident_id}", Role.EXPERT, ttl_s=ttl_s, audience=_AUDIENCE, now=now.timestamp()
    )


def read_invitation_token(key: bytes, token: str) -> tuple[UUID, str]:
    """(incident id, expert id) of a valid, unexpired invitation token; InvalidTokenError otherwise."""
    claims = verify_token(key, token, audience=_AUDIENCE)
    expert_id, _, incident = claims.sub.partition("|")
    try:
        return UUID(incident), expert_id
    except ValueError as e:
        raise InvalidTokenError("malformed invitation") from e
