"""Timeline entries: each event of the shared stream, filed under the incidents it is about.

An entry is one event as one incident's timeline shows it: where it was recorded (service and
position in that service's log, which together name it exactly), both of its times, who acted,
and the event itself as stored (JSON). Building entries reads only an event's envelope
(``Envelope``: a few fields, the rest skipped by the decoder), which is what makes a full rebuild
fast; summaries and states decode the whole event, a page at a time.

Which incident an event is about: its ``incident_id``. A citizen's report says nothing of an
incident until intake links it (``ReportLinked``); its events before that are filed under
``UNFILED`` (so they are kept, and a restarted projector finds them) until the report is
linked, then under each incident the report is ever linked to, and its later ones follow.
Events about no incident (an expert's profile, a subscription) are on no timeline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from uuid import UUID

import msgspec

__all__ = ["UNFILED", "Entry", "Envelope", "Filing", "actor_of", "envelope_of"]

UNFILED = UUID(int=0)
"""Where a report's events wait until the report is linked to an incident."""

_REPORT_LINKED = "intake.report_linked"
_REPORT = "intake.report_"


class _Actor(msgspec.Struct, frozen=True):
    kind: str
    id: str


class Envelope(msgspec.Struct, frozen=True, gc=False):
    """What filing an event needs of it; every other field is skipped undecoded."""

    type: str
    originator_id: UUID
    originator_version: int
    occurred_at: datetime
    recorded_at: datetime
    incident_id: UUID | None = None
    service: str = ""
    position: int = 0
    report_id: UUID | None = None
    by: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    opened_by: _Actor | None = None
    author: str | None = None
    sender: str | None = None


_ENVELOPE = msgspec.json.Decoder(Envelope)
_ACTOR: msgspec.json.Decoder[_Actor | str] = msgspec.json.Decoder(_Actor | str)


def envelope_of(state: bytes) -> Envelope:
    """What filing reads of a stored event."""
    return _ENVELOPE.decode(state)


def actor_of(envelope: Envelope) -> str:
    """Who acted, as ``role:id``: the operator, expert or citizen the event names, else the
    service that decided it on its own (``system:<service>``)."""
    if envelope.by:
        by = _ACTOR.decode(envelope.by)
        if isinstance(by, _Actor):
            return f"{by.kind}:{by.id}"
        if by:
            return by
    if envelope.opened_by is not None:
        return f"{envelope.opened_by.kind}:{envelope.opened_by.id}"
    if envelope.author:
        return envelope.author
    if envelope.sender:
        return f"citizen:{envelope.sender}"
    return f"system:{envelope.service}"


class Entry(msgspec.Struct, frozen=True, gc=False):
    """One event on one incident's timeline."""

    incident_id: UUID
    service: str
    position: int
    type: str
    originator_id: UUID
    originator_version: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    event: bytes
    """The event as stored: msgspec JSON, decoded (and upcast) by ``shared.events.CODEC``."""

    def as_row(self) -> tuple[UUID, str, int, str, UUID, int, datetime, datetime, str, bytes]:
        return (
            self.incident_id,
            self.service,
            self.position,
            self.type,
            self.originator_id,
            self.originator_version,
            self.occurred_at,
            self.recorded_at,
            self.actor,
            self.event,
        )


class Filing:
    """Files events under incidents, remembering which reports belong to which incidents.

    Feed it each service's events in that service's log order (intake's reports are linked in
    intake's own log, after they were received). It keeps each report's own events, so that a
    report an operator moves to another incident brings what the citizen said along (limit:
    memory grows with the number of reports, about a kilobyte each).

    A rebuild reads every report's links first (``links``: report → incidents, from intake's
    ``ReportLinked`` events) and files those reports' events under their incidents as they come,
    keeping nothing: then any piece of any log can be filed anywhere, in any order."""

    def __init__(self, links: Mapping[UUID, Iterable[UUID]] | None = None) -> None:
        self._incidents_of: defaultdict[UUID, set[UUID]] = defaultdict(set)
        self._foreknown: set[UUID] = set()
        for report, incidents in (links or {}).items():
            self._incidents_of[report].update(incidents)
            self._foreknown.add(report)
        self._report: defaultdict[UUID, list[Entry]] = defaultdict(list)
        self.linked: set[UUID] = set()
        """Reports linked for the first time since this was last emptied: their UNFILED entries
        are stale (the store forgets them)."""

    def file(self, state: bytes, service: str = "", position: int = 0) -> list[Entry]:
        """The entries of the event stored at ``position`` in ``service``'s log (as published:
        the event's own ``service`` and ``position``): one per incident it is about; none for an
        event about no incident; one under UNFILED for a report's event before it is linked."""
        envelope = _ENVELOPE.decode(state)
        entries: list[Entry] = []
        if (
            envelope.type.startswith(_REPORT_LINKED)
            and envelope.report_id
            and envelope.incident_id
            and envelope.report_id not in self._foreknown  # else its events were filed under it already
        ):
            incidents = self._incidents_of[envelope.report_id]
            if not incidents:
                self.linked.add(envelope.report_id)
            if envelope.incident_id not in incidents:
                incidents.add(envelope.incident_id)
                earlier = self._report.get(envelope.report_id, ())
                entries += (msgspec.structs.replace(e, incident_id=envelope.incident_id) for e in earlier)
        if envelope.incident_id is not None:
            entries.append(_entry(envelope.incident_id, service, position, envelope, state))
        elif envelope.type.startswith(_REPORT):
            own = _entry(UNFILED, service, position, envelope, state)
            if envelope.originator_id not in self._foreknown:
                self._report[envelope.originator_id].append(own)
            incidents = self._incidents_of.get(envelope.originator_id) or {UNFILED}
            entries += (msgspec.structs.replace(own, incident_id=i) for i in incidents)
        return entries

    def recall(self, state: bytes, service: str, position: int) -> None:
        """Keep a report's event filed before (elsewhere), for the report's coming link."""
        envelope = _ENVELOPE.decode(state)
        if envelope.type.startswith(_REPORT) and envelope.incident_id is None:
            self._foreknown.discard(envelope.originator_id)
            self._report[envelope.originator_id].append(_entry(UNFILED, service, position, envelope, state))

    def remember(self, entry: Entry) -> None:
        """Take in an entry filed before (a projector resuming from its table)."""
        if entry.type.startswith(_REPORT_LINKED):
            envelope = _ENVELOPE.decode(entry.event)
            if envelope.report_id is not None:
                self._incidents_of[envelope.report_id].add(entry.incident_id)
        elif entry.type.startswith(_REPORT):  # once per event: the caller reads each event once
            self._report[entry.originator_id].append(msgspec.structs.replace(entry, incident_id=UNFILED))


def _entry(incident_id: UUID, service: str, position: int, envelope: Envelope, state: bytes) -> Entry:
    return Entry(
        incident_id=incident_id,
        service=service or envelope.service,
        position=position or envelope.position,
        type=envelope.type,
        originator_id=envelope.originator_id,
        originator_version=envelope.originator_version,
        occurred_at=envelope.occurred_at,
        recorded_at=envelope.recorded_at,
        actor=actor_of(envelope),
        event=state,
    )
