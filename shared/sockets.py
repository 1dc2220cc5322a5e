"""WebSockets: who holds one, and a conversation of a sending and a receiving half.

A socket's token comes in the ``Authorization`` header or, from a browser (which cannot set it),
as the first frame ``{"token": "…", "after": n}`` within 10 s; never in the URL, where proxies
would log it. A holder who is not let in gets close code 1008 with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import msgspec
from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect
from litestar.status_codes import WS_1000_NORMAL_CLOSURE, WS_1008_POLICY_VIOLATION

from shared.auth import Claims, InvalidTokenError, Role, verify_token

__all__ = ["SocketRefusedError", "converse", "open_socket", "socket_claims"]


class SocketRefusedError(ValueError):
    """Raised when a WebSocket's holder is not let in (close it with 1008 and this message)."""


class _Hello(msgspec.Struct, frozen=True):
    token: str = ""
    after: int = 0


async def socket_claims(socket: WebSocket[Any, Any, Any], *roles: Role) -> tuple[Claims, int]:
    """The holder of an accepted socket and where they resume (``after``). The token comes in the
    ``Authorization`` header or, from a browser (which cannot set it), as the first frame
    ``{"token": "…", "after": n}`` within 10 s; never in the URL, where proxies would log it."""
    scheme, _, token = socket.headers.get("authorization", "").partition(" ")
    after = socket.query_params.get("after", "0")
    resume = int(after) if after.isdigit() else 0
    try:
        if scheme.lower() != "bearer" or not token:
            hello = msgspec.json.decode(await asyncio.wait_for(socket.receive_text(), timeout=10), type=_Hello)
            token, resume = hello.token, max(resume, hello.after)
        claims = verify_token(socket.app.state.secret_key, token.strip())
    except (InvalidTokenError, msgspec.DecodeError, TimeoutError) as e:
        raise SocketRefusedError(f"not authorised: {e}") from e
    if claims.role not in {*roles, Role.ADMIN}:
        raise SocketRefusedError(f"not authorised: this needs the role {' or '.join(sorted(r.value for r in roles))}")
    return claims, resume


async def open_socket(socket: WebSocket[Any, Any, Any], *roles: Role) -> tuple[Claims, int] | None:
    """Accept ``socket``; its holder's claims and where they resume, or None once it is closed
    with 1008 because they are not let in."""
    await socket.accept()
    try:
        return await socket_claims(socket, *roles)
    except SocketRefusedError as e:
        await socket.close(code=WS_1008_POLICY_VIOLATION, reason=str(e)[:120])
        return None


async def converse(
    socket: WebSocket[Any, Any, Any],
    send: Callable[[], Coroutine[Any, Any, None]],
    receive: Callable[[], Coroutine[Any, Any, None]],
) -> None:
    """Run both halves until either ends (the stream ran out, the client left or sent nonsense),
    then stop the other and close the socket."""
    tasks = [asyncio.create_task(send()), asyncio.create_task(receive())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, msgspec.DecodeError):
                await task
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await socket.close(code=WS_1000_NORMAL_CLOSURE)  # it may be closed already, by the client
