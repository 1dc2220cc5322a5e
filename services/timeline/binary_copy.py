"""PostgreSQL's binary COPY format, framed by hand for the rebuild of the timeline.

psycopg reads and writes a binary COPY a row at a time through its generic loaders and dumpers,
which cost more than filing an event; a rebuild reads every event there is, so it frames the
rows itself: a header, then per row the number of fields and each field as its length and bytes
(uuid: 16 bytes; bigint: 8, big-endian; timestamptz: microseconds since 2000-01-01 UTC as a
bigint), then a trailer.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from services.timeline.entries import Entry

__all__ = ["COPY_COLUMNS", "COPY_HEADER", "COPY_TRAILER", "binary_row", "copied_rows"]

COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
COPY_HEADER = COPY_SIGNATURE + bytes(8)  # flags, header extension length
COPY_TRAILER = b"\xff\xff"
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_LENGTH = struct.Struct(">i")
COPY_COLUMNS = (
    "incident_id",
    "originator_id",
    "position",
    "originator_version",
    "occurred_at",
    "recorded_at",
    "service",
    "type",
    "actor",
    "event",
)
"""The columns in the order ``binary_row`` writes them: the fixed-size ones first, in one pack."""
_FIXED = struct.Struct(">hi16si16siqiqiqiq")


def binary_row(entry: Entry) -> bytes:
    """``entry`` as one row of a binary COPY into the timeline's table (``COPY_COLUMNS``)."""
    service, kind, actor = entry.service.encode(), entry.type.encode(), entry.actor.encode()
    return b"".join(
        (
            _FIXED.pack(
                len(COPY_COLUMNS),
                16,
                entry.incident_id.bytes,
                16,
                entry.originator_id.bytes,
                8,
                entry.position,
                8,
                entry.originator_version,
                8,
                (entry.occurred_at - _PG_EPOCH) // _MICROSECOND,
                8,
                (entry.recorded_at - _PG_EPOCH) // _MICROSECOND,
            ),
            _LENGTH.pack(len(service)),
            service,
            _LENGTH.pack(len(kind)),
            kind,
            _LENGTH.pack(len(actor)),
            actor,
            _LENGTH.pack(len(entry.event)),
            entry.event,
        )
    )


def copied_rows(chunks: Iterable[bytes | bytearray | memoryview]) -> Iterator[tuple[int, bytes]]:
    """``(position, state)`` of each row of a binary ``COPY (SELECT notification_id, state …)``."""
    for chunk in chunks:
        view = memoryview(chunk)
        at = 0
        if view[: len(COPY_SIGNATURE)] == COPY_SIGNATURE:
            at = len(COPY_HEADER) + _LENGTH.unpack_from(view, len(COPY_SIGNATURE) + 4)[0]
        while at < len(view):
            if view[at : at + 2] == COPY_TRAILER:
                break  # the source still ends the COPY: read on to its end
            _, position, size = _ROW_HEAD.unpack_from(view, at)
            start = at + _ROW_HEAD.size
            yield position, bytes(view[start : start + size])
            at = start + size


_ROW_HEAD = struct.Struct(">h4xqi")  # field count, the bigint's length, the bigint, the bytea's length
