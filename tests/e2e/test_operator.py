"""The operator's live board, served by intake at /ui/operator/, in headless Chromium: the token
pasted once, the incidents filtered, and citizens' reports arriving without a reload."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from shared.settings import DatabaseSettings, NatsSettings
from tests.e2e.test_citizen import FORM_ROLES, OPERATOR, console_errors
from tests.integration.services import service_process

TOKEN = OPERATOR["Authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="module")
def intake(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[str]:
    with service_process("intake", database, nats_settings.url) as url:
        yield url


def board(context: BrowserContext, intake: str) -> tuple[Page, list[str]]:
    """The board, signed in with the operator's token and following live."""
    page = context.new_page()
    errors = console_errors(page)
    page.goto(f"{intake}/ui/operator/")
    page.wait_for_selector("html[data-ready]")
    page.get_by_label("운영자 토큰").fill(TOKEN)
    page.get_by_label("운영자 토큰").press("Enter")
    expect(page.locator("#live")).to_have_text("실시간 연결됨")
    return page, errors


def report(intake: str, text: str, lat: float, lon: float) -> dict[str, Any]:
    body = {"text": text, "reporter": str(uuid4()), "location": {"lat": lat, "lon": lon}}
    answer = httpx.post(f"{intake}/reports", json=body, timeout=10)
    assert answer.status_code in {200, 201}, answer.text
    return dict(answer.json())


def test_an_operator_sees_a_citizens_report_arrive_on_the_open_board_without_reloading(
    intake: str, context: BrowserContext
) -> None:
    page, errors = board(context, intake)
    assert TOKEN not in page.url  # the token is in the tab's storage, never in the address
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    received = report(intake, "성동구 성수동 공장에서 폭발음이 나고 불이 났어요", 37.5446, 127.0557)
    arrival = page.locator("#arrivals li", has_text=received["receipt"])
    expect(arrival).to_contain_text("성수동 공장에서 폭발음")
    incident = page.locator(f"#incidents li[data-id='{received['incident_id']}']")
    expect(incident).to_contain_text("성동구")
    assert navigations == []  # live: the page was never loaded again

    # Its detail lists the report; the board's filters narrow it to a district.
    incident.get_by_role("button").click()
    expect(page.locator("#detail-reports")).to_contain_text(received["receipt"])
    page.get_by_label("구", exact=True).select_option(label="도봉구")
    expect(incident).to_have_count(0)
    page.get_by_label("구", exact=True).select_option(label="성동구")
    expect(incident).to_have_count(1)
    assert errors == []


def test_a_report_sent_from_the_citizen_page_appears_on_an_open_board(intake: str, context: BrowserContext) -> None:
    desk, _ = board(context, intake)
    phone = context.new_page()
    phone.goto(f"{intake}/ui/citizen/report.html")
    phone.wait_for_selector("html[data-ready]")
    phone.get_by_label("무슨 일이 일어났나요?").fill("역삼역 사거리에서 차 두 대가 부딪혔어요 다친 사람이 있어요")
    phone.get_by_role("button", name="신고 보내기").click()
    receipt = phone.locator("#receipt")
    expect(receipt).to_have_text(re.compile(r"\S+"))
    expect(desk.locator("#arrivals li", has_text=receipt.inner_text())).to_contain_text("차 두 대가 부딪혔어요")


def test_the_board_asks_for_the_token_again_when_it_is_refused_and_every_control_has_a_name(
    intake: str, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(f"{intake}/ui/operator/")
    page.wait_for_selector("html[data-ready]")
    page.get_by_label("운영자 토큰").fill("not-a-token")
    page.get_by_role("button", name="연결").click()
    expect(page.get_by_role("alert")).to_have_text("토큰이 맞지 않거나 만료되었습니다.")
    assert page.evaluate("sessionStorage.getItem('jikimi.operator.token')") is None

    page, _ = board(context, intake)
    cdp = context.new_cdp_session(page)
    nodes: list[dict[str, Any]] = cdp.send("Accessibility.getFullAXTree")["nodes"]
    controls = [n for n in nodes if not n.get("ignored") and n.get("role", {}).get("value") in FORM_ROLES]
    assert len(controls) >= 4
    assert [n for n in controls if not str(n.get("name", {}).get("value", "")).strip()] == []
    page.reload()  # the token is kept for this tab
    expect(page.locator("#live")).to_have_text("실시간 연결됨")
