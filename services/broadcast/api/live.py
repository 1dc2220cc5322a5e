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
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, WebSocket, asgi, get, post, websocket
from litestar.connection import ASGIConnection
from litestar.exceptions import MethodNotAllowedException, ValidationException
from litestar.status_codes import HTTP_200_OK
from litestar.types import HTTPResponseStartEvent, Receive, Scope, Send

from services.broadcast.deliveries import DeliveryView
from services.broadcast.live import Lagged, LiveHub, LiveItem, member_of
from shared.auth import Claims, Role
from shared.sockets import converse, open_socket
from shared.webauth import requires

__all__ = ["DeliveriesController", "LiveController", "live_socket", "live_stream"]

_MEMBERS = (Role.OPERATOR, Role.EXPERT, Role.DEPARTMENT)


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


class LiveController(Controller):
    path = "/live"
    tags = ["live"]
    guards = [requires(*_MEMBERS)]

    @post("/ack", operation_id="liveAck", status_code=HTTP_200_OK, summary="I have seen these items")
    async def ack(self, data: AckIn, live: LiveHub, claims: Claims) -> AckOut:
        members = live.members_of(claims.role.value, claims.sub)
        count = await live.acknowledge(data.ids, members=members, by=f"{claims.role}:{claims.sub}")
        return AckOut(count)


_SSE_START: HTTPResponseStartEvent = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no"),
    ],
}


def _sse_frame(item: LiveItem | Lagged | None) -> bytes:
    if item is None:
        return b": keep-alive\n\n"
    if isinstance(item, Lagged):
        return b'event: lagged\ndata: {"reason": "too far behind: reconnect"}\n\n'
    return b"event: item\nid: %d\ndata: %s\n\n" % (item.id, msgspec.json.encode(item))


def _resume_from(connection: ASGIConnection[Any, Any, Any, Any]) -> int:
    """Where a stream resumes: after ``Last-Event-ID`` or ``?after=``, whichever is later."""
    start = 0
    for name, given in (
        ("Last-Event-ID", connection.headers.get("last-event-id")),
        ("after", connection.query_params.get("after")),
    ):
        if given is None:
            continue
        if not given.isdigit():
            raise ValidationException(f"{name} must be a log position (a whole number ≥ 0), not {given[:40]!r}")
        start = max(start, int(given))
    return start


@asgi("/live/stream", guards=[requires(*_MEMBERS)], copy_scope=False)
async def live_stream(scope: Scope, receive: Receive, send: Send) -> None:
    """Everything addressed to me, live, as Server-Sent Events (``event: item``, ``id`` = the
    item's position), with a keep-alive comment every 15 s of quiet. Written straight to the
    ASGI server, one frame per item: a room message reaches a thousand open streams, so what
    each write costs is paid a thousand times."""
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope, receive, send)
    if scope.get("method") != "GET":
        raise MethodNotAllowedException(headers={"Allow": "GET"})
    start = _resume_from(connection)
    claims: Claims = scope["jikimi_claims"]  # type: ignore[typeddict-item]  # set by the guard
    live: LiveHub = connection.app.state.live

    async def stream() -> None:
        await send(_SSE_START)
        async for item in live.follow(live.members_of(claims.role.value, claims.sub), after=start):
            await send({"type": "http.response.body", "body": _sse_frame(item), "more_body": True})
            if isinstance(item, Lagged):
                break
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def hung_up() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    streaming, watching = asyncio.ensure_future(stream()), asyncio.ensure_future(hung_up())
    try:
        await asyncio.wait((streaming, watching), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (streaming, watching):
            task.cancel()
        await asyncio.gather(streaming, watching, return_exceptions=True)


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
            if item is None:
                continue
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
