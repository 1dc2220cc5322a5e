"""A local SMS/KakaoTalk gateway: both APIs of ``services.broadcast.channels.GatewayAdapter``.

``POST /<channel>`` takes one message ``{channel, to, text}`` (``Idempotency-Key`` = its key);
``POST /<channel>/bulk`` takes ``{channel, messages: [{id, to, text}, …]}`` and answers a result
for each. Every message it is given is recorded with the time it arrived and how it was answered,
repeats included, so a test sees a message sent twice. Numbers in ``reject`` are refused
(``rejected``, or 400 alone), numbers in ``defer`` are asked to come back later (``retry``, or 503
alone); the others are ``accepted``.

It speaks HTTP/1.1 with keep-alive on raw asyncio streams in a thread and loop of its own, so it
is fast enough for the benchmarks and takes no time from the caller's loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import msgspec

from jikimi.embedded import free_port

__all__ = ["FakeGateway", "Received"]


@dataclass(frozen=True)
class Received:
    channel: str
    to: str
    text: str
    key: str
    """The message's idempotency key: the delivery id."""
    at: float
    """``time.time()`` when its request was read."""
    bulk: bool
    request: int
    """Which request carried it (1, 2, …): messages of one bulk request share it."""
    status: str = "accepted"
    """``accepted``, ``rejected`` or ``retry``."""


class _One(msgspec.Struct):
    to: str
    text: str = ""
    channel: str = ""


class _Item(msgspec.Struct):
    id: str
    to: str
    text: str = ""


class _Bulk(msgspec.Struct):
    messages: list[_Item]
    channel: str = ""


class _Result(msgspec.Struct, omit_defaults=True):
    id: str
    status: str
    message_id: str = ""
    error: str = ""


class _Answer(msgspec.Struct):
    results: list[_Result]


_ONE, _BULK = msgspec.json.Decoder(_One), msgspec.json.Decoder(_Bulk)
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 503: "Service Unavailable"}


@dataclass
class FakeGateway:
    secret: str = ""
    reject: set[str] = field(default_factory=set)
    defer: set[str] = field(default_factory=set)
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    first_at: dict[str, float] = field(default_factory=dict)
    """Each number's first accepted arrival (``time.time()``)."""
    requests: dict[str, int] = field(default_factory=lambda: {"single": 0, "bulk": 0})
    _writers: set[asyncio.StreamWriter] = field(default_factory=set, repr=False)

    def url(self, channel: str = "sms") -> str:
        return f"http://127.0.0.1:{self.port}/{channel}"

    def bulk_url(self, channel: str = "sms") -> str:
        return f"{self.url(channel)}/bulk"

    def to(self, number: str) -> list[Received]:
        """What was sent to ``number`` (accepted or not), in order of arrival."""
        return [r for r in list(self.received) if r.to == number]

    def _status(self, number: str) -> str:
        return "rejected" if number in self.reject else "retry" if number in self.defer else "accepted"

    @contextmanager
    def running(self) -> Iterator[FakeGateway]:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            server = loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", self.port))
            ready.set()
            loop.run_forever()
            server.close()  # and the open connections, whose handlers then end as if the client left
            for writer in list(self._writers):
                writer.close()
            loop.run_until_complete(asyncio.gather(*asyncio.all_tasks(loop), return_exceptions=True))
            loop.close()

        thread = threading.Thread(target=serve, daemon=True, name="fake-gateway")
        thread.start()
        if not ready.wait(10):
            raise TimeoutError("the fake gateway did not start")
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while request_line := await reader.readline():  # empty when the client closed
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                path = request_line.split()[1].decode()
                status, answer = self._answer(path, headers, body)
                head = f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: application/json\r\n"
                writer.write(f"{head}Content-Length: {len(answer)}\r\n\r\n".encode() + answer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if self.secret and headers.get("x-jikimi-gateway-secret") != self.secret:
            return 401, b'{"error": "unauthorized"}'
        now = time.time()
        parts = path.strip("/").split("/")
        try:
            if len(parts) == 2 and parts[1] == "bulk":
                return 200, self._take_bulk(parts[0], _BULK.decode(body), now)
            if len(parts) == 1:
                return self._take_one(parts[0], _ONE.decode(body), headers.get("idempotency-key", ""), now)
        except msgspec.DecodeError:
            return 400, b'{"error": "unreadable"}'
        return 404, b'{"error": "no such route"}'

    def _take_one(self, channel: str, one: _One, key: str, now: float) -> tuple[int, bytes]:
        self.requests["single"] += 1
        status = self._status(one.to)
        self._note(Received(channel, one.to, one.text, key, now, False, sum(self.requests.values()), status))
        if status == "rejected":
            return 400, b'{"error": "invalid_number"}'
        if status == "retry":
            return 503, b'{"error": "busy"}'
        return 200, msgspec.json.encode({"id": f"gw-{len(self.received)}"})

    def _take_bulk(self, channel: str, bulk: _Bulk, now: float) -> bytes:
        self.requests["bulk"] += 1
        request = sum(self.requests.values())
        results = []
        for item in bulk.messages:
            status = self._status(item.to)
            self._note(Received(channel, item.to, item.text, item.id, now, True, request, status))
            if status == "rejected":
                results.append(_Result(item.id, status, error="invalid_number"))
            elif status == "retry":
                results.append(_Result(item.id, status, error="carrier_busy"))
            else:
                results.append(_Result(item.id, status, message_id=f"gw-{len(self.received)}"))
        return msgspec.json.encode(_Answer(results))

    def _note(self, received: Received) -> None:
        self.received.append(received)
        if received.status == "accepted":
            self.first_at.setdefault(received.to, received.at)
