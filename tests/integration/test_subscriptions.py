"""Citizens subscribed to a district get the action guide on their phone when an incident opens
there, in their language; other districts' subscribers do not. Real intake and broadcast processes
and a local SMS gateway (its bulk API) that records every message it was asked to send."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from shared.auth import Role, issue_token
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.services import SECRET_KEY, service_process
from tests.support.gateway import FakeGateway, Received

GATEWAY_SECRET = "gateway-subscriptions"
MAPO_KO, MAPO_EN, GANGNAM = "010-0000-7001", "010-0000-7002", "010-0000-7003"
MAPO_BAD = "010-0000-7004"  # the gateway refuses it: not a number it can send to


@pytest.fixture(scope="module")
def gateway() -> Iterator[FakeGateway]:
    with FakeGateway(GATEWAY_SECRET, reject={MAPO_BAD}).running() as gateway:
        yield gateway


@pytest.fixture(scope="module")
def urls(database: DatabaseSettings, nats_settings: NatsSettings, gateway: FakeGateway) -> Iterator[tuple[str, str]]:
    env = {
        "JIKIMI_SMS_GATEWAY_URL": gateway.url("sms"),
        "JIKIMI_SMS_GATEWAY_BULK_URL": gateway.bulk_url("sms"),
        "JIKIMI_GATEWAY_SECRET": GATEWAY_SECRET,
    }
    with (
        service_process("broadcast", database, nats_settings.url, env) as broadcast,
        service_process("intake", database, nats_settings.url, env) as intake,
    ):
        yield intake, broadcast


def sent_to(gateway: FakeGateway, phone: str, until: float = 20.0) -> list[Received]:
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        if found := gateway.to(phone):
            return found
        time.sleep(0.1)
    return []


def test_a_fire_in_mapo_reaches_mapos_subscribers_in_their_language_and_not_gangnams(
    urls: tuple[str, str], gateway: FakeGateway
) -> None:
    intake_url, broadcast_url = urls
    with httpx.Client(base_url=broadcast_url, timeout=10) as broadcast:
        subscribers = (("11440", MAPO_KO, "ko"), ("11440", MAPO_EN, "en"), ("11680", GANGNAM, "ko"))
        for district, phone, language in (*subscribers, ("11440", MAPO_BAD, "ko")):
            body = {"district_code": district, "channel": "sms", "address": phone, "language": language}
            assert broadcast.post("/public/subscriptions", json=body).status_code == 201
        again = {"district_code": "11440", "channel": "sms", "address": MAPO_KO, "language": "ko"}
        assert broadcast.post("/public/subscriptions", json=again).status_code == 200  # stored once
    with httpx.Client(base_url=intake_url, timeout=10) as intake:
        report = {
            "text": "마포구 합정역 근처 상가에서 불이 났어요",
            "reporter": "sub-test-1",
            "location": {"lat": 37.5495, "lon": 126.9139},
        }
        answer = intake.post("/reports", json=report)
        assert answer.status_code in {200, 201}
        incident_id = answer.json()["incident_id"]
        [korean] = sent_to(gateway, MAPO_KO)
        [english] = sent_to(gateway, MAPO_EN)
        assert "화재" in korean.text or "불" in korean.text
        assert "fire" in english.text.lower()
        # All of Mapo in one bulk request; the number the gateway refused failed only its own message.
        [refused] = sent_to(gateway, MAPO_BAD)
        assert korean.bulk and english.bulk
        assert korean.request == english.request == refused.request
        assert (korean.status, english.status, refused.status) == ("accepted", "accepted", "rejected")
        assert gateway.requests["single"] == 0
        # Who was not reached: one line per subscriber, the refused number failed with the reason.
        operator = {"Authorization": f"Bearer {issue_token(SECRET_KEY.encode(), 'alice', Role.OPERATOR, ttl_s=600)}"}
        statuses: dict[str, str] = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and sorted(statuses.values()) != ["delivered", "delivered", "failed"]:
            listed = httpx.get(
                f"{broadcast_url}/incidents/{incident_id}/deliveries",
                params={"kind": "district_guide"},
                headers=operator,
                timeout=10,
            ).json()
            statuses = {d["member"]: d["status"] for d in listed}
            time.sleep(0.2)
        assert sorted(statuses.values()) == ["delivered", "delivered", "failed"]
        assert all("010" not in member for member in statuses)  # pseudonyms, never numbers
        # Gangnam's subscriber heard nothing of it, and does hear of a fire in Gangnam.
        assert gateway.to(GANGNAM) == []
        report = {
            "text": "강남구 역삼동 오피스텔 화재",
            "reporter": "sub-test-2",
            "location": {"lat": 37.5000, "lon": 127.0364},
        }
        assert intake.post("/reports", json=report).status_code in {200, 201}
        assert len(sent_to(gateway, GANGNAM)) == 1
    assert len(gateway.to(MAPO_KO)) == 1  # once, whatever was redelivered
    assert len(gateway.to(MAPO_BAD)) == 1  # refused for good: not tried again
    assert len({r.key for r in gateway.received}) == len(gateway.received)  # no message sent twice
