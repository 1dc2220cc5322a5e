"""What every page response carries: security headers, caching, and 304 for an unchanged file.

The Content-Security-Policy allows scripts, styles and workers from the page's own origin only
(no inline script), and connections to the services' origins; ``Referrer-Policy: no-referrer``
keeps tokens and receipts in a page's address out of every request it makes.
"""

from __future__ import annotations

from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from shared.webui.settings import WebSettings

__all__ = ["PageHeaders", "content_security_policy"]

# Revalidated on every load (a 304 is a few bytes): pages, the service worker and the config.
# Other assets are kept a while; the service worker refreshes its copies in the background.
REVALIDATE = "no-cache"
ASSET_CACHE = "public, max-age=600"


def content_security_policy(connect: list[str]) -> str:
    """The policy of every page: own origin only, plus connections to ``connect``."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            " ".join(("connect-src", "'self'", *connect)),
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _connect_sources(settings: WebSettings, scope: Scope) -> list[str]:
    host = Headers.from_scope(scope).get("host", "")
    sources = []
    for url in settings.service_urls(scope.get("scheme", "http"), host).values():
        sources.append(url)
        sources.append("ws" + url.removeprefix("http"))  # the live streams' WebSockets
    return sorted(set(sources))


def _cache_control(path: str, content_type: str) -> str:
    if content_type.startswith(("text/html", "application/json")) or path.endswith("/sw.js"):
        return REVALIDATE
    return ASSET_CACHE


class PageHeaders:
    """ASGI middleware for the ``/ui`` routes (see the module's docstring)."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        asked = Headers.from_scope(scope).get("if-none-match")
        not_modified = False

        async def send_with_headers(message: Message) -> None:
            nonlocal not_modified
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers["Content-Security-Policy"] = content_security_policy(_connect_sources(self.settings, scope))
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "geolocation=(self), camera=(), microphone=()"
                if "cache-control" not in headers:
                    headers["Cache-Control"] = _cache_control(scope["path"], headers.get("content-type", ""))
                etag = headers.get("etag")
                if message["status"] == 200 and asked and etag and etag in {e.strip() for e in asked.split(",")}:
                    not_modified = True
                    message["status"] = 304
                    for name in ("content-length", "content-encoding", "content-type"):
                        if name in headers:
                            del headers[name]
            elif message["type"] == "http.response.body" and not_modified:
                if message.get("more_body", False):
                    return  # the unchanged file's bytes are not sent again
                message["body"] = b""
            await send(message)

        await self.app(scope, receive, send_with_headers)
