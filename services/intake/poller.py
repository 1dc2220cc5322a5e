"""Polls the Korean disaster-text-message API and records each new message once.

Configured by ``JIKIMI_KR_MESSAGES_URL`` (the full page URL, service key included) and
``JIKIMI_KR_MESSAGES_INTERVAL_S``; without a URL it does not run. An error page or a network
failure is logged with its reason, and the next poll comes as usual. A message the parser could not read
is logged once, by serial number and reason (never its text), and the rest of its page is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import structlog

from services.intake.alerts import KrApiError, KrDisasterMessage, parse_page

__all__ = ["DisasterMessagePoller", "PollerSettings"]

log = structlog.get_logger()


@dataclass(frozen=True)
class PollerSettings:
    url: str = ""
    interval_s: float = 60.0
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls) -> PollerSettings:
        return cls(
            url=os.environ.get("JIKIMI_KR_MESSAGES_URL", ""),
            interval_s=float(os.environ.get("JIKIMI_KR_MESSAGES_INTERVAL_S", "60")),
        )


class DisasterMessagePoller:
    """Fetch a page, hand its messages to ``record`` (which stores only the new ones), wait, repeat."""

    def __init__(
        self,
        settings: PollerSettings,
        record: Callable[[list[KrDisasterMessage]], Awaitable[int]],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self._record = record
        self._transport = transport
        self.polls = 0
        self.failures = 0
        # A bad message stays on the page for many polls; it is worth one warning, not one per poll.
        self._reported_skips: set[int] = set()

    async def poll_once(self, client: httpx.AsyncClient) -> int:
        """One poll; the number of new messages recorded (0 on any failure, which is logged)."""
        self.polls += 1
        try:
            response = await client.get(self.settings.url)
            response.raise_for_status()
            page = parse_page(response.content)
        except KrApiError as e:
            self.failures += 1
            log.warning("disaster_messages_api_error", error=str(e))
            return 0
        except httpx.HTTPError as e:
            self.failures += 1
            # Never str(e): it carries the URL, and the URL carries the service key.
            status = e.response.status_code if isinstance(e, httpx.HTTPStatusError) else None
            log.warning("disaster_messages_fetch_failed", error=type(e).__name__, status=status)
            return 0
        for skipped in page.skipped:
            if skipped.serial is not None and skipped.serial in self._reported_skips:
                continue
            if skipped.serial is not None:
                self._reported_skips.add(skipped.serial)
            log.warning("disaster_message_skipped", serial=skipped.serial, index=skipped.index, reason=skipped.reason)
        recorded = await self._record(page.messages)
        if recorded:
            log.info("disaster_messages_recorded", new=recorded, on_page=len(page.messages), skipped=len(page.skipped))
        return recorded

    async def run(self, stop: asyncio.Event) -> None:
        if not self.settings.url:
            return
        async with httpx.AsyncClient(timeout=self.settings.timeout_s, transport=self._transport) as client:
            while not stop.is_set():
                await self.poll_once(client)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.settings.interval_s)
