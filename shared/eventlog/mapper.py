"""Stores contract events in eventsourcing's tables as msgspec JSON, topic = wire tag.

The library's default mapper stores a class path as the topic and goes through its generic
JSON transcoder; ours stores the permanent wire tag, so a class can be renamed or moved
without touching stored rows, and decodes several times faster.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent, Transcoder

from shared.events import CODEC, Event, EventCodec, UnknownEventError, encode

__all__ = ["EventMapper"]


class _NoTranscoder(Transcoder):
    """The mapper encodes with msgspec itself; this is never called."""

    def encode(self, obj: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError


class EventMapper(Mapper[UUID]):
    """Maps :class:`~shared.events.Event` to and from eventsourcing's ``StoredEvent``."""

    def __init__(self, codec: EventCodec = CODEC) -> None:
        super().__init__(transcoder=_NoTranscoder())
        self.codec = codec

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event: Event = domain_event
        return StoredEvent(
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=event.wire_tag(),
            state=encode(event),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        try:
            return self.codec.decode(stored_event.state)
        except UnknownEventError as e:
            msg = (
                f"cannot decode stored event {stored_event.topic!r} of "
                f"{stored_event.originator_id} v{stored_event.originator_version}: {e}"
            )
            raise MapperDeserialisationError(msg) from e
