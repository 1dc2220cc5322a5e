"""An incident's room over a WebSocket: the same updates as its SSE stream, and posting on the
same socket (for chat clients that keep one connection).

Frames from the server: ``{"type": "community", …}``, ``{"type": "message", …}``, ``{"type":
"ping"}``, ``{"type": "posted", "number": n}``, ``{"type": "error", "message": …}`` and, last,
``{"type": "access_ended", "reason": …}``. Frames from the client: ``{"post": {text, lat, lon,
photo_ref}}``. The token comes in the ``Authorization`` header or as the first frame
(``shared.sockets``); ``after`` resumes after a message number.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import HTTPException

from services.community.api.communities import CommunityOut
from services.community.api.rooms import MessageIn, MessageOut, post_to_room
from services.community.application import CommunityService
from services.community.room_stream import AccessEnded, Ping, RoomWatch
from services.community.view import Community
from shared.auth import Role
from shared.events.community import MessagePosted
from shared.sockets import converse, open_socket

__all__ = ["room_socket"]


class _Frame(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    post: MessageIn | None = None


def _encode(kind: str, body: msgspec.Struct | dict[str, Any]) -> str:
    fields = msgspec.structs.asdict(body) if isinstance(body, msgspec.Struct) else body
    return msgspec.json.encode({"type": kind, **fields}).decode()


@websocket("/communities/{incident_id:uuid}/room/ws")
async def room_socket(socket: WebSocket[Any, Any, Any], incident_id: UUID, community: CommunityService) -> None:
    """The room live, both ways, for its operators, members and engaged departments."""
    opened = await open_socket(socket, Role.OPERATOR, Role.EXPERT, Role.DEPARTMENT)
    if opened is None:
        return
    claims, after = opened
    watch: RoomWatch = socket.app.state.rooms
    reader = f"{claims.role}:{claims.sub}"

    async def send() -> None:
        async for update in watch.follow(incident_id, claims.role.value, claims.sub, after=after):
            if isinstance(update, MessagePosted):
                await socket.send_text(_encode("message", MessageOut.of(update, reader=reader)))
            elif isinstance(update, Community):
                await socket.send_text(_encode("community", CommunityOut.of(update)))
            elif isinstance(update, Ping):
                await socket.send_text(_encode("ping", {}))
            elif isinstance(update, AccessEnded):
                await socket.send_text(_encode("access_ended", {"reason": update.reason}))
                return

    async def receive() -> None:
        while True:
            try:
                frame = msgspec.json.decode(await socket.receive_text(), type=_Frame)
                if frame.post is not None:
                    posted = await post_to_room(community, incident_id, frame.post, reader)
                    await socket.send_text(_encode("posted", {"number": posted.number}))
            except (msgspec.ValidationError, msgspec.DecodeError, HTTPException) as e:
                await socket.send_text(_encode("error", {"message": str(e)}))

    await converse(socket, send, receive)
