"""jikimi whatif against a real deployment: a fire played through real intake and community
processes (reported, experts invited, one declining and the next accepting, closed), then the
command run as a subprocess with a policy that wants two fire experts instead of one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import psycopg
import pytest
from eventsourcing.persistence import PersistenceError
from psycopg import sql

from jikimi.whatif.inputs import open_read_only
from shared.auth import Role, issue_token
from shared.eventlog.application import ServiceApplication
from shared.events import CODEC, Event, ProbeEchoed
from shared.events.community import CommunityClosed, InvitationAccepted, MemberInvited
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.pipeline import service_app
from tests.integration.services import ROOT, SECRET_KEY, service_process

TWO_FIRE_EXPERTS = ROOT / "tests" / "data" / "whatif-two-fire-experts.toml"
UNKNOWN_FIELD = ROOT / "tests" / "data" / "whatif-unknown-field.toml"


def bearer(role: Role, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET_KEY.encode(), subject, role, ttl_s=600)}"}


def incident_events(app: ServiceApplication, incident_id: UUID) -> list[Event]:
    events = [CODEC.decode(n.state) for n in app.recorder.select_notifications(0, 100_000)]
    return [e for e in events if e.incident_id == incident_id]


def wait_for(
    app: ServiceApplication, incident_id: UUID, found: Callable[[list[Event]], bool], what: str
) -> list[Event]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = incident_events(app, incident_id)
        if found(events):
            return events
        time.sleep(0.1)
    raise AssertionError(f"community did not record {what} within 20 s")


def invitations(events: list[Event]) -> list[str]:
    return [e.expert_id for e in events if isinstance(e, MemberInvited)]


def row_counts(database: DatabaseSettings) -> dict[str, int]:
    """Rows in every table of the deployment's database."""
    with psycopg.connect(database.url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
            )
        ]
        counts = {}
        for table in tables:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
            counts[table] = row[0] if row else 0
        return counts


def jikimi_whatif(database: DatabaseSettings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JIKIMI_DATABASE_URL": database.url}
    return subprocess.run(
        [sys.executable, "-m", "jikimi", "whatif", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def play_a_fire(database: DatabaseSettings, nats_url: str) -> tuple[UUID, str, str]:
    """A fire in Mapo through real intake and community: the first expert declines after a moment,
    the next accepts, the operator closes it. Returns the incident and the two experts."""
    community = service_app("community", database)
    with (
        service_process("community", database, nats_url) as community_url,
        service_process("intake", database, nats_url) as intake_url,
        httpx.Client(base_url=intake_url, timeout=10) as intake,
        httpx.Client(base_url=community_url, timeout=10) as communities,
    ):
        report = intake.post(
            "/reports",
            json={
                "text": "마포구 합정동 빌라에서 불이 났어요 연기가 많이 나요",
                "reporter": str(uuid4()),
                "location": {"lat": 37.5495, "lon": 126.9139},
            },
        )
        incident_id = UUID(report.json()["incident_id"])
        [first] = invitations(wait_for(community, incident_id, invitations, "an invitation"))
        time.sleep(1.0)  # an answer a moment after the invitation, so delays are measurable
        path = f"/communities/{incident_id}/invitations"
        declined = communities.post(
            f"{path}/{first}/decline", json={"reason": "off duty"}, headers=bearer(Role.EXPERT, first)
        )
        assert declined.status_code == 200, declined.text
        [_, second] = invitations(wait_for(community, incident_id, lambda e: len(invitations(e)) == 2, "a refill"))
        time.sleep(1.0)
        accepted = communities.post(f"{path}/{second}/accept", headers=bearer(Role.EXPERT, second))
        assert accepted.status_code == 200, accepted.text
        wait_for(community, incident_id, lambda e: any(isinstance(x, InvitationAccepted) for x in e), "the accept")
        closing = intake.post(
            f"/incidents/{incident_id}/close", json={"outcome": "resolved"}, headers=bearer(Role.OPERATOR, "alice")
        )
        assert closing.status_code == 200, closing.text
        wait_for(community, incident_id, lambda e: any(isinstance(x, CommunityClosed) for x in e), "the close")
    community.close()
    return incident_id, first, second


def test_whatif_shows_a_fire_under_a_two_expert_policy_beside_the_record_and_writes_nothing(
    database: DatabaseSettings, nats_settings: NatsSettings
) -> None:
    incident_id, first, second = play_a_fire(database, nats_settings.url)
    before = row_counts(database)

    ran = jikimi_whatif(database, "--incident", str(incident_id), "--policy", str(TWO_FIRE_EXPERTS), "--format", "json")
    text = jikimi_whatif(database, "--incident", str(incident_id), "--policy", str(TWO_FIRE_EXPERTS))

    assert ran.returncode == 0, ran.stderr
    assert row_counts(database) == before, "the what-if wrote to the deployment's tables"
    result: dict[str, Any] = json.loads(ran.stdout)
    assert result["policy_recorded"] == ["2026-11-25.1"]
    assert result["policy_whatif"] == "test.two-fire-experts"
    [fire] = [s for s in result["seats"] if s["field"] == "fire"]
    assert (fire["recorded"]["count"], fire["whatif"]["count"]) == (1, 2)
    recorded = {i["expert_id"]: i for i in fire["recorded"]["invited"]}
    assert [recorded[first]["outcome"], recorded[second]["outcome"]] == ["declined", "accepted"]
    whatif = {i["expert_id"]: i for i in fire["whatif"]["invited"]}
    # Both recorded experts are asked under this policy too, at once, and answer as they did,
    # as long after their invitation as they did.
    for expert in (first, second):
        assert whatif[expert]["answer"] == "as_recorded"
        assert whatif[expert]["invited_after_s"] == 0.0
        delay = recorded[expert]["outcome_after_s"] - recorded[expert]["invited_after_s"]
        assert abs(whatif[expert]["outcome_after_s"] - delay) < 0.01
    assert whatif[second]["outcome"] == "accepted"
    # The what-if asks the next in line for the seat's second place, who has no recorded answer.
    newcomers = [i for i in fire["whatif"]["invited"] if i["expert_id"] not in recorded]
    assert newcomers
    assert all(i["note"].startswith("would have been asked; no recorded answer") for i in newcomers)
    assert result["asked_only_whatif"] == [i["expert_id"] for i in newcomers]
    assert result["filled_after_s_recorded"] == fire["recorded"]["filled_after_s"] > 0
    assert result["filled_after_s_whatif"] is None  # nobody assumed to answer: the second place never fills

    assert text.returncode == 0, text.stderr
    assert "Seat fire: recorded 1 expert within 15 min | what-if 2 experts within 15 min" in text.stdout
    assert "recorded vs never what-if." in text.stdout
    assert row_counts(database) == before


def test_the_logs_the_what_if_reads_refuse_to_be_written(database: DatabaseSettings) -> None:
    service_app("community", database).close()  # the tables exist
    [community] = open_read_only(["community"], database)
    try:
        with pytest.raises(PersistenceError, match="read-only transaction"):
            community.record(ProbeEchoed(originator_id=uuid4(), originator_version=1))
    finally:
        community.close()


def test_whatif_refuses_a_bad_policy_file_with_exit_code_2_naming_the_problem(database: DatabaseSettings) -> None:
    ran = jikimi_whatif(database, "--incident", str(uuid4()), "--policy", str(UNKNOWN_FIELD))

    assert ran.returncode == 2
    assert "seats.field 'firefighting' is not a field of expertise" in ran.stderr
    assert str(UNKNOWN_FIELD) in ran.stderr
    missing = jikimi_whatif(database, "--incident", str(uuid4()), "--policy", str(Path("no-such-policy.toml")))
    assert missing.returncode == 2


def test_whatif_of_an_incident_nobody_opened_says_so(database: DatabaseSettings) -> None:
    unknown = uuid4()
    ran = jikimi_whatif(database, "--incident", str(unknown), "--policy", str(TWO_FIRE_EXPERTS))

    assert ran.returncode == 1
    assert f"no incident {unknown}" in ran.stderr
