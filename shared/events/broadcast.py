"""Events of the broadcast service: every delivery to a person, step by step.

A delivery's stream is the delivery. It is requested once (its id follows from what caused
it), then each attempt is recorded, and its end: delivered, or failed for good. The address is
sealed; the recipient is a pseudonym or a member id, never a phone number.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from shared.events.base import Event
from shared.events.common import ContactRef

__all__ = ["DeliveryAttempted", "DeliveryDelivered", "DeliveryFailed", "DeliveryRequested"]


class DeliveryRequested(Event, frozen=True, tag="broadcast.delivery_requested"):
    """Something must reach ``recipient`` on ``channel`` (``kind`` says what: a reporter's notice …)."""

    recipient: str
    channel: str
    kind: str
    text: str
    address_sealed: str = ""
    language: str = "ko"
    alternates: list[ContactRef] = msgspec.field(default_factory=list)
    """Other channels to fall back to, in order, when ``channel`` fails for good."""
    link_until: datetime | None = None
    """The message carries a link (an invitation's, a room's) minted when sent, valid until then;
    the text holds ``{link}`` where it goes. No link is ever stored in an event."""


class DeliveryAttempted(Event, frozen=True, tag="broadcast.delivery_attempted"):
    attempt: int
    channel: str


class DeliveryDelivered(Event, frozen=True, tag="broadcast.delivery_delivered"):
    """The channel accepted the message (``provider_id`` is its own id for it, if it gave one).
    ``kind`` and ``recipient`` repeat the request's, so the service that asked can tell."""

    attempt: int
    channel: str
    provider_id: str = ""
    kind: str = ""
    recipient: str = ""


class DeliveryFailed(Event, frozen=True, tag="broadcast.delivery_failed"):
    """An attempt failed; ``retry_at`` is when the next one is due, or None when it is final."""

    attempt: int
    channel: str
    error: str
    retry_at: datetime | None = None
    next_channel: str = ""
    """Set when the delivery goes on on the next of the request's alternates (from ``retry_at``)."""
    kind: str = ""
    recipient: str = ""

    @property
    def final(self) -> bool:
        """No attempt follows: the message did not reach the recipient on any channel."""
        return self.retry_at is None and not self.next_channel
