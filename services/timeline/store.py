"""The timeline's table in PostgreSQL: every incident's entries, and the queries analysts make.

``timeline_entries`` holds one row per (incident, event): keyed by the incident and where the
event was recorded (service, position in that service's log), so filing an event twice stores
it once. Pages follow the timeline's order (recorded time, then service and position: stable
across queries and rebuilds) with a keyset cursor, so the thousandth page costs what the first
does. The rebuild (``rebuild.py``) fills a table of the same shape beside it and swaps it in.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec
from psycopg import AsyncConnection, Connection, sql
from psycopg_pool import AsyncConnectionPool

from services.timeline.entries import UNFILED, Entry
from shared.events import CODEC, Event, EventCodec

__all__ = [
    "TABLE",
    "Clock",
    "Cursor",
    "Page",
    "TimelineStore",
    "create_table",
    "table_ddl",
]

TABLE = "timeline_entries"
COLUMNS = (
    "incident_id",
    "service",
    "position",
    "type",
    "originator_id",
    "originator_version",
    "occurred_at",
    "recorded_at",
    "actor",
    "event",
)
COLUMN_TYPES = ("uuid", "text", "int8", "text", "uuid", "int8", "timestamptz", "timestamptz", "text", "bytea")

Clock = Literal["occurred", "recorded"]


def table_ddl(table: str, *, indexes: bool = True) -> list[sql.Composed]:
    """The statements creating ``table`` (and its indexes) if missing."""
    name = sql.Identifier(table)
    statements = [
        sql.SQL(
            """CREATE TABLE IF NOT EXISTS {} (
                incident_id uuid NOT NULL,
                service text NOT NULL,
                position bigint NOT NULL,
                type text NOT NULL,
                originator_id uuid NOT NULL,
                originator_version bigint NOT NULL,
                occurred_at timestamptz NOT NULL,
                recorded_at timestamptz NOT NULL,
                actor text NOT NULL,
                event bytea NOT NULL
            )"""
        ).format(name)
    ]
    if indexes:
        statements += index_ddl(table)
    return statements


def index_ddl(table: str) -> list[sql.Composed]:
    """The key, the index of the timeline's order (an incident's entries as they were recorded;
    cutting them by when they happened reads the same rows), and the incidents by when they
    opened (for exports of a date range)."""
    name = sql.Identifier(table)
    return [
        sql.SQL("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (incident_id, service, position)").format(
            sql.Identifier(f"{table}_key"), name
        ),
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (incident_id, recorded_at, service, position)").format(
            sql.Identifier(f"{table}_recorded"), name
        ),
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (occurred_at) WHERE type LIKE 'intake.incident_opened%'").format(
            sql.Identifier(f"{table}_opened"), name
        ),
    ]


def create_table(conn: Connection[tuple[object, ...]]) -> None:
    """Create the timeline's table if missing (``jikimi migrate`` calls it)."""
    with conn.transaction():
        for statement in table_ddl(TABLE):
            conn.execute(statement)


class Cursor(msgspec.Struct, frozen=True, array_like=True):
    """Where a page ended: the last entry's place in the timeline's order."""

    at: datetime
    service: str
    position: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(msgspec.json.encode(self)).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor ``encode`` gave; ValueError if it is not one."""
        try:
            return msgspec.json.decode(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), type=cls)
        except (ValueError, msgspec.DecodeError) as e:
            raise ValueError("not a cursor this timeline gave") from e


class Page(msgspec.Struct, frozen=True):
    entries: list[Entry]
    next: Cursor | None


_INSERT = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (incident_id, service, position) DO NOTHING").format(
    sql.Identifier(TABLE),
    sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
    sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)),
)


class TimelineStore:
    """Reads and writes ``timeline_entries`` through a pool of async connections."""

    def __init__(self, url: str, *, pool_size: int = 4, codec: EventCodec = CODEC) -> None:
        self._pool = AsyncConnectionPool(url, min_size=1, max_size=pool_size, open=False, kwargs={"autocommit": True})
        self._codec = codec

    async def open(self) -> None:
        await self._pool.open(wait=True, timeout=30)

    async def close(self) -> None:
        await self._pool.close()

    async def insert(self, entries: Sequence[Entry]) -> None:
        """File ``entries`` (each once, however often it is filed), in one transaction."""
        if not entries:
            return
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            await cur.executemany(_INSERT, [e.as_row() for e in entries])

    async def forget_unfiled(self, reports: Iterable[UUID]) -> None:
        """Drop the UNFILED entries of reports now filed under their incidents."""
        query = sql.SQL("DELETE FROM {} WHERE incident_id = %s AND originator_id = ANY(%s)").format(
            sql.Identifier(TABLE)
        )
        if ids := list(reports):
            async with self._pool.connection() as conn:
                await conn.execute(query, (UNFILED, ids))

    async def report_entries(self) -> list[Entry]:
        """Every report's events and links filed so far, once each, in intake's order (what a
        resuming projector needs to file what comes next as the rebuild would have)."""
        query = sql.SQL(
            """SELECT DISTINCT ON (position, incident_id) {} FROM {}
               WHERE service = 'intake' AND type LIKE 'intake.report%%'
               ORDER BY position, incident_id"""
        ).format(sql.SQL(", ").join(map(sql.Identifier, COLUMNS)), sql.Identifier(TABLE))
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(query)).fetchall()
        return [Entry(*row) for row in rows]

    async def known(self, incident_id: UUID) -> bool:
        """Whether any event is filed under the incident."""
        async with self._pool.connection() as conn:
            return await self._known_on(conn, incident_id)

    async def page(
        self,
        incident_id: UUID,
        *,
        after: Cursor | None = None,
        limit: int = 100,
        types: Sequence[str] = (),
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page:
        """The incident's entries in the timeline's order, filtered, ``limit`` at a time.

        ``types`` are event families (``community.member_invited``) or whole services
        (``community``); ``since`` and ``until`` bound the recorded time (``until`` excluded)."""
        where: list[sql.Composable] = [sql.SQL("incident_id = %(incident)s")]
        params: dict[str, object] = {"incident": incident_id, "limit": limit + 1}
        if after is not None:
            where.append(sql.SQL("(recorded_at, service, position) > (%(at)s, %(service)s, %(position)s)"))
            params |= {"at": after.at, "service": after.service, "position": after.position}
        if types:
            family = sql.SQL("regexp_replace(type, '[.]v[0-9]+$', '')")
            where.append(sql.SQL("({} = ANY(%(types)s) OR split_part(type, '.', 1) = ANY(%(types)s))").format(family))
            params["types"] = list(types)
        if actor is not None:
            where.append(sql.SQL("actor = %(actor)s"))
            params["actor"] = actor
        if since is not None:
            where.append(sql.SQL("recorded_at >= %(since)s"))
            params["since"] = since
        if until is not None:
            where.append(sql.SQL("recorded_at < %(until)s"))
            params["until"] = until
        query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY recorded_at, service, position LIMIT %(limit)s").format(
            sql.SQL(", ").join(map(sql.Identifier, COLUMNS)), sql.Identifier(TABLE), sql.SQL(" AND ").join(where)
        )
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(query, params)).fetchall()
        entries = [Entry(*row) for row in rows[:limit]]
        more = len(rows) > limit
        last = entries[-1] if entries else None
        return Page(entries, Cursor(last.recorded_at, last.service, last.position) if more and last else None)

    async def events_of(
        self, incident_id: UUID, *, until: datetime | None = None, clock: Clock = "recorded"
    ) -> list[Event] | None:
        """The incident's events up to ``until`` by the ``clock`` asked (when they happened, or
        when they were recorded: what the room could know), in recorded order, decoded and
        upcast; None if no event is filed under the incident."""
        column = sql.Identifier("occurred_at" if clock == "occurred" else "recorded_at")
        cut = sql.SQL("AND {} <= %s").format(column) if until is not None else sql.SQL("")
        query = sql.SQL(
            "SELECT event FROM {} WHERE incident_id = %s {} ORDER BY recorded_at, service, position"
        ).format(sql.Identifier(TABLE), cut)
        params = (incident_id, until) if until is not None else (incident_id,)
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(query, params)).fetchall()
            if not rows and not await self._known_on(conn, incident_id):
                return None
        return [self._codec.decode(row[0]) for row in rows]  # older schema versions come back upcast

    @staticmethod
    async def _known_on(conn: AsyncConnection[tuple[object, ...]], incident_id: UUID) -> bool:
        query = sql.SQL("SELECT 1 FROM {} WHERE incident_id = %s LIMIT 1").format(sql.Identifier(TABLE))
        return await (await conn.execute(query, (incident_id,))).fetchone() is not None

    # Exports (services/timeline/export.py, jikimi export): whole timelines, a chunk at a time.

    async def timeline_chunks(
        self, incident_id: UUID, *, until: datetime | None = None, chunk: int = 1000
    ) -> AsyncIterator[list[Entry]]:
        """The incident's entries in the timeline's order (recorded before ``until``, if given),
        ``chunk`` at a time: keyset pages, so no connection is held while a chunk is written."""
        after: Cursor | None = None
        while True:
            page = await self.page(incident_id, after=after, limit=chunk, until=until)
            if page.entries:
                yield page.entries
            if page.next is None:
                return
            after = page.next

    async def opened_between(self, since: datetime, until: datetime) -> list[UUID]:
        """The incidents opened in [``since``, ``until``) (when their opening occurred), in the
        order they opened."""
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(self.opened_query(), (since, until))).fetchall()
        return [row[0] for row in rows]

    async def opened_chunks(
        self, since: datetime, until: datetime, *, recorded_before: datetime | None = None, chunk: int = 1000
    ) -> AsyncIterator[list[Entry]]:
        """Every entry of the incidents opened in [``since``, ``until``), incident after incident
        in the order they opened, each in the timeline's order, ``chunk`` at a time."""
        for incident_id in await self.opened_between(since, until):
            async for entries in self.timeline_chunks(incident_id, until=recorded_before, chunk=chunk):
                yield entries

    @staticmethod
    def opened_query() -> sql.Composed:
        """The ids of the incidents opened in [%s, %s) in the order they opened (any version of
        ``intake.incident_opened``, found through the partial index of openings)."""
        return sql.SQL(
            """SELECT incident_id FROM {}
               WHERE type LIKE 'intake.incident_opened%%'
                 AND regexp_replace(type, '[.]v[0-9]+$', '') = 'intake.incident_opened'
                 AND occurred_at >= %s AND occurred_at < %s
               GROUP BY incident_id ORDER BY min(occurred_at), incident_id"""
        ).format(sql.Identifier(TABLE))

    @staticmethod
    def timeline_query() -> sql.Composed:
        """One incident's entries (%s) recorded before %s, in the timeline's order."""
        return sql.SQL(
            "SELECT {} FROM {} WHERE incident_id = %s AND recorded_at < %s ORDER BY recorded_at, service, position"
        ).format(sql.SQL(", ").join(map(sql.Identifier, COLUMNS)), sql.Identifier(TABLE))
