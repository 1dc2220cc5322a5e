"""The ``/ui`` routes of a service: shared assets, the service's own pages, the page config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Router, get
from litestar.config.compression import CompressionConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from shared import geo
from shared.webui.headers import PageHeaders
from shared.webui.settings import WebSettings

__all__ = ["COMMON", "web_routes"]

COMMON = Path(__file__).parent / "static"
"""The assets every page shares, served as ``/ui/common/…``."""

# Brotli where the browser takes it (every current one), gzip otherwise; quality 5 costs about
# a millisecond on these few kilobytes, so nothing is compressed ahead of time.
_COMPRESSION = CompressionConfig(backend="brotli", brotli_gzip_fallback=True, minimum_size=500)


def _middleware(settings: WebSettings) -> list[DefineMiddleware]:
    # Headers outermost: they see the final answer (compressed, or turned into a 304).
    return [
        DefineMiddleware(PageHeaders, settings=settings),
        DefineMiddleware(CompressionMiddleware, config=_COMPRESSION),
    ]


def _config_route(service: str, settings: WebSettings) -> Router:
    districts = [{"code": d.code, "ko": d.ko, "en": d.en, "lat": d.lat, "lon": d.lon} for d in geo.DISTRICTS]

    @get("/config.json", include_in_schema=False, sync_to_thread=False)
    def config(request: Request[Any, Any, Any]) -> dict[str, Any]:
        urls = settings.service_urls(request.url.scheme, request.headers.get("host", ""))
        return {"service": service, "services": urls, "districts": districts}

    return Router("/ui", route_handlers=[config], middleware=_middleware(settings), include_in_schema=False)


def web_routes(
    service: str, pages: Path | None = None, settings: WebSettings | None = None
) -> list[ControllerRouterHandler]:
    """``/ui/common/…`` (shared assets), ``/ui/config.json`` (where each service is, Seoul's
    districts) and, for each folder in ``pages``, ``/ui/<folder>/…`` (``index.html`` at ``/ui/<folder>/``)."""
    settings = settings or WebSettings.from_env()
    folders = sorted(p for p in pages.iterdir() if p.is_dir()) if pages else []
    if any(folder.name == "common" for folder in folders):
        msg = f"{pages}/common would hide the shared assets at /ui/common"
        raise ValueError(msg)
    routes: list[ControllerRouterHandler] = [_config_route(service, settings)]
    for name, directory in (("common", COMMON), *((f.name, f) for f in folders)):
        routes.append(
            create_static_files_router(
                f"/ui/{name}",
                [directory],
                html_mode=True,
                name=f"ui-{name}",
                middleware=_middleware(settings),
                include_in_schema=False,
            )
        )
    return routes
