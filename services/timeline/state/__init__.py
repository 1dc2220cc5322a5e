"""An incident as it stood at one moment, folded from its events: what an analyst replays.

``state_at`` folds the events the caller chose (those that had occurred by T, or had been
recorded by T: "as it happened" or "as the room knew it") in the order given. It reads no clock
and nothing else, so the same events always give the same state. Times in the state are the
events' ``occurred_at``. A partial history gives a partial state, never an error: a receipt for
a delivery requested before the cut, an answer to an invitation not among the events, are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.timeline.state.deliveries import member_of
from services.timeline.state.fold import IncidentFold
from services.timeline.state.values import (
    OUTSTANDING,
    CommunityState,
    Counts,
    DeliveryState,
    DeliveryStatus,
    DepartmentState,
    IncidentChange,
    IncidentFacts,
    IncidentState,
    MemberState,
    MemberStatus,
    ReporterState,
    ReportState,
    SeatState,
    SituationNote,
)
from shared.events import Event

__all__ = [
    "OUTSTANDING",
    "CommunityState",
    "Counts",
    "DeliveryState",
    "DeliveryStatus",
    "DepartmentState",
    "IncidentChange",
    "IncidentFacts",
    "IncidentFold",
    "IncidentState",
    "MemberState",
    "MemberStatus",
    "ReportState",
    "ReporterState",
    "SeatState",
    "SituationNote",
    "member_of",
    "state_at",
]


def state_at(events: Iterable[Event]) -> IncidentState:
    """The incident after ``events`` (already cut at T and ordered). No events: ``IncidentState()``,
    an incident that does not exist (yet)."""
    fold = IncidentFold()
    for event in events:
        fold.apply(event)
    return fold.state()
