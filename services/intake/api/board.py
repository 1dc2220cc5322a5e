"""The situation board live, for operators: ``GET /incidents/live`` (Server-Sent Events).

``event: report`` carries each report this process's view takes in after the stream opened (as
``GET /incidents/{id}`` shows it), ``event: board`` (``{"events": n}``) says the board changed
(an incident opened, changed, a report joined it), so a page reads ``GET /incidents`` again with
its own filters; ``: ping`` when quiet. A page that reconnects reads the board again: there is
no resume. Limit: it follows what this process's view holds; another intake replica's reports
show once this one's writer has read them (before its next decision).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any, Protocol

import msgspec
from litestar import get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from services.intake.api.schemas import ReportOut
from services.intake.application import IntakeService
from services.intake.domain import Report
from shared.auth import Role
from shared.webauth import requires

__all__ = ["board_changes", "live_board"]

POLL_S = 0.5
PING_S = 15.0


class BoardState(Protocol):
    """What the stream reads of the view: a lock, each stream's version, the reports in arrival order."""

    lock: Any
    versions: dict[Any, int]
    reports: dict[Any, Report]


def _folded(view: BoardState) -> tuple[int, int]:
    # Each event folded in raises one stream's version by one: their sum counts the events.
    with view.lock:
        return sum(view.versions.values()), len(view.reports)


async def board_changes(
    view: BoardState, *, poll_s: float = POLL_S, ping_s: float = PING_S
) -> AsyncIterator[ServerSentEventMessage]:
    """What the board's stream sends, from now on (see the module's docstring)."""
    events, seen = _folded(view)
    quiet = 0.0
    while True:
        await asyncio.sleep(poll_s)
        now_events, count = _folded(view)
        if now_events == events:
            quiet += poll_s
            if quiet >= ping_s:
                quiet = 0.0
                yield ServerSentEventMessage(data=None, comment="ping")
            continue
        quiet = 0.0
        with view.lock:
            new = list(itertools.islice(view.reports.values(), seen, count))
        for report in new:
            yield ServerSentEventMessage(msgspec.json.encode(ReportOut.of(report)).decode(), event="report")
        events, seen = now_events, count
        yield ServerSentEventMessage(msgspec.json.encode({"events": events}).decode(), event="board")


@get(
    "/incidents/live",
    operation_id="streamBoard",
    tags=["incidents"],
    guards=[requires(Role.OPERATOR)],
    summary="The situation board live: new reports, and a mark when the board changed (Server-Sent Events)",
)
async def live_board(intake: IntakeService) -> ServerSentEvent:
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return ServerSentEvent(board_changes(intake.view), headers=headers)
