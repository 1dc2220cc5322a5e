"""What happens when a citizen's message arrives: a pure decision over the current state.

A message is either a repeat (stored once: acknowledged, nothing recorded), a further message
in an open conversation (it amends that report), a cancellation, or a new report. A report
whose disaster type and place are known joins the nearest matching open incident or opens one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from services.intake.classifier import classify
from services.intake.domain import Incident, Report, apply_incident, apply_report
from services.intake.linking import LinkingPolicy, choose_incident
from shared import geo, taxonomy
from shared.events import Event
from shared.events.common import Actor, Attachment, ContactRef, GeoPoint, Location
from shared.events.intake import (
    Classification,
    IncidentOpened,
    ReportAmended,
    ReportCancelled,
    ReportLinked,
    ReportReceived,
    ReportUnlinked,
)

__all__ = ["InboundMessage", "IntakeState", "Reception", "ReceptionPolicy", "locate", "receive"]

Channel = Literal["kakao", "telegram", "sms", "web", "api"]


class InboundMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One message from a citizen, whatever the channel, before anything is recorded."""

    channel: Channel
    sender_id: str  # the channel's own id for the sender: pseudonymised before any event
    message_key: str  # the channel's id for this message (or the Idempotency-Key)
    received_at: datetime
    text: str = ""
    point: GeoPoint | None = None
    address: str = ""
    attachments: tuple[Attachment, ...] = ()
    language: str = ""
    reply_to: str = ""  # where to answer on the channel: sealed before any event
    cancel: bool = False


class ReceptionPolicy(msgspec.Struct, frozen=True):
    conversation_minutes: float = 30.0
    linking: LinkingPolicy = LinkingPolicy()


class IntakeState(Protocol):
    """What the decision reads: the current reports and incidents."""

    def report(self, report_id: UUID) -> Report | None: ...
    def report_by_message(self, channel: str, message_key: str) -> Report | None: ...
    def latest_report_of(self, sender: str) -> Report | None: ...
    def incident(self, incident_id: UUID) -> Incident | None: ...
    def open_incidents_near(self, disaster_type: str, location: Location, radius_km: float) -> Iterable[Incident]: ...


class Reception(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome: what to record, and what to tell the citizen."""

    report: Report | None
    events: list[Event]
    duplicate: bool = False
    incident: Incident | None = None
    cancelled: bool = False

    @property
    def needs_location(self) -> bool:
        return bool(self.report and not self.report.cancelled and self.report.location is None)


def report_id_for(channel: str, message_key: str) -> UUID:
    """A report's id follows from its first message, so a repeat cannot make a second one."""
    return uuid5(NAMESPACE_URL, f"jikimi:report:{channel}:{message_key}")


def receipt_for(report_id: UUID, now: datetime) -> str:
    return f"J{now:%y%m%d}-{report_id.hex[:6].upper()}"


def locate(msg: InboundMessage) -> Location | None:
    """Where the message says it is: its GPS point, else an address, else a place in its text."""
    if msg.point is not None:
        district = geo.district_at(msg.point.lat, msg.point.lon)
        return Location(
            point=msg.point, district_code=district.code if district else None, source="gps", address=msg.address
        )
    for text, source in ((msg.address, "address"), (msg.text, "text")):
        if text and (district := geo.find_district(text)) is not None:
            return Location(district_code=district.code, address=msg.address, source=source)  # type: ignore[arg-type]
    return None


def _title(disaster_type: str, location: Location) -> str:
    kind = taxonomy.get(disaster_type).ko
    district = geo.district_by_code(location.district_code) if location.district_code else None
    return f"{kind} · {district.ko}" if district else kind


def receive(
    msg: InboundMessage,
    *,
    sender: str,
    reply_to_sealed: str,
    state: IntakeState,
    now: datetime,
    policy: ReceptionPolicy,
) -> Reception:
    """Decide what ``msg`` means given ``state``; the events returned are what to record."""
    known = state.report_by_message(msg.channel, msg.message_key)
    if known is not None:
        return Reception(
            report=known,
            events=[],
            duplicate=True,
            incident=state.incident(known.incident_id) if known.incident_id else None,
        )

    conversation = state.latest_report_of(sender)
    window = timedelta(minutes=policy.conversation_minutes)
    if conversation and (conversation.cancelled or msg.received_at - conversation.last_message_at > window):
        conversation = None
    events: list[Event] = []
    citizen = Actor("citizen", sender)
    if msg.cancel:
        if conversation is None:
            return Reception(report=None, events=[], cancelled=True)
        events.append(
            ReportCancelled(
                originator_id=conversation.id,
                originator_version=conversation.version + 1,
                occurred_at=msg.received_at,
                by=citizen,
                reason="cancelled by the reporter",
            )
        )
        incident = state.incident(conversation.incident_id) if conversation.incident_id else None
        if incident is not None and incident.status == "open":
            events.append(
                ReportUnlinked(
                    originator_id=incident.id,
                    originator_version=incident.version + 1,
                    incident_id=incident.id,
                    report_id=conversation.id,
                    reporter=sender,
                    by=citizen,
                    reason="the reporter cancelled the report",
                )
            )
        return Reception(report=apply_report(conversation, events[0]), events=events, cancelled=True)

    location = locate(msg)
    if conversation is None:
        report_id = report_id_for(msg.channel, msg.message_key)
        first: Event = ReportReceived(
            originator_id=report_id,
            originator_version=1,
            occurred_at=msg.received_at,
            correlation_id=report_id,
            channel=msg.channel,
            sender=sender,
            channel_message_id=msg.message_key,
            receipt=receipt_for(report_id, now),
            text=msg.text,
            language=msg.language,
            location=location,
            attachments=list(msg.attachments),
            classification=_classification(classify(msg.text)),
            reply_to_sealed=reply_to_sealed,
        )
    else:
        text = "\n".join(t for t in (conversation.text, msg.text) if t)
        renewed = _classification(classify(text)) if msg.text else None
        first = ReportAmended(
            originator_id=conversation.id,
            originator_version=conversation.version + 1,
            occurred_at=msg.received_at,
            correlation_id=conversation.id,
            incident_id=conversation.incident_id,
            channel_message_id=msg.message_key,
            text=msg.text,
            attachments=list(msg.attachments),
            location=location if location and _better(location, conversation.location) else None,
            classification=renewed if renewed and renewed != conversation.classification else None,
        )
    events.append(first)
    report = apply_report(conversation, first)
    assert report is not None
    linked = _link(report, state, now, policy) if report.incident_id is None else []
    events.extend(linked)
    incident = state.incident(report.incident_id) if report.incident_id else None
    if linked:
        incident = None if isinstance(linked[0], IncidentOpened) else state.incident(linked[0].originator_id)
        for event in linked:
            incident = apply_incident(incident, event)
        report = msgspec.structs.replace(report, incident_id=linked[0].originator_id)
    return Reception(report=report, events=events, incident=incident)


def _better(new: Location, old: Location | None) -> bool:
    """A GPS point beats an address, which beats a district guessed from text."""
    rank = {"gps": 3, "operator": 3, "address": 2, "text": 1, "unknown": 0}
    return old is None or rank[new.source] > rank[old.source]


def _classification(result: object) -> Classification:
    return msgspec.convert(msgspec.to_builtins(result), Classification)


def reply_to(report: Report) -> ContactRef | None:
    """Where the report's sender is answered, still sealed (None for a report with no reply address)."""
    return ContactRef(report.channel, report.reply_to_sealed) if report.reply_to_sealed else None


def _link(report: Report, state: IntakeState, now: datetime, policy: ReceptionPolicy) -> list[Event]:
    kind, location = report.classification.disaster_type, report.location
    if kind is None or location is None or report.cancelled:
        return []
    reporter, system = report.sender, Actor("system", "intake")
    candidates = state.open_incidents_near(kind, location, policy.linking.max_distance_km)
    choice = choose_incident(kind, location, candidates, now, policy.linking)
    if choice is not None:
        incident = choice.incident
        return [
            ReportLinked(
                originator_id=incident.id,
                originator_version=incident.version + 1,
                incident_id=incident.id,
                correlation_id=incident.id,
                causation_id=report.id,
                report_id=report.id,
                reporter=reporter,
                by=system,
                reason=choice.reason,
                distance_km=choice.distance_km,
                minutes_since_opened=choice.minutes_since_opened,
                reply_to=reply_to(report),
            )
        ]
    incident_id = uuid5(NAMESPACE_URL, f"jikimi:incident:{report.id}")
    opened = IncidentOpened(
        originator_id=incident_id,
        originator_version=1,
        incident_id=incident_id,
        correlation_id=incident_id,
        causation_id=report.id,
        occurred_at=now,
        disaster_type=kind,
        severity=report.classification.severity,
        title=_title(kind, location),
        location=location,
        opened_by=system,
        first_report_id=report.id,
        reason=f"no open {kind} incident near the report; matched: {', '.join(report.classification.matched_terms)}",
    )
    linked = ReportLinked(
        originator_id=incident_id,
        originator_version=2,
        incident_id=incident_id,
        correlation_id=incident_id,
        causation_id=report.id,
        report_id=report.id,
        reporter=reporter,
        by=system,
        reason="first report of the incident",
        distance_km=0.0,
        minutes_since_opened=0.0,
        reply_to=reply_to(report),
    )
    return [opened, linked]
