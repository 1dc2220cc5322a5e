"""Phone links: an invitation for one expert and incident until it lapses; a room for one reporter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from shared.auth import Role, issue_token
from shared.links import InvalidTokenError, invitation_token, read_invitation_token, read_room_token, room_token

KEY = b"links-test-secret-key-0123456789abcdef"


def test_a_link_names_its_expert_and_incident() -> None:
    incident = uuid4()
    now = datetime.now(UTC)
    token = invitation_token(KEY, incident, "EXP-007", expires_at=now + timedelta(minutes=10), now=now)
    assert read_invitation_token(KEY, token) == (incident, "EXP-007")


def test_a_link_past_its_invitations_deadline_is_refused() -> None:
    then = datetime.now(UTC) - timedelta(hours=1)
    token = invitation_token(KEY, uuid4(), "EXP-007", expires_at=then + timedelta(minutes=10), now=then)
    with pytest.raises(InvalidTokenError, match="expired"):
        read_invitation_token(KEY, token)


def test_a_link_signed_with_another_key_or_a_login_token_is_refused() -> None:
    now = datetime.now(UTC)
    token = invitation_token(
        b"another-key-0123456789abcdefghijkl", uuid4(), "EXP-007", expires_at=now + timedelta(minutes=10), now=now
    )
    with pytest.raises(InvalidTokenError, match="signature"):
        read_invitation_token(KEY, token)
    login = issue_token(KEY, "EXP-007", Role.EXPERT, ttl_s=600)
    with pytest.raises(InvalidTokenError, match="another purpose"):
        read_invitation_token(KEY, login)


def test_a_room_link_names_its_reporter_and_incident_and_opens_no_invitation() -> None:
    incident = uuid4()
    now = datetime.now(UTC)
    token = room_token(KEY, incident, "rp_3f9a", now=now)
    assert read_room_token(KEY, token) == (incident, "rp_3f9a")
    with pytest.raises(InvalidTokenError, match="another purpose"):
        read_invitation_token(KEY, token)
    with pytest.raises(InvalidTokenError, match="another purpose"):
        read_room_token(KEY, invitation_token(KEY, incident, "EXP-1", expires_at=now + timedelta(minutes=5), now=now))


def test_a_room_link_expires() -> None:
    then = datetime.now(UTC) - timedelta(days=8)
    with pytest.raises(InvalidTokenError, match="expired"):
        read_room_token(KEY, room_token(KEY, uuid4(), "rp_1", now=then))


def test_a_room_link_is_no_login() -> None:
    """A citizen's link token is refused where a role is required: no guard admits the citizen role."""
    from shared.auth import verify_token

    token = room_token(KEY, uuid4(), "rp_1", now=datetime.now(UTC))
    with pytest.raises(InvalidTokenError, match="another purpose"):
        verify_token(KEY, token)
