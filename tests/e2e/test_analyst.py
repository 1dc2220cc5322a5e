"""The analyst's page, served by timeline at /ui/analyst/, in headless Chromium: intake, community
and timeline as real processes; an analyst opens an incident, moves the time slider from before it
to now, and exports its timeline as CSV."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from services.timeline.export import COLUMNS
from shared.auth import Role, issue_token
from shared.settings import DatabaseSettings, NatsSettings
from tests.e2e.test_citizen import FORM_ROLES, console_errors, eventually
from tests.integration.services import SECRET_KEY, service_process

TOKEN = issue_token(SECRET_KEY.encode(), "e2e-analyst", Role.ANALYST, ttl_s=3600)
ANALYST = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def services(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[tuple[str, str]]:
    with (
        service_process("community", database, nats_settings.url),
        service_process("timeline", database, nats_settings.url) as timeline,
        service_process("intake", database, nats_settings.url) as intake,
    ):
        yield intake, timeline


def with_community(intake: str, timeline: str) -> str:
    """A new incident from a citizen's report, once the timeline holds its community; its id."""
    body = {
        "text": "중구 명동 상가 건물에서 불이 났어요",
        "reporter": str(uuid4()),
        "location": {"lat": 37.5636, "lon": 126.9976},
    }
    answer = httpx.post(f"{intake}/reports", json=body, timeout=10)
    assert answer.status_code in {200, 201}, answer.text
    incident = str(answer.json()["incident_id"])

    def assembled() -> bool:
        state = httpx.get(f"{timeline}/incidents/{incident}/state", headers=ANALYST, timeout=10)
        return state.status_code == 200 and bool(state.json()["state"]["community"])

    assert eventually(assembled, until=45.0), "the timeline never held the incident's community"
    return incident


def desk(context: BrowserContext, timeline: str) -> tuple[Page, list[str]]:
    page = context.new_page()
    errors = console_errors(page)
    page.goto(f"{timeline}/ui/analyst/")
    page.wait_for_selector("html[data-ready]")
    page.get_by_label("분석가 토큰").fill(TOKEN)
    page.get_by_label("분석가 토큰").press("Enter")
    expect(page.get_by_label("사건 번호")).to_be_focused()
    return page, errors


def test_an_analyst_slides_from_before_the_incident_to_now_and_exports_its_timeline_as_csv(
    services: tuple[str, str], context: BrowserContext, tmp_path: Path
) -> None:
    intake, timeline = services
    incident = with_community(intake, timeline)
    page, errors = desk(context, timeline)
    assert TOKEN not in page.url

    page.get_by_label("최근 7일에 열린 사건").select_option(incident)  # the week's openings, from the timeline
    expect(page.locator("#timeline li").first).to_be_visible()
    expect(page.locator("#community li").first).to_be_visible()  # at now, the slider's start

    slider = page.get_by_role("slider", name="시점")
    slider.focus()
    page.keyboard.press("Home")  # before the incident
    expect(page.locator("#state")).to_contain_text("이 시점에는 사건이 아직 열리지 않았습니다.")
    expect(page.locator("#community")).to_have_count(0)
    page.keyboard.press("End")  # now
    expect(page.locator("#state")).to_contain_text("화재")
    expect(page.locator("#community li").first).to_be_visible()

    expect(page.locator("#figures")).to_contain_text("첫 신고")
    with page.expect_download() as started:
        page.get_by_role("button", name="CSV로 내보내기").click()
    download = started.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    first_line = saved.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == ",".join(COLUMNS)
    assert len(saved.read_text(encoding="utf-8").splitlines()) > 2
    expect(page.locator("#export-state")).to_contain_text("저장했습니다")
    assert errors == []


def test_an_unknown_incident_is_said_so_and_every_control_has_a_name(
    services: tuple[str, str], context: BrowserContext
) -> None:
    _, timeline = services
    page, _ = desk(context, timeline)
    page.get_by_label("사건 번호").fill(str(uuid4()))
    page.get_by_role("button", name="열기").click()
    expect(page.get_by_role("alert")).to_have_text("타임라인에 없는 사건입니다.")

    cdp = context.new_cdp_session(page)
    nodes: list[dict[str, Any]] = cdp.send("Accessibility.getFullAXTree")["nodes"]
    controls = [n for n in nodes if not n.get("ignored") and n.get("role", {}).get("value") in FORM_ROLES]
    assert len(controls) >= 3
    assert [n for n in controls if not str(n.get("name", {}).get("value", "")).strip()] == []
    page.reload()  # the token is kept for this tab
    expect(page.get_by_label("사건 번호")).to_be_visible()
