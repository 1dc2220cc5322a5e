"""Process recorders that commit several tracking records with the new events.

The library's process recorder takes one ``tracking`` per transaction. A consumer that
handles a batch of upstream events commits one tracking record per upstream event, so that
each redelivered event is recognised on its own. With several consumer instances sharing a
durable consumer, events of one upstream service arrive out of order, so tracking is
multi-row (primary key ``application_name, notification_id``), not the single-row default.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.popo import POPOProcessRecorder
from eventsourcing.postgres import PostgresProcessRecorder
from psycopg import Cursor, sql
from psycopg.rows import DictRow

__all__ = ["MultiTrackingPOPORecorder", "MultiTrackingPostgresRecorder", "is_tracking_conflict"]

_CHUNK = 1000
"""Events per insert statement (about 1 MB at most): see ``_insert_stored_events``."""


class MultiTrackingPostgresRecorder(PostgresProcessRecorder):
    """Inserts every ``trackings=[…]`` record in the same transaction as the events, and sends
    the events in binary."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The events go as one array of the library's composite type. In text, psycopg escapes
        # every byte of every event in Python: three quarters of a 10,000-event commit (1.2 s);
        # in binary it is copied (0.3 s).
        text = self.insert_events_statement.as_string()
        self.insert_events_statement = sql.Composed([sql.SQL(text.replace("%s::", "%b::", 1))])

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        trackings: Sequence[Tracking] = kwargs.get("trackings", ())
        if trackings:
            # The library inserts tracking one row per statement; a batch's rows go in one statement
            # (executemany inside the library's pipeline would report a conflict as "pipeline aborted").
            self._check_has_multi_row_tracking_table(curs)
            curs.execute(
                self._insert_trackings_statement,
                ([t.application_name for t in trackings], [t.notification_id for t in trackings]),
                prepare=True,
            )
        super()._insert_events(curs, stored_events, **kwargs)

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        # The library sends all events as one array parameter inside a psycopg pipeline; past a few
        # thousand events (a few MB) the pipeline stops sending half-way and waits for an answer the
        # server cannot give (it is still reading): the insert hangs. So large batches go in chunks,
        # each sent and answered before the next, all in the same transaction.
        chunks = [stored_events[i : i + _CHUNK] for i in range(0, len(stored_events), _CHUNK)] or [stored_events]
        earlier: list[int] = []
        for chunk in chunks[:-1]:
            super()._insert_stored_events(curs, chunk, **kwargs)
            with curs.connection.pipeline() as pipeline:  # the library's, already open (nested: the same one)
                pipeline.sync()  # send this chunk and read its ids before the next
            earlier += [row["notification_id"] for row in curs.fetchall()]
        self._earlier_ids.ids = earlier
        super()._insert_stored_events(curs, chunks[-1], **kwargs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        earlier: list[int] = getattr(self._earlier_ids, "ids", [])
        if not earlier:
            return super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        self._earlier_ids.ids = []
        last = super()._fetch_ids_after_insert_events(curs, stored_events[len(earlier) :], **kwargs) or []
        return [*earlier, *last]

    @functools.cached_property
    def _earlier_ids(self) -> threading.local:
        return threading.local()  # each thread inserts on its own connection

    def tracked(self, trackings: Sequence[Tracking]) -> set[Tracking]:
        """Which of ``trackings`` are recorded (the library only answers "up to which id")."""
        if not trackings:
            return set()
        query = sql.SQL(
            "SELECT application_name, notification_id FROM {0}.{1} "
            "WHERE (application_name, notification_id) IN (SELECT * FROM unnest(%s::text[], %s::bigint[]))"
        ).format(sql.Identifier(self.datastore.schema), sql.Identifier(self.tracking_table_name))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query, ([t.application_name for t in trackings], [t.notification_id for t in trackings]))
            return {Tracking(row["application_name"], row["notification_id"]) for row in curs.fetchall()}

    @property
    def _insert_trackings_statement(self) -> sql.Composed:
        return sql.SQL("INSERT INTO {0}.{1} SELECT * FROM unnest(%s::text[], %s::bigint[])").format(
            sql.Identifier(self.datastore.schema), sql.Identifier(self.tracking_table_name)
        )


class MultiTrackingPOPORecorder(POPOProcessRecorder):
    """The in-memory twin, for unit tests: a set of (application, notification id) pairs."""

    def __init__(self) -> None:
        super().__init__()
        self._tracked: set[tuple[str, int]] = set()

    def _assert_uniqueness(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        # Tracking first, as in PostgreSQL, so a redelivery is told apart from a write conflict.
        trackings: Sequence[Tracking] = kwargs.get("trackings", ())
        keys = [(t.application_name, t.notification_id) for t in trackings]
        if len(set(keys)) != len(keys) or self._tracked.intersection(keys):
            msg = f"already tracked: {sorted(self._tracked.intersection(keys))}"
            raise IntegrityError(msg)
        super()._assert_uniqueness(stored_events, **kwargs)

    def _update_table(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        ids = super()._update_table(stored_events, **kwargs)
        for t in kwargs.get("trackings", ()):
            self._tracked.add((t.application_name, t.notification_id))
            self._insert_tracking(t)
        return ids

    def tracked(self, trackings: Sequence[Tracking]) -> set[Tracking]:
        """Which of ``trackings`` are recorded."""
        return {t for t in trackings if (t.application_name, t.notification_id) in self._tracked}


def is_tracking_conflict(error: IntegrityError) -> bool:
    """True when ``error`` says an upstream event was already processed (a tracking row
    exists), False when it is another conflict (e.g. two writers on one aggregate)."""
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    if diag is not None:
        return str(getattr(diag, "table_name", "") or "").endswith("_tracking")
    return "already tracked" in str(error)
