"""Value types that events of several services carry."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["Actor", "Attachment", "ContactRef", "GeoPoint", "Location"]


class Actor(msgspec.Struct, frozen=True, gc=False):
    """Who did something: an operator, a service acting on its own, or a citizen (pseudonym)."""

    kind: Literal["operator", "system", "citizen", "expert", "department", "admin", "analyst"]
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


class GeoPoint(msgspec.Struct, frozen=True, gc=False):
    lat: float
    lon: float
    accuracy_m: float | None = None


class Location(msgspec.Struct, frozen=True, gc=False):
    """Where something is, as precisely as known: a point, a Seoul district, an address."""

    point: GeoPoint | None = None
    district_code: str | None = None
    address: str = ""
    source: Literal["gps", "address", "text", "operator", "unknown"] = "unknown"


class Attachment(msgspec.Struct, frozen=True, gc=False):
    """A photo or file a citizen sent, by its channel's reference (never the bytes)."""

    kind: Literal["photo", "video", "file"]
    ref: str
    width: int | None = None
    height: int | None = None
    size_bytes: int | None = None


class ContactRef(msgspec.Struct, frozen=True, gc=False):
    """One way to reach someone: a channel, and ``channel:address`` sealed (only broadcast opens it)."""

    channel: str
    address_sealed: str
