"""Members' live streams over HTTP: Server-Sent Events and WebSocket, acknowledgements, and who
has (not) seen what was sent for an incident.

- ``GET /live/stream`` (bearer token): SSE, ``event: item``, ``id`` = the item's position; a
  reconnecting client's ``Last-Event-ID`` (or ``?after=``) resumes right after it.
- ``WS /live/ws``: the same items as JSON frames ``{"type": "item", …}``. The token comes in the
  ``Authorization`` header or, from a browser, as the first frame ``{"token": "…", "after": n}``;
  ``{"ack": ["<delivery id>", …]}`` acknowledges, answered by ``{"type": "acked", "count": n}``.
- ``POST /live/ack``: acknowledge items as seen.
- ``GET /incidents/{id}/deliveries?kind=&seen=``: operators ask "who has not seen it?".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, WebSocket, get, post, websocket
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_200_OK

from services.broadcast.deliveries import DeliveryView
from services.broadcast.live import Lagged, LiveHub, LiveItem, member_of
from shared.auth import Claims, Role
from shared.sockets import converse, open_socket
from shared.webauth import requires

__all__ = ["DeliveriesController", "LiveController", "live_socket"]

_MEMBERS = (Role.OPERATOR, Role.EXPERT, Role.DEPARTMENT)
After = Annotated[int, Parameter(ge=0, description="only items after this position")]
LastEventId = Annotated[int | None, Parameter(header="Last-Event-ID", ge=0, required=False)]


class AckIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=1000)]


class AckOut(msgspec.Struct, frozen=True):
    acknowledged: int


class DeliveryOut(msgspec.Struct, frozen=True):
    delivery_id: UUID
    member: str
    kind: str
    channel: str
    status: str
    seen: bool
    acknowledged_by: str


async def _sse(items: AsyncIterator[LiveItem | Lagged]) -> AsyncIterator[ServerSentEventMessage]:
    async for item in items:
        if isinstance(item, Lagged):
            yield ServerSentEventMessage(data='{"reason": "too far behind: reconnect"}', event="lagged")
            return
        yield ServerSentEventMessage(msgspec.json.encode(item).decode(), event="item", id=item.id)


class LiveController(Controller):
    path = "/live"
    tags = ["live"]
    guards = [requires(*_MEMBERS)]

    @get("/stream", operation_id="liveStream", summary="Everything addressed to me, live (SSE)")
    async def stream(
        self, live: LiveHub, claims: Claims, last_event_id: LastEventId = None, after: After = 0
    ) -> ServerSentEvent:
        start = max(after, last_event_id or 0)
        items = live.follow(live.members_of(claims.role.value, claims.sub), after=start)
        return ServerSentEvent(_sse(items), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @post("/ack", operation_id="liveAck", status_code=HTTP_200_OK, summary="I have seen these items")
    async def ack(self, data: AckIn, live: LiveHub, claims: Claims) -> AckOut:
        members = live.members_of(claims.role.value, claims.sub)
        count = await live.acknowledge(data.ids, members=members, by=f"{claims.role}:{claims.sub}")
        return AckOut(count)


class DeliveriesController(Controller):
    path = "/incidents/{incident_id:uuid}/deliveries"
    tags = ["live"]
    guards = [requires(Role.OPERATOR)]

    @get("/", operation_id="incidentDeliveries", summary="What was sent for an incident, and who saw it")
    async def deliveries(
        self,
        incident_id: UUID,
        deliveries: DeliveryView,
        kind: str | None = None,
        seen: bool | None = None,
    ) -> list[DeliveryOut]:
        await asyncio.to_thread(deliveries.catch_up)
        return [
            DeliveryOut(
                d.id,
                member_of(d.recipient, d.kind),
                d.kind,
                d.channel,
                d.status,
                bool(d.acknowledged_by),
                d.acknowledged_by,
            )
            for d in deliveries.of_incident(incident_id)
            if (kind is None or d.kind == kind) and (seen is None or bool(d.acknowledged_by) == seen)
        ]


class _Frame(msgspec.Struct, frozen=True):
    ack: list[UUID] = msgspec.field(default_factory=list)


@websocket("/live/ws")
async def live_socket(socket: WebSocket[Any, Any, Any], live: LiveHub) -> None:
    """The live stream over a WebSocket, with acknowledgements coming back on it."""
    opened = await open_socket(socket, *_MEMBERS)
    if opened is None:
        return
    claims, after = opened
    members = live.members_of(claims.role.value, claims.sub)

    async def send() -> None:
        async for item in live.follow(members, after=after):
            if isinstance(item, Lagged):
                await socket.send_json({"type": "lagged", "reason": "too far behind: reconnect"})
                return
            await socket.send_text(msgspec.json.encode({"type": "item", **msgspec.structs.asdict(item)}).decode())

    async def receive() -> None:
        while True:
            frame = msgspec.json.decode(await socket.receive_text(), type=_Frame)
            if frame.ack:
                count = await live.acknowledge(frame.ack, members=members, by=f"{claims.role}:{claims.sub}")
                await socket.send_json({"type": "acked", "count": count})

    await converse(socket, send, receive)
