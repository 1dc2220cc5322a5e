"""The briefing clock: every tick, the reports that fell due are issued and requested.

Two replicas may decide the same report at once; its number is its stream version, so one
commit wins and the other is dropped (the loser reads the winner's on its next catch-up).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

import structlog
from eventsourcing.persistence import IntegrityError

from services.broadcast.briefings.policy import due_at, issue
from services.broadcast.briefings.state import BriefingView
from shared.eventlog.application import ServiceApplication
from shared.events import Event, utc_now
from shared.events.broadcast import BriefingIssued

__all__ = ["BriefingClock"]

log = structlog.get_logger()


class BriefingClock:
    def __init__(self, app: ServiceApplication, view: BriefingView, *, tick_s: float = 1.0) -> None:
        self.app, self.view, self._tick_s = app, view, tick_s

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.issue_due(utc_now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._tick_s)

    async def issue_due(self, now: datetime) -> int:
        """Issue every report due by ``now``; how many were issued."""
        await asyncio.to_thread(self.view.catch_up)
        with self.view.lock:
            due = [
                events
                for b in self.view.incidents.values()
                if (at := due_at(b)) is not None and at <= now
                for events in [issue(b, now)]
                if events
            ]
        issued = 0
        for events in due:
            issued += await asyncio.to_thread(self._record, events)
        return issued

    def _record(self, events: list[Event]) -> int:
        try:
            self.app.record(*events)
        except IntegrityError:
            log.info("briefing_issued_elsewhere", incident_id=str(events[0].incident_id))
            return 0
        for event in events:
            self.view.apply(event)
        report = events[0]
        assert isinstance(report, BriefingIssued)
        log.info(
            "briefing_issued",
            incident_id=str(report.incident_id),
            number=report.number,
            version=report.version,
            recipients=len(report.recipients),
            reason=report.reason,
        )
        return 1
