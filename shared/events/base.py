"""The envelope every event carries, and the registry of published event types.

An event is a frozen msgspec Struct in one tagged union, declared as
``class IncidentOpened(Event, frozen=True, tag="intake.incident_opened")``. The tag (``type``
on the wire) is permanent and names the producing service first. A later schema version of
the same event is a new class tagged ``<name>.v2`` (``.v3`` …); the older class stays in the
union and upcasts itself on read.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID, uuid4

import msgspec

__all__ = ["Event", "event_types", "family_of", "published_event_types", "subjects_of", "utc_now"]

_TAG = re.compile(r"^(?P<service>[a-z]+)\.(?P<event>[a-z][a-z0-9_]*)(?:\.v(?P<version>[2-9]|[1-9][0-9]+))?$")


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag=False, gc=False):
    """Base of every event that crosses a service boundary.

    Events are immutable values without reference cycles, so the garbage collector need not
    track them (``gc=False``): the views keep many of them, and scanning them made pauses.

    Envelope fields, on every event:

    - ``id``: the event's own id.
    - ``originator_id``, ``originator_version``: the aggregate (stream) the event belongs to
      and its version after the event; the event log's optimistic-concurrency key.
    - ``incident_id``: the incident the event is about, where one applies.
    - ``occurred_at``: when it happened in the world; ``recorded_at``: when the service logged it.
    - ``causation_id``: the event that caused this one; ``correlation_id``: the first event of
      the chain (one incident's whole story shares one).
    - ``service``: the producing service; ``position``: the event's notification id in that
      service's log, filled in by the relay when it publishes the event (0 before).
    """

    originator_id: UUID
    originator_version: int
    id: UUID = msgspec.field(default_factory=uuid4)
    incident_id: UUID | None = None
    occurred_at: datetime = msgspec.field(default_factory=utc_now)
    recorded_at: datetime = msgspec.field(default_factory=utc_now)
    causation_id: UUID | None = None
    correlation_id: UUID | None = None
    service: str = ""
    position: int = 0

    @classmethod
    def wire_tag(cls) -> str:
        """The permanent tag this class carries on the wire and in the event tables."""
        return str(cls.__struct_config__.tag)

    @classmethod
    def schema_version(cls) -> int:
        """1 for the first version of an event; N for a class tagged ``….vN``."""
        match = _TAG.match(cls.wire_tag())
        assert match is not None  # checked when the class was defined
        return int(match["version"] or 1)

    @classmethod
    def family(cls) -> str:
        """The tag without its version: every version of the event shares it (``intake.incident_opened``)."""
        return family_of(cls.wire_tag())

    @classmethod
    def subject_of(cls) -> str:
        """The JetStream subject events of this class are published on: ``jikimi.intake.incident_opened``."""
        match = _TAG.match(cls.wire_tag())
        assert match is not None
        return f"jikimi.{match['service']}.{match['event']}"

    @classmethod
    def event_name(cls) -> str:
        """The tag's event part without its version: ``incident_opened``."""
        match = _TAG.match(cls.wire_tag())
        assert match is not None
        return match["event"]

    def subject(self) -> str:
        """The JetStream subject ``jikimi.<producing service>.<event>`` (same for every version)."""
        return f"jikimi.{self.service}.{self.event_name()}"

    @property
    def timestamp(self) -> datetime:
        """The time eventsourcing's repository reads as the event's time."""
        return self.recorded_at

    def upcast(self) -> Event:
        """This event in its current schema version; classes of older versions override it."""
        return self


def event_types() -> dict[str, type[Event]]:
    """Every event type defined so far, by wire tag (importing ``shared.events`` defines the
    published ones). Raises TypeError when a tag is malformed or used twice."""
    found: dict[str, type[Event]] = {}
    pending = list(Event.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        tag = cls.__struct_config__.tag
        if tag is None:
            continue  # an intermediate base, not a published type
        if not isinstance(tag, str) or not _TAG.match(tag):
            msg = f"{cls.__qualname__}: tag {tag!r} must look like 'service.event_name' or 'service.event_name.v2'"
            raise TypeError(msg)
        if tag in found:
            msg = f"wire tag {tag!r} is used by both {found[tag].__qualname__} and {cls.__qualname__}"
            raise TypeError(msg)
        found[tag] = cls
    return dict(sorted(found.items()))


def published_event_types() -> dict[str, type[Event]]:
    """The event types of the contract itself (defined in ``shared.events``), by wire tag."""
    return {tag: cls for tag, cls in event_types().items() if cls.__module__.startswith("shared.events.")}


def subjects_of(*types: type[Event]) -> list[str]:
    """The subjects a consumer of ``types`` subscribes to."""
    return [t.subject_of() for t in types]


def family_of(tag: str) -> str:
    """A stored event's tag (its topic) without the version: ``intake.incident_opened.v2`` →
    ``intake.incident_opened``. Filters on tags compare families, so old versions still match."""
    match = _TAG.match(tag)
    return f"{match['service']}.{match['event']}" if match else tag
