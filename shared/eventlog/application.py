"""The base of each service's eventsourcing Application: contract events, its own tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import ProcessRecorder, Recording, Tracking
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import get_topic

from shared.eventlog.mapper import EventMapper
from shared.eventlog.recorders import MultiTrackingPOPORecorder, MultiTrackingPostgresRecorder
from shared.events import Event, utc_now

__all__ = ["TABLE_DEFAULTS", "ServiceApplication"]

# Set for every service's tables. Tables are created once by `jikimi migrate` (concurrent
# creation races), multi-row tracking lets consumer instances commit out of order, and the
# library's DB-function insert path would skip our tracking records, so it stays off.
TABLE_DEFAULTS: dict[str, str] = {
    "CREATE_TABLE": "n",
    "SINGLE_ROW_TRACKING": "n",
    "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
    "POSTGRES_LOCK_TIMEOUT": "5",
    "PROCESS_RECORDER_TOPIC": get_topic(MultiTrackingPostgresRecorder),
}


class ServiceApplication(Application[UUID]):
    """One service's system of record: its events in ``<name>_events``, the upstream events
    it has processed in ``<name>_tracking``. Subclasses set ``name`` and add use cases."""

    name = "service"
    env: ClassVar[dict[str, str]] = dict(TABLE_DEFAULTS)

    def construct_mapper(self) -> EventMapper:
        return EventMapper()

    def construct_recorder(self) -> ProcessRecorder:
        if isinstance(self.factory, PostgresFactory):
            # No server-side prepared statements: after a failed insert in the library's pipeline
            # (a version or tracking conflict, which we expect and retry), psycopg can go on using
            # a statement the server dropped ("prepared statement _pg3_4 does not exist") and the
            # next insert on that connection fails. Seen in broadcast, where several loops record
            # at once; the cost is a parse per statement. Set before the recorder opens the pool,
            # so its first connections have it too.
            self.factory.datastore.pool.kwargs["prepare_threshold"] = None  # type: ignore[index]
            return self.factory.process_recorder()
        return MultiTrackingPOPORecorder()

    @property
    def service(self) -> str:
        """The service name that events carry and subjects start with."""
        return self.name.lower()

    def record(self, *events: Event, trackings: Sequence[Tracking] = ()) -> list[Recording[UUID]]:
        """Commit ``events`` (stamped with this service and the time of recording) and the
        ``trackings`` of the upstream events that caused them, in one transaction."""
        now = utc_now()
        stamped = [msgspec.structs.replace(e, service=self.service, recorded_at=now) for e in events]
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        # Our events are events, never aggregates: skip collect_events' runtime protocol checks.
        processing.events.extend(stamped)
        processing.saved_kwargs["trackings"] = list(trackings)
        recordings = self._record(processing)
        self._notify(recordings)
        return recordings

    def get_stream(self, originator_id: UUID) -> list[Event]:
        """Every event of one aggregate, in order."""
        events: Iterable[Any] = self.events.get(originator_id)
        return list(events)
