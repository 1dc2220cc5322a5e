"""Timelines as files for analysts: JSON Lines, CSV and Parquet, one schema for all three.

Each row is one timeline entry: ``COLUMNS``, in that order. Times are UTC (ISO 8601 text in JSON
Lines and CSV, ``timestamp[us, tz=UTC]`` in Parquet); ``summary`` is the timeline's one-line
summary; ``event`` is the event as it was stored, JSON as text. Encoders take entries a chunk at
a time and give back the bytes to write, so an export streams in constant memory (Parquet holds
one row group, ``ROW_GROUP`` rows, before writing it).

CSV is RFC 4180 in UTF-8 without a byte-order mark, with a header row; a text cell that a
spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) is prefixed with ``'``: the texts are citizens' words, and an export is opened by people.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import BinaryIO, Literal, Protocol
from uuid import UUID

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from services.timeline.entries import Entry
from services.timeline.summary import summarize
from shared.events import CODEC, family_of

__all__ = [
    "COLUMNS",
    "CONTENT_TYPES",
    "FORMATS",
    "MAX_RANGE",
    "PARQUET_SCHEMA",
    "ROW_GROUP",
    "Encoder",
    "ExportFormat",
    "ExportRangeError",
    "check_range",
    "defused",
    "encoded",
    "encoder_for",
    "filename_for",
    "row_of",
    "write",
]

ExportFormat = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv", "parquet")
CONTENT_TYPES: dict[ExportFormat, str] = {
    "jsonl": "application/jsonl; charset=utf-8",
    "csv": "text/csv; charset=utf-8; header=present",
    "parquet": "application/vnd.apache.parquet",
}
MAX_RANGE = timedelta(days=31)
"""The longest date range one export covers."""
ROW_GROUP = 10_000

COLUMNS = (
    "incident_id",
    "service",
    "position",
    "type",
    "occurred_at",
    "recorded_at",
    "actor",
    "summary",
    "stream_id",
    "stream_version",
    "event",
)
_UTC_TIME = pa.timestamp("us", tz="UTC")
PARQUET_SCHEMA = pa.schema(
    [
        pa.field(name, kind, nullable=False)
        for name, kind in zip(
            COLUMNS,
            (
                pa.string(),
                pa.string(),
                pa.int64(),
                pa.string(),
                _UTC_TIME,
                _UTC_TIME,
                pa.string(),
                pa.string(),
                pa.string(),
                pa.int64(),
                pa.string(),
            ),
            strict=True,
        )
    ]
)

Row = tuple[str, str, int, str, datetime, datetime, str, str, str, int, str]


class ExportRangeError(ValueError):
    """Raised when a date range cannot be exported; ``field`` names the bound at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_range(since: datetime, until: datetime) -> None:
    """Accept [``since``, ``until``) if both carry their offset from UTC, ``since`` comes first
    and the range is at most ``MAX_RANGE``; else raise ExportRangeError naming the bound."""
    for field, value in (("from", since), ("to", until)):
        if value.utcoffset() is None:
            raise ExportRangeError(field, "must carry its offset from UTC, e.g. 2026-11-01T00:00:00+09:00")
    if until <= since:
        raise ExportRangeError("to", "must come after from")
    if until - since > MAX_RANGE:
        raise ExportRangeError("to", f"must be at most {MAX_RANGE.days} days after from")


def filename_for(
    fmt: ExportFormat, *, incident_id: UUID | None = None, since: datetime | None = None, until: datetime | None = None
) -> str:
    """A file name saying what the export holds: ``jikimi-timeline-<incident>.csv`` or
    ``jikimi-timelines-20261101-20261201.parquet`` (``to`` excluded)."""
    if incident_id is not None:
        return f"jikimi-timeline-{incident_id}.{fmt}"
    assert since is not None
    assert until is not None
    return f"jikimi-timelines-{since:%Y%m%d}-{until:%Y%m%d}.{fmt}"


def _summary(entry: Entry) -> str:
    try:
        return summarize(CODEC.decode(entry.event))
    except ValueError:  # a type this version does not know, or a field it cannot read
        return f"{family_of(entry.type)} (not readable by this version)"


def row_of(entry: Entry) -> Row:
    """An entry as an export's row, in ``COLUMNS`` order."""
    return (
        str(entry.incident_id),
        entry.service,
        entry.position,
        entry.type,
        entry.occurred_at.astimezone(UTC),
        entry.recorded_at.astimezone(UTC),
        entry.actor,
        _summary(entry),
        str(entry.originator_id),
        entry.originator_version,
        bytes(entry.event).decode(),
    )


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds")


class Encoder(Protocol):
    """Turns entries into one format's bytes: ``start`` once, ``encode`` per chunk, ``finish`` once."""

    def start(self) -> bytes: ...
    def encode(self, entries: Sequence[Entry]) -> bytes: ...
    def finish(self) -> bytes: ...


class _JsonLines:
    def __init__(self) -> None:
        self._json = msgspec.json.Encoder()

    def start(self) -> bytes:
        return b""

    def encode(self, entries: Sequence[Entry]) -> bytes:
        lines = []
        for entry in entries:
            row = row_of(entry)
            lines.append(dict(zip(COLUMNS, (*row[:4], _iso(row[4]), _iso(row[5]), *row[6:]), strict=True)))
        return self._json.encode_lines(lines)

    def finish(self) -> bytes:
        return b""


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defused(text: str) -> str:
    """``text`` as a spreadsheet shows it, never runs it (OWASP's advice on CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class _Csv:
    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, dialect="excel", lineterminator="\r\n")

    def _take(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode()

    def start(self) -> bytes:
        self._csv.writerow(COLUMNS)
        return self._take()

    def encode(self, entries: Sequence[Entry]) -> bytes:
        for entry in entries:
            row = row_of(entry)
            cells = (*row[:4], _iso(row[4]), _iso(row[5]), *row[6:])
            self._csv.writerow([defused(c) if isinstance(c, str) else c for c in cells])
        return self._take()

    def finish(self) -> bytes:
        return b""


class _Drain(io.RawIOBase):
    """Where the Parquet writer writes: kept until taken, so each row group leaves as written."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class _Parquet:
    def __init__(self, row_group: int = ROW_GROUP) -> None:
        self._row_group = row_group
        self._rows: list[Row] = []
        self._drain = _Drain()
        self._writer = pq.ParquetWriter(pa.PythonFile(self._drain, mode="w"), PARQUET_SCHEMA, compression="zstd")

    def _write(self, rows: Sequence[Row]) -> None:
        columns = [
            pa.array(values, type=f.type) for values, f in zip(zip(*rows, strict=True), PARQUET_SCHEMA, strict=True)
        ]
        self._writer.write_table(pa.Table.from_arrays(columns, schema=PARQUET_SCHEMA), row_group_size=self._row_group)

    def start(self) -> bytes:
        return self._drain.take()

    def encode(self, entries: Sequence[Entry]) -> bytes:
        self._rows += map(row_of, entries)
        while len(self._rows) >= self._row_group:
            self._write(self._rows[: self._row_group])
            del self._rows[: self._row_group]
        return self._drain.take()

    def finish(self) -> bytes:
        if self._rows:
            self._write(self._rows)
            self._rows.clear()
        self._writer.close()
        return self._drain.take()


def encoder_for(fmt: ExportFormat, *, row_group: int = ROW_GROUP) -> Encoder:
    """A fresh encoder of ``fmt`` (one per export: it keeps the file's state)."""
    if fmt == "parquet":
        return _Parquet(row_group)
    return _Csv() if fmt == "csv" else _JsonLines()


def encoded(entries: Iterable[Entry], fmt: ExportFormat, *, chunk: int = 1000) -> Iterator[bytes]:
    """The export of ``entries`` as ``fmt``, piece by piece, reading ``chunk`` entries at a time."""
    encoder = encoder_for(fmt)
    yield encoder.start()
    rest = iter(entries)
    while entries_chunk := list(islice(rest, chunk)):
        yield encoder.encode(entries_chunk)
    yield encoder.finish()


def write(entries: Iterable[Entry], fmt: ExportFormat, out: BinaryIO, *, chunk: int = 1000) -> None:
    """Write the export of ``entries`` as ``fmt`` to ``out``."""
    for piece in encoded(entries, fmt, chunk=chunk):
        if piece:
            out.write(piece)
