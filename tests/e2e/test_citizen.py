"""The citizen's pages, served by intake at /ui/citizen/, in headless Chromium: intake, community
and broadcast as real processes; the page reads broadcast's public routes across origins."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from shared.auth import Role, issue_token
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.services import SECRET_KEY, service_process

OPERATOR = {"Authorization": f"Bearer {issue_token(SECRET_KEY.encode(), 'e2e-desk', Role.OPERATOR, ttl_s=3600)}"}
FORM_ROLES = {"textbox", "searchbox", "combobox", "listbox", "button", "checkbox", "radio", "switch", "slider"}
PAGES = ("", "guides.html", "guide.html?slug=fire", "report.html", "status.html")


class Services:
    def __init__(self, intake: str, community: str, broadcast: str) -> None:
        self.intake, self.community, self.broadcast = intake, community, broadcast

    def page(self, path: str = "") -> str:
        return f"{self.intake}/ui/citizen/{path}"


@pytest.fixture(scope="module")
def services(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[Services]:
    with (
        service_process("community", database, nats_settings.url) as community,
        service_process("broadcast", database, nats_settings.url) as broadcast,
        service_process("intake", database, nats_settings.url, {"JIKIMI_BROADCAST_URL": broadcast}) as intake,
    ):
        yield Services(intake, community, broadcast)


def eventually(check: Callable[[], Any], until: float = 20.0) -> Any:
    deadline = time.monotonic() + until
    while not (answer := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return answer


def report_on_board(intake: str, receipt: str) -> dict[str, Any] | None:
    """The report with ``receipt`` as the situation board shows it, with its incident's id."""
    with httpx.Client(base_url=intake, headers=OPERATOR, timeout=10) as client:
        board = client.get("/incidents")
        assert board.status_code == 200
        for incident in board.json():
            for report in client.get(f"/incidents/{incident['id']}").json()["reports"]:
                if report["receipt"] == receipt:
                    return {**report, "incident": incident}
    return None


def console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_a_citizen_reports_a_fire_from_the_page_sees_the_receipt_and_the_report_reaches_the_board(
    services: Services, context: BrowserContext
) -> None:
    page = context.new_page()
    errors = console_errors(page)
    page.goto(services.page("report.html"))
    page.wait_for_selector("html[data-ready]")
    page.get_by_label("무슨 일이 일어났나요?").fill("역삼역 근처 건물에서 불이 났어요 연기가 많이 나요")
    page.get_by_label("장소 (주소나 건물 이름)").fill("역삼역 3번 출구 앞")
    page.get_by_role("button", name="내 위치 넣기").click()
    expect(page.locator("#location")).to_contain_text("위치를 넣었습니다")
    page.get_by_role("button", name="신고 보내기").click()

    done = page.get_by_role("region", name="신고가 접수되었습니다")
    expect(done).to_be_visible()
    receipt = page.locator("#receipt").inner_text()
    assert re.fullmatch(r"[A-Z0-9-]{4,40}", receipt), receipt
    expect(done).to_contain_text("화재")  # the fire guide's short text comes with the receipt

    on_board = report_on_board(services.intake, receipt)
    assert on_board is not None
    assert on_board["channel"] == "web"
    assert on_board["text"].startswith("역삼역 근처 건물에서 불이 났어요")
    assert on_board["location"]["point"]["lat"] == pytest.approx(37.5007)
    assert on_board["location"]["point"]["lon"] == pytest.approx(127.0363)
    assert (on_board["incident"]["disaster_type"], on_board["incident"]["location"]["district_code"]) == (
        "fire",
        "11680",
    )

    # The receipt stays on the phone: the status page follows the report later.
    page.get_by_role("link", name="내 신고 진행 상황 보기").click()
    card = page.locator("#reports li", has_text=receipt)
    expect(card).to_contain_text("처리 중")
    assert errors == []


def test_the_report_form_can_be_filled_and_sent_with_the_keyboard_only(
    services: Services, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(services.page("report.html"))
    page.wait_for_selector("html[data-ready]")

    def tab_to(element_id: str) -> None:
        for _ in range(20):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == element_id:
                return
        pytest.fail(f"#{element_id} cannot be reached with Tab")

    tab_to("text")
    page.keyboard.type("서초구 반포동 아파트 3층에서 불이 났어요")
    tab_to("address")
    page.keyboard.type("반포동 한신아파트")
    tab_to("locate")
    page.keyboard.press("Enter")
    expect(page.locator("#location")).to_contain_text("위치를 넣었습니다")
    tab_to("send")
    page.keyboard.press("Enter")

    expect(page.locator("#receipt")).to_have_text(re.compile(r"\S+"))
    assert page.evaluate("document.activeElement.id") == "done"  # focus follows to the receipt
    assert report_on_board(services.intake, page.locator("#receipt").inner_text()) is not None


def test_every_form_control_of_the_citizen_pages_has_a_name_and_no_page_breaks_its_policy(
    services: Services, context: BrowserContext
) -> None:
    page = context.new_page()
    errors = console_errors(page)  # a Content-Security-Policy violation is reported here
    cdp = context.new_cdp_session(page)
    for path in PAGES:
        page.goto(services.page(path))
        page.wait_for_selector("html[data-ready]")
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
        controls = [n for n in nodes if not n.get("ignored") and n.get("role", {}).get("value") in FORM_ROLES]
        assert controls, path
        unnamed = [n for n in controls if not str(n.get("name", {}).get("value", "")).strip()]
        assert unnamed == [], (path, unnamed)
    assert errors == []


def test_the_district_page_lists_an_incident_made_public_in_that_district(
    services: Services, context: BrowserContext
) -> None:
    headline = f"망원동 주택가 화재 {uuid4().hex[:6]}"
    with httpx.Client(base_url=services.intake, timeout=10) as intake:
        body = {
            "text": "마포구 망원동 주택에서 불이 났어요",
            "reporter": str(uuid4()),
            "location": {"lat": 37.556, "lon": 126.901},
        }
        reported = intake.post("/reports", json=body).json()
        public = intake.post(
            f"/incidents/{reported['incident_id']}/public",
            json={"headline": headline, "instruction": "망원역 2번 출구 쪽을 피하세요"},
            headers=OPERATOR,
        )
        assert public.status_code == 200

    page = context.new_page()
    page.goto(services.page())
    page.get_by_label("구 선택").select_option(label="마포구")

    def listed() -> bool:
        if page.get_by_text(headline).count():
            return True
        page.reload()  # the district is kept on the phone across loads
        page.wait_for_selector("html[data-ready]")
        return False

    assert eventually(listed)
    card = page.locator("li.card", has_text=headline)
    expect(card).to_contain_text("망원역 2번 출구 쪽을 피하세요")
    expect(card.get_by_role("link", name="화재 행동요령 보기")).to_be_visible()

    page.get_by_label("구 선택").select_option(label="도봉구")
    expect(page.locator("#incidents")).to_contain_text("지금 도봉구에 공개된 재난이 없습니다")

    page.get_by_role("button", name="English").click()  # and English, remembered on this phone
    page.reload()
    page.get_by_label("District").select_option(label="Mapo-gu")
    expect(page.locator("li.card", has_text=headline)).to_contain_text("Fire · Mapo-gu")


def test_a_guide_once_visited_opens_with_the_network_cut(services: Services, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(services.page("guide.html?slug=fire"))
    expect(page.get_by_role("heading", level=1)).to_have_text("화재")
    page.wait_for_selector("html[data-offline='ready']")

    context.set_offline(True)
    try:
        opened = page.goto(services.page("guide.html?slug=fire"))
        assert opened is not None and opened.from_service_worker
        expect(page.get_by_role("heading", level=1)).to_have_text("화재")
        expect(page.locator("#during li").first).to_contain_text("불이야")
        expect(page.get_by_role("status").filter(has_text="오프라인")).to_be_visible()
        page.get_by_role("button", name="English").click()  # the other language was kept too
        expect(page.get_by_role("heading", level=1)).to_have_text("Fire")
    finally:
        context.set_offline(False)
