"""National alerts into the log: CAP 1.2 alerts and Korean disaster text messages.

Each is its own one-event stream with an id that follows from its identity (CAP: sender and
identifier; disaster messages: the serial number), so a repeat is recognised and stored once.
CAP updates and cancels point at the streams of the alerts they reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from services.intake.alerts import CapAlert, KrDisasterMessage, seoul_districts_in
from services.intake.view import IntakeView
from shared import geo
from shared.events import Event
from shared.events.intake import CapAlertReceived, DisasterMessageReceived

__all__ = ["Recorded", "cap_alert_id", "districts_of_alert", "record_cap_alert", "record_disaster_messages"]


class Recorded(msgspec.Struct, frozen=True):
    """What was recorded (empty when everything was a repeat) and what was already known."""

    events: list[Event]
    duplicates: int = 0


NationalCommand = Callable[[IntakeView, datetime], Recorded]


def cap_alert_id(sender: str, identifier: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"jikimi:cap:{sender}:{identifier}")


def message_id(serial: int) -> UUID:
    return uuid5(NAMESPACE_URL, f"jikimi:kr-disaster-message:{serial}")


def districts_of_alert(alert: CapAlert) -> list[str]:
    """Seoul districts an alert's areas cover: named in areaDesc, or whose centre is inside a
    polygon or circle of the alert."""
    found: set[str] = set()
    for info in alert.infos:
        for area in info.areas:
            if (named := geo.find_district(area.area_desc)) is not None:
                found.add(named.code)
            for district in geo.DISTRICTS:
                inside_polygon = any(geo.ray_cast(district.lat, district.lon, [polygon]) for polygon in area.polygons)
                inside_circle = any(
                    geo.distance_km(district.lat, district.lon, c.lat, c.lon) <= c.radius_km for c in area.circles
                )
                if inside_polygon or inside_circle:
                    found.add(district.code)
    return sorted(found)


def record_cap_alert(alert: CapAlert) -> NationalCommand:
    """A writer command: the alert's event, or nothing if this sender's identifier is known."""

    def command(state: IntakeView, now: datetime) -> Recorded:
        alert_id = cap_alert_id(alert.sender, alert.identifier)
        if alert_id in state.alerts:
            return Recorded([], duplicates=1)
        event = CapAlertReceived(
            originator_id=alert_id,
            originator_version=1,
            occurred_at=alert.sent,
            correlation_id=alert_id,
            identifier=alert.identifier,
            sender=alert.sender,
            sent=alert.sent,
            status=alert.status,
            msg_type=alert.msg_type,
            scope=alert.scope,
            alert=alert,
            references=[cap_alert_id(r.sender, r.identifier) for r in alert.references],
            district_codes=districts_of_alert(alert),
        )
        return Recorded([event])

    return command


def record_disaster_messages(messages: Iterable[KrDisasterMessage]) -> NationalCommand:
    """A writer command: one event per message not seen before (by serial number)."""
    batch = list(messages)

    def command(state: IntakeView, now: datetime) -> Recorded:
        events: list[Event] = []
        seen: set[UUID] = set()
        for message in batch:
            stream = message_id(message.serial)
            if stream in state.messages or stream in seen:
                continue
            seen.add(stream)
            codes = [d.code for name in seoul_districts_in(message.regions) if (d := geo.district_by_name(name))]
            events.append(
                DisasterMessageReceived(
                    originator_id=stream,
                    originator_version=1,
                    occurred_at=message.created_at,
                    correlation_id=stream,
                    serial=message.serial,
                    created_at=message.created_at,
                    text=message.text,
                    level=message.level,
                    disaster_type_ko=message.disaster_type_ko,
                    regions=message.regions,
                    district_codes=sorted(codes),
                )
            )
        return Recorded(events, duplicates=len(batch) - len(events))

    return command
