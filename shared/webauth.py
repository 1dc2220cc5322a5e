"""Authenticated roles on HTTP: a bearer token, checked by guards, its claims injected.

``guards=[requires(Role.OPERATOR)]`` on a controller or route lets in a valid, unexpired token
of one of the roles (admins pass every guard). Handlers take ``claims: Claims``.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from shared.auth import Claims, InvalidTokenError, Role, verify_token
from shared.events.common import Actor

__all__ = ["actor_of", "claims_dependency", "requires"]


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
