"""The timeline's table on a real PostgreSQL: an event stored by an older schema version comes
back upcast (never skipped), filing one twice stores it once, and an unknown incident is None."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import psycopg
import pytest

from services.timeline.entries import Filing
from services.timeline.store import TimelineStore, create_table
from shared.events import encode
from shared.settings import DatabaseSettings
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
