"""An incident opened in intake assembles its community in the community service: two real
processes, the shared stream between them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from uuid import UUID, uuid4

import httpx
import pytest

from shared.eventlog.application import ServiceApplication
from shared.events import CODEC, Event
from shared.events.community import CommunityAssembled, MemberInvited, ReporterJoined
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.pipeline import service_app
from tests.integration.services import service_process


@pytest.fixture(scope="module")
def intake_with_community(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[str]:
    with (
        service_process("community", database, nats_settings.url),
        service_process("intake", database, nats_settings.url) as intake,
    ):
        yield intake


def community_events(app: ServiceApplication, incident_id: UUID) -> list[Event]:
    events = [CODEC.decode(n.state) for n in app.recorder.select_notifications(0, 100_000)]
    return [e for e in events if e.incident_id == incident_id]


def test_a_fire_reported_in_mapo_gets_a_community_with_invited_experts_and_its_reporter(
    intake_with_community: str, database: DatabaseSettings
) -> None:
    community = service_app("community", database)
    with httpx.Client(base_url=intake_with_community, timeout=10) as client:
        report = client.post(
            "/reports",
            json={
                "text": "마포구 합정동 빌라에서 불이 났어요 연기가 많이 나요",
                "reporter": str(uuid4()),
                "location": {"lat": 37.5495, "lon": 126.9139},
            },
        ).json()
    incident_id, report_id = UUID(report["incident_id"]), UUID(report["report_id"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = community_events(community, incident_id)
        if any(isinstance(e, ReporterJoined) and e.report_id == report_id for e in events):
            break
        time.sleep(0.1)
    [assembled] = [e for e in events if isinstance(e, CommunityAssembled)]
    assert assembled.disaster_type == "fire"
    assert assembled.district_code == "11440"
    invited = [e for e in events if isinstance(e, MemberInvited)]
    assert invited
    assert all(i.seat_field == "fire" for i in invited)
    # The fire may be one another report already opened: its reporter joins all the same, once.
    assert [e.report_id for e in events if isinstance(e, ReporterJoined)].count(report_id) == 1
