"""The helpers every page shares (/ui/common/api.js), in Chromium against a real service: a live
stream read with a bearer token, resumed after the last event it saw."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from playwright.sync_api import BrowserContext

from shared.settings import DatabaseSettings, NatsSettings
from tests.e2e.test_citizen import OPERATOR, eventually
from tests.integration.services import service_process

READ_STREAM = """async ([url, token, after]) => {
  const { stream } = await import("/ui/common/api.js");
  window.heard = [];
  window.live = stream(url, { token, lastEventId: after, onEvent: (e) => window.heard.push(e) });
}"""


@pytest.fixture(scope="module")
def intake_and_community(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[tuple[str, str]]:
    with (
        service_process("community", database, nats_settings.url) as community,
        service_process("intake", database, nats_settings.url) as intake,
    ):
        yield intake, community


def test_a_page_reads_a_live_stream_with_its_token_and_resumes_after_the_last_event_it_saw(
    intake_and_community: tuple[str, str], context: BrowserContext
) -> None:
    intake, community = intake_and_community
    body = {
        "text": "종로구 관철동 식당에서 가스 냄새가 나요",
        "reporter": str(uuid4()),
        "location": {"lat": 37.569, "lon": 126.986},
    }
    incident = httpx.post(f"{intake}/reports", json=body, timeout=10).json()["incident_id"]
    room = f"{community}/communities/{incident}/room"
    assert eventually(lambda: httpx.get(f"{community}/communities/{incident}", headers=OPERATOR).status_code == 200)
    token = OPERATOR["Authorization"].removeprefix("Bearer ")

    def post(text: str) -> None:
        assert httpx.post(f"{room}/messages", json={"text": text}, headers=OPERATOR, timeout=10).status_code == 201

    def heard(page: Any, kind: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = page.evaluate("window.heard")
        return [e for e in events if e["event"] == kind]

    page = context.new_page()
    page.goto(f"{community}/ui/config.json")  # any page of the service's own origin
    post("밸브 잠금 확인")
    page.evaluate(READ_STREAM, [f"{room}/stream", token, None])
    assert eventually(lambda: heard(page, "community") and heard(page, "message"))
    [first] = heard(page, "message")
    assert first["data"]["text"] == "밸브 잠금 확인"  # parsed from JSON
    post("가스 회사 도착")
    assert eventually(lambda: len(heard(page, "message")) == 2)
    page.evaluate("window.live.close()")

    page.evaluate(READ_STREAM, [f"{room}/stream", token, first["id"]])
    post("환기 중")
    assert eventually(lambda: len(heard(page, "message")) == 2)
    assert [m["data"]["text"] for m in heard(page, "message")] == ["가스 회사 도착", "환기 중"]
