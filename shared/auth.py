"""Signed, expiring tokens for the five roles, and the signed links built on them.

A token is ``<payload>.<signature>``: the payload is base64url JSON (subject, role, expiry,
optional audience and nonce), the signature HMAC-SHA256 over it with ``JIKIMI_SECRET_KEY``.
No phone number or channel id is ever put in a token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from enum import StrEnum
from uuid import uuid4

import msgspec

__all__ = ["Claims", "InvalidTokenError", "Role", "issue_token", "verify_token"]


class Role(StrEnum):
    OPERATOR = "operator"
    EXPERT = "expert"
    DEPARTMENT = "department"
    ANALYST = "analyst"
    ADMIN = "admin"
    CITIZEN = "citizen"
    """Only ever in a link's token (a reporter's room link); no guard admits it as a login."""


class Claims(msgspec.Struct, frozen=True):
    sub: str
    role: Role
    exp: int
    aud: str = ""
    nonce: str = ""


class InvalidTokenError(ValueError):
    """Raised when a token is malformed, badly signed, expired or for another audience."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def issue_token(
    key: bytes, subject: str, role: Role, *, ttl_s: int, audience: str = "", now: float | None = None
) -> str:
    """A token for ``subject`` acting as ``role``, valid for ``ttl_s`` seconds."""
    issued = time.time() if now is None else now
    claims = Claims(sub=subject, role=role, exp=int(issued + ttl_s), aud=audience, nonce=uuid4().hex)
    payload = _b64(msgspec.json.encode(claims))
    return f"{payload}.{_sign(key, payload)}"


def verify_token(key: bytes, token: str, *, audience: str = "", now: float | None = None) -> Claims:
    """The claims of a token signed with ``key``, unexpired and for ``audience``."""
    payload, _, signature = token.partition(".")
    if not payload or not signature:
        raise InvalidTokenError("malformed token")
    if not hmac.compare_digest(signature, _sign(key, payload)):
        raise InvalidTokenError("bad signature")
    try:
        claims = msgspec.json.decode(_unb64(payload), type=Claims)
    except (msgspec.DecodeError, ValueError) as e:
        raise InvalidTokenError("malformed token") from e
    if claims.exp < (time.time() if now is None else now):
        raise InvalidTokenError("token expired")
    if claims.aud != audience:
        raise InvalidTokenError("token is for another purpose")
    return claims
