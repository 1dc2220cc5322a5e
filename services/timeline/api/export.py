"""Exports for analysts: one incident's timeline, or every incident opened in a date range, as a
file (JSON Lines, CSV or Parquet: ``services/timeline/export.py``), streamed.

- ``GET /incidents/{id}/export?format=jsonl|csv|parquet``: 404 for an incident not on the timeline.
- ``GET /exports?from=<ISO 8601 with offset>&to=…&format=…``: the incidents whose opening occurred
  in [from, to), at most 31 days, each incident's entries in the timeline's order.

An export is personal data leaving the system: ``TimelineExported`` is recorded in the timeline's
own log before the first byte is sent (an incident's export then shows on its timeline), and the
export holds the entries recorded before it, so it says exactly what it contained.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated
from uuid import UUID, uuid4

from litestar import Controller, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.response import Stream

from services.timeline.entries import Entry
from services.timeline.export import (
    CONTENT_TYPES,
    ExportFormat,
    ExportRangeError,
    check_range,
    encoder_for,
    filename_for,
)
from services.timeline.store import TimelineStore
from shared.auth import Claims, Role
from shared.events.timeline import TimelineExported
from shared.runtime import ServiceRuntime
from shared.webauth import actor_of, requires

__all__ = ["ExportController"]

# A "+" written unencoded in a query string arrives as a space: "…T00:00:00 09:00" meant "+09:00".
_OFFSET_AS_SPACE = re.compile(r"(?<=\d) (\d{2}(?::?\d{2})?)$")
_FORMAT = Parameter(description="jsonl, csv or parquet")


def _invalid(field: str, message: str) -> ValidationException:
    return ValidationException(f"{field}: {message}", extra=[{"key": field, "source": "query", "message": message}])


def _moment(field: str, given: str) -> datetime:
    """``given`` as an aware datetime; a 400 naming ``field`` if it is not ISO 8601 or has no offset."""
    try:
        return datetime.fromisoformat(_OFFSET_AS_SPACE.sub(r"+\1", given.strip()))
    except ValueError:
        raise _invalid(field, f"{given[:40]!r} is not an ISO 8601 time such as 2026-11-01T00:00:00+09:00") from None


async def _audit(state: State, event: TimelineExported) -> datetime:
    """Record the export in the timeline's log (in a worker thread: the recorder blocks); when it
    was recorded, which bounds what the export holds."""
    runtime: ServiceRuntime = state.runtime
    [recording] = await asyncio.to_thread(runtime.application.record, event)
    recorded = recording.domain_event
    assert isinstance(recorded, TimelineExported)
    return recorded.recorded_at


async def _encoded(chunks: AsyncIterator[list[Entry]], fmt: ExportFormat) -> AsyncIterator[bytes]:
    encoder = encoder_for(fmt)
    if start := encoder.start():
        yield start
    async for entries in chunks:
        # Summaries decode every event: enough work per chunk to keep it off the event loop.
        if piece := await asyncio.to_thread(encoder.encode, entries):
            yield piece
    if end := await asyncio.to_thread(encoder.finish):
        yield end


def _stream(chunks: AsyncIterator[list[Entry]], fmt: ExportFormat, filename: str) -> Stream:
    return Stream(
        _encoded(chunks, fmt),
        media_type=CONTENT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


class ExportController(Controller):
    tags = ["exports"]
    guards = [requires(Role.ANALYST)]

    @get(
        "/incidents/{incident_id:uuid}/export",
        operation_id="exportIncidentTimeline",
        summary="One incident's timeline as JSON Lines, CSV or Parquet (recorded as an export)",
    )
    async def incident(
        self,
        incident_id: UUID,
        timeline: TimelineStore,
        claims: Claims,
        state: State,
        format: Annotated[ExportFormat, _FORMAT] = "jsonl",  # the query's name, which errors name
    ) -> Stream:
        fmt = format
        if not await timeline.known(incident_id):
            raise NotFoundException(f"no incident {incident_id} is on the timeline")
        exported = TimelineExported(
            originator_id=uuid4(),
            originator_version=1,
            incident_id=incident_id,
            by=actor_of(claims),
            scope="incident",
            format=fmt,
            via="api",
        )
        cut = await _audit(state, exported)
        chunks = timeline.timeline_chunks(incident_id, until=cut)
        return _stream(chunks, fmt, filename_for(fmt, incident_id=incident_id))

    @get(
        "/exports",
        operation_id="exportTimelines",
        summary="Every incident opened in [from, to) as JSON Lines, CSV or Parquet (recorded as an export)",
    )
    async def opened_between(
        self,
        timeline: TimelineStore,
        claims: Claims,
        state: State,
        since: Annotated[str, Parameter(query="from", max_length=64, description="ISO 8601 with its offset")],
        until: Annotated[str, Parameter(query="to", max_length=64, description="ISO 8601 with its offset; excluded")],
        format: Annotated[ExportFormat, _FORMAT] = "jsonl",  # the query's name, which errors name
    ) -> Stream:
        fmt = format
        start, end = _moment("from", since), _moment("to", until)
        try:
            check_range(start, end)
        except ExportRangeError as e:
            raise _invalid(e.field, e.message) from None
        exported = TimelineExported(
            originator_id=uuid4(),
            originator_version=1,
            by=actor_of(claims),
            scope="range",
            format=fmt,
            range_from=start,
            range_to=end,
            via="api",
        )
        cut = await _audit(state, exported)
        chunks = timeline.opened_chunks(start, end, recorded_before=cut)
        return _stream(chunks, fmt, filename_for(fmt, since=start, until=end))
