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

import psycopg
from psycopg import sql

from services.timeline.binary_copy import COPY_COLUMNS, COPY_HEADER, COPY_TRAILER, binary_row, copied_rows
from services.timeline.entries import Filing
from services.timeline.store import TABLE, index_ddl, table_ddl

__all__ = ["Progress", "Rebuilt", "rebuild"]

_SHADOW = f"{TABLE}_rebuild"
_INTAKE = "intake"
_URL_VARIABLE = "JIKIMI_REBUILD_DATABASE_URL"
_WORKER_FROM = 50_000
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


def rebuild(url: str, services: Sequence[str], *, progress: Progress | None = None) -> Rebuilt:
    """Rebuild ``timeline_entries`` from the event tables of ``services`` and swap it in.

    Intake's log is filed here (a report's events wait for its link, which only intake's log
    has); every other log names its incidents itself, so each is filed by a worker process at
    the same time, into the same new table (committed before the indexes are built)."""
    started = time.perf_counter()
    with psycopg.connect(url) as reader, psycopg.connect(url) as writer:
        run = _Run(reader, writer, progress)
        logs = [s for s in services if run.exists(f"{s}_events")]
        with writer.transaction():
            writer.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(_SHADOW)))
            for statement in table_ddl(_SHADOW, indexes=False):
                writer.execute(statement)
        covered = {service: run.extent(service) for service in logs}
        # A worker costs a Python start (about 0.3 s): only a large log is worth one.
        elsewhere = [s for s in logs if s != _INTAKE and covered[s][1] >= _WORKER_FROM]
        workers = {s: _Worker.start(url, s, covered[s][0]) for s in elsewhere}
        try:
            with writer.transaction():
                for service in (s for s in logs if s not in workers):  # intake first: logs is in service order
                    last, count = covered[service]
                    run.file_log(service, after=0, upto=last, count=count)
            for service, worker in workers.items():
                read, entries = worker.result()
                run.rebuilt.events[service] = read
                run.rebuilt.entries += entries
                if progress is not None:
                    progress(service, read, covered[service][1])
        finally:
            for worker in workers.values():
                worker.stop()
        with writer.transaction():
            writer.execute("SET LOCAL maintenance_work_mem = '256MB'")  # sort the indexes in memory
            for statement in index_ddl(_SHADOW):
                writer.execute(statement)
        with writer.transaction():
            writer.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(TABLE)))
            run.progress = None
            for service in logs:  # what the logs gained while the table was built
                run.file_log(service, after=covered[service][0], upto=run.extent(service)[0], count=0)
            _swap(writer)
    run.rebuilt.seconds = time.perf_counter() - started
    return run.rebuilt


class _Worker:
    """A process filing one log (``python -m services.timeline.rebuild``): Python files one
    event at a time, so two logs filed at once need two processes. The database URL goes in its
    environment, never on its command line (``ps`` shows that, password and all)."""

    def __init__(self, process: subprocess.Popen[str], service: str) -> None:
        self._process, self._service = process, service

    @classmethod
    def start(cls, url: str, service: str, upto: int) -> _Worker:
        command = [sys.executable, "-m", "services.timeline.rebuild", service, str(upto)]
        env = {**os.environ, _URL_VARIABLE: url}
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603 -- our own module
        return cls(process, service)

    def result(self) -> tuple[int, int]:
        """(events read, entries filed), once the worker committed them."""
        out, _ = self._process.communicate()
        if self._process.returncode != 0:
            msg = f"filing {self._service}'s log failed (exit {self._process.returncode}); see its error above"
            raise RuntimeError(msg)
        read, entries = out.split()
        return int(read), int(entries)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def _file_alone(url: str, service: str, upto: int) -> tuple[int, int]:
    """File ``service``'s log up to ``upto`` and commit; (events, entries)."""
    with psycopg.connect(url) as reader, psycopg.connect(url) as writer, writer.transaction():
        run = _Run(reader, writer, None)
        run.file_log(service, after=0, upto=upto, count=0)
        return run.rebuilt.events[service], run.rebuilt.entries


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
                        self.progress(service, read, count)
            rows.append(COPY_TRAILER)
            sink.write(b"".join(rows))
        if self.progress is not None:
            self.progress(service, read, count)
        self.rebuilt.events[service] = self.rebuilt.events.get(service, 0) + read
        self.rebuilt.entries += entries


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
    filed = _file_alone(os.environ[_URL_VARIABLE], sys.argv[1], int(sys.argv[2]))
    print(*filed)
