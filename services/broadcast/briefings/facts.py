"""What broadcast notes of an incident for its briefings: one fact per upstream event.

``note_fact`` is the consumer handler. It is a pure function of the upstream event: the fact
says what changed and, for a significant change, when the report it calls for falls due (the
upstream event's time plus the debounce, or at once for the community's assembly and the
incident's close). Only ids, fields, counts and operators' texts are noted: no reporter, no
phone number; departments' briefing addresses stay sealed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from services.broadcast.briefings.names import severity_ko, type_ko
from shared import taxonomy
from shared.events import Event, subjects_of
from shared.events.broadcast import BriefingFactNoted, BriefingSeat
from shared.events.community import (
    CommunityAssembled,
    InvitationAccepted,
    InvitationDeclined,
    InvitationTimedOut,
    MemberInvited,
    MemberReleased,
    SeatPlanned,
    SeatsChanged,
    SeatUnfillable,
)
from shared.events.intake import (
    IncidentClosed,
    IncidentEscalated,
    IncidentMadePublic,
    IncidentOpened,
    IncidentReclassified,
    ReportLinked,
    ReportUnlinked,
    SituationUpdated,
)

__all__ = ["DEBOUNCE", "FACT_SOURCES", "FACT_SUBJECTS", "FactNotes", "note_fact"]

DEBOUNCE = timedelta(seconds=30)
"""Changes within this long of the first one not yet reported make one report."""

FACT_SOURCES: tuple[type[Event], ...] = (
    IncidentOpened,
    ReportLinked,
    ReportUnlinked,
    IncidentReclassified,
    IncidentEscalated,
    SituationUpdated,
    IncidentMadePublic,
    IncidentClosed,
    CommunityAssembled,
    SeatsChanged,
    MemberInvited,
    InvitationAccepted,
    InvitationDeclined,
    InvitationTimedOut,
    MemberReleased,
    SeatUnfillable,
)
"""The upstream events briefings read."""

FACT_SUBJECTS = subjects_of(*FACT_SOURCES)
"""The briefing consumer's subjects (``jikimi.<service>.<event>``)."""

_MEMBER_STATUS: dict[type[Event], str] = {
    MemberInvited: "invited",
    InvitationAccepted: "accepted",
    InvitationDeclined: "declined",
    InvitationTimedOut: "timed_out",
    MemberReleased: "released",
}


def _seats(seats: Sequence[SeatPlanned]) -> list[BriefingSeat]:
    return [BriefingSeat(s.field, s.count) for s in seats]


def _facts(event: Event) -> dict[str, Any] | None:  # noqa: PLR0911, PLR0912 -- one case per kind of event
    """The fact's fields for ``event`` (``significant`` ones name a reason), or None to ignore it."""
    now = event.recorded_at
    match event:
        case IncidentOpened(location=location):
            where: dict[str, Any] = {}
            if location is not None:
                where = {"district_code": location.district_code, "place": location.address}
                if location.point is not None:
                    where |= {"lat": location.point.lat, "lon": location.point.lon}
            return {"disaster_type": event.disaster_type, "severity": event.severity, "title": event.title, **where}
        case ReportLinked():
            return {"reports": 1}
        case ReportUnlinked():
            return {"reports": -1}
        case IncidentReclassified():
            reason = (
                f"재분류: {type_ko(event.previous_type)} {severity_ko(event.previous_severity)} → "
                f"{type_ko(event.disaster_type)} {severity_ko(event.severity)}"
            )
            return {"disaster_type": event.disaster_type, "severity": event.severity, "reason": reason}
        case IncidentEscalated():
            up = "상향" if _rank(event.severity) >= _rank(event.previous_severity) else "하향"
            reason = f"심각도 {up}: {severity_ko(event.previous_severity)} → {severity_ko(event.severity)}"
            return {"severity": event.severity, "reason": reason}
        case SituationUpdated():
            told = bool(event.text.strip()) or event.casualties_injured is not None or event.casualties_dead is not None
            return {
                "text": event.text,
                "casualties_injured": event.casualties_injured,
                "casualties_dead": event.casualties_dead,
                "next_update_at": event.next_update_at,
                "reason": "상황 업데이트" if told else "",
            }
        case IncidentMadePublic():
            return {"text": event.headline}
        case IncidentClosed():
            return {"outcome": event.outcome, "text": event.summary, "reason": "사고 종결", "due_at": now}
        case CommunityAssembled():
            return {
                "disaster_type": event.disaster_type,
                "severity": event.severity,
                "district_code": event.district_code,
                "lat": event.lat,
                "lon": event.lon,
                "seats": _seats(event.seats),
                "engaged": list(event.engaged),
                "reason": "대응 공동체 구성",
                "due_at": now,
            }
        case SeatsChanged():
            return {
                "disaster_type": event.disaster_type,
                "severity": event.severity,
                "seats": _seats(event.seats),
                "engaged": list(event.engaged),
                "reason": "대응 계획 변경" + (f" ({event.reason})" if event.reason else ""),
            }
        case SeatUnfillable():
            reason = f"충원 불가: {event.seat_field}"
            return {
                "seat_field": event.seat_field,
                "member_status": "unfillable",
                "text": event.reason,
                "reason": reason,
            }
        case MemberInvited() | InvitationAccepted() | InvitationDeclined() | InvitationTimedOut() | MemberReleased():
            status = _MEMBER_STATUS[type(event)]
            return {"expert_id": event.expert_id, "seat_field": event.seat_field, "member_status": status}
    return None


def _rank(severity: str) -> int:
    try:
        return taxonomy.Severity(severity).rank
    except ValueError:
        return -1


class FactNotes:
    """The handler, with the debounce it writes into each significant fact's ``due_at``."""

    def __init__(self, debounce: timedelta = DEBOUNCE) -> None:
        self.debounce = debounce

    @classmethod
    def from_env(cls) -> FactNotes:
        """``JIKIMI_BRIEFING_DEBOUNCE_S`` seconds (default 30)."""
        return cls(timedelta(seconds=float(os.environ.get("JIKIMI_BRIEFING_DEBOUNCE_S", DEBOUNCE.total_seconds()))))

    def note(self, event: Event) -> Sequence[Event]:
        """A consumer handler: the fact an upstream event adds to its incident's briefings."""
        if event.incident_id is None:
            return ()
        fields = _facts(event)
        if fields is None:
            return ()
        significant = bool(fields.get("reason"))
        if significant:
            fields.setdefault("due_at", event.recorded_at + self.debounce)
        return [
            BriefingFactNoted(
                originator_id=uuid5(NAMESPACE_URL, f"jikimi:briefing-fact:{event.id}"),
                originator_version=1,
                incident_id=event.incident_id,
                occurred_at=event.recorded_at,
                causation_id=event.id,
                correlation_id=event.correlation_id or event.id,
                cause=event.wire_tag(),
                significant=significant,
                **fields,
            )
        ]


note_fact = FactNotes().note
"""The handler with the default debounce."""
