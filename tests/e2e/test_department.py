"""The department's page, served by broadcast at /ui/department/, in headless Chromium: intake,
community and broadcast as real processes; a fire station's desk sees the briefing of a fire in
its district arrive live, reads it, and acknowledges it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from shared.auth import Role, issue_token
from shared.settings import DatabaseSettings, NatsSettings
from tests.e2e.test_citizen import FORM_ROLES, console_errors
from tests.integration.services import SECRET_KEY, service_process

NOWON = {"lat": 37.6526, "lon": 127.0750}  # 노원구: its fire station is FS-11350
FIRE_STATION = "FS-11350"


def department_token(department: str) -> str:
    return issue_token(SECRET_KEY.encode(), department, Role.DEPARTMENT, ttl_s=3600)


@pytest.fixture(scope="module")
def services(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[tuple[str, str]]:
    env = {"JIKIMI_BRIEFING_DEBOUNCE_S": "1"}
    with (
        service_process("community", database, nats_settings.url, env),
        service_process("broadcast", database, nats_settings.url, env) as broadcast,
        service_process("intake", database, nats_settings.url, env) as intake,
    ):
        yield intake, broadcast


def desk(context: BrowserContext, broadcast: str, token: str) -> tuple[Page, list[str]]:
    """The department's page, signed in with ``token`` and following live."""
    page = context.new_page()
    errors = console_errors(page)
    page.goto(f"{broadcast}/ui/department/")
    page.wait_for_selector("html[data-ready]")
    page.get_by_label("기관 토큰").fill(token)
    page.get_by_label("기관 토큰").press("Enter")
    expect(page.locator("#live")).to_have_text("실시간 연결됨")
    return page, errors


def test_a_fire_station_sees_the_briefing_of_a_fire_in_its_district_arrive_live_and_acknowledges_it(
    services: tuple[str, str], context: BrowserContext
) -> None:
    intake, broadcast = services
    token = department_token(FIRE_STATION)
    page, errors = desk(context, broadcast, token)
    assert token not in page.url
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    body = {"text": "노원구 상계동 아파트 주차장에서 불이 났어요", "reporter": str(uuid4()), "location": NOWON}
    answer = httpx.post(f"{intake}/reports", json=body, timeout=10)
    assert answer.status_code in {200, 201}, answer.text
    incident = answer.json()["incident_id"]

    item = page.locator("#items li[data-kind='briefing']", has=page.locator(f"button[data-incident='{incident}']"))
    expect(item).to_have_count(1, timeout=45_000)
    expect(item).to_contain_text("노원구")
    assert navigations == []  # live: the page was never loaded again

    item.get_by_role("button", name="브리핑 보기").click()
    section = page.get_by_role("region", name="최초 보고", exact=False)
    expect(section).to_be_visible()
    expect(page.locator("#briefing-title")).to_contain_text("최초 보고 #1")
    expect(page.locator("#briefing-facts")).to_contain_text("화재")
    expect(page.locator("#briefing-facts")).to_contain_text("노원구")

    # Acknowledged by keyboard: focus the item's button, press Enter; broadcast records who saw it.
    acknowledge = item.get_by_role("button", name="확인", exact=False)
    acknowledge.focus()
    page.keyboard.press("Enter")
    expect(acknowledge).to_have_text("확인함")
    operator = issue_token(SECRET_KEY.encode(), "e2e-desk", Role.OPERATOR, ttl_s=600)
    seen = httpx.get(
        f"{broadcast}/incidents/{incident}/deliveries",
        params={"kind": "briefing", "seen": "true"},
        headers={"Authorization": f"Bearer {operator}"},
        timeout=10,
    ).json()
    assert f"department:{FIRE_STATION}" in [d["member"] for d in seen]
    assert errors == []


def test_a_department_may_not_read_an_incident_it_is_not_engaged_in_and_every_control_has_a_name(
    services: tuple[str, str], context: BrowserContext
) -> None:
    _, broadcast = services
    page, _ = desk(context, broadcast, department_token("FS-11110"))
    page.get_by_label("사건 번호").fill(str(uuid4()))
    page.get_by_label("사건 번호").press("Enter")
    expect(page.get_by_role("alert")).to_have_text("이 기관이 참여한 사건의 브리핑만 볼 수 있습니다.")

    cdp = context.new_cdp_session(page)
    nodes: list[dict[str, Any]] = cdp.send("Accessibility.getFullAXTree")["nodes"]
    controls = [n for n in nodes if not n.get("ignored") and n.get("role", {}).get("value") in FORM_ROLES]
    assert len(controls) >= 3
    assert [n for n in controls if not str(n.get("name", {}).get("value", "")).strip()] == []

    page.reload()  # the token is kept for this tab
    expect(page.locator("#live")).to_have_text("실시간 연결됨")
    page.get_by_role("button", name="토큰 지우기").click()
    expect(page.get_by_label("기관 토큰")).to_be_focused()
    assert page.evaluate("sessionStorage.getItem('jikimi.department.token')") is None
