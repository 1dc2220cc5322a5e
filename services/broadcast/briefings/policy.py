"""When an incident's next report falls due, and the report: pure functions of the briefing
state with the time passed in, so a replay of the log reproduces every decision.

- Initial: when the community is assembled (with whatever else is known by then).
- Update: at the earliest due time among significant changes no report covers yet (a burst of
  changes within the debounce makes one report), or when the schedule says: every 15 min for an
  extreme incident, 30 for severe, 60 for moderate, never for minor. Each report records the
  next scheduled time; a service that was down issues what fell due meanwhile once, on start.
- Final: once the incident is closed; nothing follows it.

Each report is requested for every department engaged when it is issued, so a department that
escalation engaged gets the next one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from services.broadcast.briefings.names import district_ko
from services.broadcast.briefings.state import IncidentBriefing
from services.broadcast.briefings.text import briefing_text
from shared.events import Event
from shared.events.broadcast import (
    BriefingIssued,
    CasualtySummary,
    DeliveryRequested,
    ResponseResources,
    SitRep,
    SitRepBody,
    SitRepDepartment,
    SitRepMember,
    SitRepSeat,
    SitRepUpdate,
    SituationInformation,
)

__all__ = ["INTERVALS", "PREPARED_BY", "briefing_stream", "due_at", "issue"]

INTERVALS: dict[str, timedelta] = {
    "extreme": timedelta(minutes=15),
    "severe": timedelta(minutes=30),
    "moderate": timedelta(minutes=60),
}
"""How often a report is issued without any change, by severity (minor: never)."""

PREPARED_BY = "jikimi broadcast (automatic)"

_PURPOSE = {
    "Initial": "초기 상황 보고 (대응 공동체 구성)",
    "Update": "상황 변경 보고",
    "Final": "최종 보고 (사고 종결)",
}


def briefing_stream(incident_id: UUID) -> UUID:
    """The stream of the incident's reports (its version is the last report's number)."""
    return uuid5(NAMESPACE_URL, f"jikimi:briefings:{incident_id}")


def due_at(b: IncidentBriefing) -> datetime | None:
    """When the incident's next report falls due; None while its community is not assembled,
    after the Final report, or when nothing is pending and nothing is scheduled. An incident
    closed before any report gets none (nor do closed incidents a first deployment reads)."""
    if b.assembled_at is None or (b.briefings and b.briefings[-1].version == "Final"):
        return None
    if b.closed and not b.briefings:
        return None
    times = [p.due_at for p in b.pending.values()]
    if b.next_report_at is not None:
        times.append(b.next_report_at)
    if not b.briefings:
        times.append(b.assembled_at)
    return min(times, default=None)


def _sitrep(b: IncidentBriefing, message_id: UUID, number: int, version: str, now: datetime) -> SitRep:
    previous = b.briefings[-1].sitrep.period_to if b.briefings else (b.opened_at or b.assembled_at or now)
    interval = INTERVALS.get(b.severity)
    filled = {f: sum(1 for field, s in b.members.values() if field == f and s == "accepted") for f in b.seats}
    invited = {f: sum(1 for field, s in b.members.values() if field == f and s == "invited") for f in b.seats}
    seats = [
        SitRepSeat(f, n, filled[f], invited[f], f in b.unfillable, b.unfillable.get(f, "")) for f, n in b.seats.items()
    ]
    seats += [SitRepSeat(f, 0, unfillable=True, reason=r) for f, r in b.unfillable.items() if f not in b.seats]
    members = [
        SitRepMember(expert, field, status)
        for expert, (field, status) in sorted(b.members.items())
        if status in {"invited", "accepted"}
    ]
    situation = SituationInformation(
        title=b.title,
        disaster_type=b.disaster_type,
        severity=b.severity,
        district_code=b.district_code,
        district=district_ko(b.district_code),
        place=b.place,
        lat=b.lat,
        lon=b.lon,
        reports=b.reports,
        opened_at=b.opened_at,
        status="closed" if b.closed else "open",
        outcome=b.outcome or "",
        changes=[p.reason for p in sorted(b.pending.values(), key=lambda p: p.due_at)],
        updates=[SitRepUpdate(at, text) for at, text in b.updates],
        next_update_expected=b.next_update_at,
    )
    return SitRep(
        message_id=message_id,
        prepared_by=PREPARED_BY,
        prepared_at=now,
        purpose=_PURPOSE[version],
        report_number=number,
        report_version=version,
        period_from=previous,
        period_to=now,
        incident_ids=[b.incident_id],
        severity=b.severity,
        body=SitRepBody(
            situation,
            CasualtySummary(b.injured, b.dead, b.casualties_at),
            ResponseResources(
                seats,
                members,
                [SitRepDepartment(d.id, d.name, d.kind) for d in b.engaged.values()],
            ),
        ),
        next_report_at=None if version == "Final" or interval is None else now + interval,
    )


def issue(b: IncidentBriefing, now: datetime) -> list[Event]:
    """The report due by ``now`` and one delivery of it per engaged department (the SitRep itself
    too for a department briefed by webhook); [] if none is due."""
    due = due_at(b)
    if due is None or due > now:
        return []
    number = len(b.briefings) + 1
    version = "Final" if b.closed else "Initial" if number == 1 else "Update"
    report_id = uuid5(NAMESPACE_URL, f"jikimi:briefing:{b.incident_id}:{number}")
    sitrep = _sitrep(b, report_id, number, version, now)
    reasons = sitrep.body.situation.changes or ["정기 보고"]
    report = BriefingIssued(
        originator_id=briefing_stream(b.incident_id),
        originator_version=number,
        id=report_id,
        incident_id=b.incident_id,
        occurred_at=now,
        causation_id=None,
        correlation_id=b.incident_id,
        number=number,
        version=version,
        sitrep=sitrep,
        reason="; ".join(reasons),
        covers=sorted(b.pending),
        recipients=sorted(b.engaged),
        next_report_at=sitrep.next_report_at,
    )
    text = briefing_text(sitrep)
    deliveries: list[Event] = [
        DeliveryRequested(
            originator_id=uuid5(NAMESPACE_URL, f"jikimi:delivery:{report_id}:{department.id}"),
            originator_version=1,
            incident_id=b.incident_id,
            occurred_at=now,
            causation_id=report_id,
            correlation_id=b.incident_id,
            recipient=department.id,
            channel=department.briefing.channel,
            kind="briefing",
            text=text,
            address_sealed=department.briefing.address_sealed,
            # The structured report goes where a program reads it; an e-mail carries only the text.
            sitrep=sitrep if department.briefing.channel == "webhook" else None,
        )
        for department in b.engaged.values()
    ]
    return [report, *deliveries]
