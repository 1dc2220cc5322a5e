"""Incident rooms over HTTP: members' room (bearer tokens) and reporters' room (their link),
each with its messages and a live stream of Server-Sent Events.

A stream sends ``event: community`` (the community as the reader may see it), then
``event: message`` (``id`` = the message's number, so a reconnecting client's Last-Event-ID
resumes after it), a ``: ping`` comment when quiet, and ``event: access_ended`` with the reason
before it closes, if the reader is let go (an expert released, a reporter who left).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, ValidationException
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_201_CREATED

from services.community.api.communities import CommunityOut
from services.community.application import CommunityService
from services.community.invitations import CommunityNotFoundError
from services.community.room_stream import AccessEnded, Ping, RoomUpdate, RoomWatch
from services.community.rooms import history, post_message
from services.community.view import Community
from shared.auth import Claims, Role
from shared.events.community import MessagePosted
from shared.links import InvalidTokenError, read_room_token
from shared.webauth import requires

__all__ = [
    "MessageIn",
    "MessageOut",
    "RoomController",
    "RoomLinkController",
    "admitted",
    "post_to_room",
    "room_messages",
    "sse_of",
]

After = Annotated[int, Parameter(ge=0, description="only messages after this number")]
LastEventId = Annotated[int | None, Parameter(header="Last-Event-ID", ge=0, required=False)]


class MessageIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    lat: Annotated[float, msgspec.Meta(ge=33, le=39)] | None = None
    lon: Annotated[float, msgspec.Meta(ge=124, le=132)] | None = None
    photo_ref: Annotated[str, msgspec.Meta(max_length=500)] = ""


class MessageOut(msgspec.Struct, frozen=True):
    number: int
    author: str
    at: datetime
    text: str
    lat: float | None
    lon: float | None
    photo_ref: str

    @classmethod
    def of(cls, e: MessagePosted, *, reader: str = "") -> MessageOut:
        """The message as ``reader`` sees it: a citizen sees other citizens as just "citizen"."""
        author = e.author
        if reader.startswith("citizen:") and author.startswith("citizen:") and author != reader:
            author = "citizen"
        return cls(e.originator_version, author, e.recorded_at, e.text, e.lat, e.lon, e.photo_ref)


class RoomSummaryOut(msgspec.Struct, frozen=True):
    """What a reporter sees of the community: no expert's identity, no other reporter."""

    incident_id: UUID
    disaster_type: str
    severity: str
    seats: int
    seats_filled: int
    closed: bool

    @classmethod
    def of(cls, c: Community) -> RoomSummaryOut:
        filled = sum(min(c.filled(s.field), s.count) for s in c.seats)
        return cls(c.incident_id, c.disaster_type, c.severity, sum(s.count for s in c.seats), filled, c.closed)


async def admitted(
    service: CommunityService, incident_id: UUID, role: str, subject: str, *, refused: str = ""
) -> Community:
    """The incident's community, if its room admits ``role:subject``; else 404 or 403 (with
    ``refused`` as the reason, when the caller has a better one to give)."""
    found = await service.get(incident_id)
    if found is None:
        raise CommunityNotFoundError(f"incident {incident_id} has no community")
    if not found.admits(role, subject):
        if refused:
            raise PermissionDeniedException(refused)
        if role == Role.CITIZEN:
            raise PermissionDeniedException("your report is no longer part of this incident")
        raise PermissionDeniedException("only this incident's operators, members and departments are in its room")
    return found


async def room_messages(service: CommunityService, incident_id: UUID, after: int, reader: str) -> list[MessageOut]:
    """The room's messages after number ``after``, as ``reader`` sees them."""
    events = await asyncio.to_thread(history, service.app, incident_id, after=after)
    return [MessageOut.of(e, reader=reader) for e in events if isinstance(e, MessagePosted)]


async def post_to_room(service: CommunityService, incident_id: UUID, data: MessageIn, author: str) -> MessageOut:
    """Post ``data`` as ``author`` (already admitted); the room's members then are its audience."""
    if not (data.text.strip() or data.photo_ref or (data.lat is not None and data.lon is not None)):
        raise ValidationException("text: a message needs text, a place (lat and lon) or a photo")
    community = await service.get(incident_id)
    posted = await asyncio.to_thread(
        post_message,
        service.app,
        incident_id,
        author=author,
        audience=community.audience if community is not None else [],
        text=data.text,
        lat=data.lat,
        lon=data.lon,
        photo_ref=data.photo_ref,
    )
    return MessageOut.of(posted, reader=author)


async def _sse(
    updates: AsyncIterator[RoomUpdate], show: Callable[[Community], msgspec.Struct], reader: str
) -> AsyncIterator[ServerSentEventMessage]:
    async for update in updates:
        if isinstance(update, MessagePosted):
            data = msgspec.json.encode(MessageOut.of(update, reader=reader))
            yield ServerSentEventMessage(data.decode(), event="message", id=update.originator_version)
        elif isinstance(update, Community):
            yield ServerSentEventMessage(msgspec.json.encode(show(update)).decode(), event="community")
        elif isinstance(update, AccessEnded):
            yield ServerSentEventMessage(msgspec.json.encode({"reason": update.reason}).decode(), event="access_ended")
        elif isinstance(update, Ping):
            yield ServerSentEventMessage(data=None, comment="ping")


def sse_of(
    watch: RoomWatch,
    incident_id: UUID,
    role: str,
    subject: str,
    *,
    show: Callable[[Community], msgspec.Struct],
    after: int,
) -> ServerSentEvent:
    """The room live as ``role:subject`` sees it, the community shown by ``show``."""
    updates = watch.follow(incident_id, role, subject, after=after)
    # no-cache, and no buffering by a proxy in front (nginx), or the stream arrives in lumps.
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return ServerSentEvent(_sse(updates, show, f"{role}:{subject}"), headers=headers)


class RoomController(Controller):
    path = "/communities/{incident_id:uuid}/room"
    tags = ["rooms"]
    guards = [requires(Role.OPERATOR, Role.EXPERT, Role.DEPARTMENT)]

    @get("/messages", operation_id="listRoomMessages", summary="The room's messages, oldest first")
    async def messages(
        self, incident_id: UUID, community: CommunityService, claims: Claims, after: After = 0
    ) -> list[MessageOut]:
        await admitted(community, incident_id, claims.role.value, claims.sub)
        return await room_messages(community, incident_id, after, f"{claims.role}:{claims.sub}")

    @post("/messages", operation_id="postRoomMessage", status_code=HTTP_201_CREATED)
    async def post(self, incident_id: UUID, data: MessageIn, community: CommunityService, claims: Claims) -> MessageOut:
        await admitted(community, incident_id, claims.role.value, claims.sub)
        return await post_to_room(community, incident_id, data, f"{claims.role}:{claims.sub}")

    @get("/stream", operation_id="streamRoom", summary="The room live (Server-Sent Events)")
    async def stream(
        self,
        request: Request[Any, Any, Any],
        incident_id: UUID,
        community: CommunityService,
        claims: Claims,
        after: After = 0,
        last_event_id: LastEventId = None,
    ) -> ServerSentEvent:
        await admitted(community, incident_id, claims.role.value, claims.sub)
        start = last_event_id if last_event_id is not None else after
        return sse_of(
            request.app.state.rooms, incident_id, claims.role.value, claims.sub, show=CommunityOut.of, after=start
        )


def _read(request: Request[Any, Any, Any], token: str) -> tuple[UUID, str]:
    try:
        return read_room_token(request.app.state.secret_key, token)
    except InvalidTokenError as e:
        raise NotAuthorizedException(f"the room link is not valid: {e}") from e


class RoomLinkController(Controller):
    """What a reporter's phone opens: the link is the credential, for one reporter in one room."""

    path = "/rooms/{token:str}"
    tags = ["rooms"]

    @get("/", operation_id="openRoom", summary="The incident's room as its reporter sees it")
    async def open_room(
        self, request: Request[Any, Any, Any], token: str, community: CommunityService
    ) -> RoomSummaryOut:
        incident_id, reporter = _read(request, token)
        return RoomSummaryOut.of(await admitted(community, incident_id, Role.CITIZEN, reporter))

    @get("/messages", operation_id="listRoomMessagesByLink", summary="The room's messages, oldest first")
    async def messages(
        self, request: Request[Any, Any, Any], token: str, community: CommunityService, after: After = 0
    ) -> list[MessageOut]:
        incident_id, reporter = _read(request, token)
        await admitted(community, incident_id, Role.CITIZEN, reporter)
        return await room_messages(community, incident_id, after, f"citizen:{reporter}")

    @post("/messages", operation_id="postRoomMessageByLink", status_code=HTTP_201_CREATED)
    async def post(
        self, request: Request[Any, Any, Any], token: str, data: MessageIn, community: CommunityService
    ) -> MessageOut:
        incident_id, reporter = _read(request, token)
        await admitted(community, incident_id, Role.CITIZEN, reporter)
        return await post_to_room(community, incident_id, data, f"citizen:{reporter}")

    @get("/stream", operation_id="streamRoomByLink", summary="The room live (Server-Sent Events)")
    async def stream(
        self,
        request: Request[Any, Any, Any],
        token: str,
        community: CommunityService,
        after: After = 0,
        last_event_id: LastEventId = None,
    ) -> ServerSentEvent:
        incident_id, reporter = _read(request, token)
        await admitted(community, incident_id, Role.CITIZEN, reporter)
        start = last_event_id if last_event_id is not None else after
        return sse_of(request.app.state.rooms, incident_id, Role.CITIZEN, reporter, show=RoomSummaryOut.of, after=start)
