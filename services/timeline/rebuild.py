"""Rebuilding the timeline from zero, from the services' event tables, while everything runs.

Each service's log is read in its own order straight out of PostgreSQL (``COPY … TO STDOUT``,
binary), every event is filed (``Filing``: only its envelope is decoded) and the entries are
streamed into a table beside the live one (``COPY … FROM STDIN``), whose indexes are built once
it is full. Then, in one short transaction that holds writers off the live table, what the logs
gained meanwhile is filed too, and the new table takes the live one's name. Readers see the old
timeline until that commit and the new one after it; the live projector's next insert lands in
the new table, and an entry it files again is stored once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple
from uuid import UUID

import psycopg
from psycopg import sql

from services.timeline.binary_copy import COPY_COLUMNS, COPY_HEADER, COPY_TRAILER, binary_row, copied_rows
from services.timeline.entries import UNFILED, Filing, envelope_of
from services.timeline.store import TABLE, index_ddl, table_ddl

__all__ = ["Progress", "Rebuilt", "rebuild"]

_SHADOW = f"{TABLE}_rebuild"
_INTAKE = "intake"
_URL_VARIABLE = "JIKIMI_REBUILD_DATABASE_URL"
_WORKERS_FROM = 50_000
_PIECE = 25_000
_MAX_WORKERS = 3
_EVERY = 20_000

Progress = Callable[[str, int, int], None]
"""Told ``(service, events read, events in its log)`` as the rebuild reads."""


@dataclass
class Rebuilt:
    """What a rebuild read and filed."""

    events: dict[str, int] = field(default_factory=dict)
    entries: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.events.values())

    @property
    def per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0


class _Piece(NamedTuple):
    """A span of one log, (after, upto] by position, and about how many events it holds."""

    service: str
    after: int
    upto: int
    size: int


def rebuild(
    url: str,
    services: Sequence[str],
    *,
    progress: Progress | None = None,
    workers_from: int = _WORKERS_FROM,
    piece: int = _PIECE,
) -> Rebuilt:
    """Rebuild ``timeline_entries`` from the event tables of ``services`` and swap it in.

    Every report's links are read first (intake's ``ReportLinked`` events), so a report's events
    are filed under their incidents wherever they are met; then every log is cut into pieces that
    this process and worker processes file at the same time, into the same new table (committed
    before the indexes are built), each about as much as the others."""
    started = time.perf_counter()
    with psycopg.connect(url) as reader, psycopg.connect(url) as writer:
        run = _Run(reader, writer, progress)
        logs = [s for s in services if run.exists(f"{s}_events")]
        covered = {service: run.extent(service) for service in logs}
        linked_upto = covered.get(_INTAKE, (0, 0))[0]
        run.filing = Filing(report_links(reader, linked_upto))
        with writer.transaction():
            writer.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(_SHADOW)))
            for statement in table_ddl(_SHADOW, indexes=False):
                writer.execute(statement)
        mine, theirs = _share(covered, workers_from=workers_from, piece=piece)
        workers = [_Worker.start(url, linked_upto, pieces) for pieces in theirs]
        try:
            with writer.transaction():
                for span in mine:
                    run.file_log(span.service, after=span.after, upto=span.upto, count=covered[span.service][1])
            for worker in workers:
                for service, (read, entries) in worker.result().items():
                    run.rebuilt.events[service] = run.rebuilt.events.get(service, 0) + read
                    run.rebuilt.entries += entries
            if progress is not None:
                for pieces in theirs:
                    for service in dict.fromkeys(p.service for p in pieces):
                        progress(service, run.rebuilt.events[service], covered[service][1])
        finally:
            for worker in workers:
                worker.stop()
        with writer.transaction():
            _forget_unfiled(writer, _SHADOW)
            writer.execute("SET LOCAL maintenance_work_mem = '256MB'")  # sort the indexes in memory
            for statement in index_ddl(_SHADOW):
                writer.execute(statement)
        with writer.transaction():
            writer.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(TABLE)))
            run.progress = None
            heads = {service: run.extent(service)[0] for service in logs}
            if _INTAKE in heads:
                run.recall_reports_linked_since(linked_upto, heads[_INTAKE])
            for service in logs:  # what the logs gained while the table was built
                run.file_log(service, after=covered[service][0], upto=heads[service], count=0)
            _forget_unfiled(writer, _SHADOW)
            _swap(writer)
    run.rebuilt.seconds = time.perf_counter() - started
    return run.rebuilt


def _share(
    covered: dict[str, tuple[int, int]], *, workers_from: int, piece: int
) -> tuple[list[_Piece], list[list[_Piece]]]:
    """What this process files and what each worker files: every log cut into pieces of
    ``piece`` positions, each to whoever has least so far. No worker below ``workers_from``
    events: a process's start (about 0.3 s) would not be worth it."""
    total = sum(count for _, count in covered.values())
    slots = min(max(1, (os.cpu_count() or 2) - 1), _MAX_WORKERS) if total >= workers_from else 0
    mine: list[_Piece] = []
    pieces = [
        # Intake's events are reports for the most part, which cost about twice as much to file.
        _Piece(s, after, min(after + piece, last), min(piece, last - after) * (2 if s == _INTAKE else 1))
        for s, (last, _) in covered.items()
        for after in range(0, last, piece)
    ]
    shares: list[list[_Piece]] = [mine, *([] for _ in range(slots))]
    for cut in sorted(pieces, key=lambda p: -p.size):
        least = min(shares, key=lambda share: sum(p.size for p in share))
        least.append(cut)
    return shares[0], [share for share in shares[1:] if share]


def report_links(conn: psycopg.Connection[tuple[object, ...]], upto: int) -> dict[UUID, set[UUID]]:
    """Every report's incidents, from intake's ``ReportLinked`` events up to position ``upto``."""
    if upto <= 0:
        return {}
    query = sql.SQL("SELECT state FROM {} WHERE topic LIKE 'intake.report_linked%%' AND notification_id <= %s")
    links: dict[UUID, set[UUID]] = {}
    for (state,) in conn.execute(query.format(sql.Identifier(f"{_INTAKE}_events")), (upto,)):
        envelope = envelope_of(state)  # type: ignore[arg-type]
        if envelope.report_id is not None and envelope.incident_id is not None:
            links.setdefault(envelope.report_id, set()).add(envelope.incident_id)
    return links


class _Worker:
    """A process filing pieces of logs (``python -m services.timeline.rebuild``): Python files
    one event at a time, so to file on two cores takes two processes. The database URL goes in
    its environment, never on its command line (``ps`` shows that, password and all)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process

    @classmethod
    def start(cls, url: str, linked_upto: int, pieces: Sequence[_Piece]) -> _Worker:
        spans = [f"{p.service}:{p.after}:{p.upto}" for p in pieces]
        command = [sys.executable, "-m", "services.timeline.rebuild", str(linked_upto), *spans]
        env = {**os.environ, _URL_VARIABLE: url}
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603 -- our own module
        return cls(process)

    def result(self) -> dict[str, tuple[int, int]]:
        """(events read, entries filed) by log, once the worker committed them."""
        out, _ = self._process.communicate()
        if self._process.returncode != 0:
            msg = f"a worker filing logs failed (exit {self._process.returncode}); see its error above"
            raise RuntimeError(msg)
        filed = {}
        for line in out.splitlines():
            service, read, entries = line.split()
            filed[service] = (int(read), int(entries))
        return filed

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def _file_alone(url: str, linked_upto: int, spans: Sequence[str]) -> dict[str, tuple[int, int]]:
    """File each ``service:after:upto`` span and commit them together; (events, entries) by log."""
    filed: dict[str, tuple[int, int]] = {}
    with psycopg.connect(url) as reader, psycopg.connect(url) as writer, writer.transaction():
        links = report_links(reader, linked_upto)
        for span in spans:
            service, after, upto = span.split(":")
            run = _Run(reader, writer, None)
            run.filing = Filing(links)
            run.file_log(service, after=int(after), upto=int(upto), count=0)
            read, entries = filed.get(service, (0, 0))
            filed[service] = (read + run.rebuilt.events[service], entries + run.rebuilt.entries)
    return filed


class _Run:
    """One rebuild's connections, filing and counts."""

    def __init__(
        self,
        reader: psycopg.Connection[tuple[object, ...]],
        writer: psycopg.Connection[tuple[object, ...]],
        progress: Progress | None,
    ) -> None:
        self.reader, self.writer, self.progress = reader, writer, progress
        self.filing = Filing()
        self.rebuilt = Rebuilt()

    def recall_reports_linked_since(self, after: int, upto: int) -> None:
        """A report first linked while the table was built had its earlier events filed UNFILED
        elsewhere: read them again, so its link files them under its incident too."""
        intake = sql.Identifier(f"{_INTAKE}_events")
        linked = sql.SQL(
            "SELECT state FROM {} WHERE topic LIKE 'intake.report_linked%%' AND notification_id > %s"
            " AND notification_id <= %s"
        ).format(intake)
        reports = {envelope_of(row[0]).report_id for row in self.reader.execute(linked, (after, upto))}  # type: ignore[arg-type]
        earlier = sql.SQL(
            "SELECT notification_id, state FROM {} WHERE originator_id = ANY(%s) AND notification_id <= %s"
            " ORDER BY notification_id"
        ).format(intake)
        for position, state in self.reader.execute(earlier, ([r for r in reports if r], after)):
            self.filing.recall(state, _INTAKE, position)  # type: ignore[arg-type]

    def exists(self, table: str) -> bool:
        row = self.reader.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
        return bool(row and row[0])

    def extent(self, service: str) -> tuple[int, int]:
        """The last position in ``service``'s log, and about how many events it holds (for the
        progress bar: the planner's count, as counting reads the whole table)."""
        planned = sql.SQL("(SELECT reltuples FROM pg_class WHERE oid = %s::regclass)")
        query = sql.SQL("SELECT coalesce(max(notification_id), 0), {} FROM {}").format(
            planned, sql.Identifier(f"{service}_events")
        )
        row = self.reader.execute(query, (f"{service}_events",)).fetchone()
        assert row is not None
        last, estimate = int(str(row[0])), float(str(row[1]))
        return last, int(estimate) if estimate > 0 else last

    def file_log(self, service: str, *, after: int, upto: int, count: int) -> None:
        """File the events of ``service``'s log after position ``after`` up to ``upto`` into the
        shadow table. Both COPYs are binary and framed here (psycopg's per-row reading and
        writing cost more than filing the event)."""
        select = sql.SQL(
            "COPY (SELECT notification_id, state FROM {} WHERE notification_id > {} AND notification_id <= {}"
            " ORDER BY notification_id) TO STDOUT (FORMAT BINARY)"
        ).format(sql.Identifier(f"{service}_events"), sql.Literal(after), sql.Literal(upto))
        insert = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(_SHADOW), sql.SQL(", ").join(map(sql.Identifier, COPY_COLUMNS))
        )
        read = entries = 0
        done = self.rebuilt.events.get(service, 0)  # of this log, in earlier pieces
        rows: list[bytes] = [COPY_HEADER]
        with self.reader.cursor().copy(select) as source, self.writer.cursor().copy(insert) as sink:
            for position, state in copied_rows(source):
                for entry in self.filing.file(state, service, position):
                    rows.append(binary_row(entry))
                    entries += 1
                read += 1
                if read % _EVERY == 0:
                    sink.write(b"".join(rows))
                    rows.clear()
                    if self.progress is not None:
                        self.progress(service, done + read, count)
            rows.append(COPY_TRAILER)
            sink.write(b"".join(rows))
        if self.progress is not None:
            self.progress(service, done + read, count)
        self.rebuilt.events[service] = self.rebuilt.events.get(service, 0) + read
        self.rebuilt.entries += entries


def _forget_unfiled(writer: psycopg.Connection[tuple[object, ...]], table: str) -> None:
    """Drop the UNFILED entries of reports that were linked (filed under an incident since)."""
    name = sql.Identifier(table)
    writer.execute(
        sql.SQL(
            "DELETE FROM {} u WHERE u.incident_id = %s AND u.originator_id IN (SELECT f.originator_id FROM {} f"
            " WHERE f.type LIKE 'intake.report%%' AND f.incident_id <> %s)"
        ).format(name, name),
        (UNFILED, UNFILED),
    )


def _swap(writer: psycopg.Connection[tuple[object, ...]]) -> None:
    """The shadow table takes the live one's name, and its indexes their names."""
    old = f"{TABLE}_old"
    writer.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(TABLE), sql.Identifier(old)))
    writer.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(_SHADOW), sql.Identifier(TABLE)))
    writer.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(old)))
    for suffix in ("key", "recorded", "opened"):
        writer.execute(
            sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                sql.Identifier(f"{_SHADOW}_{suffix}"), sql.Identifier(f"{TABLE}_{suffix}")
            )
        )


if __name__ == "__main__":  # a _Worker
    for service, (read, entries) in _file_alone(os.environ[_URL_VARIABLE], int(sys.argv[1]), sys.argv[2:]).items():
        print(service, read, entries)
