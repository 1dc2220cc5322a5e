"""``jikimi export``: one incident's timeline, or every incident opened in a date range, as JSON
Lines, CSV or Parquet (``services/timeline/export.py``), read straight from PostgreSQL.

It needs no running service: it reads ``timeline_entries`` on one read-only, repeatable-read
transaction (one snapshot, however long the export), a server-side cursor per incident, and
records ``TimelineExported`` in the timeline's own log first (the timeline service publishes
it when it runs), as the API does. The export holds the entries recorded before that event.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from datetime import date, datetime, time
from pathlib import Path
from typing import BinaryIO
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import psycopg
from psycopg import IsolationLevel, sql
from psycopg.rows import TupleRow

from jikimi.replay import database_url
from services.timeline.application import TimelineApplication
from services.timeline.entries import Entry
from services.timeline.export import ExportFormat, ExportRangeError, check_range, write
from services.timeline.store import TABLE, TimelineStore
from shared.events.common import Actor
from shared.events.timeline import TimelineExported
from shared.settings import DatabaseSettings, database_env

__all__ = ["parse_when", "run_export"]

SEOUL = ZoneInfo("Asia/Seoul")
_KNOWN = sql.SQL("SELECT 1 FROM {} WHERE incident_id = %s LIMIT 1").format(sql.Identifier(TABLE))


def parse_when(field: str, text: str) -> datetime:
    """``--from``/``--to``: a date (``2026-11-01``, midnight in Seoul, the situation room's day)
    or an ISO 8601 time with its offset; ExportRangeError naming ``field`` otherwise."""
    try:
        if len(text.strip()) == 10:
            return datetime.combine(date.fromisoformat(text.strip()), time(), tzinfo=SEOUL)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ExportRangeError(field, f"{text[:40]!r} is neither a date (2026-11-01) nor an ISO 8601 time") from None
    if moment.utcoffset() is None:
        raise ExportRangeError(field, f"{text[:40]!r} must carry its offset from UTC, e.g. 2026-11-01T00:00:00+09:00")
    return moment


def _record(url: str, exported: TimelineExported) -> datetime:
    """Record the export in the timeline's log; when it was recorded."""
    application = TimelineApplication(env=database_env(DatabaseSettings(url, pool_size=1)))
    try:
        [recording] = application.record(exported)
    finally:
        application.close()
    recorded = recording.domain_event
    assert isinstance(recorded, TimelineExported)
    return recorded.recorded_at


def _entries(conn: psycopg.Connection[TupleRow], incidents: Sequence[UUID], cut: datetime) -> Iterator[Entry]:
    for incident_id in incidents:
        with conn.cursor(name="jikimi_export") as cursor:
            cursor.itersize = 2000
            cursor.execute(TimelineStore.timeline_query(), (incident_id, cut))
            for row in cursor:
                yield Entry(*row)


class _Counted:
    def __init__(self, entries: Iterator[Entry]) -> None:
        self.entries, self.count = entries, 0

    def __iter__(self) -> Iterator[Entry]:
        for entry in self.entries:
            self.count += 1
            yield entry


def run_export(args: argparse.Namespace) -> int:
    """Write the export the arguments ask for; 2 when they do not make one, 1 for an unknown incident."""
    fmt: ExportFormat = args.format
    if fmt == "parquet" and args.out is None:
        print("jikimi export: parquet goes to a file: give --out FILE", file=sys.stderr)
        return 2
    by = Actor("analyst", getpass.getuser())
    try:
        if args.incident is not None:
            if args.until is not None:
                raise ExportRangeError("to", "goes with --from, not --incident")
            exported = TimelineExported(
                originator_id=uuid4(),
                originator_version=1,
                incident_id=args.incident,
                by=by,
                scope="incident",
                format=fmt,
                via="cli",
            )
        else:
            if args.since is None or args.until is None:
                raise ExportRangeError("to" if args.until is None else "from", "give both --from and --to")
            since, until = parse_when("from", args.since), parse_when("to", args.until)
            check_range(since, until)
            exported = TimelineExported(
                originator_id=uuid4(),
                originator_version=1,
                by=by,
                scope="range",
                format=fmt,
                range_from=since,
                range_to=until,
                via="cli",
            )
    except ExportRangeError as e:
        print(f"jikimi export: --{e}", file=sys.stderr)
        return 2
    url = database_url(args.var)
    with psycopg.connect(url, autocommit=True) as conn:
        if exported.scope == "incident":
            incidents: list[UUID] = [args.incident]
            if conn.execute(_KNOWN, (args.incident,)).fetchone() is None:
                print(f"jikimi export: no incident {args.incident} is on the timeline", file=sys.stderr)
                return 1
        else:
            rows = conn.execute(TimelineStore.opened_query(), (exported.range_from, exported.range_to)).fetchall()
            incidents = [row[0] for row in rows]
        cut = _record(url, exported)
        conn.isolation_level, conn.read_only = IsolationLevel.REPEATABLE_READ, True
        with conn.transaction():  # one snapshot, taken after the export was recorded
            entries = _Counted(_entries(conn, incidents, cut))
            target = _write(entries, fmt, args.out)
    print(f"exported {entries.count:,} entries of {len(incidents):,} incident(s) as {fmt} to {target}", file=sys.stderr)
    return 0


def _write(entries: _Counted, fmt: ExportFormat, out: Path | None) -> str:
    """Write to ``out`` (through a ``.partial`` file renamed at the end, so a failed export leaves
    no file that looks whole) or to standard output."""
    if out is None:
        write(entries, fmt, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return "standard output"
    partial = out.with_name(out.name + ".partial")
    with ExitStack() as cleanup:
        cleanup.callback(partial.unlink, missing_ok=True)
        with partial.open("wb") as file:
            sink: BinaryIO = file
            write(entries, fmt, sink)
        partial.replace(out)
    return str(out)
