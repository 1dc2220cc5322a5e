"""``GET /incidents?from=&to=``: the incidents opened in a range, for an analyst to pick one.

Found through the timeline's openings (when the opening occurred, ``from`` included, ``to`` not),
in the order they opened; a range of at most 31 days.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Protocol, runtime_checkable
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.exceptions import ValidationException
from litestar.params import Parameter

from services.timeline.api.timeline import aware
from shared.auth import Role
from shared.webauth import requires

__all__ = ["IncidentsController", "OpenedOut", "Openings"]

LONGEST = timedelta(days=31)


@runtime_checkable  # litestar checks a dependency's value against its annotation
class Openings(Protocol):
    """What the listing needs of the timeline's store (a fake in unit tests)."""

    async def opened_between(self, since: datetime, until: datetime) -> list[UUID]:
        """The incidents whose opening occurred in [``since``, ``until``), in the order they opened."""
        ...


class OpenedOut(msgspec.Struct, frozen=True):
    incident_id: UUID


class IncidentsController(Controller):
    path = "/incidents"
    tags = ["timeline"]
    guards = [requires(Role.ANALYST)]

    @get("/", operation_id="incidentsOpened", summary="The incidents opened in [from, to), in the order they opened")
    async def opened(
        self,
        timeline: Openings,
        since: Annotated[datetime, Parameter(query="from", description="ISO 8601 with its offset")],
        until: Annotated[datetime, Parameter(query="to", description="ISO 8601 with its offset; excluded")],
    ) -> list[OpenedOut]:
        aware("from", since)  # a 400 unless each says its offset from UTC
        aware("to", until)
        if not since < until <= since + LONGEST:
            raise ValidationException(f"to must be after from, and at most {LONGEST.days} days after it")
        return [OpenedOut(i) for i in await timeline.opened_between(since, until)]
