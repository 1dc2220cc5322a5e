"""An expert's room by their invitation link: what the expert's page uses after accepting.

The invitation link is the credential for one expert in one incident. Once the expert has
accepted, ``POST /invitations/{token}/seat`` hands the page a fresh link token of the same kind,
valid for :data:`SEAT_LINK_TTL_S` (the invitation's own lapses with its answer window), and
``/invitations/{token}/room/…`` is the room as ``RoomController`` serves it to a bearer of the
expert role: its messages, posting, and its live stream. Nothing wider than that one room is
granted, and access ends as the bearer's would: when the expert is released.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import Parameter
from litestar.response import ServerSentEvent
from litestar.status_codes import HTTP_201_CREATED

from services.community.api.communities import CommunityOut
from services.community.api.rooms import MessageIn, MessageOut, admitted, post_to_room, room_messages, sse_of
from services.community.application import CommunityService
from services.community.invitations import AnswerError
from services.community.view import Community
from shared.auth import Role
from shared.events import utc_now
from shared.links import InvalidTokenError, invitation_token, read_invitation_token

__all__ = ["SEAT_LINK_TTL_S", "SeatLinkController", "SeatLinkOut"]

SEAT_LINK_TTL_S = 12 * 3600
"""How long a seated expert's page keeps the room open without the link being opened again."""

After = Annotated[int, Parameter(ge=0, description="only messages after this number")]
LastEventId = Annotated[int | None, Parameter(header="Last-Event-ID", ge=0, required=False)]


class SeatLinkOut(msgspec.Struct, frozen=True):
    incident_id: UUID
    expert_id: str
    token: str
    expires_at: datetime


def _read(request: Request[Any, Any, Any], token: str) -> tuple[UUID, str]:
    try:
        return read_invitation_token(request.app.state.secret_key, token)
    except InvalidTokenError as e:
        raise NotAuthorizedException(f"the invitation link is not valid: {e}") from e


async def _admitted(service: CommunityService, incident_id: UUID, expert_id: str) -> Community:
    return await admitted(
        service, incident_id, Role.EXPERT, expert_id, refused="only invited or seated experts are in the room"
    )


class SeatLinkController(Controller):
    path = "/invitations/{token:str}"
    tags = ["invitations", "rooms"]

    @post("/seat", operation_id="openSeatLink", status_code=HTTP_201_CREATED)
    async def seat(self, request: Request[Any, Any, Any], token: str, community: CommunityService) -> SeatLinkOut:
        """A fresh link to the room for an expert who accepted (409 before they have)."""
        incident_id, expert_id = _read(request, token)
        found = await _admitted(community, incident_id, expert_id)
        if found.invitations[expert_id].status != "accepted":
            raise AnswerError("the room link is for an expert who accepted the invitation")
        now = utc_now()
        until = now + timedelta(seconds=SEAT_LINK_TTL_S)
        fresh = invitation_token(request.app.state.secret_key, incident_id, expert_id, expires_at=until, now=now)
        return SeatLinkOut(incident_id, expert_id, fresh, until)

    @get("/room/messages", operation_id="listRoomMessagesByInvitation", summary="The room's messages")
    async def messages(
        self, request: Request[Any, Any, Any], token: str, community: CommunityService, after: After = 0
    ) -> list[MessageOut]:
        incident_id, expert_id = _read(request, token)
        await _admitted(community, incident_id, expert_id)
        return await room_messages(community, incident_id, after, f"expert:{expert_id}")

    @post("/room/messages", operation_id="postRoomMessageByInvitation", status_code=HTTP_201_CREATED)
    async def post(
        self, request: Request[Any, Any, Any], token: str, data: MessageIn, community: CommunityService
    ) -> MessageOut:
        incident_id, expert_id = _read(request, token)
        await _admitted(community, incident_id, expert_id)
        return await post_to_room(community, incident_id, data, f"expert:{expert_id}")

    @get("/room/stream", operation_id="streamRoomByInvitation", summary="The room live (Server-Sent Events)")
    async def stream(
        self,
        request: Request[Any, Any, Any],
        token: str,
        community: CommunityService,
        after: After = 0,
        last_event_id: LastEventId = None,
    ) -> ServerSentEvent:
        incident_id, expert_id = _read(request, token)
        await _admitted(community, incident_id, expert_id)
        start = last_event_id if last_event_id is not None else after
        return sse_of(request.app.state.rooms, incident_id, Role.EXPERT, expert_id, show=CommunityOut.of, after=start)
