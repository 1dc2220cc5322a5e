"""Telegram Bot API webhook updates (text, caption, photo sizes, location)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from services.intake.channels.kakao import CANCEL_WORDS
from services.intake.reception import InboundMessage
from shared.events.common import Attachment, GeoPoint

__all__ = ["TelegramUpdate", "to_inbound"]


class TelegramUser(msgspec.Struct, frozen=True):
    id: int
    is_bot: bool = False
    language_code: str = ""


class TelegramChat(msgspec.Struct, frozen=True):
    id: int
    type: str = "private"


class TelegramPhotoSize(msgspec.Struct, frozen=True):
    file_id: str
    file_unique_id: str = ""
    width: int = 0
    height: int = 0
    file_size: int | None = None


class TelegramLocation(msgspec.Struct, frozen=True):
    latitude: float
    longitude: float
    horizontal_accuracy: float | None = None


class TelegramMessage(msgspec.Struct, frozen=True):
    message_id: int
    chat: TelegramChat
    date: int
    from_: TelegramUser | None = msgspec.field(default=None, name="from")
    text: str | None = None
    caption: str | None = None
    photo: list[TelegramPhotoSize] = msgspec.field(default_factory=list)
    location: TelegramLocation | None = None


class TelegramUpdate(msgspec.Struct, frozen=True):
    update_id: int
    message: TelegramMessage | None = None
    edited_message: TelegramMessage | None = None


def to_inbound(update: TelegramUpdate) -> InboundMessage | None:
    """The citizen's message, or None for updates that are not a message (callbacks, edits)."""
    message = update.message
    if message is None:
        return None
    text = (message.text or message.caption or "").strip()
    attachments: tuple[Attachment, ...] = ()
    if message.photo:
        largest = max(message.photo, key=lambda p: p.width * p.height)
        attachments = (Attachment("photo", largest.file_id, largest.width, largest.height, largest.file_size),)
    point = None
    if message.location is not None:
        loc = message.location
        point = GeoPoint(loc.latitude, loc.longitude, loc.horizontal_accuracy)
    sender = message.from_.id if message.from_ else message.chat.id
    cancel = text.lower() in CANCEL_WORDS or text == "/cancel"
    return InboundMessage(
        channel="telegram",
        sender_id=str(sender),
        message_key=str(update.update_id),
        received_at=datetime.fromtimestamp(message.date, UTC),
        text="" if cancel else text,
        point=point,
        attachments=attachments,
        language=message.from_.language_code if message.from_ else "",
        reply_to=str(message.chat.id),
        cancel=cancel,
    )
