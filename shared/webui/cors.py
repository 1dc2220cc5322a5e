"""Cross-origin reads of public data: the citizen pages (served by intake) read broadcast's
``/public`` routes. Only GET, HEAD and OPTIONS, never credentials: nothing there is personal.

``JIKIMI_PUBLIC_CORS_ORIGINS``: comma-separated origins allowed to read (``https://example.org``),
or ``*`` (the default) for anyone.
"""

from __future__ import annotations

import os

from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["PublicReadCors", "public_cors_origins"]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def public_cors_origins() -> frozenset[str]:
    """The origins allowed to read the public routes, from ``JIKIMI_PUBLIC_CORS_ORIGINS``."""
    value = os.environ.get("JIKIMI_PUBLIC_CORS_ORIGINS", "*")
    return frozenset(o.strip().rstrip("/") for o in value.split(",") if o.strip())


class PublicReadCors:
    """ASGI middleware answering CORS for read-only routes; writes get no CORS headers at all,
    so a browser keeps other origins' pages from using them."""

    def __init__(self, app: ASGIApp, origins: frozenset[str]) -> None:
        self.app = app
        self.origins = origins

    def _allowed(self, origin: str) -> str | None:
        if "*" in self.origins:
            return "*"
        return origin if origin in self.origins else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] not in READ_METHODS:
            await self.app(scope, receive, send)
            return
        origin = Headers.from_scope(scope).get("origin")
        allowed = self._allowed(origin) if origin else None

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                if "*" not in self.origins:
                    headers.extend_header_value("vary", "Origin")
                if allowed:
                    headers["Access-Control-Allow-Origin"] = allowed
                    if scope["method"] == "OPTIONS":
                        headers["Access-Control-Allow-Methods"] = "GET, HEAD"
                        headers["Access-Control-Max-Age"] = "86400"
            await send(message)

        await self.app(scope, receive, send_with_cors)
