"""The expert's page, served by community at /ui/expert/, in headless Chromium: an expert opens
the link of their invitation, answers it, and follows the incident's room live."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from shared.settings import DatabaseSettings, NatsSettings
from tests.e2e.test_citizen import FORM_ROLES, OPERATOR, console_errors, eventually
from tests.integration.services import service_process


@pytest.fixture(scope="module")
def intake_and_community(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[tuple[str, str]]:
    with (
        service_process("community", database, nats_settings.url) as community,
        service_process("intake", database, nats_settings.url) as intake,
    ):
        yield intake, community


def invited(intake: str, community: str, text: str, point: dict[str, float]) -> tuple[UUID, str, str]:
    """A new incident from a citizen's report; (its id, an invited expert, their link's path)."""
    body = {"text": text, "reporter": str(uuid4()), "location": point}
    incident = UUID(httpx.post(f"{intake}/reports", json=body, timeout=10).json()["incident_id"])

    def first_invited() -> str | None:
        answer = httpx.get(f"{community}/communities/{incident}", headers=OPERATOR, timeout=10)
        if answer.status_code != 200:
            return None
        return next((m["expert_id"] for m in answer.json()["members"] if m["status"] == "invited"), None)

    expert = eventually(first_invited)
    assert expert, "nobody was invited"
    link = httpx.get(f"{community}/communities/{incident}/invitations/{expert}/link", headers=OPERATOR, timeout=10)
    assert link.status_code == 200
    return incident, expert, link.json()["path"]


def opened(context: BrowserContext, url: str) -> tuple[Page, list[str]]:
    page = context.new_page()
    errors = console_errors(page)
    page.goto(url)
    page.wait_for_selector("html[data-ready]")
    return page, errors


def test_an_expert_opens_their_link_accepts_and_sees_an_operators_message_arrive_live(
    intake_and_community: tuple[str, str], context: BrowserContext
) -> None:
    intake, community = intake_and_community
    incident, expert, path = invited(
        intake, community, "강남구 역삼동 오피스텔에서 불이 났어요 연기가 많아요", {"lat": 37.5007, "lon": 127.0363}
    )
    page, errors = opened(context, f"{community}{path}")

    # The link's token is read from the fragment, then taken out of the address bar.
    assert page.url == f"{community}/ui/expert/"
    expect(page.get_by_role("heading", level=2, name="화재")).to_be_visible()
    expect(page.locator("#place")).to_have_text("강남구")
    expect(page.locator("#state")).to_have_text("응답을 기다리는 요청입니다.")

    page.get_by_role("button", name="수락하기").click()
    room = page.get_by_role("region", name="상황방")
    expect(room).to_be_visible()
    expect(page.locator("#live")).to_have_text("실시간 연결됨")
    expect(page.locator("#members")).to_contain_text("나 · ")
    expect(page.locator("#members")).to_contain_text("수락")

    posted = httpx.post(
        f"{community}/communities/{incident}/room/messages",
        json={"text": "119 선착대 3분 후 도착, 출입구 확보 바랍니다"},
        headers=OPERATOR,
        timeout=10,
    )
    assert posted.status_code == 201
    message = page.locator("#messages li", has_text="119 선착대 3분 후 도착")
    expect(message).to_be_visible()
    expect(message).to_contain_text("상황실")

    # The expert answers in the room, and the room holds it as theirs.
    page.get_by_label("메시지").fill("도착했습니다. 2층 계단 연기 확인")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the send button, by keyboard
    expect(page.locator("#messages li", has_text="2층 계단 연기 확인")).to_contain_text("나")
    texts = httpx.get(f"{community}/communities/{incident}/room/messages", headers=OPERATOR, timeout=10).json()
    assert [m["author"] for m in texts if "2층 계단" in m["text"]] == [f"expert:{expert}"]

    page.reload()  # the room's link is kept in the tab: the room again, with what was said
    expect(page.locator("#live")).to_have_text("실시간 연결됨")
    expect(page.locator("#messages li")).to_have_count(2)
    assert errors == []


def test_an_expert_declines_with_a_reason_and_every_control_has_a_name(
    intake_and_community: tuple[str, str], context: BrowserContext
) -> None:
    intake, community = intake_and_community
    incident, expert, path = invited(
        intake, community, "마포구 합정동 상가 건물에서 불이 났어요", {"lat": 37.5495, "lon": 126.9139}
    )
    page, errors = opened(context, f"{community}{path}")
    expect(page.get_by_role("button", name="거절하기")).to_be_visible()

    cdp = context.new_cdp_session(page)
    nodes: list[dict[str, Any]] = cdp.send("Accessibility.getFullAXTree")["nodes"]
    controls = [n for n in nodes if not n.get("ignored") and n.get("role", {}).get("value") in FORM_ROLES]
    assert len(controls) >= 3
    assert [n for n in controls if not str(n.get("name", {}).get("value", "")).strip()] == []

    page.get_by_label("거절 사유 (선택)").fill("다른 현장에 출동 중")
    page.get_by_label("거절 사유 (선택)").press("Enter")  # Enter in the reason answers nothing
    page.get_by_role("button", name="거절하기").click()
    expect(page.locator("#state")).to_have_text("거절한 요청입니다. 고맙습니다.")
    members = httpx.get(f"{community}/communities/{incident}", headers=OPERATOR, timeout=10).json()["members"]
    assert {m["expert_id"]: m["status"] for m in members}[expert] == "declined"
    assert errors == []


def test_a_lapsed_or_forged_link_opens_the_page_saying_so(
    intake_and_community: tuple[str, str], context: BrowserContext
) -> None:
    _, community = intake_and_community
    page, _ = opened(context, f"{community}/invitations/eyJmb3JnZWQiOnRydWV9.c2lnbmF0dXJl")
    expect(page.locator("#state")).to_have_text("이 링크는 더 이상 쓸 수 없습니다. 상황실에 문의하세요.")
    # A client asking for JSON still gets the API's answer.
    answer = httpx.get(f"{community}/invitations/eyJmb3JnZWQiOnRydWV9.c2lnbmF0dXJl", timeout=10)
    assert answer.status_code == 401
