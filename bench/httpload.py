"""A small HTTP/1.1 load client on raw asyncio streams, one keep-alive connection per citizen.

httpx spends about a millisecond of CPU per request; on a two-core machine that shares its
cores with the service under test, the client would be the bottleneck. This one only writes a
prepared request and reads a Content-Length response.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["Connection"]


class Connection:
    """One keep-alive connection that POSTs JSON and returns (status, body, seconds)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self._reader, self._writer, self._host = reader, writer, host
        self._turn = asyncio.Lock()  # one request at a time on a connection; the others queue

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes, float]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        start = time.perf_counter()  # from the moment the caller asked, queueing included
        async with self._turn:
            self._writer.write(head + body)
            status_line = await self._reader.readline()
            status = int(status_line.split(b" ", 2)[1])
            length = 0
            while (line := await self._reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            payload = await self._reader.readexactly(length)
        return status, payload, time.perf_counter() - start

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()
