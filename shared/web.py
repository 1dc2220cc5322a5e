"""The parts of a service's HTTP app that every service shares: health, OpenAPI, lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ControllerRouterHandler

from shared.logging import configure_logging
from shared.runtime import ServiceRuntime

__all__ = ["create_service_app"]

log = structlog.get_logger()


@get("/health", tags=["health"], operation_id="getHealth", summary="Is this service up, and how far has it got?")
async def health(state: State) -> Response[dict[str, Any]]:
    runtime: ServiceRuntime = state.runtime
    body = runtime.health()
    try:
        body["log_position"] = await asyncio.wait_for(
            asyncio.to_thread(runtime.application.recorder.max_notification_id), timeout=2.0
        )
        body["database"] = True
    except Exception:  # noqa: BLE001 -- any failure here means "not healthy", reported below
        body["database"] = False
    healthy = body["database"] and body["nats"]
    body["status"] = "ok" if healthy else "degraded"
    return Response(body, status_code=HTTP_200_OK if healthy else HTTP_503_SERVICE_UNAVAILABLE)


def create_service_app(
    title: str,
    runtime_factory: Callable[[], ServiceRuntime],
    route_handlers: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """A litestar app whose lifespan builds the service's runtime (log, relay, consumers) and
    whose ``/health`` reports it; OpenAPI JSON at ``/schema``."""
    configure_logging()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = runtime_factory()
        app.state.runtime = runtime
        await runtime.start()
        log.info("service_started", service=runtime.service)
        try:
            yield
        finally:
            await runtime.stop()
            log.info("service_stopped", service=runtime.service)

    return Litestar(
        route_handlers=[health, *route_handlers],
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title=title,
            version="0.1.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
        ),
    )
