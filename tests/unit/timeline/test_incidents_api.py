"""The analysts' list of incidents opened in a range, over HTTP, on a fake store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4

import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.testing import TestClient

from services.timeline.api.incidents import IncidentsController
from shared.auth import Role, issue_token
from shared.problems import problem_handlers
from shared.webauth import claims_dependency

SECRET = b"timeline-incidents-unit-test-secret-012"
FIRE, FLOOD = uuid4(), uuid4()


@dataclass
class FakeOpenings:
    """The store's promise: the incidents whose opening occurred in [since, until), in that order."""

    opened: dict[UUID, datetime]
    asked: list[tuple[datetime, datetime]] = field(default_factory=list)

    async def opened_between(self, since: datetime, until: datetime) -> list[UUID]:
        self.asked.append((since, until))
        return [i for i, at in sorted(self.opened.items(), key=lambda pair: pair[1]) if since <= at < until]


@pytest.fixture
def client() -> Iterator[TestClient[Litestar]]:
    store = FakeOpenings(
        {
            FLOOD: datetime.fromisoformat("2026-11-25T16:00:00+09:00"),
            FIRE: datetime.fromisoformat("2026-11-25T14:00:00+09:00"),
        }
    )
    app = Litestar(
        [IncidentsController],
        state=State({"secret_key": SECRET}),
        dependencies={"claims": claims_dependency, "timeline": Provide(lambda: store, sync_to_thread=False)},
        exception_handlers=problem_handlers(),
    )
    with TestClient(app) as client:
        yield client


def bearer(role: Role = Role.ANALYST) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'hana', role, ttl_s=600)}"}


def test_an_analyst_lists_the_incidents_opened_in_a_range_in_the_order_they_opened(
    client: TestClient[Litestar],
) -> None:
    day = {"from": "2026-11-25T00:00:00+09:00", "to": "2026-11-26T00:00:00+09:00"}
    answer = client.get("/incidents", params=day, headers=bearer())
    assert answer.status_code == 200, answer.text
    assert [i["incident_id"] for i in answer.json()] == [str(FIRE), str(FLOOD)]
    afternoon = {"from": "2026-11-25T15:00:00+09:00", "to": "2026-11-25T18:00:00+09:00"}
    assert [i["incident_id"] for i in client.get("/incidents", params=afternoon, headers=bearer()).json()] == [
        str(FLOOD)
    ]


def test_a_range_without_offsets_backwards_or_too_long_is_refused_and_only_analysts_may_ask(
    client: TestClient[Litestar],
) -> None:
    for since, until in (
        ("2026-11-25T00:00:00", "2026-11-26T00:00:00+09:00"),
        ("2026-11-26T00:00:00+09:00", "2026-11-25T00:00:00+09:00"),
        ("2026-10-01T00:00:00+09:00", "2026-11-26T00:00:00+09:00"),
    ):
        answer = client.get("/incidents", params={"from": since, "to": until}, headers=bearer())
        assert answer.status_code == 400, (since, until, answer.text)
    day = {"from": "2026-11-25T00:00:00+09:00", "to": "2026-11-26T00:00:00+09:00"}
    assert client.get("/incidents", params=day, headers=bearer(Role.OPERATOR)).status_code == 403
    assert client.get("/incidents", params=day).status_code == 401
