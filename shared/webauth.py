"""Authenticated roles on HTTP: a bearer token, checked by guards, its claims injected.

``guards=[requires(Role.OPERATOR)]`` on a controller or route lets in a valid, unexpired token
of one of the roles (admins pass every guard). Handlers take ``claims: Claims``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar.connection import ASGIConnection, WebSocket
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from shared.auth import Claims, InvalidTokenError, Role, verify_token
from shared.events.common import Actor

__all__ = ["SocketRefusedError", "actor_of", "claims_dependency", "requires", "socket_claims"]


def _claims(connection: ASGIConnection[Any, Any, Any, Any]) -> Claims:
    cached = connection.scope.get("jikimi_claims")
    if isinstance(cached, Claims):
        return cached
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthorizedException("a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    key: bytes = connection.app.state.secret_key
    try:
        claims = verify_token(key, token.strip())
    except InvalidTokenError as e:
        raise NotAuthorizedException(str(e), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from e
    connection.scope["jikimi_claims"] = claims  # type: ignore[typeddict-unknown-key]
    return claims


def requires(*roles: Role) -> Guard:
    """A guard admitting tokens of ``roles`` (and admins)."""
    allowed = {*roles, Role.ADMIN}

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if _claims(connection).role not in allowed:
            raise PermissionDeniedException(f"this needs the role {' or '.join(sorted(r.value for r in roles))}")

    return guard


async def _provide_claims(request: ASGIConnection[Any, Any, Any, Any]) -> Claims:
    return _claims(request)


claims_dependency = Provide(_provide_claims)


def actor_of(claims: Claims) -> Actor:
    """The actor events record for the holder of ``claims``."""
    return Actor(claims.role.value, claims.sub)


class SocketRefusedError(ValueError):
    """Raised when a WebSocket's holder is not let in (close it with 1008 and this message)."""


class _Hello(msgspec.Struct, frozen=True):
    token: str = ""
    after: int = 0


async def socket_claims(socket: WebSocket[Any, Any, Any], *roles: Role) -> tuple[Claims, int]:
    """The holder of an accepted socket and where they resume (``after``). The token comes in the
    ``Authorization`` header or, from a browser (which cannot set it), as the first frame
    ``{"token": "…", "after": n}`` within 10 s; never in the URL, where proxies would log it."""
    scheme, _, token = socket.headers.get("authorization", "").partition(" ")
    after = socket.query_params.get("after", "0")
    resume = int(after) if after.isdigit() else 0
    try:
        if scheme.lower() != "bearer" or not token:
            hello = msgspec.json.decode(await asyncio.wait_for(socket.receive_text(), timeout=10), type=_Hello)
            token, resume = hello.token, max(resume, hello.after)
        claims = verify_token(socket.app.state.secret_key, token.strip())
    except (InvalidTokenError, msgspec.DecodeError, TimeoutError) as e:
        raise SocketRefusedError(f"not authorised: {e}") from e
    if claims.role not in {*roles, Role.ADMIN}:
        raise SocketRefusedError(f"not authorised: this needs the role {' or '.join(sorted(r.value for r in roles))}")
    return claims, resume
