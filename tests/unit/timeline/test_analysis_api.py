"""The analysts' state and figures over HTTP, on the fire's story served by a fake event source."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.testing import TestClient

from services.timeline.api.analysis import AnalysisController, Clock
from shared.auth import Role, issue_token
from shared.events import Event
from shared.problems import problem_handlers
from shared.webauth import claims_dependency
from tests.unit.timeline.test_state import SEALED, Story, cut

SECRET = b"timeline-analysis-unit-test-secret-0123"


@dataclass
class FakeTimeline:
    """The store's promise: an incident's events cut at ``until`` on ``clock``, in recorded order."""

    incidents: dict[UUID, list[Event]]
    asked: list[tuple[UUID, datetime | None, Clock]] = field(default_factory=list)

    async def events_of(
        self, incident_id: UUID, *, until: datetime | None = None, clock: Clock = "recorded"
    ) -> list[Event] | None:
        self.asked.append((incident_id, until, clock))
        events = self.incidents.get(incident_id)
        if events is None:
            return None
        return cut(events, until, clock) if until is not None else sorted(events, key=lambda e: e.recorded_at)


@pytest.fixture
def story() -> Story:
    return Story()


@pytest.fixture
def timeline(story: Story) -> FakeTimeline:
    return FakeTimeline({story.incident: story.events})


@pytest.fixture
def client(timeline: FakeTimeline) -> Iterator[TestClient[Litestar]]:
    app = Litestar(
        [AnalysisController],
        state=State({"secret_key": SECRET}),
        dependencies={"claims": claims_dependency, "timeline": Provide(lambda: timeline, sync_to_thread=False)},
        exception_handlers=problem_handlers(),
    )
    with TestClient(app) as client:
        yield client


def bearer(role: Role = Role.ANALYST, subject: str = "hana") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject, role, ttl_s=600)}"}


def state(client: TestClient[Litestar], story: Story, **params: str) -> Any:
    answer = client.get(f"/incidents/{story.incident}/state", params=params, headers=bearer())
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_analyst_replays_the_incident_before_it_after_the_invitations_and_after_closing(
    client: TestClient[Litestar], story: Story
) -> None:
    before = state(client, story, at="2026-11-25T13:59:00+09:00")
    waiting = state(client, story, at="2026-11-25T14:00:30+09:00")
    closed = state(client, story, at="2026-11-25T15:30:00+09:00")

    assert (before["state"]["exists"], before["state"]["reports"], before["state"]["community"]) == (False, [], None)
    assert waiting["state"]["community"]["outstanding"] == ["EXP-001", "EXP-012"]
    assert waiting["state"]["incident"]["status"] == "open"
    assert closed["state"]["incident"]["status"] == "closed"
    assert closed["state"]["community"]["outstanding"] == []
    assert (closed["incident_id"], closed["at"], closed["clock"]) == (
        str(story.incident),
        "2026-11-25T15:30:00+09:00",
        "recorded",
    )
    assert SEALED not in str(closed)


def test_as_it_happened_shows_a_report_the_room_did_not_know_of_yet(
    client: TestClient[Litestar], story: Story, timeline: FakeTimeline
) -> None:
    happened = state(client, story, at="2026-11-25T14:05:00+09:00", clock="occurred")
    known = state(client, story, at="2026-11-25T14:05:00+09:00", clock="recorded")

    assert [r["report_id"] for r in happened["state"]["reports"]] == [str(story.r1), str(story.r2)]
    assert [r["report_id"] for r in known["state"]["reports"]] == [str(story.r1)]
    assert [clock for _, _, clock in timeline.asked] == ["occurred", "recorded"]


def test_without_a_time_the_state_is_now_as_recorded(
    client: TestClient[Litestar], story: Story, timeline: FakeTimeline
) -> None:
    started = datetime.now().astimezone()

    now = state(client, story)

    assert timeline.asked == [(story.incident, None, "recorded")]
    assert datetime.fromisoformat(now["at"]) >= started
    assert now["state"]["incident"]["status"] == "closed"


def test_a_plus_sign_left_unencoded_in_the_time_still_reads_as_the_offset(
    client: TestClient[Litestar], story: Story, timeline: FakeTimeline
) -> None:
    answer = client.get(f"/incidents/{story.incident}/state?at=2026-11-25T14:00:30+09:00", headers=bearer())

    assert answer.status_code == 200, answer.text
    [(_, until, _)] = timeline.asked
    assert until is not None and until.isoformat() == "2026-11-25T14:00:30+09:00"


def test_the_figures_say_how_fast_the_seats_were_filled_and_who_never_saw_the_room_message(
    client: TestClient[Litestar], story: Story
) -> None:
    answer = client.get(f"/incidents/{story.incident}/figures", headers=bearer())

    assert answer.status_code == 200
    figures = answer.json()
    assert figures["incident_id"] == str(story.incident)
    assert figures["milestones"]["report_to_seats_filled_s"] == 1200.0
    room = next(m for m in figures["messages"] if m["message_id"] == str(story.fan_out))
    assert room["never_acknowledged"] == ["citizen:p_reporterone", "department:DO-11380", "expert:EXP-020"]
    assert figures["invitations"]["timed_out"] == 1


@pytest.mark.parametrize("route", ["state", "figures"])
def test_an_unknown_incident_is_a_404_naming_it(client: TestClient[Litestar], route: str) -> None:
    unknown = uuid4()

    answer = client.get(f"/incidents/{unknown}/{route}", headers=bearer())

    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert str(unknown) in answer.json()["title"]


@pytest.mark.parametrize(
    ("params", "named", "says"),
    [
        ({"at": "yesterday"}, "at", "ISO 8601"),
        ({"at": "2026-11-25T14:03:00"}, "at", "offset"),
        ({"at": "2026-13-45T14:03:00+09:00"}, "at", "ISO 8601"),
        ({"clock": "wall"}, "clock", ""),
    ],
)
def test_a_malformed_time_or_clock_is_a_400_naming_the_field(
    client: TestClient[Litestar], story: Story, timeline: FakeTimeline, params: dict[str, str], *, named: str, says: str
) -> None:
    answer = client.get(f"/incidents/{story.incident}/state", params=params, headers=bearer())

    assert answer.status_code == 400
    problem = answer.json()
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert problem["detail"].startswith(f"{named}:") and says in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == [named]
    assert timeline.asked == []


def test_only_analysts_and_admins_read_the_analysis(client: TestClient[Litestar], story: Story) -> None:
    path = f"/incidents/{story.incident}/figures"

    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer(Role.OPERATOR, "alice")).status_code == 403
    assert client.get(path, headers=bearer(Role.EXPERT, "EXP-001")).status_code == 403
    assert client.get(path, headers=bearer(Role.DEPARTMENT, "FS-11380")).status_code == 403
    assert client.get(path, headers=bearer(Role.ANALYST, "hana")).status_code == 200
    assert client.get(path, headers=bearer(Role.ADMIN, "root")).status_code == 200
