"""What the public may see, folded from intake's events: incidents an operator made public, the
national CAP alerts intake received, and the Korean disaster text messages (재난문자) sent to Seoul.

The view is a pure fold (no I/O, no clock): ``apply`` takes one event and the stream sequence
it came at; queries that depend on time take ``now``. Applying is idempotent per aggregate (an
event applies only if its version is newer than the last one seen of that stream), so reading
a stretch of the stream twice changes nothing. How it is kept complete across restarts is in
:mod:`services.broadcast.public.follow`.

Only what the public may see is kept: no reporter, no operator, no point (a reporter's GPS can
be an incident's point), no situation text of an incident that is not public, no disaster text
message that names no Seoul district (:mod:`services.broadcast.public.disaster_messages` says why).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from uuid import UUID

import msgspec

from services.broadcast.public.disaster_messages import expires_at, is_for_seoul
from shared.events import Event
from shared.events.intake import (
    CapAlertReceived,
    DisasterMessageReceived,
    IncidentClosed,
    IncidentEscalated,
    IncidentMadePublic,
    IncidentOpened,
    IncidentReclassified,
    SituationUpdated,
)

__all__ = ["PUBLIC_EVENTS", "CapMessage", "PublicIncident", "PublicView"]

PUBLIC_EVENTS: tuple[type[Event], ...] = (
    IncidentOpened,
    IncidentReclassified,
    IncidentEscalated,
    SituationUpdated,
    IncidentMadePublic,
    IncidentClosed,
    CapAlertReceived,
    DisasterMessageReceived,
)
"""The intake events the view folds; the follower reads only their subjects."""


class CapMessage(msgspec.Struct, frozen=True):
    """One CAP message the city issued about an incident: its number (1 for the first), type, time."""

    number: int
    msg_type: str
    sent: datetime


class PublicIncident(msgspec.Struct, frozen=True):
    """An incident as the public may know it, and the CAP messages issued about it while public."""

    id: UUID
    version: int
    disaster_type: str
    severity: str
    title: str
    district_code: str | None
    opened_at: datetime
    updated_at: datetime
    public: bool = False
    made_public_at: datetime | None = None
    headline: str = ""
    instruction: str = ""
    situation: str = ""
    casualties_injured: int | None = None
    casualties_dead: int | None = None
    closed_at: datetime | None = None
    outcome: str = ""
    messages: tuple[CapMessage, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def latest(self) -> CapMessage | None:
        """The last CAP message issued (``None`` while the incident was never public)."""
        return self.messages[-1] if self.messages else None


class PublicView:
    """Public incidents, national alerts and Seoul's disaster text messages by id, and how far
    into the stream it has read."""

    def __init__(self) -> None:
        self.incidents: dict[UUID, PublicIncident] = {}
        self.alerts: dict[UUID, CapAlertReceived] = {}
        self.superseded: set[UUID] = set()
        """Alerts named in another alert's ``references``: updated or cancelled by it."""
        self.disaster_messages: dict[UUID, DisasterMessageReceived] = {}
        """Disaster text messages sent to Seoul, by stream id; the first one of each serial number."""
        self._serials: set[int] = set()
        self.sequence = 0
        """The stream sequence of the last message read (0: none yet)."""
        self.caught_up = asyncio.Event()
        """Set once the view has read everything the stream held when it started reading."""

    def apply(self, event: Event, sequence: int = 0) -> None:
        """Fold one event in (idempotently); ``sequence`` is where it is in the stream."""
        self.sequence = max(self.sequence, sequence)
        if isinstance(event, CapAlertReceived):
            if event.originator_id not in self.alerts:
                self.alerts[event.originator_id] = event
                self.superseded.update(event.references)
            return
        if isinstance(event, DisasterMessageReceived):
            # Intake records a serial number once; a second stream of one would still be the same message.
            if is_for_seoul(event) and event.serial not in self._serials:
                self._serials.add(event.serial)
                self.disaster_messages[event.originator_id] = event
            return
        incident = self.incidents.get(event.originator_id)
        if isinstance(event, IncidentOpened):
            if incident is None:
                self.incidents[event.originator_id] = _opened(event)
            return
        if incident is None or event.originator_version <= incident.version:
            return  # not an incident's event, or seen before
        changed = _changed(incident, event)
        if changed.closed_at is not None and not changed.public:
            del self.incidents[incident.id]  # closed before the public heard of it: nothing to keep
        else:
            self.incidents[incident.id] = changed

    def public_incidents(
        self, *, district: str | None = None, disaster_type: str | None = None
    ) -> list[PublicIncident]:
        """Open incidents made public, newest change first, filtered by district and type."""
        found = [
            i
            for i in self.incidents.values()
            if i.public
            and i.is_open
            and (district is None or i.district_code == district)
            and (disaster_type is None or i.disaster_type == disaster_type)
        ]
        return sorted(found, key=lambda i: i.updated_at, reverse=True)

    def active_alerts(self, now: datetime) -> list[CapAlertReceived]:
        """National alerts to relay now: actual, public, not expired, not updated or cancelled by
        another alert, newest first."""
        found = [a for a in self.alerts.values() if is_relayable(a) and a.originator_id not in self.superseded]
        return sorted((a for a in found if not _expired(a, now)), key=lambda a: a.sent, reverse=True)

    def active_disaster_messages(self, now: datetime) -> list[DisasterMessageReceived]:
        """Disaster text messages sent to Seoul that have not yet expired, newest first."""
        found = [m for m in self.disaster_messages.values() if expires_at(m) > now]
        return sorted(found, key=lambda m: m.created_at, reverse=True)


def is_relayable(alert: CapAlertReceived) -> bool:
    """Whether the public may see this alert at all: a real (``Actual``), ``Public`` alert or update
    with something to say. Restricted and private alerts are never republished."""
    return (
        alert.alert is not None
        and alert.status == "Actual"
        and alert.scope == "Public"
        and alert.msg_type in {"Alert", "Update"}
        and bool(alert.alert.infos)
    )


def _expired(alert: CapAlertReceived, now: datetime) -> bool:
    # An alert lasts as long as its longest-lasting info; an info without ``expires`` lasts until
    # an update or cancel names the alert (CAP sets no default lifetime).
    assert alert.alert is not None
    expiries = [info.expires for info in alert.alert.infos]
    if any(expires is None for expires in expiries):
        return False
    return max(e for e in expiries if e is not None) <= now


def _opened(event: IncidentOpened) -> PublicIncident:
    return PublicIncident(
        id=event.originator_id,
        version=event.originator_version,
        disaster_type=event.disaster_type,
        severity=event.severity,
        title=event.title,
        district_code=event.location.district_code if event.location else None,
        opened_at=event.recorded_at,
        updated_at=event.recorded_at,
    )


def _changed(incident: PublicIncident, event: Event) -> PublicIncident:
    """The incident after ``event``, with the CAP message it makes the city issue if public."""
    common: dict[str, object] = {"version": event.originator_version}
    match event:
        case IncidentMadePublic() if not incident.public:
            common |= {
                "public": True,
                "made_public_at": event.recorded_at,
                "headline": event.headline,
                "instruction": event.instruction,
            }
        case IncidentReclassified():
            common |= {"disaster_type": event.disaster_type, "severity": event.severity}
        case IncidentEscalated():
            common["severity"] = event.severity
        case SituationUpdated():
            common |= {
                "situation": event.text,
                "casualties_injured": event.casualties_injured,
                "casualties_dead": event.casualties_dead,
            }
        case IncidentClosed():
            common |= {"closed_at": event.recorded_at, "outcome": event.outcome}
        case _:
            return msgspec.structs.replace(incident, **common)
    common["updated_at"] = event.recorded_at
    after = msgspec.structs.replace(incident, **common)
    if not after.public:
        return msgspec.structs.replace(after, situation="", casualties_injured=None, casualties_dead=None)
    if isinstance(event, IncidentClosed):
        msg_type = "Cancel"
    elif incident.public:
        msg_type = "Update"
    else:
        msg_type = "Alert"
    message = CapMessage(len(incident.messages) + 1, msg_type, event.recorded_at)
    return msgspec.structs.replace(after, messages=(*incident.messages, message))
