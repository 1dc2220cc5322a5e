"""The parts of a service's HTTP app that every service shares: health, OpenAPI, lifespan, web pages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ControllerRouterHandler

from shared.logging import configure_logging
from shared.problems import problem_handlers
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings
from shared.webauth import claims_dependency
from shared.webui import web_routes

__all__ = ["create_service_app", "from_state"]

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
    except Exception:  # any failure here means "not healthy", reported below
        body["database"] = False
    healthy = body["database"] and body["nats"]
    body["status"] = "ok" if healthy else "degraded"
    return Response(body, status_code=HTTP_200_OK if healthy else HTTP_503_SERVICE_UNAVAILABLE)


def from_state(name: str) -> Provide:
    """A dependency of what the runtime put in its state under ``name`` (``runtime.state[name]``)."""

    def provide(state: State) -> Any:
        return state[name]

    return Provide(provide, sync_to_thread=False)


def create_service_app(
    name: str,
    runtime_factory: Callable[[], ServiceRuntime],
    route_handlers: Sequence[ControllerRouterHandler] = (),
    *,
    domain_errors: Mapping[type[Exception], int] | None = None,
    max_body_bytes: int = 256 * 1024,
    description: str = "",
    dependencies: Mapping[str, Provide] | None = None,
    pages: Path | None = None,
) -> Litestar:
    """A litestar app whose lifespan builds the service's runtime (log, relay, consumers,
    loops) and puts ``runtime.state`` on ``app.state``; ``/health`` reports it; OpenAPI JSON at
    ``/schema``; errors answered as problem details; bodies over ``max_body_bytes`` get 413.
    The web pages: the shared assets and, for each folder of ``pages``, ``/ui/<folder>/``."""
    configure_logging()
    settings = ServiceSettings.from_env(name)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = runtime_factory()
        app.state.runtime = runtime
        for key, value in runtime.state.items():
            app.state[key] = value
        await runtime.start()
        log.info("service_started", service=runtime.service)
        try:
            yield
        finally:
            await runtime.stop()
            log.info("service_stopped", service=runtime.service)

    return Litestar(
        route_handlers=[health, *route_handlers, *web_routes(name, pages)],
        lifespan=[lifespan],
        state=State({"secret_key": settings.secret_key, "settings": settings}),
        exception_handlers=problem_handlers(domain_errors),
        request_max_body_size=max_body_bytes,
        dependencies={"claims": claims_dependency, **(dependencies or {})},
        openapi_config=OpenAPIConfig(
            title=f"Jikimi {name}",
            description=description,
            version="0.1.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
        ),
    )
