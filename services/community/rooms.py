"""Incident rooms: messages of a community's members, each an event on the room's own stream."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import IntegrityError

from shared.eventlog.application import ServiceApplication
from shared.events import CODEC, Event
from shared.events.community import MessagePosted

__all__ = ["PAGE", "history", "post_message", "room_id"]

PAGE = 200
"""The most messages ``history`` returns at once."""


def room_id(incident_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"jikimi:room:{incident_id}")


def post_message(app: ServiceApplication, incident_id: UUID, *, author: str, **content: Any) -> MessagePosted:
    """Append a message to the room; two at once take consecutive places (a clash is retried)."""
    stream = room_id(incident_id)
    for _ in range(5):
        last = app.recorder.select_events(stream, desc=True, limit=1)
        version = last[0].originator_version + 1 if last else 1
        message = MessagePosted(
            originator_id=stream,
            originator_version=version,
            incident_id=incident_id,
            correlation_id=incident_id,
            author=author,
            **content,
        )
        try:
            recorded = app.record(message)
        except IntegrityError:
            continue
        posted: MessagePosted = recorded[0].domain_event  # type: ignore[assignment]
        return posted
    raise IntegrityError("the room is too busy; try again")


def history(app: ServiceApplication, incident_id: UUID, *, after: int = 0, limit: int = PAGE) -> list[Event]:
    """The room's messages after number ``after`` (its version), oldest first."""
    stored = app.recorder.select_events(room_id(incident_id), gt=after or None, limit=limit)
    return [CODEC.decode(s.state) for s in stored]
