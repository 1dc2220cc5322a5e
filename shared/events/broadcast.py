"""Events of the broadcast service: every delivery to a person, step by step.

A delivery's stream is the delivery. It is requested once (its id follows from what caused
it), then each attempt is recorded, and its end: delivered, or failed for good. The address is
sealed; the recipient is a pseudonym or a member id, never a phone number.
"""

from __future__ import annotations

from datetime import datetime

from shared.events.base import Event

__all__ = ["DeliveryAttempted", "DeliveryDelivered", "DeliveryFailed", "DeliveryRequested"]


class DeliveryRequested(Event, frozen=True, tag="broadcast.delivery_requested"):
    """Something must reach ``recipient`` on ``channel`` (``kind`` says what: a reporter's notice …)."""

    recipient: str
    channel: str
    kind: str
    text: str
    address_sealed: str = ""
    language: str = "ko"


class DeliveryAttempted(Event, frozen=True, tag="broadcast.delivery_attempted"):
    attempt: int
    channel: str


class DeliveryDelivered(Event, frozen=True, tag="broadcast.delivery_delivered"):
    """The channel accepted the message (``provider_id`` is its own id for it, if it gave one)."""

    attempt: int
    channel: str
    provider_id: str = ""


class DeliveryFailed(Event, frozen=True, tag="broadcast.delivery_failed"):
    """An attempt failed; ``retry_at`` is when the next one is due, or None when it is final."""

    attempt: int
    channel: str
    error: str
    retry_at: datetime | None = None
