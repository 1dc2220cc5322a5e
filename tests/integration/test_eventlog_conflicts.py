"""The event log keeps working after the conflicts it expects: a version clash or a tracking clash
fails that one write, and the next writes on the same connections go through."""

from __future__ import annotations

import dataclasses
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from shared.events import ProbeSent
from shared.settings import DatabaseSettings
from tests.integration.pipeline import service_app


def probe(stream: object = None, version: int = 1) -> ProbeSent:
    return ProbeSent(originator_id=stream or uuid4(), originator_version=version)  # type: ignore[arg-type]


def test_writes_go_on_after_version_and_tracking_conflicts_on_one_connection(database: DatabaseSettings) -> None:
    one_connection = dataclasses.replace(database, pool_size=1)
    app = service_app("conflicts", one_connection)
    for n in range(10):  # often enough for a driver to start preparing the statements
        app.record(probe(), trackings=[Tracking("upstream/c", n + 1)])
    taken = probe()
    app.record(taken)
    for _ in range(3):
        with pytest.raises(IntegrityError):
            app.record(probe(taken.originator_id))  # the same stream and version again
        with pytest.raises(IntegrityError):
            app.record(probe(), trackings=[Tracking("upstream/c", 1)])  # processed already
        app.record(probe(), probe())  # and the log goes on
    assert app.recorder.max_notification_id() >= 10 + 1 + 3 * 2
