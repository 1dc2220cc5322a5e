"""Events of the timeline service: what analysts took out of the record, for audit.

An export is personal data leaving the system (citizens' words, who was invited where), so each
one is recorded before a byte of it is written. Its ``incident_id`` files it on that incident's
timeline; a date-range export names its range instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from shared.events.base import Event
from shared.events.common import Actor

__all__ = ["TimelineExported"]


class TimelineExported(Event, frozen=True, tag="timeline.exported"):
    """``by`` exported one incident's timeline (``scope`` incident, ``incident_id``) or every
    incident opened in [``range_from``, ``range_to``) (``scope`` range) as ``format``. The export
    holds the entries recorded before this event was."""

    by: Actor
    scope: Literal["incident", "range"]
    format: str
    range_from: datetime | None = None
    range_to: datetime | None = None
    via: str = ""
    """Where it was asked for: ``api`` or ``cli``."""
