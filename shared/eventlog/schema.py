"""Creating every service's tables once, before any service starts."""

from __future__ import annotations

from collections.abc import Iterable

from eventsourcing.persistence import ProcessRecorder
from eventsourcing.postgres import PostgresFactory, PostgresTrackingRecorder
from eventsourcing.utils import Environment

from shared.eventlog.application import TABLE_DEFAULTS
from shared.settings import DatabaseSettings, database_env

__all__ = ["create_tables", "relay_factory", "service_factory"]


def service_factory(service: str, database: DatabaseSettings, *, create_table: bool = False) -> PostgresFactory:
    """The eventsourcing factory for one service's own tables (``<service>_events`` …)."""
    env = {**TABLE_DEFAULTS, **database_env(database), "CREATE_TABLE": "y" if create_table else "n"}
    return PostgresFactory(Environment(service.upper(), env))


def relay_factory(service: str, database: DatabaseSettings, *, create_table: bool = False) -> PostgresFactory:
    """The factory for a relay's position table (``<service>_relay_tracking``, single-row)."""
    env = {
        **database_env(database),
        "SINGLE_ROW_TRACKING": "y",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "CREATE_TABLE": "y" if create_table else "n",
    }
    return PostgresFactory(Environment(f"{service.upper()}_RELAY", env))


def create_tables(services: Iterable[str], database: DatabaseSettings) -> None:
    """Create (if missing) each service's event, tracking and relay tables, one at a time."""
    for service in services:
        with service_factory(service, database, create_table=True) as factory:
            recorder: ProcessRecorder = factory.process_recorder()
            assert recorder is not None
        with relay_factory(service, database, create_table=True) as factory:
            position: PostgresTrackingRecorder = factory.tracking_recorder()
            assert position is not None
