"""An analyst reads an incident's timeline, built live from the shared stream by the timeline
service, then rebuilt from zero from the event tables by ``jikimi replay`` while it runs: the
same entries, in the same order. Intake, community, broadcast and timeline as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.pipeline import service_app
from tests.integration.services import ROOT, all_services
from tests.integration.test_community_assembly import token
from tests.integration.test_rooms import Reported, report

ANALYST = token("analyst", "ann")


@pytest.fixture(scope="module")
def four(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[dict[str, str]]:
    with all_services(database, nats_settings.url) as urls:
        yield urls


@pytest.fixture(scope="module")
def fire(four: dict[str, str], database: DatabaseSettings) -> Reported:
    """A fire reported in Eunpyeong, its community assembled, and an operator's room message."""
    reported = report(
        four["intake"],
        service_app("community", database),
        "은평구 연신내역 앞 상가 2층에서 불이 났어요",
        (37.6190, 126.9210),
    )
    with httpx.Client(base_url=four["community"], timeout=10) as community:
        posted = community.post(
            f"/communities/{reported.incident_id}/room/messages",
            json={"text": "2층 계단 쪽 진입 가능"},
            headers=token("operator", "alice"),
        )
        assert posted.status_code == 201
    return reported


def whole_timeline(client: httpx.Client, incident_id: UUID, **params: Any) -> list[dict[str, Any]]:
    """Every entry, page after page."""
    entries: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = client.get(
            f"/incidents/{incident_id}/timeline",
            params={**params, **({"after": after} if after else {})},
            headers=ANALYST,
        )
        assert page.status_code == 200, page.text
        entries += page.json()["entries"]
        after = page.json()["next"]
        if after is None:
            return entries


def settled(client: httpx.Client, incident_id: UUID, *, until: set[str]) -> list[dict[str, Any]]:
    """The timeline once it holds an entry of each type in ``until`` and stopped growing."""
    deadline, last = time.monotonic() + 30, -1
    while time.monotonic() < deadline:
        entries = whole_timeline(client, incident_id, limit=1000)
        if until <= {e["type"] for e in entries} and len(entries) == last:
            return entries
        last = len(entries)
        time.sleep(0.5)
    raise AssertionError(
        f"the timeline did not settle: {sorted({e['type'] for e in whole_timeline(client, incident_id)})}"
    )


def test_an_analyst_reads_what_happened_in_order_with_both_times_and_who_acted(
    four: dict[str, str], fire: Reported
) -> None:
    with httpx.Client(base_url=four["timeline"], timeout=10) as timeline:
        entries = settled(
            timeline,
            fire.incident_id,
            until={
                "intake.report_received",
                "intake.incident_opened",
                "community.member_invited",
                "community.message_posted",
            },
        )
        types = [e["type"] for e in entries]
        # The citizen's report comes first although it named no incident until intake linked it.
        assert types.index("intake.report_received") < types.index("intake.incident_opened")
        assert types.index("intake.incident_opened") < types.index("community.community_assembled")
        assert types.index("community.community_assembled") < types.index("community.member_invited")
        order = [(e["recorded_at"], e["service"], e["position"]) for e in entries]
        assert order == sorted(order)
        assert all(e["occurred_at"] and e["summary"] for e in entries)
        [received] = [e for e in entries if e["type"] == "intake.report_received"]
        assert received["actor"].startswith("citizen:")
        # Linked, the report no longer waits among the unfiled ones.
        unfiled = timeline.get(f"/incidents/{UUID(int=0)}/timeline", params={"limit": 1000}, headers=ANALYST)
        assert unfiled.status_code == 404 or str(fire.report_id) not in {
            e["stream_id"] for e in unfiled.json()["entries"]
        }
        [posted] = [e for e in entries if e["type"] == "community.message_posted"]
        assert posted["actor"] == "operator:alice"
        assert "event" not in posted or posted["event"] is None

        # Filters: a type, a whole service, an actor; pages of 3 give the same entries.
        invited = whole_timeline(timeline, fire.incident_id, type="community.member_invited")
        assert {e["type"] for e in invited} == {"community.member_invited"}
        assert len(invited) == types.count("community.member_invited")
        broadcast = whole_timeline(timeline, fire.incident_id, type="broadcast")
        assert broadcast and all(e["service"] == "broadcast" for e in broadcast)
        assert whole_timeline(timeline, fire.incident_id, actor="operator:alice") == [posted]
        assert whole_timeline(timeline, fire.incident_id, limit=3) == entries
        since = posted["recorded_at"]
        assert whole_timeline(timeline, fire.incident_id, since=since)[0] == posted
        detailed = timeline.get(
            f"/incidents/{fire.incident_id}/timeline",
            params={"type": "community.message_posted", "include": "event"},
            headers=ANALYST,
        ).json()["entries"]
        assert detailed[0]["event"]["text"] == "2층 계단 쪽 진입 가능"


def test_only_analysts_read_it_and_bad_questions_get_clear_answers(four: dict[str, str], fire: Reported) -> None:
    path = f"/incidents/{fire.incident_id}/timeline"
    with httpx.Client(base_url=four["timeline"], timeout=10) as timeline:
        assert timeline.get(path).status_code == 401
        assert timeline.get(path, headers=token("operator", "alice")).status_code == 403
        assert timeline.get(path, headers=token("expert", fire.invited[0])).status_code == 403
        unknown = timeline.get(f"/incidents/{uuid4()}/timeline", headers=ANALYST)
        assert unknown.status_code == 404
        naive = timeline.get(path, params={"since": "2026-11-25T10:00:00"}, headers=ANALYST)
        assert naive.status_code == 400
        assert "since" in naive.text
        forged = timeline.get(path, params={"after": "bm90LWEtY3Vyc29y"}, headers=ANALYST)
        assert forged.status_code == 400
        assert "after" in forged.text
        too_many = timeline.get(path, params={"limit": 5000}, headers=ANALYST)
        assert too_many.status_code == 400


def test_replay_rebuilds_the_same_timeline_from_the_event_tables_while_the_service_runs(
    four: dict[str, str], fire: Reported, database: DatabaseSettings
) -> None:
    with httpx.Client(base_url=four["timeline"], timeout=10) as timeline:
        before = settled(timeline, fire.incident_id, until={"community.message_posted"})
        replayed = subprocess.run(
            [sys.executable, "-m", "jikimi", "replay"],
            env={**os.environ, "JIKIMI_DATABASE_URL": database.url},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert replayed.returncode == 0, replayed.stderr
        assert "replayed" in replayed.stdout
        assert "intake" in replayed.stdout
        assert "100%" in replayed.stderr  # the progress bar got to the end
        after = whole_timeline(timeline, fire.incident_id, limit=1000)
        assert after[: len(before)] == before


def test_an_analyst_sees_the_incident_as_it_stood_before_and_after_and_its_figures(
    four: dict[str, str], fire: Reported
) -> None:
    with httpx.Client(base_url=four["timeline"], timeout=10) as timeline:
        entries = settled(timeline, fire.incident_id, until={"community.message_posted"})
        [opened] = [e for e in entries if e["type"] == "intake.incident_opened"]
        [posted] = [e for e in entries if e["type"] == "community.message_posted"]
        path = f"/incidents/{fire.incident_id}/state"

        before = timeline.get(path, params={"at": "2020-01-01T00:00:00+09:00"}, headers=ANALYST)
        assert before.status_code == 200
        assert before.json()["state"]["exists"] is False

        at_opening = timeline.get(path, params={"at": opened["recorded_at"]}, headers=ANALYST).json()["state"]
        assert at_opening["exists"] is True
        assert at_opening["incident"]["disaster_type"] == "fire"
        assert at_opening["community"] is None  # not assembled yet at that moment

        now = timeline.get(path, headers=ANALYST).json()["state"]
        assert now["community"]["members"]
        assert {m["expert_id"] for m in now["community"]["members"]} >= set(fire.invited)
        assert [(r["report_id"], r["linked"]) for r in now["reports"]] == [(str(fire.report_id), True)]
        assert "불이 났어요" in now["reports"][0]["text"]
        assert now["counts"]["room_messages"] == 1
        assert posted["recorded_at"] <= timeline.get(path, headers=ANALYST).json()["at"]

        figures = timeline.get(f"/incidents/{fire.incident_id}/figures", headers=ANALYST).json()
        milestones = figures["milestones"]
        assert milestones["first_report_at"] <= milestones["opened_at"]
        # No channel is configured here: every invitation is undeliverable and the seat moves on.
        assert figures["invitations"]["invited"] == len(now["community"]["members"]) >= len(fire.invited)
        assert figures["invitations"]["undeliverable"] >= 1

        assert timeline.get(path, params={"at": "yesterday"}, headers=ANALYST).status_code == 400
        assert timeline.get(f"/incidents/{uuid4()}/state", headers=ANALYST).status_code == 404
        assert timeline.get(path, headers=token("operator", "alice")).status_code == 403
