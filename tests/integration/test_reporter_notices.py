"""A reporter hears back on their own channel as the incident moves: intake and broadcast as
real processes, a local SMS gateway and a local Telegram Bot API that record what they got."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

import httpx
import pytest

from jikimi.embedded import free_port
from shared.auth import Role, issue_token
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.services import SECRET_KEY, service_process

SMS_SECRET, GATEWAY_SECRET, BOT_TOKEN, TELEGRAM_SECRET = "sms-in", "gateway-out", "123:TESTTOKEN", "tg-in"


class Recorder(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012 -- shared by the server's handler instances

    def do_POST(self) -> None:  # http.server calls it by this name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        answer = b'{"ok": true, "result": {"message_id": 77}, "id": "gw-1"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def outside() -> Iterator[str]:
    """The SMS gateway and the Telegram Bot API, on one local server."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def services(database: DatabaseSettings, nats_settings: NatsSettings, outside: str) -> Iterator[str]:
    env = {
        "JIKIMI_SMS_SECRET": SMS_SECRET,
        "JIKIMI_TELEGRAM_SECRET": TELEGRAM_SECRET,
        "JIKIMI_SMS_GATEWAY_URL": f"{outside}/sms",
        "JIKIMI_GATEWAY_SECRET": GATEWAY_SECRET,
        "JIKIMI_TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "JIKIMI_TELEGRAM_API": outside,
    }
    with (
        service_process("broadcast", database, nats_settings.url, env),
        service_process("intake", database, nats_settings.url, env) as intake,
    ):
        yield intake


def received(where: str, until: float = 20.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        found = [r for r in Recorder.received if r["path"].endswith(where)]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_an_sms_reporter_is_told_by_sms_when_the_incident_closes(services: str) -> None:
    operator = {"Authorization": f"Bearer {issue_token(SECRET_KEY.encode(), 'alice', Role.OPERATOR, ttl_s=600)}"}
    with httpx.Client(base_url=services, timeout=10) as client:
        sms = {"message_id": str(uuid4()), "from": "010-5555-0101", "text": "가스 냄새가 심하게 나요 관악구 신림동"}
        receipt = client.post("/channels/sms", json=sms, headers={"X-Jikimi-Gateway-Secret": SMS_SECRET}).json()
        assert receipt["incident_id"]
        closed = client.post(
            f"/incidents/{receipt['incident_id']}/close", json={"outcome": "resolved"}, headers=operator
        )
        assert closed.status_code == 200
    [sent] = received("/sms")
    assert sent["body"]["to"] == "010-5555-0101"
    assert sent["body"]["channel"] == "sms"
    assert receipt["receipt"] in sent["body"]["text"]
    assert "종료" in sent["body"]["text"]
    assert sent["headers"]["X-Jikimi-Gateway-Secret"] == GATEWAY_SECRET
    assert sent["headers"]["Idempotency-Key"]


def test_a_telegram_reporter_is_told_when_an_operator_puts_the_report_into_an_incident(services: str) -> None:
    operator = {"Authorization": f"Bearer {issue_token(SECRET_KEY.encode(), 'bora', Role.OPERATOR, ttl_s=600)}"}
    marker = uuid4().hex[:8]
    update = {
        "update_id": int(uuid4().int % 10**9),
        "message": {
            "message_id": 5,
            "date": int(time.time()),
            "chat": {"id": 777001, "type": "private"},
            "from": {"id": 777001, "is_bot": False, "language_code": "en"},
            "text": f"Somebody collapsed on the street ({marker})",
        },
    }
    with httpx.Client(base_url=services, timeout=10) as client:
        answer = client.post(
            "/channels/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        )
        assert answer.json()["chat_id"] == 777001
        unlinked = client.get("/incidents/unlinked-reports", headers=operator).json()
        [report_id] = [r["id"] for r in unlinked if marker in r["text"]]
        incident = client.post(
            "/incidents",
            headers=operator,
            json={
                "disaster_type": "first_aid",
                "severity": "severe",
                "title": "종로 노상 환자",
                "district_code": "11110",
            },
        ).json()
        linked = client.post(
            f"/incidents/{incident['id']}/links",
            headers=operator,
            json={"report_id": report_id, "reason": "caller confirmed the place"},
        )
        assert linked.status_code == 201
    [sent] = received(f"/bot{BOT_TOKEN}/sendMessage")
    assert sent["body"]["chat_id"] == 777001
    assert "종로 노상 환자" in sent["body"]["text"]
    assert sent["body"]["text"].startswith("[119] Report")
