"""``GET /incidents/{id}/timeline``: one incident's events in order, for analysts.

Each entry has both times (occurred, recorded), who acted, a one-line summary and, on asking
(``include=event``), the event itself. Filters: event types or whole services (``type``, any
number of times), the actor, a recorded-time range (``since`` included, ``until`` not). Pages
of ``limit`` entries follow one another by the opaque ``next`` cursor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter

from services.timeline.entries import Entry
from services.timeline.store import Cursor, TimelineStore
from services.timeline.summary import summarize
from shared.auth import Role
from shared.events import CODEC
from shared.webauth import requires

__all__ = ["EntryOut", "TimelineController", "TimelineOut", "aware"]


class EntryOut(msgspec.Struct, frozen=True):
    service: str
    position: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    summary: str
    stream_id: UUID
    stream_version: int
    event: msgspec.Raw | None = None

    @classmethod
    def of(cls, entry: Entry, *, with_event: bool) -> EntryOut:
        return cls(
            entry.service,
            entry.position,
            entry.type,
            entry.occurred_at,
            entry.recorded_at,
            entry.actor,
            summarize(CODEC.decode(entry.event)),
            entry.originator_id,
            entry.originator_version,
            msgspec.Raw(entry.event) if with_event else None,
        )


class TimelineOut(msgspec.Struct, frozen=True):
    incident_id: UUID
    entries: list[EntryOut]
    next: str | None
    """Pass as ``after`` for the next page; null on the last."""


def aware(name: str, value: datetime | None) -> datetime | None:
    """``value`` if it says its offset from UTC; a 400 naming ``name`` if not."""
    if value is not None and value.utcoffset() is None:
        raise ValidationException(f"{name} must carry its offset from UTC, e.g. 2026-11-25T14:03:00+09:00")
    return value


class TimelineController(Controller):
    path = "/incidents/{incident_id:uuid}/timeline"
    tags = ["timeline"]
    guards = [requires(Role.ANALYST)]

    @get("/", operation_id="incidentTimeline", summary="An incident's events in order, with both times")
    async def timeline(
        self,
        incident_id: UUID,
        timeline: TimelineStore,
        types: Annotated[list[str] | None, Parameter(query="type", description="event types or services")] = None,
        actor: Annotated[str | None, Parameter(max_length=200, description="role:id")] = None,
        since: Annotated[datetime | None, Parameter(description="recorded at or after")] = None,
        until: Annotated[datetime | None, Parameter(description="recorded before")] = None,
        after: Annotated[str | None, Parameter(max_length=400, description="the previous page's next")] = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        include: Literal["event"] | None = None,
    ) -> TimelineOut:
        try:
            cursor = Cursor.decode(after) if after else None
        except ValueError as e:
            raise ValidationException(f"after: {e}") from e
        page = await timeline.page(
            incident_id,
            after=cursor,
            limit=limit,
            types=types or (),
            actor=actor,
            since=aware("since", since),
            until=aware("until", until),
        )
        if not page.entries and cursor is None and not await timeline.known(incident_id):
            raise NotFoundException(f"no incident {incident_id} is on the timeline")
        return TimelineOut(
            incident_id,
            [EntryOut.of(e, with_event=include == "event") for e in page.entries],
            page.next.encode() if page.next else None,
        )
