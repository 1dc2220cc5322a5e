"""An incident's state at any moment, and its figures, for analysts.

- ``GET /incidents/{id}/state?at=<ISO 8601 with offset>&clock=occurred|recorded``: the incident,
  its reports, community and deliveries as they stood at ``at`` (default: now), counting the
  events that had happened by then (``occurred``) or that the room knew of (``recorded``, the
  default). A time before the incident gives its empty state.
- ``GET /incidents/{id}/figures``: first report → opened → first expert accepted → every seat
  filled; delivery latency by channel; who never acknowledged; how invitations ended.

Both read the incident's events from the ``timeline`` dependency (an ``EventSource``); an
incident it does not know is a 404 naming it.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Annotated, Protocol, runtime_checkable
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter

from services.timeline.figures import IncidentFigures, figures_of
from services.timeline.state import IncidentState, state_at
from services.timeline.store import Clock
from shared.auth import Role
from shared.events import Event, utc_now
from shared.webauth import requires

__all__ = ["AnalysisController", "Clock", "EventSource", "StateOut"]


# A "+" written unencoded in a query string arrives as a space: "…T14:03:00 09:00" meant "+09:00".
_OFFSET_AS_SPACE = re.compile(r"(?<=\d) (\d{2}(?::?\d{2})?)$")


@runtime_checkable  # litestar checks a dependency's value against its annotation
class EventSource(Protocol):
    """Where an incident's events come from (the timeline's store)."""

    async def events_of(
        self, incident_id: UUID, *, until: datetime | None = None, clock: Clock = "recorded"
    ) -> list[Event] | None:
        """The incident's events up to ``until`` on ``clock`` (all if None), in recorded order,
        decoded and upcast; None if the incident is unknown."""
        ...


class StateOut(msgspec.Struct, frozen=True):
    incident_id: UUID
    at: datetime
    clock: Clock
    state: IncidentState


def _moment(given: str | None) -> datetime | None:
    """``at`` as an aware datetime; a 400 naming it when it is not ISO 8601 with an offset."""
    if given is None:
        return None
    try:
        moment = datetime.fromisoformat(_OFFSET_AS_SPACE.sub(r"+\1", given.strip()))
    except ValueError:
        raise _invalid(f"{given[:40]!r} is not an ISO 8601 time such as 2026-11-25T14:03:00+09:00") from None
    if moment.utcoffset() is None:
        raise _invalid(f"{given[:40]!r} must carry its offset from UTC, such as 2026-11-25T14:03:00+09:00")
    return moment


def _invalid(message: str) -> ValidationException:
    return ValidationException(f"at: {message}", extra=[{"key": "at", "source": "query", "message": message}])


async def _events(timeline: EventSource, incident_id: UUID, until: datetime | None, clock: Clock) -> list[Event]:
    events = await timeline.events_of(incident_id, until=until, clock=clock)
    if events is None:
        raise NotFoundException(f"no incident {incident_id} is on the timeline")
    return events


class AnalysisController(Controller):
    path = "/incidents/{incident_id:uuid}"
    tags = ["analysis"]
    guards = [requires(Role.ANALYST)]

    @get("/state", operation_id="incidentStateAt", summary="An incident as it stood at a moment")
    async def state(
        self,
        incident_id: UUID,
        timeline: EventSource,
        at: Annotated[
            str | None, Parameter(max_length=64, description="ISO 8601 with its offset; default: now")
        ] = None,
        clock: Annotated[
            Clock, Parameter(description="occurred: as it happened; recorded: as the room knew it")
        ] = "recorded",
    ) -> StateOut:
        until = _moment(at)
        events = await _events(timeline, incident_id, until, clock)
        return StateOut(incident_id, until or utc_now(), clock, await asyncio.to_thread(state_at, events))

    @get("/figures", operation_id="incidentFigures", summary="How fast it came together; who never saw what")
    async def figures(self, incident_id: UUID, timeline: EventSource) -> IncidentFigures:
        events = await _events(timeline, incident_id, None, "recorded")
        return msgspec.structs.replace(await asyncio.to_thread(figures_of, events), incident_id=incident_id)
