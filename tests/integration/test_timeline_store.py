"""The timeline's table on a real PostgreSQL: an event stored by an older schema version comes
back upcast (never skipped), filing one twice stores it once, and an unknown incident is None."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack, closing
from uuid import uuid4

import psycopg
import pytest

from services.timeline.entries import Filing
from services.timeline.rebuild import rebuild
from services.timeline.store import TimelineStore, create_table
from shared.events import encode
from shared.events.common import Actor
from shared.events.community import MessagePosted
from shared.events.intake import IncidentOpened, ReportLinked, ReportReceived
from shared.settings import DatabaseSettings
from tests.integration.pipeline import service_app
from tests.unit.test_contract import TEST_CODEC, CasualtiesCounted, CasualtiesCountedV1


@pytest.fixture
async def store(database: DatabaseSettings) -> AsyncIterator[TimelineStore]:
    with psycopg.connect(database.url) as conn:
        create_table(conn)
    timeline = TimelineStore(database.url, codec=TEST_CODEC)
    await timeline.open()
    yield timeline
    await timeline.close()


async def test_an_event_of_an_older_schema_version_is_upcast_and_one_filed_twice_is_stored_once(
    store: TimelineStore,
) -> None:
    incident = uuid4()
    old = CasualtiesCountedV1(originator_id=incident, originator_version=1, incident_id=incident, casualties=3)
    new = CasualtiesCounted(originator_id=incident, originator_version=2, incident_id=incident, injured=1)
    filing = Filing()
    entries = [*filing.file(encode(old), "intake", 1), *filing.file(encode(new), "intake", 2)]
    await store.insert(entries)
    await store.insert(entries)  # a redelivered batch
    events = await store.events_of(incident)
    assert events is not None
    assert [(type(e).__name__, e.unknown, e.injured) for e in events] == [  # type: ignore[attr-defined]
        ("CasualtiesCounted", 3, 0),
        ("CasualtiesCounted", 0, 1),
    ]
    page = await store.page(incident)
    assert [e.type for e in page.entries] == ["test.casualties_counted", "test.casualties_counted.v2"]
    only_new = await store.page(incident, types=["test.casualties_counted"])
    assert len(only_new.entries) == 2  # a type's family holds all its versions
    assert await store.events_of(uuid4()) is None
    assert await store.events_of(incident, until=old.recorded_at.replace(year=2000)) == []


def test_a_rebuild_filed_by_worker_processes_in_pieces_is_the_rebuild_filed_here(database: DatabaseSettings) -> None:
    """The logs of a few incidents (a report waiting for its link, community and broadcast events)
    rebuilt twice: in this process alone, then cut into pieces of three positions for workers."""
    incidents = [uuid4() for _ in range(4)]
    with ExitStack() as stack:
        logs = {name: stack.enter_context(closing(service_app(name, database))) for name in ("intake", "community")}
        for n, incident in enumerate(incidents):
            report = uuid4()
            logs["intake"].record(
                ReportReceived(
                    originator_id=report,
                    originator_version=1,
                    channel="web",
                    sender=f"p_{n}",
                    channel_message_id=str(n),
                    receipt=f"R-{n}",
                )
            )
            logs["intake"].record(
                IncidentOpened(
                    originator_id=incident,
                    originator_version=1,
                    incident_id=incident,
                    disaster_type="fire",
                    severity="severe",
                    title="불",
                )
            )
            logs["intake"].record(
                ReportLinked(
                    originator_id=report,
                    originator_version=2,
                    incident_id=incident,
                    report_id=report,
                    reporter=f"p_{n}",
                    by=Actor("system", "intake"),
                )
            )
            for m in range(5):
                logs["community"].record(
                    MessagePosted(
                        originator_id=incident,
                        originator_version=m + 1,
                        incident_id=incident,
                        author="operator:alice",
                        text=f"{n}-{m}",
                    )
                )
    with psycopg.connect(database.url) as conn:
        create_table(conn)
    alone = rebuild(database.url, ("intake", "community"), workers_from=10**9)
    here = _rows(database.url)
    shared = rebuild(database.url, ("intake", "community"), workers_from=0, piece=3)
    assert shared.events == alone.events and shared.entries == alone.entries
    assert _rows(database.url) == here
    assert {row[0] for row in here} >= set(incidents)
    assert sum(1 for row in here if row[3] == "intake.report_received") == len(incidents)  # each under its incident


def _rows(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT incident_id, service, position, type, actor, event FROM timeline_entries ORDER BY 1, 2, 3"
        ).fetchall()
