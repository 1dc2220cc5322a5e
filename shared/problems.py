"""The one place errors become HTTP answers: RFC 9457 problem details naming the field.

Services register their own domain errors with a status (``problem_handlers({NotFoundError:
404, …})``); validation errors, authentication and every other HTTP error share the handlers
here, so every refusal reads the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

__all__ = ["problem", "problem_handlers"]

log = structlog.get_logger()

MEDIA_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str = "", **extra: Any) -> Response[dict[str, Any]]:
    """An ``application/problem+json`` answer."""
    body: dict[str, Any] = {"type": "about:blank", "status": status, "title": title}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(body, status_code=status, media_type=MEDIA_TYPE)


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    errors = [e for e in (exc.extra or []) if isinstance(e, dict)] if isinstance(exc.extra, list) else []
    if errors:
        detail = "; ".join(f"{e.get('key') or e.get('source', 'body')}: {e.get('message', '')}" for e in errors)
        fields = [{"field": e.get("key"), "in": e.get("source"), "message": e.get("message")} for e in errors]
        return problem(400, "Invalid request", detail, errors=fields)
    return problem(400, "Invalid request", str(exc.detail))


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    response = problem(exc.status_code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("request_failed", path=request.url.path, error=repr(exc))
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "Internal error", "the error was logged; nothing was recorded")


def problem_handlers(domain_errors: Mapping[type[Exception], int] | None = None) -> ExceptionHandlersMap:
    """Exception handlers for an app: validation, HTTP errors, the given domain errors."""
    handlers: dict[Any, Any] = {ValidationException: _validation, HTTPException: _http, Exception: _unexpected}
    for error, status in (domain_errors or {}).items():
        handlers[error] = lambda _, exc, status=status: problem(
            status, type(exc).__name__.removesuffix("Error").replace("_", " "), str(exc)
        )
    return handlers
