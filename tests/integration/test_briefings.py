"""Department briefings across intake, community and broadcast as real processes: a reported
fire gets an Initial report for its district's fire station, and an operator's escalation an
Update naming the new severity for the departments then engaged, the police among them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from shared.eventlog.application import ServiceApplication
from shared.events import CODEC, Event
from shared.events.broadcast import BriefingIssued, DeliveryAttempted, DeliveryRequested
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.pipeline import service_app
from tests.integration.services import service_process
from tests.integration.test_community_assembly import token

# 금천구 독산동: a district no other integration test reports a fire in, so this fire opens its own incident.
WHERE = (37.4600, 126.9000)
FIRE_STATION = "FS-11545"
POLICE = "POLICE-SEOUL"


@pytest.fixture(scope="module")
def three_services(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[tuple[str, str]]:
    env = {"JIKIMI_BRIEFING_DEBOUNCE_S": "1"}
    with (
        service_process("community", database, nats_settings.url, env),
        service_process("broadcast", database, nats_settings.url, env) as broadcast,
        service_process("intake", database, nats_settings.url, env) as intake,
    ):
        yield intake, broadcast


def broadcast_events(app: ServiceApplication, incident_id: UUID) -> list[Event]:
    events = [CODEC.decode(n.state) for n in app.recorder.select_notifications(0, 1_000_000)]
    return [e for e in events if e.incident_id == incident_id]


def wait_until(find: Callable[[], Any], what: str, until: float = 30.0) -> Any:
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        if found := find():
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {until} s: {what}")


def test_a_reported_fire_is_briefed_to_its_fire_station_and_an_escalation_reaches_the_police(
    three_services: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, broadcast_url = three_services
    broadcast = service_app("broadcast", database)
    with httpx.Client(base_url=intake_url, timeout=10) as intake:
        report = intake.post(
            "/reports",
            json={
                "text": "금천구 독산동 창고 쓰레기통에서 불이 났어요",
                "reporter": str(uuid4()),
                "location": {"lat": WHERE[0], "lon": WHERE[1]},
            },
        )
        assert report.status_code in {200, 201}, report.text
        incident_id = UUID(report.json()["incident_id"])

        def reports() -> list[BriefingIssued]:
            return [e for e in broadcast_events(broadcast, incident_id) if isinstance(e, BriefingIssued)]

        [initial, *_] = wait_until(reports, "an Initial briefing")
        assert initial.version == "Initial"
        assert initial.sitrep.body.situation.disaster_type == "fire"
        assert initial.sitrep.body.situation.district == "금천구"
        assert FIRE_STATION in initial.recipients
        assert POLICE not in initial.recipients
        requested = [
            e
            for e in broadcast_events(broadcast, incident_id)
            if isinstance(e, DeliveryRequested) and e.causation_id == initial.id
        ]
        to_station = next(d for d in requested if d.recipient == FIRE_STATION)
        assert (to_station.kind, to_station.channel) == ("briefing", "webhook")
        assert "금천구" in to_station.text and "화재" in to_station.text
        # The sender takes it up on whatever webhook adapter is configured (here none reaches
        # briefing.example.org): the attempt is recorded either way.
        wait_until(
            lambda: [
                e
                for e in broadcast_events(broadcast, incident_id)
                if isinstance(e, DeliveryAttempted) and e.originator_id == to_station.originator_id
            ],
            "the sender attempting the fire station's briefing",
        )

        escalated = intake.post(
            f"/incidents/{incident_id}/escalate",
            json={"severity": "severe", "reason": "인접 건물로 확산"},
            headers=token("operator", "alice"),
        )
        assert escalated.status_code == 200, escalated.text

    def update_naming_severe() -> list[BriefingIssued]:
        return [
            r for r in reports() if r.version == "Update" and r.sitrep.severity == "severe" and POLICE in r.recipients
        ]

    [update, *_] = wait_until(update_naming_severe, "an Update for the police naming the new severity")
    assert any("심각(severe)" in change for change in update.sitrep.body.situation.changes)
    to_police = [
        e
        for e in broadcast_events(broadcast, incident_id)
        if isinstance(e, DeliveryRequested) and e.causation_id == update.id and e.recipient == POLICE
    ]
    assert to_police and "심각(severe)" in to_police[0].text

    with httpx.Client(base_url=broadcast_url, timeout=10) as client:
        path = f"/incidents/{incident_id}/briefings"
        listed = client.get(path, headers=token("department", POLICE))
        assert listed.status_code == 200, listed.text
        assert [r["version"] for r in listed.json()][:1] == ["Initial"]
        assert client.get(path, headers=token("department", "FS-11110")).status_code == 403
        page = client.get(f"{path}/{update.number}", headers={**token("operator", "alice"), "Accept": "text/html"})
        assert page.status_code == 200
        assert "심각(severe)" in page.text
