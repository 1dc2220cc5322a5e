"""Which open incident a report belongs to: a pure decision, explained in the event it makes.

Twenty reports of one apartment fire must make one incident: a report joins the nearest open
incident of the same disaster type opened within the time window and within the distance
(by GPS points where both have them, else by district). Every input of the decision is in the
ReportLinked event it produces, so replaying the log reproduces it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from services.intake.domain import Incident
from shared.events.common import Location
from shared.geo import distance_km

__all__ = ["LinkChoice", "LinkingPolicy", "choose_incident"]


class LinkingPolicy(msgspec.Struct, frozen=True):
    """How near, and how recent, an open incident must be for a report to join it."""

    max_distance_km: float = 1.0
    window_minutes: float = 180.0


class LinkChoice(msgspec.Struct, frozen=True):
    incident: Incident
    distance_km: float | None
    minutes_since_opened: float
    reason: str


def _distance(a: Location, b: Location, max_km: float) -> tuple[float | None, str] | None:
    """How far apart two places are, and how we know; None if we cannot tell or they are
    plainly farther than ``max_km`` (a degree of latitude is about 111 km)."""
    if a.point and b.point:
        if abs(a.point.lat - b.point.lat) * 111.0 > max_km:
            return None
        return distance_km(a.point.lat, a.point.lon, b.point.lat, b.point.lon), "distance between reported points"
    if a.district_code and a.district_code == b.district_code:
        return None, f"same district ({a.district_code})"
    return None


def choose_incident(
    disaster_type: str, location: Location, open_incidents: Iterable[Incident], now: datetime, policy: LinkingPolicy
) -> LinkChoice | None:
    """The open incident a report of ``disaster_type`` at ``location`` should join, if any."""
    best: tuple[float, float, LinkChoice] | None = None
    for incident in open_incidents:
        if incident.status != "open" or incident.disaster_type != disaster_type or incident.location is None:
            continue
        minutes = (now - incident.opened_at).total_seconds() / 60
        if minutes > policy.window_minutes or minutes < 0:
            continue
        measured = _distance(location, incident.location, policy.max_distance_km)
        if measured is None:
            continue
        distance, how = measured
        if distance is not None and distance > policy.max_distance_km:
            continue
        reason = (
            f"same type ({disaster_type}), {how}"
            + (f" {distance:.2f} km ≤ {policy.max_distance_km} km" if distance is not None else "")
            + f", opened {minutes:.0f} min ago ≤ {policy.window_minutes:.0f} min"
        )
        choice = LinkChoice(incident, distance, minutes, reason)
        rank = (distance if distance is not None else policy.max_distance_km, minutes)
        if best is None or rank < best[:2]:
            best = (*rank, choice)
    return best[2] if best else None
