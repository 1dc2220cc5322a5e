"""CAP 1.2 alerts as the contract carries them: a parsed alert, whole, inside an event.

Every part is a frozen msgspec Struct of JSON-friendly values. Names follow the CAP elements in
snake_case (``msgType`` becomes ``msg_type``); repeatable elements become lists with plural
names; optional elements are ``None`` or an empty list when absent. New fields get defaults.
"""

from datetime import datetime

import msgspec

__all__ = ["CapAlert", "CapArea", "CapCircle", "CapInfo", "CapReference", "CapResource", "CapValue"]


class CapReference(msgspec.Struct, frozen=True):
    """One earlier alert named in ``references``: the triple that identifies it worldwide."""

    sender: str
    identifier: str
    sent: datetime


class CapValue(msgspec.Struct, frozen=True):
    """A ``valueName``/``value`` pair, as in ``eventCode``, ``parameter`` and ``geocode``."""

    name: str
    value: str


class CapCircle(msgspec.Struct, frozen=True):
    """A circle around a WGS 84 point; the radius is in kilometres (0 means the point itself)."""

    lat: float
    lon: float
    radius_km: float


class CapArea(msgspec.Struct, frozen=True):
    """Where an ``info`` applies; its shapes and geocodes together mean their union."""

    area_desc: str
    polygons: list[list[tuple[float, float]]] = msgspec.field(default_factory=list)
    circles: list[CapCircle] = msgspec.field(default_factory=list)
    geocodes: list[CapValue] = msgspec.field(default_factory=list)
    altitude: float | None = None
    ceiling: float | None = None


class CapResource(msgspec.Struct, frozen=True):
    """A file that goes with an ``info`` (a map, a picture), by reference; embedded content is not kept."""

    resource_desc: str
    mime_type: str
    size: int | None = None
    uri: str | None = None
    digest: str | None = None


class CapInfo(msgspec.Struct, frozen=True):
    """One ``info`` block: the event, how urgent, severe and certain it is, what to do, and where."""

    categories: list[str]
    event: str
    urgency: str
    severity: str
    certainty: str
    language: str = "en-US"
    response_types: list[str] = msgspec.field(default_factory=list)
    audience: str | None = None
    event_codes: list[CapValue] = msgspec.field(default_factory=list)
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: list[CapValue] = msgspec.field(default_factory=list)
    resources: list[CapResource] = msgspec.field(default_factory=list)
    areas: list[CapArea] = msgspec.field(default_factory=list)


class CapAlert(msgspec.Struct, frozen=True):
    """A CAP alert message; ``(sender, identifier, sent)`` identifies it, as other alerts' references do."""

    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    source: str | None = None
    restriction: str | None = None
    addresses: list[str] = msgspec.field(default_factory=list)
    codes: list[str] = msgspec.field(default_factory=list)
    note: str | None = None
    references: list[CapReference] = msgspec.field(default_factory=list)
    incidents: list[str] = msgspec.field(default_factory=list)
    infos: list[CapInfo] = msgspec.field(default_factory=list)
    # CAP 1.1 alerts are accepted and held to the 1.2 rules; this records which namespace the sender used.
    cap_version: str = "1.2"
