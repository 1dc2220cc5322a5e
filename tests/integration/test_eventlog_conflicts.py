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


def test_a_batch_of_thousands_of_events_commits_whole_or_not_at_all(database: DatabaseSettings) -> None:
    """One alert to a district's 10,000 subscribers is one transaction of 10,000 requests: it goes
    in whole, with every notification id, or — when one of them clashes — not at all."""
    app = service_app("bigbatch", database)
    before = app.recorder.max_notification_id() or 0
    recordings = app.record(*(probe() for _ in range(10_000)), trackings=[Tracking("upstream/big", 1)])
    ids = [r.notification.id for r in recordings]
    assert len(ids) == 10_000
    assert ids == sorted(ids)
    assert ids[-1] == app.recorder.max_notification_id()
    assert len(app.recorder.select_notifications(before, 20_000, inclusive_of_start=False)) == 10_000

    taken = probe()
    app.record(taken)
    clash = [*(probe() for _ in range(2_500)), probe(taken.originator_id)]  # the clash is in the last chunk
    with pytest.raises(IntegrityError):
        app.record(*clash)
    assert app.recorder.max_notification_id() == ids[-1] + 1  # none of the 2,500 others went in
