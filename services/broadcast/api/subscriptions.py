"""Citizens subscribe to a district's alerts, no login: ``POST /public/subscriptions`` and
``DELETE /public/subscriptions/{token}`` (the unsubscribe link's token).

Nothing here logs or answers an address: it is sealed at once, and the subscriber is known by
pseudonym. Abuse (one client subscribing many addresses) is not rate-limited here; see
docs/architecture.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal
from uuid import UUID

import msgspec
import structlog
from eventsourcing.persistence import IntegrityError
from litestar import Controller, Response, delete, post
from litestar.exceptions import NotFoundException, PermissionDeniedException, ValidationException
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from services.broadcast.subscriptions import Subscribed, SubscriptionError, Subscriptions, subscribe, unsubscribe
from shared.auth import InvalidTokenError, Role, issue_token, verify_token
from shared.eventlog.application import ServiceApplication
from shared.events import Event
from shared.privacy import Privacy

__all__ = ["SubscriptionController", "SubscriptionDesk"]

log = structlog.get_logger()

UNSUBSCRIBE = "unsubscribe"
UNSUBSCRIBE_TTL_S = 10 * 365 * 24 * 3600  # a link in an old message must still work


class SubscriptionIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    district_code: Annotated[str, msgspec.Meta(pattern=r"^\d{5}$", description="one of Seoul's 25 district codes")]
    channel: Literal["sms", "kakao", "telegram", "email"]
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
    language: Literal["ko", "en"] = "ko"


class SubscriptionOut(msgspec.Struct, frozen=True):
    subscription_id: UUID
    district_code: str
    channel: str
    language: str
    unsubscribe_token: str
    unsubscribe_path: str


@dataclass
class SubscriptionDesk:
    """The subscription use cases against broadcast's log: decide on the view, record, answer."""

    app: ServiceApplication
    view: Subscriptions
    privacy: Privacy
    key: bytes = field(repr=False)

    async def subscribe(self, data: SubscriptionIn) -> tuple[SubscriptionOut, bool]:
        """The subscription (recorded if new) and whether it is new."""
        for _ in range(3):  # a racing identical request wins the stream's version: read it again
            await asyncio.to_thread(self.view.catch_up)
            decided: Subscribed = subscribe(self.view, self.privacy, **msgspec.structs.asdict(data))
            try:
                await self._record(decided.events)
            except IntegrityError:
                continue
            s = decided.subscription
            if decided.events:
                log.info("subscription_added", subscription_id=str(s.id), district_code=s.district_code)
            token = issue_token(self.key, str(s.id), Role.CITIZEN, ttl_s=UNSUBSCRIBE_TTL_S, audience=UNSUBSCRIBE)
            out = SubscriptionOut(s.id, s.district_code, s.channel, s.language, token, f"/public/subscriptions/{token}")
            return out, decided.created
        raise RuntimeError("the subscription kept conflicting with others")

    async def unsubscribe(self, token: str) -> None:
        """Records the removal (nothing if it is gone already); PermissionDenied for a bad token."""
        try:
            claims = verify_token(self.key, token, audience=UNSUBSCRIBE)
            stream = UUID(claims.sub)
        except (InvalidTokenError, ValueError):
            raise PermissionDeniedException("this is not a valid unsubscribe link") from None
        for _ in range(3):
            await asyncio.to_thread(self.view.catch_up)
            if stream not in self.view.all:
                raise NotFoundException("no such subscription")
            try:
                await self._record(unsubscribe(self.view, stream))
            except IntegrityError:
                continue
            log.info("subscription_removed", subscription_id=str(stream))
            return

    async def _record(self, events: Sequence[Event]) -> None:
        if events:
            await asyncio.to_thread(self.app.record, *events)
            for event in events:
                self.view.apply(event)


class SubscriptionController(Controller):
    path = "/public/subscriptions"
    tags = ["public"]

    @post(
        "/",
        operation_id="subscribe",
        status_code=HTTP_201_CREATED,
        summary="Tell me (on my channel) when an incident opens in this district",
    )
    async def subscribe(self, data: SubscriptionIn, subscription_desk: SubscriptionDesk) -> Response[SubscriptionOut]:
        try:
            out, created = await subscription_desk.subscribe(data)
        except SubscriptionError as e:
            raise ValidationException(str(e), extra=[{"key": e.field, "source": "body", "message": e.reason}]) from None
        return Response(out, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @delete("/{token:str}", operation_id="unsubscribe", status_code=HTTP_204_NO_CONTENT, summary="Stop telling me")
    async def unsubscribe(self, token: FromPath[str], subscription_desk: SubscriptionDesk) -> None:
        await subscription_desk.unsubscribe(token)
