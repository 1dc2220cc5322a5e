"""Citizens subscribed to a district get the action guide on their phone when an incident opens
there, in their language; other districts' subscribers do not. Real intake and broadcast processes
and a local SMS gateway that records what it was asked to send."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from jikimi.embedded import free_port
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.services import service_process

GATEWAY_SECRET = "gateway-subscriptions"
MAPO_KO, MAPO_EN, GANGNAM = "010-0000-7001", "010-0000-7002", "010-0000-7003"


class Gateway(BaseHTTPRequestHandler):
    sent: list[dict[str, Any]] = []  # noqa: RUF012 -- shared by the server's handler instances

    def do_POST(self) -> None:  # http.server calls it by this name
        self.sent.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        answer = b'{"id": "gw"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def urls(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[tuple[str, str]]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "JIKIMI_SMS_GATEWAY_URL": f"http://127.0.0.1:{server.server_port}/sms",
        "JIKIMI_GATEWAY_SECRET": GATEWAY_SECRET,
    }
    with (
        service_process("broadcast", database, nats_settings.url, env) as broadcast,
        service_process("intake", database, nats_settings.url, env) as intake,
    ):
        yield intake, broadcast
    server.shutdown()


def texts_to(phone: str, until: float = 20.0) -> list[str]:
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        found = [m["text"] for m in Gateway.sent if m["to"] == phone]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_a_fire_in_mapo_reaches_mapos_subscribers_in_their_language_and_not_gangnams(
    urls: tuple[str, str],
) -> None:
    intake_url, broadcast_url = urls
    with httpx.Client(base_url=broadcast_url, timeout=10) as broadcast:
        for district, phone, language in (("11440", MAPO_KO, "ko"), ("11440", MAPO_EN, "en"), ("11680", GANGNAM, "ko")):
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
        assert intake.post("/reports", json=report).status_code in {200, 201}
        [korean] = texts_to(MAPO_KO)
        [english] = texts_to(MAPO_EN)
        assert "화재" in korean or "불" in korean
        assert "fire" in english.lower()
        # Gangnam's subscriber heard nothing of it, and does hear of a fire in Gangnam.
        assert not [m for m in Gateway.sent if m["to"] == GANGNAM]
        report = {
            "text": "강남구 역삼동 오피스텔 화재",
            "reporter": "sub-test-2",
            "location": {"lat": 37.5000, "lon": 127.0364},
        }
        assert intake.post("/reports", json=report).status_code in {200, 201}
        assert len(texts_to(GANGNAM)) == 1
    assert len([m for m in Gateway.sent if m["to"] == MAPO_KO]) == 1  # once, whatever was redelivered
