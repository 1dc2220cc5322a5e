"""The plain JSON API (the citizen web page, other systems) and the SMS gateway webhook."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from services.intake.channels.kakao import CANCEL_WORDS
from services.intake.reception import InboundMessage
from shared.events.common import Attachment, GeoPoint

__all__ = ["ReportRequest", "SmsRequest", "sms_to_inbound", "web_to_inbound"]

Text = Annotated[str, msgspec.Meta(max_length=4000)]


class PointIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    accuracy_m: Annotated[float, msgspec.Meta(ge=0)] | None = None


class AttachmentIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    ref: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    kind: Literal["photo", "video", "file"] = "photo"


class ReportRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A report from the web page or another system."""

    text: Text = ""
    location: PointIn | None = None
    address: Annotated[str, msgspec.Meta(max_length=300)] = ""
    attachments: Annotated[list[AttachmentIn], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)
    reporter: Annotated[str, msgspec.Meta(max_length=200)] = ""  # an opaque id the page keeps per device
    language: Annotated[str, msgspec.Meta(max_length=10)] = "ko"


class SmsRequest(msgspec.Struct, frozen=True):
    """What the SMS gateway POSTs for each message received."""

    message_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    sender: Annotated[str, msgspec.Meta(min_length=3, max_length=40)] = msgspec.field(name="from")
    text: Text
    received_at: datetime | None = None


def web_to_inbound(body: ReportRequest, *, message_key: str, received_at: datetime) -> InboundMessage:
    point = GeoPoint(body.location.lat, body.location.lon, body.location.accuracy_m) if body.location else None
    return InboundMessage(
        channel="web",
        sender_id=body.reporter or message_key,
        message_key=message_key,
        received_at=received_at,
        text=body.text.strip(),
        point=point,
        address=body.address.strip(),
        attachments=tuple(Attachment(a.kind, a.ref) for a in body.attachments),
        language=body.language,
    )


def sms_to_inbound(body: SmsRequest, received_at: datetime) -> InboundMessage:
    text = body.text.strip()
    cancel = text.lower() in CANCEL_WORDS
    return InboundMessage(
        channel="sms",
        sender_id=body.sender,
        message_key=body.message_id,
        received_at=body.received_at or received_at,
        text="" if cancel else text,
        reply_to=body.sender,
        cancel=cancel,
    )
