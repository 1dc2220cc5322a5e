"""structlog, configured once at start-up: JSON lines in production, colours on a terminal.

Modules call ``structlog.get_logger()``; request and message handlers bind ``incident_id``
and ``correlation_id`` with ``structlog.contextvars``. The ``redact`` processor is the last
guard against a phone number or a token reaching a log line.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["configure_logging", "redact"]

_SECRET_KEYS = re.compile(r"(token|secret|password|authorization|cookie|phone)", re.IGNORECASE)
# Korean mobile and landline numbers, with or without separators or +82.
_PHONE = re.compile(r"(?<!\d)(?:\+82[- ]?|0)(?:1[016789]|2|[3-6][1-5])[- .]?\d{3,4}[- .]?\d{4}(?!\d)")
_BEARER = re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+")


def _scrub(value: str) -> str:
    return _BEARER.sub("Bearer [redacted]", _PHONE.sub("[phone]", value))


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Blank values under secret-looking keys; mask phone numbers and bearer tokens in strings."""
    for key, value in event_dict.items():
        if _SECRET_KEYS.search(key):
            event_dict[key] = "[redacted]"
        elif isinstance(value, str):
            event_dict[key] = _scrub(value)
    return event_dict


def configure_logging(level: str = "info", *, json: bool | None = None) -> None:
    """Route structlog and the standard library's logging to stderr, once per process."""
    if json is None:
        json = not sys.stderr.isatty()
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    # httpx and httpcore log each request's URL at INFO: a Telegram bot token is in the path, and a
    # webhook URL can hold a secret. Only their warnings and errors are wanted.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
